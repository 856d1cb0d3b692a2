"""Big sessions made private or public, moved or deleted in bounded time (migrations 0017 and
0018, jobs/worker.py): from the write's commit every viewer reads exactly what the rules
say — the gallery walked whole both ways, the card figures, node lookups — while the
session's published_outputs rows still hold the old copies; the settle job then rewrites
them in steps (a walk that starts again when the session changes again, an output published
meanwhile copying the current values itself) and leaves no drift; a deleted big session is
hidden at once and purged by the queue."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.big_writes import fill_session
from db import jobs, stats
from domain.vocabulary import NodeType
from resolvers.ids import encode
from settings import Settings
from tests.conftest import DIRECT, POOLER
from tests.support import factories as f
from tests.support import writes as w
from tests.support.app import app_client
from tests.support.drift import drift
from tests.support.graphql import gql
from tests.support.jobs import drain, run_command

GENERATIONS = 300  # in the big session: three images and a video each, 1,200 outputs
BIG_URL = "https://cdn.example/big/"

# Completed generations in bulk (the triggers keep the index tables), their outputs
# interleaved in time with the world's own.
FILL = f"""
WITH g AS (
    INSERT INTO generations (id, session_id, user_id, model_id, prompt, parameters, status,
                             created_at)
    SELECT gen_random_uuid(), $1::uuid, $2::uuid, 'm', 'bulk ' || n, '{{}}'::jsonb,
           'completed', '2025-12-31 23:59'::timestamp + n * interval '1 second'
    FROM generate_series(1, $3::int) AS n
    RETURNING id, created_at
)
INSERT INTO outputs (id, generation_id, file_url, file_type, created_at)
SELECT gen_random_uuid(), g.id, '{BIG_URL}' || g.id || '-' || k,
       CASE WHEN k = 4 THEN 'video' ELSE 'image' END, g.created_at + k * interval '1 ms'
FROM g CROSS JOIN generate_series(1, 4) AS k
"""

# What a viewer must see of project $1 (the owner: $2), from the base tables alone.
VISIBLE = """
SELECT o.id, o.file_type, o.file_url, o.created_at, g.created_at AS generation_created_at
FROM sessions s
JOIN generations g ON g.session_id = s.id AND g.status = 'completed'
JOIN outputs o ON o.generation_id = g.id
WHERE s.project_id = $1 AND (NOT s.is_private OR $2)
"""

GALLERY = """
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $type: FileType) {
  project(id: $id) {
    sessionCount thumbnailUrl lastActivityAt
    outputs(first: $first, after: $after, last: $last, before: $before, fileType: $type) {
      edges { node { id } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}"""
CARDS = (
    "{ projects(first: 100) { edges { node { id sessionCount thumbnailUrl lastActivityAt } } } }"
)
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
PAGE = 100


async def _walk(
    client: httpx.AsyncClient, project: str, bearer: str, *, backward: bool, type: str | None
) -> list[str] | None:
    """The gallery's ids newest first, walked whole one way; None when the project is not
    visible."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        size = {"last": PAGE, "before": cursor} if backward else {"first": PAGE, "after": cursor}
        body = await gql(client, GALLERY, {"id": project, "type": type, **size}, bearer=bearer)
        if body["data"]["project"] is None:
            return None
        page = body["data"]["project"]["outputs"]
        found = [edge["node"]["id"] for edge in page["edges"]]
        ids = found + ids if backward else ids + found
        info = page["pageInfo"]
        if not (info["hasPreviousPage"] if backward else info["hasNextPage"]):
            return ids
        cursor = info["startCursor"] if backward else info["endCursor"]


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat(timespec="milliseconds") + "+00:00"


async def _expected(conn: f.Conn, project: uuid.UUID, owner: bool) -> dict[str, Any]:
    rows = await conn.fetch(VISIBLE, project, owner)
    newest = sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    images = [r for r in rows if r["file_type"] == "image"]
    thumbnail = max(
        images, key=lambda r: (r["generation_created_at"], r["created_at"], r["id"]), default=None
    )
    sessions = "SELECT count(*) FROM sessions WHERE project_id = $1 AND (NOT is_private OR $2)"
    return {
        "all": [encode(NodeType.OUTPUT, r["id"]) for r in newest],
        "images": [encode(NodeType.OUTPUT, r["id"]) for r in newest if r["file_type"] == "image"],
        "card": {
            "sessionCount": await conn.fetchval(sessions, project, owner),
            "thumbnailUrl": None if thumbnail is None else thumbnail["file_url"],
            "lastActivityAt": _iso(max((r["created_at"] for r in rows), default=None)),
        },
    }


async def exact_for_everyone(
    client: httpx.AsyncClient, conn: f.Conn, world: w.World, project: uuid.UUID
) -> None:
    """Every kind of viewer reads of `project` exactly what the base tables say they may:
    the gallery walked both ways (and images only), the card, the project's figures."""
    project_id = encode(NodeType.PROJECT, project)
    owner_id = await conn.fetchval("SELECT owner_id FROM projects WHERE id = $1", project)
    for kind in w.KINDS:
        bearer = world.bearer[kind]
        cards = await gql(client, CARDS, bearer=bearer)
        listed = {e["node"]["id"]: e["node"] for e in cards["data"]["projects"]["edges"]}
        forward = await _walk(client, project_id, bearer, backward=False, type=None)
        if forward is None:
            assert project_id not in listed, kind
            continue
        expected = await _expected(conn, project, world.people[kind] == owner_id)
        assert forward == expected["all"], kind
        assert await _walk(client, project_id, bearer, backward=True, type=None) == forward
        images = await _walk(client, project_id, bearer, backward=False, type="IMAGE")
        assert images == expected["images"], kind
        if project_id in listed:
            assert {k: v for k, v in listed[project_id].items() if k != "id"} == expected["card"]
        body = await gql(client, GALLERY, {"id": project_id, "first": 1}, bearer=bearer)
        figures = {k: v for k, v in body["data"]["project"].items() if k != "outputs"}
        assert figures == expected["card"], kind


async def _big(conn: f.Conn, world: w.World) -> uuid.UUID:
    session = world.public.session
    await conn.execute(FILL, session, world.people["owner"], GENERATIONS)
    return session


async def _settling(conn: f.Conn) -> list[tuple[uuid.UUID, uuid.UUID]]:
    rows = await conn.fetch("SELECT project_id, session_id FROM vesper_settling_sessions")
    return sorted((row["project_id"], row["session_id"]) for row in rows)


async def _stale(conn: f.Conn, session: uuid.UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM published_outputs po JOIN sessions s ON s.id = po.session_id"
        " WHERE s.id = $1 AND (po.project_id, po.is_private) <> (s.project_id, s.is_private)",
        session,
    )
    return count


async def settled(conn: f.Conn) -> None:
    """No settling left, the index tables and read model exact, the queue empty."""
    assert await _settling(conn) == []
    assert await conn.fetchval("SELECT count(*) FROM vesper_settle_walks") == 0
    assert await drift(conn) == []
    assert (await stats.repair(conn, dry_run=True)).drifted == 0
    assert await conn.fetchval("SELECT count(*) FROM pgqueuer") == 0


async def _toggle(client: httpx.AsyncClient, world: w.World, private: bool) -> None:
    variables = {"input": {"id": world.public.ids()["session"], "isPrivate": private}}
    body = await w.mutate(client, w.UPDATE_SESSION, variables, world.bearer["owner"])
    assert "errors" not in body, body


@pytest.mark.parametrize("path", [DIRECT, POOLER])
async def test_a_big_session_changes_privacy_at_once_and_settles_in_the_background(
    client: httpx.AsyncClient, conn: f.Conn, settings: Settings, db_url: str
) -> None:
    """Directly and through PgBouncer (the worker's steps too; its queue connection and
    its VACUUM on the direct URL, as deployed behind a pooler)."""
    settings = replace(settings, database_direct_url=db_url)
    world = await w.build_world(conn)
    session = await _big(conn, world)
    await exact_for_everyone(client, conn, world, world.project)

    for private in (True, False):
        await _toggle(client, world, private)
        # Nothing rewritten in the write's transaction: the project reads session by session.
        assert await _stale(conn, session) == GENERATIONS * 4 + 1
        assert await _settling(conn) == [(world.project, session)]
        queued = "SELECT entrypoint, payload FROM pgqueuer WHERE status = 'queued'"
        assert [tuple(row) for row in await conn.fetch(queued)] == [
            (jobs.SETTLE_SESSION, session.bytes)
        ]
        await exact_for_everyone(client, conn, world, world.project)
        await drain(settings)
        assert await _stale(conn, session) == 0
        await settled(conn)
        await exact_for_everyone(client, conn, world, world.project)


async def test_the_walk_starts_again_when_the_session_changes_again(conn: f.Conn) -> None:
    """Steps of 100 rows by job 1: three; job 2 finds the session walked by a live job and
    stops, unless job 1's last step is older than its staleness limit. Then the session is
    made public again and an output is published in it; the walk starts over, rewrites back
    exactly the rows it had rewritten; a change after the walk's end makes its finish fail
    and the walk start again; in the end everything is exact."""
    world = await w.build_world(conn)
    session = await _big(conn, world)
    await conn.execute("UPDATE sessions SET is_private = true WHERE id = $1", session)

    async def step(job: int, stale_after_s: float = 30) -> tuple[int, bool, bool]:
        done = await jobs.settle_step(
            conn, session, batch=100, job=job, stale_after_s=stale_after_s
        )
        return done.rewritten, done.walked, done.settled

    async def walk(job: int) -> tuple[int, int]:
        rewritten, steps = 0, 0
        while True:
            count, walked, settled = await step(job)
            rewritten, steps = rewritten + count, steps + 1
            assert not settled
            if walked:
                return rewritten, steps

    for _ in range(3):
        assert await step(1) == (100, False, False)
    assert await step(2) == (0, True, True)  # job 1 walks it
    assert await _stale(conn, session) == GENERATIONS * 4 + 1 - 300
    assert await step(2, stale_after_s=0) == (100, False, False)  # job 1 gone quiet: taken over
    assert await step(1) == (0, True, True)

    await conn.execute("UPDATE sessions SET is_private = false WHERE id = $1", session)
    late = await f.generation(conn, session, world.people["owner"])
    await f.output(conn, late)
    assert await _stale(conn, session) == 400
    assert await walk(2) == (400, -(-(GENERATIONS * 4 + 2) // 100))
    assert await _stale(conn, session) == 0
    assert await _settling(conn) == [(world.project, session)]  # until the walk is finished

    for private in (True, False):  # changed after the walk's end, and back
        await conn.execute("UPDATE sessions SET is_private = $1 WHERE id = $2", private, session)
    assert not await jobs.settle_finish(conn, session, job=2)
    assert (await walk(2))[0] == 0
    assert await jobs.settle_finish(conn, session, job=2)
    await conn.execute("DELETE FROM pgqueuer")  # the jobs the trigger queued: run by hand here
    await settled(conn)


async def test_a_big_session_moved_to_another_project_moves_at_once(
    client: httpx.AsyncClient, conn: f.Conn, settings: Settings
) -> None:
    """The existing application moving a session (no API does): the project it left stops
    showing it and the project it joined shows it, from the commit."""
    world = await w.build_world(conn)
    session = await _big(conn, world)
    other = await f.project(conn, world.people["owner"], "Other", shared=True)
    await f.output(
        conn, await f.generation(conn, await f.session(conn, other), world.people["owner"])
    )
    await conn.execute("UPDATE sessions SET project_id = $1 WHERE id = $2", other, session)
    assert await _settling(conn) == sorted([(world.project, session), (other, session)])
    for project in (world.project, other):
        await exact_for_everyone(client, conn, world, project)
    await drain(settings)
    await settled(conn)
    for project in (world.project, other):
        await exact_for_everyone(client, conn, world, project)


async def test_a_big_session_deleted_is_hidden_at_once_and_purged_by_the_queue(
    client: httpx.AsyncClient, conn: f.Conn, settings: Settings
) -> None:
    world = await w.build_world(conn)
    session = await _big(conn, world)
    ids = [world.public.ids()["session"], world.public.ids()["output"]]
    body = await w.mutate(
        client, w.DELETE_SESSION, {"input": {"id": ids[0]}}, world.bearer["editor"]
    )
    assert body["data"] == {"deleteSession": {"deletedId": ids[0]}}, body
    # Still there, in a project of the owner's recorded for deletion, seen by nobody.
    assert await conn.fetchval("SELECT count(*) FROM generations WHERE session_id = $1", session)
    await exact_for_everyone(client, conn, world, world.project)
    for kind in w.KINDS:
        assert (await gql(client, NODES, {"ids": ids}, bearer=world.bearer[kind]))["data"] == {
            "nodes": [None, None]
        }
        cards = await gql(client, CARDS, bearer=world.bearer[kind])
        listed = [e["node"]["id"] for e in cards["data"]["projects"]["edges"]]
        assert listed == [world.project_id], kind  # not the project holding the session
    others = await w.digest(conn)
    await drain(settings)
    assert await conn.fetchval("SELECT count(*) FROM sessions WHERE id = $1", session) == 0
    assert await conn.fetchval("SELECT count(*) FROM vesper_project_deletions") == 0
    assert await conn.fetchval("SELECT count(*) FROM projects") == 1
    left = "SELECT count(*) FROM generations g JOIN sessions s ON s.id = g.session_id"
    assert await conn.fetchval(left) == 2  # the private session's
    await settled(conn)
    await exact_for_everyone(client, conn, world, world.project)
    after = await w.digest(conn)
    assert after["project_members"] == others["project_members"]


BIG = 200_000  # published outputs of the big session under load (the benchmark goes to 2M)
READ_FOR_S = 1.5  # reads between two changes
UNDER_LOAD = """query($project: ID!, $ids: [ID!]!) {
  projects(first: 100) { edges { node { id sessionCount thumbnailUrl lastActivityAt } } }
  project(id: $project) {
    sessionCount thumbnailUrl lastActivityAt
    outputs(first: 40) { edges { node { id fileUrl } } }
  }
  nodes(ids: $ids) { id }
}"""
_BIG_ROWS = """
SELECT g.id AS generation, o.id AS output
FROM generations g JOIN outputs o ON o.generation_id = g.id
WHERE g.session_id = $1
LIMIT 1"""


async def _fill_big(conn: f.Conn, world: w.World) -> uuid.UUID:
    """A public session of BIG outputs in Studio, written as the benchmark fills its own."""
    session = await f.session(conn, world.project, "Big")
    await fill_session(
        conn, session=session, project=world.project, owner=world.people["owner"], outputs=BIG
    )
    return session


# Another project of the owner's, which the deletions must leave as it is.
_OTHER = """
SELECT md5(string_agg(t::text, ',' ORDER BY t::text))
FROM (SELECT s.*, g.*, o.*, po.*, st.*
      FROM sessions s
      JOIN generations g ON g.session_id = s.id
      JOIN outputs o ON o.generation_id = g.id
      JOIN published_outputs po ON po.output_id = o.id
      JOIN project_stats st ON st.project_id = s.project_id
      WHERE s.project_id = $1) t"""


@pytest.mark.slow  # 200k outputs, a real worker settling and purging them under load
@pytest.mark.parametrize("deleting", ["session", "project"])
async def test_a_big_session_toggled_and_deleted_under_readers_of_every_kind(
    conn: f.Conn, settings: Settings, db_url: str, deleting: str
) -> None:
    """Readers of every kind read the projects page, Studio's card figures and gallery and
    node lookups of the big session without pause, while the owner makes the session
    private, public, private again, then deletes it (or its project), and the app's worker
    settles and purges. Every read that starts after a hiding write's response shows
    nothing of the session to anyone but the owner (its figures are those of the project
    without it; after the project's deletion, nothing of the project); no read fails;
    afterwards the session's (or the project's) rows are gone, the owner's other project is
    untouched and nothing drifted."""
    world = await w.build_world(conn)
    other = await f.project(conn, world.people["owner"], "Other", shared=True)
    await f.output(
        conn, await f.generation(conn, await f.session(conn, other), world.people["owner"])
    )
    before = await conn.fetchval(_OTHER, other)
    # As in production: the differential mode's second execution would read a later state.
    working = replace(
        settings, worker=True, job_heartbeat_s=2, database_direct_url=db_url, execution="compiled"
    )
    async with app_client(working) as client:
        without = {}
        for kind in w.KINDS:
            body = await gql(client, GALLERY, {"id": world.project_id, "first": 1},
                             bearer=world.bearer[kind])  # fmt: skip
            without[kind] = {k: v for k, v in body["data"]["project"].items() if k != "outputs"}
        session = await _fill_big(conn, world)
        row = await conn.fetchrow(_BIG_ROWS, session)
        assert row is not None
        ids = [
            encode(NodeType.SESSION, session),
            encode(NodeType.GENERATION, row["generation"]),
            encode(NodeType.OUTPUT, row["output"]),
        ]
        variables = {"project": world.project_id, "ids": ids}
        hidden_since: list[float | None] = [None]
        project_gone = [False]
        done = asyncio.Event()
        checked: dict[str, int] = dict.fromkeys(w.KINDS, 0)

        async def read(kind: str) -> int:
            reads = 0
            while not done.is_set():
                started = time.monotonic()
                body = await gql(client, UNDER_LOAD, variables, bearer=world.bearer[kind])
                assert "errors" not in body, (kind, body)
                since = hidden_since[0]
                reads += 1
                cards = {e["node"]["id"]: e["node"] for e in body["data"]["projects"]["edges"]}
                if project_gone[0] and since is not None and started >= since:
                    assert body["data"]["project"] is None, kind
                    assert world.project_id not in cards, kind
                    assert body["data"]["nodes"] == [None, None, None], kind
                    checked[kind] += 1
                    continue
                if kind == "owner" or since is None or started < since:
                    continue
                project = body["data"]["project"]
                shown = [e["node"]["fileUrl"] for e in project["outputs"]["edges"]]
                assert not [url for url in shown if "/big/" in url], kind
                assert body["data"]["nodes"] == [None, None, None], kind
                assert {k: v for k, v in project.items() if k != "outputs"} == without[kind]
                card = {k: v for k, v in cards[world.project_id].items() if k != "id"}
                assert card == without[kind], kind
                checked[kind] += 1
            return reads

        async def change(document: str, variables: dict[str, Any], hides: bool) -> None:
            if not hides:
                hidden_since[0] = None  # a change that reveals may show progressively
            body = await w.mutate(client, document, variables, world.bearer["owner"])
            assert "errors" not in body, body
            if hides:
                project_gone[0] = document is w.DELETE_PROJECT
                hidden_since[0] = time.monotonic()

        readers = [asyncio.create_task(read(kind)) for kind in w.KINDS]
        try:
            toggle = {"input": {"id": ids[0], "isPrivate": True}}
            await change(w.UPDATE_SESSION, toggle, hides=True)
            assert await _settling(conn)  # the walk of 200k rows has only begun
            await asyncio.sleep(READ_FOR_S)
            reveal = {"input": {"id": ids[0], "isPrivate": False}}
            await change(w.UPDATE_SESSION, reveal, hides=False)
            await asyncio.sleep(READ_FOR_S)
            await change(w.UPDATE_SESSION, toggle, hides=True)
            await asyncio.sleep(READ_FOR_S)
            if deleting == "session":
                await change(w.DELETE_SESSION, {"input": {"id": ids[0]}}, hides=True)
            else:
                await change(w.DELETE_PROJECT, {"input": {"id": world.project_id}}, hides=True)
            deadline = time.monotonic() + 300
            while await conn.fetchval("SELECT count(*) FROM pgqueuer"):
                assert time.monotonic() < deadline, "the queue did not drain in 300 s"
                await asyncio.sleep(0.2)
        finally:
            done.set()
            counts = await asyncio.gather(*readers)
    assert all(counts), counts
    assert all(n for kind, n in checked.items() if kind != "owner"), checked
    assert await conn.fetchval("SELECT count(*) FROM sessions WHERE id = $1", session) == 0
    left = "SELECT count(*) FROM published_outputs WHERE project_id = $1"
    assert await conn.fetchval(left, world.project) == (2 if deleting == "session" else 0)
    projects = 2 if deleting == "session" else 1  # Studio (unless deleted) and Other
    assert await conn.fetchval("SELECT count(*) FROM projects") == projects
    assert await conn.fetchval(_OTHER, other) == before
    await settled(conn)


@pytest.mark.slow  # two real worker processes, one of them killed
async def test_a_worker_killed_mid_settle_leaves_the_rest_to_the_next_one(
    conn: f.Conn, db_url: str
) -> None:
    world = await w.build_world(conn)
    session = await _big(conn, world)
    await conn.execute("UPDATE sessions SET is_private = true WHERE id = $1", session)
    env = {**os.environ, "DATABASE_URL": db_url, "VESPER_JOB_BATCH": "20",
           "VESPER_JOB_HEARTBEAT_S": "2"}  # fmt: skip
    for name in ("DATABASE_DIRECT_URL", "DATABASE_REPLICA_URLS", "VESPER_POOL_MODE"):
        env.pop(name, None)
    vesper = str(Path(sys.executable).parent / "vesper")
    first = await asyncio.create_subprocess_exec(
        vesper, "worker", env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while (stale := await _stale(conn, session)) > GENERATIONS * 2:
            assert first.returncode is None, "the first worker stopped"
            assert time.monotonic() < deadline, "the first worker made no progress in 60 s"
            await asyncio.sleep(0.02)
    finally:
        first.send_signal(signal.SIGKILL)
        await asyncio.wait_for(first.wait(), 10)
    assert stale > 0
    assert await conn.fetchval("SELECT status::text FROM pgqueuer") == "picked"

    code, _, err = await run_command(env, vesper, "worker", "--drain")
    assert code == 0, err
    assert await _stale(conn, session) == 0
    await settled(conn)


async def test_racing_writers_with_the_queue_working_leave_no_drift(
    conn: f.Conn, settings: Settings, db_url: str
) -> None:
    """The owner toggles the big session's privacy while, at the same time, generations are
    created and completed in it and its outputs deleted, and the app's worker settles
    between and during them: once the queue is dry, nothing drifted."""
    world = await w.build_world(conn)
    session = await _big(conn, world)
    session_id = world.public.ids()["session"]
    outputs = await conn.fetch(
        "SELECT o.id FROM outputs o JOIN generations g ON g.id = o.generation_id"
        " WHERE g.session_id = $1 ORDER BY o.id LIMIT 20",
        session,
    )
    working = replace(
        settings, worker=True, job_batch=50, database_direct_url=db_url, execution="compiled"
    )
    owner = world.bearer["owner"]
    async with app_client(working) as client:

        async def send(document: str, **fields: Any) -> dict[str, Any]:
            body = await w.mutate(client, document, {"input": fields}, owner)
            assert "errors" not in body, body
            return body

        async def toggle() -> None:
            for round in range(10):
                await send(w.UPDATE_SESSION, id=session_id, isPrivate=round % 2 == 0)

        async def generate() -> None:
            for n in range(10):
                body = await send(
                    w.CREATE_GENERATION, sessionId=session_id, modelId="m", prompt=f"race {n}"
                )
                generation = body["data"]["createGeneration"]["generation"]["id"]
                await send(w.COMPLETE_GENERATION, id=generation, outputs=[w.IMAGE, w.IMAGE])

        async def delete() -> None:
            for row in outputs:
                await send(w.DELETE_OUTPUT, id=encode(NodeType.OUTPUT, row["id"]))

        await asyncio.gather(toggle(), generate(), delete())
    await drain(settings)
    assert await conn.fetchval("SELECT is_private FROM sessions WHERE id = $1", session) is False
    assert await _stale(conn, session) == 0
    await settled(conn)
