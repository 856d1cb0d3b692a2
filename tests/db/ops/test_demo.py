"""db/ops/demo.py: the demo dataset loads once, atomically, and has the shapes the API relies on."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from typing import Any

import asyncpg
import pytest

from db.ops.catalog import BASELINE_TABLES
from db.ops.demo import DEMO_USERS, DemoConflictError, DemoSummary, build_demo, load_demo

TABLES = BASELINE_TABLES

# Which projects each demo user can see, and as what ("shared": only because it is shared).
EXPECTED_ACCESS = {
    "alice": {
        "Nebula Campaign": "owner",
        "Autumn Lookbook": "owner",
        "Private Sketchbook": "owner",
        "Brand Refresh": "owner",
        "Product Renders": "editor",
        "Street Portraits": "viewer",
        "Motion Tests": "admin",
    },
    "bob": {
        "Nebula Campaign": "admin",
        "Autumn Lookbook": "shared",
        "Product Renders": "owner",
        "Empty Canvas": "owner",
        "Street Portraits": "viewer",
    },
    "carol": {
        "Nebula Campaign": "editor",
        "Autumn Lookbook": "viewer",
        "Product Renders": "admin",
        "Street Portraits": "owner",
        "Motion Tests": "owner",
    },
    "dave": {
        "Nebula Campaign": "viewer",
        "Autumn Lookbook": "shared",
        "Brand Refresh": "editor",
        "Empty Canvas": "viewer",
    },
    "erin": {"Autumn Lookbook": "shared"},
    "root": {"Autumn Lookbook": "shared"},
}

ACCESS = """
select p.name,
       case when p.owner_id = $1 then 'owner' else coalesce(m.role, 'shared') end as access
from projects as p
left join project_members as m on m.project_id = p.id and m.user_id = $1
where p.owner_id = $1 or m.id is not null or p.is_shared
"""

# API.md's thumbnail: newest published image in a session the viewer can see.
THUMBNAIL = """
select o.file_url, s.is_private
from outputs as o
join generations as g on g.id = o.generation_id
join sessions as s on s.id = g.session_id
join projects as p on p.id = s.project_id
where p.name = $1 and g.status = 'completed' and o.file_type = 'image'
  and (not s.is_private or $2::boolean)
order by g.created_at desc, o.created_at desc, o.id desc
limit 1
"""


async def counts(conn: asyncpg.Connection[Any]) -> dict[str, int]:
    return {table: await conn.fetchval(f"select count(*) from {table}") for table in TABLES}


async def test_demo_loads_on_a_fresh_database_and_counts_match_the_summary(
    conn: asyncpg.Connection[Any],
) -> None:
    summary = await load_demo(conn)

    data = build_demo()
    expected = {table: len(getattr(data, table)) for table in TABLES}
    assert summary == DemoSummary(created=True, **expected)
    assert await counts(conn) == expected
    assert 100 <= expected["generations"] <= 200
    assert 200 <= expected["outputs"] <= 400


async def test_loading_twice_reports_existing_data_and_duplicates_nothing(
    conn: asyncpg.Connection[Any],
) -> None:
    await load_demo(conn)
    before = await counts(conn)

    again = await load_demo(conn)

    assert again == DemoSummary(created=False)
    assert await counts(conn) == before


async def test_concurrent_loads_create_the_dataset_once(db_url: str) -> None:
    first, second = await asyncpg.connect(db_url), await asyncpg.connect(db_url)
    try:
        summaries = await asyncio.gather(load_demo(first), load_demo(second))
        assert sorted(summary.created for summary in summaries) == [False, True]
        assert (await counts(first))["profiles"] == len(DEMO_USERS)
    finally:
        await first.close()
        await second.close()


async def test_a_load_failing_midway_leaves_nothing(conn: asyncpg.Connection[Any]) -> None:
    # Outputs are inserted last: make that statement fail after every other table is loaded.
    await conn.execute(
        "alter table outputs add constraint demo_no_video check (file_type <> 'video')"
    )

    with pytest.raises(asyncpg.CheckViolationError):
        await load_demo(conn)

    assert await counts(conn) == dict.fromkeys(TABLES, 0)
    await conn.execute("alter table outputs drop constraint demo_no_video")
    assert (await load_demo(conn)).created


async def test_a_demo_username_owned_by_another_profile_is_a_conflict(
    conn: asyncpg.Connection[Any],
) -> None:
    await conn.execute(
        "insert into profiles (id, username, updated_at) values ($1, 'carol', now())",
        uuid.uuid4(),
    )

    with pytest.raises(DemoConflictError, match="carol"):
        await load_demo(conn)

    assert await counts(conn) == {**dict.fromkeys(TABLES, 0), "profiles": 1}


async def test_stored_rows_equal_the_built_rows(conn: asyncpg.Connection[Any]) -> None:
    await load_demo(conn)
    data = build_demo()

    for table in TABLES:
        built = sorted(getattr(data, table))
        fields = built[0]._fields
        rows = await conn.fetch(f"select {', '.join(fields)} from {table} order by id")
        stored = [tuple(row) for row in rows]
        if table == "generations":  # jsonb comes back normalised: compare values
            index = fields.index("parameters")
            stored = [(*r[:index], json.loads(r[index]), *r[index + 1 :]) for r in stored]
            built = [(*r[:index], json.loads(r[index]), *r[index + 1 :]) for r in built]
        elif table == "profiles":  # the enum comes back as text
            stored = [tuple(str(value) for value in row) for row in stored]
            built = [tuple(str(value) for value in row) for row in built]
        assert stored == [tuple(row) for row in built], table


def test_the_dataset_is_deterministic() -> None:
    assert build_demo.__wrapped__() == build_demo.__wrapped__()
    assert DEMO_USERS["alice"] == uuid.uuid5(
        uuid.UUID("5d0c9a7e-3b41-4f2a-9e6d-1c8b7a60f3d2"), "profile:alice"
    )


async def test_every_generation_status_and_file_type_appears(
    conn: asyncpg.Connection[Any],
) -> None:
    await load_demo(conn)

    statuses = await conn.fetch("select distinct status, user_id from generations")
    file_types = await conn.fetch("select distinct file_type from outputs")

    assert {row["status"] for row in statuses} == {
        "queued",
        "processing",
        "completed",
        "failed",
        "cancelled",
        "dismissed",
    }
    assert {row["file_type"] for row in file_types} == {"image", "video"}
    runners = {row["user_id"] for row in statuses if row["status"] != "completed"}
    assert len(runners) >= 3  # the unusual statuses are spread over several users


async def test_every_reference_points_to_an_existing_row(conn: asyncpg.Connection[Any]) -> None:
    await load_demo(conn)

    orphans = await conn.fetchval(
        """
        select (select count(*) from projects as x where not exists
                  (select from profiles as p where p.id = x.owner_id))
             + (select count(*) from project_members as x where not exists
                  (select from projects as p where p.id = x.project_id) or not exists
                  (select from profiles as p where p.id = x.user_id))
             + (select count(*) from sessions as x where not exists
                  (select from projects as p where p.id = x.project_id))
             + (select count(*) from generations as x where not exists
                  (select from sessions as s where s.id = x.session_id) or not exists
                  (select from profiles as p where p.id = x.user_id))
             + (select count(*) from generation_jobs as x where not exists
                  (select from generations as g where g.id = x.generation_id))
             + (select count(*) from outputs as x where not exists
                  (select from generations as g where g.id = x.generation_id))
        """
    )
    assert orphans == 0


async def test_outputs_follow_production_shapes(conn: asyncpg.Connection[Any]) -> None:
    await load_demo(conn)

    rows = await conn.fetch(
        """
        select g.status, s.type, g.cost is not null as costed,
               count(o.id) as outputs,
               count(distinct o.created_at) as instants,
               count(o.duration) as durations,
               bool_and(o.file_type = s.type) as typed
        from generations as g
        join sessions as s on s.id = g.session_id
        left join outputs as o on o.generation_id = g.id
        group by g.id, g.status, s.type, g.cost
        """
    )

    for row in rows:
        if row["status"] == "completed":
            assert row["outputs"] in ({1} if row["type"] == "video" else {1, 4})
            assert row["costed"]
        elif row["status"] in {"queued", "processing", "failed", "cancelled"}:
            assert row["outputs"] == 0
            assert not row["costed"]
        if row["outputs"]:
            assert row["instants"] == 1  # every output of a generation shares created_at
            assert row["typed"]
            assert row["durations"] == (row["outputs"] if row["type"] == "video" else 0)
    dismissed = [row for row in rows if row["status"] == "dismissed"]
    assert {row["outputs"] > 0 for row in dismissed} == {True, False}
    # Only queued and processing generations have a job row.
    assert await conn.fetchval(
        "select bool_and(g.status in ('queued', 'processing')) from generation_jobs as j"
        " join generations as g on g.id = j.generation_id"
    )


async def test_each_user_sees_the_expected_projects_with_the_expected_role(
    conn: asyncpg.Connection[Any],
) -> None:
    await load_demo(conn)

    for username, user_id in DEMO_USERS.items():
        rows = await conn.fetch(ACCESS, user_id)
        assert {row["name"]: row["access"] for row in rows} == EXPECTED_ACCESS[username]
    role = await conn.fetchval("select role::text from profiles where id = $1", DEMO_USERS["root"])
    assert role == "admin"


async def test_generations_are_run_by_users_allowed_to_write_where_they_can_see(
    conn: asyncpg.Connection[Any],
) -> None:
    await load_demo(conn)

    offenders = await conn.fetch(
        """
        select g.id
        from generations as g
        join sessions as s on s.id = g.session_id
        join projects as p on p.id = s.project_id
        left join project_members as m on m.project_id = p.id and m.user_id = g.user_id
        where g.user_id <> p.owner_id
          and (s.is_private or m.role is null or m.role not in ('admin', 'editor'))
        """
    )
    assert offenders == []


async def test_every_project_has_an_image_session_and_some_sessions_are_private(
    conn: asyncpg.Connection[Any],
) -> None:
    await load_demo(conn)

    without_image = await conn.fetchval(
        "select count(*) from projects as p where not exists"
        " (select from sessions as s where s.project_id = p.id and s.type = 'image')"
    )
    privacy = await conn.fetch("select distinct is_private, type from sessions")

    assert without_image == 0
    assert {(row["is_private"], row["type"]) for row in privacy} >= {
        (True, "image"),
        (False, "image"),
        (False, "video"),
    }


async def test_newest_image_in_a_private_session_gives_the_owner_another_thumbnail(
    conn: asyncpg.Connection[Any],
) -> None:
    await load_demo(conn)

    owner = await conn.fetchrow(THUMBNAIL, "Nebula Campaign", True)
    member = await conn.fetchrow(THUMBNAIL, "Nebula Campaign", False)

    assert owner is not None
    assert member is not None
    assert owner["is_private"]
    assert not member["is_private"]
    assert owner["file_url"] != member["file_url"]
    assert await conn.fetchrow(THUMBNAIL, "Empty Canvas", True) is None


async def test_ties_on_created_at_need_the_id_tiebreaker(conn: asyncpg.Connection[Any]) -> None:
    await load_demo(conn)

    tied_generations = await conn.fetchval(
        "select count(*) from (select session_id, created_at from generations"
        " group by session_id, created_at having count(*) > 1) as tied"
    )
    tied_outputs_across_generations = await conn.fetchval(
        "select count(*) from (select created_at from outputs"
        " group by created_at having count(distinct generation_id) > 1) as tied"
    )
    tied_projects = await conn.fetchval(
        "select count(*) from (select updated_at from projects"
        " group by updated_at having count(*) > 1) as tied"
    )

    assert tied_generations >= 1
    assert tied_outputs_across_generations >= 1
    assert tied_projects >= 1


async def test_private_parameters_exist_to_be_hidden(conn: asyncpg.Connection[Any]) -> None:
    await load_demo(conn)

    keys = await conn.fetch("select distinct jsonb_object_keys(parameters) as key from generations")

    assert {row["key"] for row in keys} >= {
        "aspectRatio",
        "numOutputs",
        "resolution",
        "duration",
        "referenceImageUrl",
        "debugLog",
        "errorContext",
    }


def test_summary_is_frozen() -> None:
    summary = DemoSummary(created=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.created = True  # type: ignore[misc]
