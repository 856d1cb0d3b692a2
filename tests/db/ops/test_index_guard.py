"""The guard before each concurrent index build (0004-0006): an index already under the
name is kept when it is the one the migration builds, refused when it is another valid
one (by `vesper migrate`, plain yoyo and `--adopt` alike), and replaced when it is the
INVALID leftover of a failed build."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import psycopg
import pytest

import cli
from db.ops import catalog, migrate
from tests.db.ops.conftest import plain_yoyo
from tests.support import factories as f
from tests.support.sql import execute

NAME = "generations_session_status_created_idx"
MIGRATION = "0006_generations_index"
BUILT = (
    f"CREATE INDEX {NAME} ON public.generations"
    " USING btree (session_id, status, created_at DESC, id DESC)"
)
OTHER = f"CREATE INDEX {NAME} ON public.generations USING btree (session_id)"
# Every index the guarded migrations build.
BUILDS = {
    "projects_owner_updated_idx": "0004_projects_indexes",
    "projects_shared_updated_idx": "0004_projects_indexes",
    "sessions_project_visible_updated_idx": "0005_sessions_index",
    "published_outputs_session_gallery_idx": "0017_published_session_indexes",
    "published_outputs_session_thumbnail_idx": "0017_published_session_indexes",
    NAME: MIGRATION,
}
GUARDED = sorted(set(BUILDS.values()))

INDEX = """
SELECT c.oid, x.indisvalid, pg_get_indexdef(c.oid)
FROM pg_class c JOIN pg_index x ON x.indexrelid = c.oid
WHERE c.relname = $1
"""


async def _index(url: str, name: str = NAME) -> tuple[int, bool, str] | None:
    """The index's OID, whether it is valid, and its definition; None when there is none."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(INDEX, name)
    finally:
        await conn.close()
    return None if row is None else (row[0], row[1], row[2])


async def _leave_invalid_leftover(url: str) -> None:
    """What a failed CREATE INDEX CONCURRENTLY of NAME leaves: an INVALID index (the build
    fails here on duplicate keys)."""
    conn = await asyncpg.connect(url)
    try:
        owner = await f.profile(conn, "owner")
        session = await f.session(conn, await f.project(conn, owner))
        await f.generation(conn, session, owner)
        await f.generation(conn, session, owner)
        with contextlib.suppress(asyncpg.UniqueViolationError):
            await conn.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {NAME} ON generations (user_id)")
    finally:
        await conn.close()


async def _vesper(
    url: str, args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """`vesper <args>` on `url`: its exit code, stdout and stderr."""
    monkeypatch.setenv("DATABASE_URL", url)
    code = await asyncio.to_thread(cli.main, args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
async def before_0006(empty_db_url: str) -> str:
    """A database migrated up to the migration before 0006."""
    migrate.apply(empty_db_url, revision="0005_sessions_index")
    return empty_db_url


async def test_migrate_refuses_a_valid_index_of_another_definition(
    before_0006: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await execute(before_0006, f"CREATE INDEX {NAME} ON generations (session_id)")
    before = await _index(before_0006)

    code, _, err = await _vesper(before_0006, ["migrate"], monkeypatch, capsys)

    assert code == 1
    assert err.splitlines()[0] == (
        f"vesper: a migration failed: {NAME} already exists and is not the index this"
        f" migration builds under that name (found: {OTHER}; builds: {BUILT}); refusing to"
        " replace it: rename or drop it yourself, then migrate again"
    )
    assert await _index(before_0006) == before  # the same index, untouched
    assert migrate.pending(before_0006)[0] == MIGRATION


async def test_plain_yoyo_refuses_it_too(before_0006: str) -> None:
    await execute(before_0006, f"CREATE INDEX {NAME} ON generations (session_id)")
    before = await _index(before_0006)

    code, output = await plain_yoyo("apply", url=before_0006)

    assert code != 0
    assert f"{NAME} already exists and is not the index this migration builds" in output
    assert await _index(before_0006) == before
    assert migrate.pending(before_0006)[0] == MIGRATION


@pytest.mark.parametrize(
    ("in_the_way", "refusal"),
    [
        (f"CREATE TABLE {NAME} (id integer)", f"{NAME} already exists and is not the index"),
        (
            f"CREATE INDEX {NAME}_leftover ON generations (user_id)",
            f"index {NAME}_leftover is valid, and this migration drops an index of that name"
            " as a failed build's leftover; refusing to drop it",
        ),
    ],
    ids=["not-an-index", "valid-leftover-name"],
)
async def test_migrate_refuses_other_relations_in_the_way(
    before_0006: str, in_the_way: str, refusal: str
) -> None:
    await execute(before_0006, in_the_way)
    names = (NAME, f"{NAME}_leftover")
    before = [await _index(before_0006, name) for name in names]

    with pytest.raises(psycopg.errors.DuplicateTable, match=refusal):
        migrate.apply(before_0006)

    assert migrate.pending(before_0006)[0] == MIGRATION
    assert [await _index(before_0006, name) for name in names] == before


async def test_a_valid_index_of_the_same_definition_is_kept(before_0006: str) -> None:
    await execute(
        before_0006,
        f"CREATE INDEX {NAME} ON generations (session_id, status, created_at DESC, id DESC)",
    )
    before = await _index(before_0006)

    assert migrate.apply(before_0006, revision=MIGRATION) == [MIGRATION]

    assert before is not None
    assert await _index(before_0006) == before  # same OID: nothing rebuilt


async def test_an_invalid_leftover_is_rebuilt(before_0006: str) -> None:
    await _leave_invalid_leftover(before_0006)
    leftover = await _index(before_0006)
    assert leftover is not None
    assert not leftover[1]

    assert migrate.apply(before_0006, revision=MIGRATION) == [MIGRATION]

    rebuilt = await _index(before_0006)
    assert rebuilt is not None
    assert rebuilt[1:] == (True, BUILT)
    assert rebuilt[0] != leftover[0]
    assert await _index(before_0006, f"{NAME}_leftover") is None


def test_every_concurrent_build_is_a_guarded_one() -> None:
    """Each CREATE INDEX CONCURRENTLY of a migration is of the guarded form, which adoption
    reads (migrate._concurrent_builds), with its row in the guard and its leftover drop."""
    builds = migrate._concurrent_builds(migrate.MIGRATIONS_DIR)
    assert {name: migration for migration, name, _ in builds} == BUILDS
    for migration in GUARDED:
        sql = (migrate.MIGRATIONS_DIR / f"{migration}.sql").read_text(encoding="utf-8")
        names = [name for in_file, name, _ in builds if in_file == migration]
        assert sql.count("CREATE INDEX CONCURRENTLY") == len(names)
        for name in names:
            assert f"            ('{name}', " in sql
            assert f"DROP INDEX CONCURRENTLY IF EXISTS {name}_leftover;" in sql
    everything = [path.read_text(encoding="utf-8") for path in migrate.MIGRATIONS_DIR.iterdir()]
    assert sum(sql.count("CREATE INDEX CONCURRENTLY") for sql in everything) == len(builds)


async def test_each_guard_keeps_the_indexes_its_migration_built(db_url: str) -> None:
    """Every guard's definitions are the ones its CREATE INDEX statements produce: run
    again over them, the migrations keep all of them (same OIDs)."""
    before = {name: await _index(db_url, name) for name in BUILDS}
    await execute(db_url, f"DELETE FROM _yoyo_migration WHERE migration_id = any(ARRAY{GUARDED})")

    assert migrate.apply(db_url) == GUARDED

    assert {name: await _index(db_url, name) for name in BUILDS} == before
    conn = await asyncpg.connect(db_url)
    try:
        found = [str(difference) for difference in await migrate.adopt_check(conn)]
    finally:
        await conn.close()
    # Adoption compares the tables of production's schema (the baseline's), not ours.
    kept = [
        f"extra index {name} (the one {migration} builds; kept as is)"
        for migration, name, statement in migrate._concurrent_builds(migrate.MIGRATIONS_DIR)
        if migrate._table_of(statement) in catalog.BASELINE_TABLES
    ]
    assert len(kept) == 4
    assert set(kept) <= set(found)


async def test_adopt_reports_a_valid_index_of_another_definition_as_a_conflict(
    production_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await execute(production_url, f"CREATE INDEX {NAME} ON generations (session_id)")
    before = await _index(production_url)

    code, out, err = await _vesper(production_url, ["migrate", "--adopt"], monkeypatch, capsys)

    assert (code, out) == (1, "")
    assert err.startswith("refusing to adopt: the database differs from what the migrations")
    conflict = (
        f"  - index {NAME} conflicts with {MIGRATION}: {BUILT.replace('public.', '')} expected,"
        f" found {OTHER.replace('public.', '')} (rename or drop it yourself, then adopt again)"
    )
    assert conflict in err.splitlines()
    assert "kept" not in err
    assert await _index(production_url) == before
    assert migrate.pending(production_url)[0] == migrate.BASELINE_ID  # nothing recorded


async def test_adopt_keeps_the_same_index_and_rebuilds_a_leftover(
    production_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    same = "projects_owner_updated_idx"
    await execute(
        production_url, f"CREATE INDEX {same} ON projects (owner_id, updated_at DESC, id DESC)"
    )
    await _leave_invalid_leftover(production_url)
    kept = await _index(production_url, same)

    code, out, _ = await _vesper(production_url, ["migrate", "--adopt"], monkeypatch, capsys)

    assert code == 0
    assert f"  - extra index {same} (the one 0004_projects_indexes builds; kept as is)" in out
    assert (
        f"  - index {NAME} is INVALID (a failed build's leftover; {MIGRATION} drops and"
        " rebuilds it)"
    ) in out
    assert await _index(production_url, same) == kept
    rebuilt = await _index(production_url)
    assert rebuilt is not None
    assert rebuilt[1:] == (True, BUILT)
