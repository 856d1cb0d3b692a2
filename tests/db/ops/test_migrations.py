"""Migrations: the baseline reproduces production, adoption, rollback and the yoyo CLI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

import cli
from db.ops import catalog, migrate
from db.pool import DatabaseUnavailable
from tests.conftest import temporary_database
from tests.db.ops.conftest import PRODUCTION_DDL, plain_yoyo

# Drift a production database might have: one blocking change of each kind, one harmless extra.
DRIFT = """
ALTER TABLE outputs ALTER COLUMN width TYPE bigint;
DROP INDEX outputs_generation_id_file_type_idx;
CREATE INDEX projects_foo_idx ON projects (name);
"""

MIGRATION_ROWS = "SELECT migration_id FROM _yoyo_migration ORDER BY migration_id"
LOG_ROWS = "SELECT migration_id, operation FROM _yoyo_log ORDER BY created_at_utc"


async def _describe(url: str) -> catalog.Catalog:
    conn = await asyncpg.connect(url)
    try:
        return await catalog.describe(conn)
    finally:
        await conn.close()


async def _fetch(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


@pytest.fixture
async def drifted_url(server_url: str) -> AsyncIterator[str]:
    """The production DDL plus DRIFT."""
    ddl = PRODUCTION_DDL.read_text(encoding="utf-8")
    async with temporary_database(server_url, ddl, DRIFT) as url:
        yield url


def _on_disk_ids() -> list[str]:
    """Migration ids in the folder, independently of yoyo's listing."""
    return sorted(
        path.stem
        for path in migrate.MIGRATIONS_DIR.iterdir()
        if path.suffix in {".sql", ".py"} and not path.name.endswith(".rollback.sql")
    )


async def test_apply_rollback_apply_on_blank_database_leaves_same_catalog(
    empty_db_url: str,
) -> None:
    everything = migrate.pending(empty_db_url)
    assert everything[0] == migrate.BASELINE_ID

    assert migrate.apply(empty_db_url) == everything
    first = await _describe(empty_db_url)
    assert [table.name for table in first.tables] == list(catalog.BASELINE_TABLES)

    assert migrate.rollback_all(empty_db_url) == everything[::-1]
    assert await _describe(empty_db_url) == catalog.Catalog(tables=(), enums=())
    leftovers = await _fetch(empty_db_url, "SELECT typname FROM pg_type WHERE typname = 'UserRole'")
    assert leftovers == []

    assert migrate.apply(empty_db_url) == everything
    assert await _describe(empty_db_url) == first
    assert migrate.pending(empty_db_url) == []


async def test_baseline_catalog_equals_production_ddl_catalog(
    empty_db_url: str, production_url: str
) -> None:
    assert migrate.apply(empty_db_url, revision=migrate.BASELINE_ID) == [migrate.BASELINE_ID]

    baseline = await _describe(empty_db_url)
    production = await _describe(production_url)

    assert catalog.differences(production, baseline) == []
    assert baseline == production


async def test_adopt_marks_production_baseline_applied_without_running_it(
    production_url: str,
) -> None:
    # adopt runs its own event loop: keep it off this one.
    adoption = await asyncio.to_thread(migrate.adopt, production_url)

    assert migrate.BASELINE_ID not in adoption.applied
    assert adoption.applied == _on_disk_ids()[1:]
    assert migrate.pending(production_url) == []
    recorded = await _fetch(production_url, MIGRATION_ROWS)
    assert recorded[0]["migration_id"] == migrate.BASELINE_ID
    log = [
        (row["migration_id"], row["operation"]) for row in await _fetch(production_url, LOG_ROWS)
    ]
    assert (migrate.BASELINE_ID, "mark") in log
    assert (migrate.BASELINE_ID, "apply") not in log
    # The out-of-scope production table is untouched.
    assert await _fetch(production_url, "SELECT id FROM bookmarks") == []


async def test_adopt_again_after_adoption_only_applies(production_url: str) -> None:
    await asyncio.to_thread(migrate.adopt, production_url)

    again = await asyncio.to_thread(migrate.adopt, production_url)
    assert (again.kept, again.applied) == ([], [])


async def test_adopt_keeps_and_lists_the_objects_beyond_the_baseline(
    production_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = await asyncpg.connect(production_url)
    try:
        await conn.execute("CREATE INDEX projects_name_idx ON projects (name)")
        await conn.execute("ALTER TABLE sessions ADD COLUMN note text")
    finally:
        await conn.close()
    monkeypatch.setenv("DATABASE_URL", production_url)
    assert await asyncio.to_thread(cli.main, ["migrate", "--adopt"]) == 0
    out = capsys.readouterr().out
    assert "adopted: 0001_baseline marked applied" in out
    assert "  - extra column sessions.note (not part of the baseline; kept)" in out
    assert "  - extra index projects_name_idx (not part of the baseline; kept)" in out
    assert "0002_visibility" in out  # each migration applied is listed with its time


async def test_adopt_refuses_drifted_database_listing_differences(drifted_url: str) -> None:
    with pytest.raises(migrate.SchemaMismatch) as raised:
        await asyncio.to_thread(migrate.adopt, drifted_url)

    found = {difference.text: difference.blocking for difference in raised.value.differences}
    assert found == {
        "column outputs.width: type integer expected, found bigint": True,
        "missing index outputs_generation_id_file_type_idx": True,
        "extra index projects_foo_idx (not part of the baseline; kept)": False,
    }
    assert "missing index outputs_generation_id_file_type_idx" in str(raised.value)
    assert await _fetch(drifted_url, MIGRATION_ROWS) == []
    assert migrate.pending(drifted_url) == _on_disk_ids()


async def test_adopt_refuses_blank_database(empty_db_url: str) -> None:
    with pytest.raises(migrate.SchemaMismatch, match="use apply") as raised:
        await asyncio.to_thread(migrate.adopt, empty_db_url)

    assert "missing table profiles" in [str(item) for item in raised.value.differences]
    assert migrate.pending(empty_db_url)[0] == migrate.BASELINE_ID


async def test_adopt_check_finds_nothing_blocking_on_migrated_database(
    conn: asyncpg.Connection[Any],
) -> None:
    found = await migrate.adopt_check(conn)

    assert [difference for difference in found if difference.blocking] == []
    # The scratch schema was rolled back and the search_path restored.
    assert await conn.fetchval("SELECT to_regnamespace($1)::text", migrate.SCRATCH_SCHEMA) is None
    assert await conn.fetchval("SELECT current_schema()") == "public"


async def test_extra_not_null_column_without_default_blocks_adoption(
    production_url: str,
) -> None:
    conn = await asyncpg.connect(production_url)
    try:
        await conn.execute("ALTER TABLE sessions ADD COLUMN creator_id uuid NOT NULL")
        await conn.execute("ALTER TABLE sessions ADD COLUMN note text")
        found = await migrate.adopt_check(conn)
    finally:
        await conn.close()

    assert [(item.text, item.blocking) for item in found] == [
        ("extra column sessions.creator_id is NOT NULL without a default", True),
        ("extra column sessions.note (not part of the baseline; kept)", False),
    ]


async def _yoyo(*args: str, url: str) -> None:
    code, output = await plain_yoyo(*args, url=url)
    assert code == 0, output


async def test_yoyo_cli_applies_and_rolls_back_all(empty_db_url: str) -> None:
    await _yoyo("apply", url=empty_db_url)
    assert migrate.pending(empty_db_url) == []
    assert len((await _describe(empty_db_url)).tables) == len(catalog.BASELINE_TABLES)

    await _yoyo("rollback", "--all", url=empty_db_url)
    assert migrate.pending(empty_db_url) == _on_disk_ids()
    assert (await _describe(empty_db_url)).tables == ()


async def test_pending_ids_reports_baseline_before_apply_and_nothing_after(
    empty_db_url: str,
) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        assert await migrate.pending_ids(conn) == _on_disk_ids()
        assert (await migrate.pending_ids(conn))[0] == migrate.BASELINE_ID

        migrate.apply(empty_db_url)

        assert await migrate.pending_ids(conn) == []
    finally:
        await conn.close()


def test_unreachable_database_raises_database_unavailable() -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot connect to PostgreSQL"):
        migrate.apply("postgresql://postgres@127.0.0.1:1/nowhere")
