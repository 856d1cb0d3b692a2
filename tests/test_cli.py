"""The `vesper` command against a real database."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

import cli
from auth import tokens
from db.ops.demo import DEMO_USERS
from settings import DEV_JWT_SECRET


def test_token_prints_a_header_for_a_demo_user(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["token", "--user", "bob"]) == 0
    header = capsys.readouterr().out.strip()
    assert header.startswith("Authorization: Bearer ")
    claims = tokens.decode(
        header.removeprefix("Authorization: Bearer "),
        secret=DEV_JWT_SECRET,
        audience="authenticated",
    )
    assert claims.subject == DEMO_USERS["bob"]


def test_unknown_demo_user_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["token", "--user", "mallory"]) == 2
    assert "unknown demo user 'mallory'" in capsys.readouterr().err


def test_migrate_then_demo_on_an_empty_database(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db_url)
    assert cli.main(["migrate"]) == 0
    assert "0001_baseline, 0002_visibility" in capsys.readouterr().out
    assert cli.main(["migrate"]) == 0
    assert "none pending" in capsys.readouterr().out
    assert cli.main(["demo"]) == 0
    assert "demo data: loaded" in capsys.readouterr().out
    assert cli.main(["migrate", "--rollback-all"]) == 0
    assert "0002_visibility, 0001_baseline" in capsys.readouterr().out


def test_a_failing_migration_is_a_clear_error(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db_url)
    assert cli.main(["migrate"]) == 0
    assert cli.main(["migrate", "--rollback-all"]) == 0
    capsys.readouterr()
    # A table in the way of 0007: it fails, the migrations before it stay applied.
    asyncio.run(_execute(empty_db_url, "CREATE TABLE member_projects (id int)"))
    assert cli.main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert 'a migration failed: relation "member_projects" already exists' in err
    assert "still pending: 0007_index_tables, 0008_index_tables_backfill" in err
    assert "Traceback" not in err


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def test_unreachable_database_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    assert cli.main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vesper: cannot connect to PostgreSQL at 127.0.0.1:1/nowhere")
    assert "Traceback" not in err


def test_adopt_refuses_a_blank_database(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db_url)
    assert cli.main(["migrate", "--adopt"]) == 1
    assert "refusing to adopt" in capsys.readouterr().out


def test_schema_prints_the_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema"]) == 0
    assert "type Query {" in capsys.readouterr().out
