"""The index migrations (0004-0006) build CONCURRENTLY: writes keep flowing while one
builds, and a leftover of a failed build is replaced by a valid index."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg

from db.ops import migrate
from tests.support import factories as f

VALID = """
SELECT i.indisvalid, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = $1
"""
BUILDING = """
SELECT count(*) FROM pg_stat_progress_create_index p
JOIN pg_class c ON c.oid = p.index_relid
WHERE c.relname = $1
"""


async def _connect(url: str) -> asyncpg.Connection[Any]:
    return await asyncpg.connect(url)


async def _index(conn: asyncpg.Connection[Any], name: str) -> tuple[bool, str] | None:
    """Whether index `name` is valid, and its definition; None when there is none."""
    row = await conn.fetchrow(VALID, name)
    return None if row is None else (row[0], row[1])


async def test_writes_keep_flowing_while_an_index_builds(empty_db_url: str) -> None:
    url = empty_db_url
    migrate.apply(url, revision="0005_sessions_index")
    conn = await _connect(url)
    reader = await _connect(url)
    try:
        owner = await f.profile(conn, "owner")
        session = await f.session(conn, await f.project(conn, owner))
        for _ in range(50):
            await f.generation(conn, session, owner)

        # A reader holding an old snapshot makes the concurrent build wait before it can
        # finish ("waiting for old snapshots"), which leaves time to write meanwhile.
        holder = reader.transaction(isolation="repeatable_read")
        await holder.start()
        await reader.fetchval("SELECT count(*) FROM generations")
        build = asyncio.create_task(
            asyncio.to_thread(migrate.apply, url, revision="0006_generations_index")
        )
        name = "generations_session_status_created_idx"
        for _ in range(200):
            if await conn.fetchval(BUILDING, name):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the index build never started")

        written = [
            await asyncio.wait_for(f.generation(conn, session, owner, status="failed"), 5)
            for _ in range(20)
        ]
        assert await conn.fetchval(BUILDING, name) == 1, "the build is still in progress"
        assert not build.done()

        await holder.rollback()
        assert await asyncio.wait_for(build, 60) == ["0006_generations_index"]
        assert await _index(conn, name) == (
            True,
            "CREATE INDEX generations_session_status_created_idx ON public.generations"
            " USING btree (session_id, status, created_at DESC, id DESC)",
        )
        # The rows written during the build are in the index.
        await conn.execute("SET enable_seqscan = off")
        await conn.execute("SET enable_bitmapscan = off")
        found = await conn.fetch(
            "SELECT id FROM generations WHERE session_id = $1 AND status = 'failed'", session
        )
        assert {row["id"] for row in found} == set(written)
    finally:
        await reader.close()
        await conn.close()


async def test_a_failed_build_leftover_is_replaced(empty_db_url: str) -> None:
    url = empty_db_url
    migrate.apply(url, revision="0004_projects_indexes")
    conn = await _connect(url)
    try:
        owner = await f.profile(conn, "owner")
        project = await f.project(conn, owner)
        await f.session(conn, project)
        await f.session(conn, project)
        # A concurrent build that fails (here: duplicate keys) leaves an INVALID index.
        name = "sessions_project_visible_updated_idx"
        with contextlib.suppress(asyncpg.UniqueViolationError):
            await conn.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON sessions (project_id)")
        assert (await _index(conn, name) or (True,))[0] is False

        assert migrate.apply(url, revision="0005_sessions_index") == ["0005_sessions_index"]
        assert await _index(conn, name) == (
            True,
            "CREATE INDEX sessions_project_visible_updated_idx ON public.sessions"
            " USING btree (project_id, is_private, updated_at DESC, id DESC)"
            " INCLUDE (name, type, created_at)",
        )
    finally:
        await conn.close()
