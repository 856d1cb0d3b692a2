"""`vesper db top`: the database's top statements, named after our SQL blocks, or a clear
hint where pg_stat_statements is not loaded."""

from __future__ import annotations

import asyncio

import pytest

import cli
from db import projects
from db.ops import statements
from tests.support import factories as f


async def _preloaded(conn: f.Conn) -> bool:
    libraries: str = await conn.fetchval("SHOW shared_preload_libraries")
    return "pg_stat_statements" in libraries


async def test_db_top_names_our_sql_blocks(
    conn: f.Conn, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if not await _preloaded(conn):
        pytest.skip("this server does not preload pg_stat_statements (see the hint test)")
    await statements.install(conn)
    owner = await f.profile(conn, "owner")
    project = await f.project(conn, owner)
    for _ in range(3):
        await projects.projects_by_ids(conn, viewer=owner, ids=[project])

    found = await statements.top(conn, limit=100)
    by_block = {row.block: row for row in found if row.block}
    assert by_block["projects.projects_by_ids"].calls >= 3
    assert by_block["projects.projects_by_ids"].rows >= 3

    assert await asyncio_main(["db", "top", "--limit", "100", "--database", db_url]) == 0
    out = capsys.readouterr().out
    assert "projects.projects_by_ids" in out
    assert out.splitlines()[0].split()[:3] == ["calls", "total", "ms"]


async def test_db_top_explains_what_is_missing(
    conn: f.Conn, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if await _preloaded(conn):  # not installed in this database yet
        assert await asyncio_main(["db", "top", "--database", db_url]) == 1
    else:  # installed, but the server does not load the library
        await statements.install(conn)
        assert await asyncio_main(["db", "top", "--database", db_url]) == 1
    err = capsys.readouterr().err
    assert "shared_preload_libraries" in err
    assert "CREATE EXTENSION pg_stat_statements" in err


async def asyncio_main(argv: list[str]) -> int:
    # The command runs its own event loop: keep it off this test's loop.
    return await asyncio.to_thread(cli.main, argv)
