"""Plans that must not depend on who the viewer is: checked on generic plans, the ones a
prepared statement settles on after a few runs."""

from __future__ import annotations

import uuid

from tests.support import factories as f


async def _access_plan(conn: f.Conn, viewer: uuid.UUID, project: uuid.UUID) -> str:
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    await conn.execute("PREPARE access(uuid, uuid) AS SELECT * FROM vesper_project_access($1, $2)")
    rows = await conn.fetch(f"EXPLAIN EXECUTE access('{viewer}', '{project}')")
    return "\n".join(row[0] for row in rows)


async def _owner_of_many(conn: f.Conn) -> tuple[uuid.UUID, uuid.UUID]:
    """A profile owning 3,000 projects, and one of them..."""
    owner = await f.profile(conn, "prolific")
    await conn.execute(
        "INSERT INTO projects (id, name, owner_id, updated_at)"
        " SELECT gen_random_uuid(), 'P' || n, $1, now() FROM generate_series(1, 3000) n",
        owner,
    )
    # ...among a thousand owners of a few projects each: the planner then expects a
    # viewer to own few projects, which is what made an owner_id index look cheap.
    await conn.execute(
        "INSERT INTO profiles (id, updated_at) SELECT gen_random_uuid(), now()"
        " FROM generate_series(1, 1000)"
    )
    await conn.execute(
        "INSERT INTO projects (id, name, owner_id, updated_at)"
        " SELECT gen_random_uuid(), 'Q', pr.id, now()"
        " FROM profiles pr CROSS JOIN generate_series(1, 3) WHERE pr.id <> $1",
        owner,
    )
    await conn.execute("VACUUM ANALYZE profiles, projects")  # index-only scans look cheap
    project: uuid.UUID = await conn.fetchval(
        "SELECT id FROM projects WHERE owner_id = $1 LIMIT 1", owner
    )
    return owner, project


async def test_access_check_probes_the_project_by_its_key_in_a_generic_plan(
    conn: f.Conn,
) -> None:
    owner, project = await _owner_of_many(conn)
    plan = await _access_plan(conn, owner, project)
    assert "projects_pkey" in plan, plan
    # An index led by owner_id would read every project of the viewer per check.
    assert "projects_owner" not in plan, plan
