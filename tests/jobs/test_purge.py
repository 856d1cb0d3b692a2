"""Deleting a project through the job queue (migrations 0015 and 0016, jobs/, db/jobs.py):
the queue's tables are what PgQueuer expects; from the deletion's commit no viewer sees
anything of the project through any read while a real worker purges it in bounded steps,
with writers busy elsewhere; a worker killed with SIGKILL in the middle of the purge leaves
the rest to the next one, which finishes it; afterwards every row of the project is gone,
nothing else is touched, the index tables and the read model have no drift, and the queue
is empty."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pgqueuer import AsyncpgDriver, Queries

import cli
from db import stats
from domain.vocabulary import NodeType
from resolvers.ids import encode
from settings import Settings
from tests.conftest import DIRECT, POOLER
from tests.observability.test_observability import grew, scrape, total
from tests.support import factories as f
from tests.support import writes as w
from tests.support.app import app_client
from tests.support.drift import drift
from tests.support.graphql import gql
from tests.support.jobs import drain, run_command

GENERATIONS = 400  # in the deleted project's public session, four images each

# Generations in bulk, completed, four images each (the triggers keep the index tables).
_FILL = """
WITH g AS (
    INSERT INTO generations (id, session_id, user_id, model_id, prompt, parameters, status,
                             created_at)
    SELECT gen_random_uuid(), $1::uuid, $2::uuid, 'm', 'bulk ' || n, '{}'::jsonb, 'completed',
           '2026-01-01'::timestamp + n * interval '1 second'
    FROM generate_series(1, $3::int) AS n
    RETURNING id, created_at
)
INSERT INTO outputs (id, generation_id, file_url, file_type, created_at)
SELECT gen_random_uuid(), g.id, 'https://cdn.example/bulk/' || g.id || '-' || k || '.png',
       'image', g.created_at
FROM g CROSS JOIN generate_series(1, 4) AS k
"""
_LEFT = """
SELECT count(*) FROM generations g JOIN sessions s ON s.id = g.session_id
WHERE s.project_id = $1"""

READ = """
query($project: ID!, $ids: [ID!]!) {
  projects(first: 100) { edges { node { id name sessionCount thumbnailUrl } } }
  project(id: $project) { id outputs(first: 40) { edges { node { id } } } }
  nodes(ids: $ids) { id }
}"""


async def _big_world(conn: f.Conn) -> tuple[w.World, uuid.UUID]:
    """The writes' world (Studio, shared, with every kind of viewer) with GENERATIONS more
    generations in its public session, and the owner's other project "Other"."""
    world = await w.build_world(conn)
    await conn.execute(_FILL, world.public.session, world.people["owner"], GENERATIONS)
    other = await f.project(conn, world.people["owner"], "Other", shared=True)
    session = await f.session(conn, other, "Other's")
    await f.output(conn, await f.generation(conn, session, world.people["owner"]))
    return world, other


async def _untouched(conn: f.Conn, project: uuid.UUID) -> dict[str, Any]:
    return {
        "sessions": await conn.fetchval(
            "SELECT count(*) FROM sessions WHERE project_id = $1", project
        ),
        "outputs": await conn.fetchval(
            "SELECT count(*) FROM published_outputs WHERE project_id = $1", project
        ),
        "stats": await conn.fetchval(
            "SELECT owner_session_count FROM project_stats WHERE project_id = $1", project
        ),
    }


async def _purged(conn: f.Conn, world: w.World) -> None:
    """Every row of Studio is gone, the index tables and read model are exact, the queue
    is empty."""
    project = world.project
    assert await conn.fetchval("SELECT count(*) FROM projects WHERE id = $1", project) == 0
    for table in ("sessions", "published_outputs", "project_stats", "member_projects"):
        left = f"SELECT count(*) FROM {table} WHERE project_id = $1"
        assert await conn.fetchval(left, project) == 0, table
    assert await conn.fetchval("SELECT count(*) FROM vesper_project_deletions") == 0
    assert await drift(conn) == []
    assert (await stats.repair(conn, dry_run=True)).drifted == 0
    assert await conn.fetchval("SELECT count(*) FROM pgqueuer") == 0


async def test_the_migrated_queue_is_what_pgqueuer_expects(conn: f.Conn) -> None:
    plan = await Queries(AsyncpgDriver(conn)).plan_upgrade()
    assert plan.statements == (), plan


@pytest.mark.parametrize("path", [DIRECT, POOLER])
async def test_no_viewer_sees_a_deleted_project_while_the_worker_purges_it(
    conn: f.Conn, settings: Settings, db_url: str
) -> None:
    """The app's own worker (through the pooler, its queue's connection on the direct URL,
    as deployed behind one) purging 20 generations per step. Half-way, the purge waits for
    a generation the test holds locked until a reader has read while the project's rows are
    certainly there."""
    working = replace(
        settings, worker=True, job_batch=20, job_heartbeat_s=2, database_direct_url=db_url
    )
    blocker = await asyncpg.connect(db_url)
    try:
        async with app_client(working) as client:
            await _read_while_purging(client, conn, blocker)
    finally:
        await blocker.close()


_HOLD = """
SELECT g.id FROM generations g JOIN sessions s ON s.id = g.session_id
WHERE s.project_id = $1 ORDER BY g.created_at, g.id OFFSET $2 LIMIT 1 FOR UPDATE OF g"""
HOLD_AT_MOST_S = 4.0  # until a read saw the rows still there (the purge's timeout is 5 s)


async def _read_while_purging(
    client: httpx.AsyncClient, conn: f.Conn, blocker: asyncpg.Connection[Any]
) -> None:
    world, other = await _big_world(conn)
    held = blocker.transaction()
    await held.start()
    await blocker.fetchval(_HOLD, world.project, GENERATIONS // 2)
    before = await _untouched(conn, other)
    ids = [
        world.project_id,
        *world.public.ids().values(),
        *world.private.ids().values(),
        encode(NodeType.PROJECT, other),
    ]
    variables = {"project": world.project_id, "ids": ids}
    studio = {world.project_id, *world.public.ids().values(), *world.private.ids().values()}
    seen_while_purging: set[int] = set()
    read_while_held = asyncio.Event()
    done = asyncio.Event()
    lock = asyncio.Lock()  # the test's one connection, shared by its tasks

    async def value(query: str, *args: Any) -> Any:
        async with lock:
            return await conn.fetchval(query, *args)

    async def read(kind: str) -> int:
        reads = 0
        while not done.is_set():
            body = await gql(client, READ, variables, bearer=world.bearer[kind])
            left = await value(_LEFT, world.project)
            listed = {e["node"]["id"] for e in body["data"]["projects"]["edges"]}
            found = {n["id"] for n in body["data"]["nodes"] if n is not None}
            assert body["data"]["project"] is None, (kind, left)
            assert not (listed | found) & studio, (kind, left)
            if left:  # deleted, and its rows still there
                seen_while_purging.add(left)
                read_while_held.set()
            reads += 1
        return reads

    async def write() -> int:
        writes = 0
        session = encode(
            NodeType.SESSION, await value("SELECT id FROM sessions WHERE project_id = $1", other)
        )
        while not done.is_set():
            body = await w.mutate(
                client,
                w.CREATE_GENERATION,
                {"input": {"sessionId": session, "modelId": "m", "prompt": "busy"}},
                world.bearer["owner"],
            )
            assert "errors" not in body, body
            writes += 1
        return writes

    body = await w.mutate(
        client, w.DELETE_PROJECT, {"input": {"id": world.project_id}}, world.bearer["owner"]
    )
    assert "errors" not in body, body
    workers = [asyncio.create_task(read(kind)) for kind in w.KINDS]
    workers.append(asyncio.create_task(write()))
    with contextlib.suppress(TimeoutError):  # under the purge's statement timeout
        await asyncio.wait_for(read_while_held.wait(), HOLD_AT_MOST_S)
    await held.rollback()  # the purge goes on
    deadline = time.monotonic() + 60
    while await value("SELECT count(*) FROM projects WHERE id = $1", world.project):
        assert time.monotonic() < deadline, "the worker did not purge the project in 60 s"
        await asyncio.sleep(0.05)
    while await value("SELECT count(*) FROM pgqueuer"):  # the job's end, recorded just after
        assert time.monotonic() < deadline, "the worker did not finish its job in 60 s"
        await asyncio.sleep(0.05)
    done.set()
    counts = await asyncio.gather(*workers)
    assert all(counts), counts
    assert seen_while_purging, "no read happened while the purge was under way"
    await _purged(conn, world)
    after = await _untouched(conn, other)
    assert after == before


@pytest.mark.slow  # two real worker processes, one of them killed
async def test_a_worker_killed_mid_purge_leaves_the_rest_to_the_next_one(
    conn: f.Conn, db_url: str, tmp_path: Path
) -> None:
    world, other = await _big_world(conn)
    before = await _untouched(conn, other)
    await conn.execute(
        "INSERT INTO vesper_project_deletions (project_id) VALUES ($1)", world.project
    )
    await conn.execute(
        "INSERT INTO pgqueuer (priority, entrypoint, payload, status, dedupe_key)"
        " VALUES (0, 'purge_project', $1, 'queued', 'purge_project:' || $2::text)",
        world.project.bytes,
        str(world.project),
    )
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "VESPER_JOB_BATCH": "5",
        "VESPER_JOB_HEARTBEAT_S": "2",
    }
    for name in ("DATABASE_DIRECT_URL", "DATABASE_REPLICA_URLS", "VESPER_POOL_MODE"):
        env.pop(name, None)
    vesper = str(Path(sys.executable).parent / "vesper")
    log = tmp_path / "first.log"
    with log.open("w") as written:
        first = await asyncio.create_subprocess_exec(
            vesper, "worker", env=env, stdout=written, stderr=written
        )
    try:
        deadline = time.monotonic() + 60
        while (left := await conn.fetchval(_LEFT, world.project)) > GENERATIONS // 2:
            assert first.returncode is None, log.read_text()
            assert time.monotonic() < deadline, "the first worker made no progress in 60 s"
            await asyncio.sleep(0.02)
    finally:
        first.send_signal(signal.SIGKILL)
        await asyncio.wait_for(first.wait(), 10)
    assert 0 < left < GENERATIONS + 2
    status = await conn.fetchval("SELECT status::text FROM pgqueuer")
    assert status == "picked"  # its worker is dead; its heartbeat will go stale

    code, _, err = await run_command(env, vesper, "worker", "--drain")
    assert code == 0, err
    await _purged(conn, world)
    assert await _untouched(conn, other) == before
    code, out, err = await run_command(env, vesper, "jobs")
    assert (code, out) == (0, "no job waiting or running\n"), err


async def test_the_queue_shows_in_metrics_and_vesper_jobs(
    client: httpx.AsyncClient,
    conn: f.Conn,
    settings: Settings,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = await w.build_world(conn)
    body = await w.mutate(
        client, w.DELETE_PROJECT, {"input": {"id": world.project_id}}, world.bearer["owner"]
    )
    assert "errors" not in body, body
    waiting = await scrape(client)
    assert total(waiting, "vesper_jobs_waiting") == 1
    assert total(waiting, "vesper_jobs_oldest_age_seconds") > 0
    assert await asyncio.to_thread(cli.main, ["jobs", "--database", db_url]) == 0
    assert "      1 waiting  purge_project  (oldest " in capsys.readouterr().out

    await drain(settings)

    done = await scrape(client)
    assert total(done, "vesper_jobs_waiting") == 0
    assert total(done, "vesper_jobs_oldest_age_seconds") == 0
    assert grew(waiting, done, "vesper_job_steps_total", kind="purge_project") >= 3
    await conn.execute(
        "INSERT INTO pgqueuer (priority, entrypoint, payload, status, attempts)"
        " VALUES (0, 'purge_project', $1, 'failed', 5)",
        world.project.bytes,
    )
    assert await asyncio.to_thread(cli.main, ["jobs", "--database", db_url]) == 1
    out = capsys.readouterr().out
    assert "failed  job " in out
    assert f"purge_project {world.project} after 5 attempts" in out


def test_a_worker_behind_a_transaction_pooler_alone_is_refused(
    monkeypatch: pytest.MonkeyPatch, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("VESPER_POOL_MODE", "transaction")
    monkeypatch.delenv("DATABASE_DIRECT_URL", raising=False)
    assert cli.main(["worker"]) == 2
    assert "set DATABASE_DIRECT_URL beside a transaction pooler" in capsys.readouterr().err


# A real fault: PostgreSQL refuses every deletion of a generation while the trigger exists.
_FAULT = """
CREATE FUNCTION test_refuse_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'refused by the test';
END
$$;
CREATE TRIGGER test_refuse_deletion BEFORE DELETE ON generations
FOR EACH ROW EXECUTE FUNCTION test_refuse_deletion();
"""


async def _until(conn: f.Conn, query: str, wanted: Any, *args: Any, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while (found := await conn.fetchval(query, *args)) != wanted:
        assert time.monotonic() < deadline, f"{query}: {found!r}, not {wanted!r}"
        await asyncio.sleep(0.1)


async def test_a_failing_purge_is_retried_then_held_and_queued_again_on_request(
    conn: f.Conn, settings: Settings, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    world = await w.build_world(conn)
    await conn.execute(_FAULT)
    working = replace(settings, worker=True, job_attempts=2, job_heartbeat_s=1)
    async with app_client(working) as client:
        body = await w.mutate(
            client, w.DELETE_PROJECT, {"input": {"id": world.project_id}}, world.bearer["owner"]
        )
        assert "errors" not in body, body
        await _until(conn, "SELECT status::text FROM pgqueuer", "failed")
        # held, the project still hidden and whole
        seen = await gql(client, READ, {"project": world.project_id, "ids": []},
                         bearer=world.bearer["owner"])  # fmt: skip
        assert seen["data"]["project"] is None
        assert await conn.fetchval(_LEFT, world.project) == 4
        jobs = ["jobs", "--database", db_url]
        assert await asyncio.to_thread(cli.main, jobs) == 1
        assert f"purge_project {world.project} after " in capsys.readouterr().out

        await conn.execute("DROP TRIGGER test_refuse_deletion ON generations")
        assert await asyncio.to_thread(cli.main, [*jobs, "--retry"]) == 0
        assert "queued 1 failed job(s) again" in capsys.readouterr().out
        await _until(conn, "SELECT count(*) FROM pgqueuer", 0)
    await _purged(conn, world)
