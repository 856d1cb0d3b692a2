"""`vesper seed`: sizes, heavy cases and determinism of the synthetic data (tiny scale)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest

import cli
from bench.seed import NotEmpty, Scale, seed, work
from tests.support.drift import drift
from tests.support.factories import Conn, profile

pytestmark = pytest.mark.slow  # data at volume, or the real server started by the test

TINY = Scale.named("tiny")

# One row (a UNION ALL of the three may come back in any order under a parallel plan).
DIGEST = """
SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY t.id))
        FROM (SELECT id, session_id, status, created_at, parameters FROM generations) t),
       (SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM outputs t),
       (SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM project_members t)
"""


async def _digest(conn: Conn) -> list[Any]:
    return list(await conn.fetchrow(DIGEST) or ())


def _profile_id(n: int, seed_value: int = 1) -> uuid.UUID:
    """The id the seeder gives user `n` (md5 of '<seed>:profile:<n>')."""
    return uuid.UUID(hashlib.md5(f"{seed_value}:profile:{n}".encode()).hexdigest())


async def test_tiny_scale_has_the_sizes_and_heavy_cases(conn: Conn) -> None:
    steps: list[tuple[str, int]] = []
    report = await seed(
        conn, TINY, seed=1, progress=lambda table, rows: steps.append((table, rows))
    )
    # The progress covers the whole seed, the index phase included: it ends with it.
    assert sum(rows for _, rows in steps) == work(TINY)
    assert steps[-1][0] == "indexes"
    assert sum(rows for table, rows in steps if table in ("index tables", "indexes")) > 0
    assert report.counts["profiles"] == TINY.users == 10
    assert report.counts["projects"] == TINY.projects == 100
    assert report.counts["sessions"] == TINY.sessions
    assert report.counts["generations"] == TINY.generations
    assert 2 * TINY.generations < report.counts["outputs"] < 3 * TINY.generations
    heavy_owner, heavy_member = _profile_id(2), _profile_id(3)
    owned = await conn.fetchval("SELECT count(*) FROM projects WHERE owner_id = $1", heavy_owner)
    assert owned == TINY.heavy_owner_projects
    member_of = await conn.fetchval(
        "SELECT count(*) FROM project_members WHERE user_id = $1", heavy_member
    )
    assert member_of == TINY.heavy_member_projects
    biggest_project = await conn.fetchval(
        "SELECT max(n) FROM (SELECT count(*) AS n FROM sessions GROUP BY project_id) c"
    )
    assert biggest_project >= TINY.heavy_project_sessions
    biggest_session = await conn.fetchval(
        "SELECT max(n) FROM (SELECT count(*) AS n FROM generations GROUP BY session_id) c"
    )
    assert biggest_session >= TINY.heavy_session_generations
    shared = await conn.fetchval("SELECT avg(is_shared::int) FROM projects")
    assert 0.03 < shared < 0.2
    admin = await conn.fetchval("SELECT count(*) FROM profiles WHERE role = 'admin'")
    assert admin == 1


async def test_seeded_rows_follow_the_production_shapes(conn: Conn) -> None:
    await seed(conn, TINY, seed=3)
    # Every project starts with an image session.
    assert not await conn.fetchval(
        """SELECT count(*) FROM projects p WHERE NOT EXISTS (
             SELECT 1 FROM sessions s WHERE s.project_id = p.id AND s.type = 'image')"""
    )
    # Outputs only for completed/dismissed generations; 1 or 4 per image generation,
    # 1 per video generation; all of one generation share created_at.
    shapes = await conn.fetch(
        """SELECT g.status, s.type, count(o.id) AS n, count(DISTINCT o.created_at) AS times
           FROM generations g JOIN sessions s ON s.id = g.session_id
           LEFT JOIN outputs o ON o.generation_id = g.id
           GROUP BY g.id, g.status, s.type"""
    )
    for row in shapes:
        if row["status"] in ("completed", "dismissed"):
            assert row["n"] in ((1,) if row["type"] == "video" else (1, 4)), dict(row)
            assert row["times"] == 1
        else:
            assert row["n"] == 0, dict(row)
    statuses = {r["status"] for r in shapes}
    assert statuses == {"completed", "failed", "cancelled", "processing", "queued", "dismissed"}
    # Members are never the owner.
    assert not await conn.fetchval(
        "SELECT count(*) FROM project_members m JOIN projects p ON p.id = m.project_id"
        " WHERE m.user_id = p.owner_id"
    )
    size = await conn.fetchval("SELECT avg(length(parameters::text)) FROM generations")
    assert 2_000 < size < 5_000


async def test_same_seed_same_data_other_seed_other_data(conn: Conn) -> None:
    await seed(conn, TINY, seed=7)
    first = await _digest(conn)
    await seed(conn, TINY, seed=7, replace=True)
    assert await _digest(conn) == first
    await seed(conn, TINY, seed=8, replace=True)
    assert await _digest(conn) != first


async def test_seeding_a_database_with_data_refuses_and_writes_nothing(conn: Conn) -> None:
    await profile(conn, "someone")
    with pytest.raises(NotEmpty):
        await seed(conn, TINY)
    assert await conn.fetchval("SELECT count(*) FROM profiles") == 1
    assert await conn.fetchval("SELECT count(*) FROM generations") == 0


def test_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scale 'huge'"):
        Scale.named("huge")


def test_seed_command_reports_counts_and_size(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["seed", "--scale", "tiny", "--quiet", "--database", db_url]) == 0
    out = capsys.readouterr().out
    assert "seeded tiny (seed 1)" in out
    assert "10,000 generations" in out
    assert "database size:" in out
    assert cli.main(["seed", "--scale", "tiny", "--quiet", "--database", db_url]) == 1
    assert "already holds data" in capsys.readouterr().err


async def test_the_index_tables_match_the_loaded_data(conn: Conn) -> None:
    await seed(conn, TINY)
    assert await conn.fetchval("SELECT count(*) FROM published_outputs") > 20_000
    assert await conn.fetchval("SELECT count(*) FROM member_projects") > 100
    assert await drift(conn) == []
    # The triggers are back on after the load.
    owner = await profile(conn, "latecomer")
    await conn.execute(
        "INSERT INTO project_members (id, project_id, user_id, role)"
        " SELECT gen_random_uuid(), id, $1, 'viewer' FROM projects LIMIT 1",
        owner,
    )
    assert await drift(conn) == []


def test_seed_command_refuses_a_database_with_pending_migrations(
    empty_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["seed", "--scale", "tiny", "--quiet", "--database", empty_db_url]) == 1
    assert "pending migrations (0001_baseline" in capsys.readouterr().err
