"""The index tables of migration 0007 (member_projects, published_outputs) stay equal to
what the base tables say, after every kind of write and under concurrent writers."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import asyncpg

from domain.vocabulary import LISTED_STATUSES, GenerationStatus
from tests.support import factories as f
from tests.support.drift import drift
from tests.support.factories import Conn


async def _count(conn: Conn, table: str) -> int:
    value: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return value


async def test_every_write_keeps_the_index_tables_exact(conn: Conn) -> None:
    owner, other = await f.profile(conn, "owner"), await f.profile(conn, "other")
    project = await f.project(conn, owner)
    second = await f.project(conn, other)
    membership = await f.member(conn, project, other, "editor")
    session = await f.session(conn, project, private=True)
    done = await f.generation(conn, session, owner)
    running = await f.generation(conn, session, owner, status="processing")
    image = await f.output(conn, done)
    await f.output(conn, done, file_type="video")
    early = await f.output(conn, running)  # a worker may write outputs before completing
    assert await _count(conn, "member_projects") == 1
    assert await _count(conn, "published_outputs") == 2
    assert await drift(conn) == []

    writes: list[tuple[Any, ...]] = [
        ("UPDATE projects SET updated_at = $1 WHERE id = $2", f.tick(), project),
        ("UPDATE projects SET name = 'renamed' WHERE id = $1", project),
        ("UPDATE generations SET status = 'completed' WHERE id = $1", running),
        ("UPDATE generations SET parameters = '{\"beat\": 1}' WHERE id = $1", running),
        ("UPDATE generations SET status = 'dismissed' WHERE id = $1", done),
        ("UPDATE generations SET status = 'completed' WHERE id = $1", done),
        ("UPDATE sessions SET is_private = false WHERE id = $1", session),
        ("UPDATE sessions SET project_id = $1 WHERE id = $2", second, session),
        ("UPDATE outputs SET file_type = 'video', created_at = $1 WHERE id = $2", f.tick(), image),
        ("UPDATE outputs SET generation_id = $1 WHERE id = $2", done, early),
        ("UPDATE generations SET created_at = $1 WHERE id = $2", f.tick(), done),
        ("UPDATE project_members SET project_id = $1 WHERE id = $2", second, membership),
        ("UPDATE project_members SET user_id = $1 WHERE id = $2", owner, membership),
        ("DELETE FROM outputs WHERE id = $1", image),
        ("DELETE FROM project_members WHERE id = $1", membership),
        ("DELETE FROM generations WHERE id = $1", running),
    ]
    for statement, *args in writes:
        await conn.execute(str(statement), *args)
        assert await drift(conn) == [], statement

    await f.member(conn, second, owner, "viewer")
    await conn.execute("DELETE FROM projects WHERE id = $1", second)
    assert await _count(conn, "member_projects") == 0
    assert await _count(conn, "published_outputs") == 0
    assert await drift(conn) == []


async def test_a_status_heartbeat_rewrites_nothing(conn: Conn) -> None:
    owner = await f.profile(conn, "owner")
    session = await f.session(conn, await f.project(conn, owner))
    generation = await f.generation(conn, session, owner)
    await f.output(conn, generation)
    before = await conn.fetchval("SELECT xmin::text FROM published_outputs")
    await conn.execute(
        "UPDATE generations SET parameters = '{\"progress\": 0.5}', status = status WHERE id = $1",
        generation,
    )
    assert await conn.fetchval("SELECT xmin::text FROM published_outputs") == before


async def _writer(url: str, rng: random.Random, ids: dict[str, Any], rounds: int) -> None:
    """Random writes racing the other writers over the same few rows."""
    conn = await asyncpg.connect(url)
    try:
        for _ in range(rounds):
            session = rng.choice(ids["sessions"])
            generation = rng.choice(ids["generations"])
            action = rng.randrange(7)
            async with conn.transaction():
                if action == 0:
                    await f.output(conn, generation)
                elif action == 1:
                    status = rng.choice(["completed", "dismissed", "processing", "failed"])
                    await conn.execute(
                        "UPDATE generations SET status = $1 WHERE id = $2", status, generation
                    )
                elif action == 2:
                    await conn.execute(
                        "UPDATE sessions SET is_private = NOT is_private WHERE id = $1", session
                    )
                elif action == 3:
                    await conn.execute(
                        "DELETE FROM outputs WHERE id = (SELECT id FROM outputs"
                        " WHERE generation_id = $1 ORDER BY id LIMIT 1)",
                        generation,
                    )
                elif action == 4:
                    await conn.execute(
                        "UPDATE projects SET updated_at = $1 WHERE id = $2",
                        f.tick(),
                        rng.choice(ids["projects"]),
                    )
                elif action == 5:
                    await conn.execute(
                        "INSERT INTO project_members (id, project_id, user_id, role)"
                        " VALUES ($1, $2, $3, 'viewer') ON CONFLICT DO NOTHING",
                        uuid.uuid4(),
                        rng.choice(ids["projects"]),
                        rng.choice(ids["profiles"]),
                    )
                else:
                    await conn.execute(
                        "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2",
                        rng.choice(ids["projects"]),
                        rng.choice(ids["profiles"]),
                    )
    finally:
        await conn.close()


async def test_concurrent_writers_leave_no_drift(conn: Conn, db_url: str) -> None:
    owner = await f.profile(conn, "owner")
    profiles = [await f.profile(conn, f"user{n}") for n in range(4)]
    projects = [await f.project(conn, owner) for _ in range(2)]
    sessions = [await f.session(conn, p, private=n % 2 == 0) for n, p in enumerate(projects * 2)]
    generations = [
        await f.generation(conn, s, owner, status="processing") for s in sessions for _ in range(2)
    ]
    ids = {
        "profiles": profiles,
        "projects": projects,
        "sessions": sessions,
        "generations": generations,
    }
    for seed in range(4):
        await asyncio.gather(
            *(_writer(db_url, random.Random(seed * 10 + n), ids, 80) for n in range(6))
        )
        assert await drift(conn) == [], f"seed {seed}"
    assert await _count(conn, "published_outputs") > 0


def test_the_listed_statuses_are_every_status_but_dismissed() -> None:
    assert set(LISTED_STATUSES) == set(GenerationStatus) - {GenerationStatus.DISMISSED}


async def test_session_privacies_agree_with_the_session_rule(conn: Conn) -> None:
    rows = await conn.fetch(
        "SELECT r.role, p.private, vesper_sees_session(r.role, p.private) AS sees,"
        "       p.private = ANY(vesper_session_privacies(r.role)) AS listed"
        " FROM unnest(ARRAY['OWNER', 'ADMIN', 'EDITOR', 'VIEWER', NULL]) AS r (role)"
        " CROSS JOIN unnest(ARRAY[false, true]) AS p (private)"
    )
    assert len(rows) == 10
    assert all(row["sees"] == row["listed"] for row in rows)
