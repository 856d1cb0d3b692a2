"""Replicas and outages with real parts (a primary of this module's own and streaming
replicas built by pg_basebackup, tests/support/topology.py):

- queries are served by a replica with the same answers as the primary, for every kind of
  viewer; mutations by the primary;
- read-your-writes against a replica lagging 2 s: with the consistency token the write is
  seen at once, without it a read may be stale but never fails;
- a replica stopped during a bounded load fails no read, and is used again once back;
- the primary restarted during a bounded load: errors only during the outage, all coded,
  service back within 5 s with no restart of ours, every write that returned success in
  the database afterwards, no drift.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY

from db import stats
from db.ops import migrate
from db.pool import describe
from db.topology import POSITION, next_record, parse_token
from settings import Settings
from tests.support import writes as w
from tests.support.app import app_client
from tests.support.drift import drift
from tests.support.graphql import codes, gql, post
from tests.support.sql import execute
from tests.support.topology import OwnPrimary, Replica

pytestmark = pytest.mark.slow
log = logging.getLogger(__name__)

DATABASE = "vesper_topology"
PROJECTS = "{ projects(first: 50) { edges { node { id name sessionCount thumbnailUrl } } } }"
CONSISTENCY = "X-Vesper-Consistency"


async def migrated(server: OwnPrimary) -> OwnPrimary:
    """`server` with the migrated DATABASE on it."""
    await execute(server.url(), f"CREATE DATABASE {DATABASE}")
    await asyncio.to_thread(migrate.apply, server.url(DATABASE))
    return server


@pytest.fixture(scope="module")
async def primary() -> AsyncIterator[OwnPrimary]:
    with OwnPrimary() as server:
        yield await migrated(server)


@pytest.fixture(scope="module")
def replica(primary: OwnPrimary) -> Iterator[Replica]:
    with Replica(primary) as server:
        yield server


@pytest.fixture(scope="module")
async def world(primary: OwnPrimary) -> w.World:
    conn = await asyncpg.connect(primary.url(DATABASE))
    try:
        return await w.build_world(conn, tag=uuid.uuid4().hex[:6])
    finally:
        await conn.close()


@asynccontextmanager
async def serving(primary: OwnPrimary, *replicas: Replica, **extra: Any) -> AsyncIterator[Any]:
    settings = Settings(
        database_url=primary.url(DATABASE),
        replica_urls=tuple(r.url(DATABASE) for r in replicas),
        replica_check_ms=100,
        pool_max_size=8,
        **extra,
    )
    async with app_client(settings) as client:
        yield client


def _sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def served(role: str) -> float:
    return _sample("vesper_database_requests_total", role=role) or 0.0


def _name(replica: Replica) -> str:
    return describe(replica.url(DATABASE))


async def caught_up(primary: OwnPrimary, replica: Replica, within: float = 10) -> None:
    """Until `replica` has replayed everything the primary has written so far."""
    conn = await asyncpg.connect(primary.url(DATABASE))
    try:
        position = parse_token(await conn.fetchval(POSITION))
    finally:
        await conn.close()
    deadline = time.monotonic() + within
    conn = await asyncpg.connect(replica.url(DATABASE))
    try:
        while True:
            row = await conn.fetchrow(
                "SELECT pg_last_wal_replay_lsn()::text AS lsn,"
                " current_setting('wal_block_size')::int AS block,"
                " pg_size_bytes(current_setting('wal_segment_size')) AS segment"
            )
            assert row is not None
            replayed = parse_token(row["lsn"])
            if next_record(replayed, block=row["block"], segment=row["segment"]) >= position:
                return
            assert time.monotonic() < deadline, "the replica did not catch up"
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def until(check: Callable[[], Any], within: float, what: str) -> float:
    """Seconds until `await check()` is true (bounded)."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < within, f"{what} not within {within} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


READS: dict[str, tuple[str, Callable[[w.World], dict[str, Any]]]] = {
    "projects": (PROJECTS, lambda _: {}),
    "card": (
        """query($id: ID!) { project(id: $id) { name viewerRole sessionCount thumbnailUrl
             sessions { edges { node { name isPrivate } } }
             outputs { edges { node { fileUrl } } } } }""",
        lambda world: {"id": world.project_id},
    ),
    "private session": (
        "query($id: ID!) { node(id: $id) { id } }",
        lambda world: {"id": world.private.ids()["session"]},
    ),
    "private output": (
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        lambda world: {"ids": [world.private.ids()["output"], world.public.ids()["output"]]},
    ),
}


async def test_queries_are_served_by_the_replica_with_the_primarys_answers_for_every_viewer(
    primary: OwnPrimary, replica: Replica, world: w.World
) -> None:
    await caught_up(primary, replica)
    async with serving(primary) as direct, serving(primary, replica) as replicated:
        await until(lambda: _replica_serves(replicated, world), 5, "the replica in use")
        before = served("replica")
        asked = 0
        for kind in (*w.KINDS, "root"):
            for document, variables in READS.values():
                expected = (
                    await post(direct, document, variables(world), bearer=world.bearer[kind])
                ).json()
                got = (
                    await post(replicated, document, variables(world), bearer=world.bearer[kind])
                ).json()
                assert got.get("data") == expected.get("data"), (kind, document)
                assert codes(got) == codes(expected)
                asked += 1
        assert served("replica") - before == asked  # every one of them on the replica
        # a mutation goes to the primary, and answers with its consistency token
        before = served("primary")
        body = await w.mutate(
            replicated, w.CREATE_PROJECT, {"input": {"name": "On primary"}}, world.bearer["owner"]
        )
        assert body["data"]["createProject"]["project"]["name"] == "On primary"
        assert served("primary") - before == 1


async def _replica_serves(client: httpx.AsyncClient, world: w.World) -> bool:
    before = served("replica")
    await gql(client, PROJECTS, bearer=world.bearer["owner"])
    return served("replica") > before


async def test_read_your_writes_with_a_replica_lagging_two_seconds(
    primary: OwnPrimary, world: w.World
) -> None:
    owner = world.bearer["owner"]
    with Replica(primary, apply_delay_ms=2000) as lagging:
        await caught_up(primary, lagging)
        # lag is allowed here, so that reads without a token do go to the lagging replica
        async with serving(primary, lagging, replica_max_lag_ms=60_000) as client:
            await until(lambda: _replica_serves(client, world), 5, "the replica in use")
            name = f"Written {uuid.uuid4().hex[:6]}"
            response = await post(client, w.CREATE_PROJECT, {"input": {"name": name}}, bearer=owner)
            token = response.headers[CONSISTENCY]
            assert response.json()["extensions"]["consistency"] == token

            def names(body: dict[str, Any]) -> list[str]:
                return [e["node"]["name"] for e in body["data"]["projects"]["edges"]]

            # with the token: seen at once (the primary serves until the replica has it)
            seen = await post(client, PROJECTS, bearer=owner, headers={CONSISTENCY: token})
            assert name in names(seen.json())
            # without it: served by the lagging replica, stale, and not an error
            before = served("replica")
            stale = await post(client, PROJECTS, bearer=owner)
            assert stale.status_code == 200
            assert "errors" not in stale.json()
            assert name not in names(stale.json())
            assert served("replica") == before + 1

            # once the replica has replayed the write, the token is served there
            async def replica_has_it() -> bool:
                before = served("replica")
                response = await post(client, PROJECTS, bearer=owner, headers={CONSISTENCY: token})
                assert name in names(response.json())  # wherever it is served
                return served("replica") == before + 1

            waited = await until(replica_has_it, 6, "the replica serving the token")
            assert waited < 4
            assert (_sample("vesper_replica_fallbacks_total", reason="behind_token") or 0) > 0
            assert _sample("vesper_replica_lag_seconds", replica=_name(lagging)) is not None


async def test_a_malformed_consistency_token_is_bad_user_input(
    primary: OwnPrimary, world: w.World
) -> None:
    async with serving(primary) as client:
        for token in ("nonsense", "0/", "1/2/3", "G/0", "0/123456789"):
            response = await post(
                client, PROJECTS, bearer=world.bearer["owner"], headers={CONSISTENCY: token}
            )
            assert codes(response.json()) == ["BAD_USER_INPUT"], token


@dataclass
class Load:
    """A bounded load of concurrent requests; each outcome kept with its time."""

    client: httpx.AsyncClient
    bearer: str
    outcomes: list[tuple[float, float, str, Any]] = field(default_factory=list)
    running: bool = True

    async def reader(self) -> None:
        while self.running:
            await self._one("read", PROJECTS, None)

    async def writer(self, tag: str) -> None:
        n = 0
        while self.running:
            n += 1
            await self._one("write", w.CREATE_PROJECT, {"input": {"name": f"{tag}-{n}"}})

    async def _one(self, kind: str, document: str, variables: Any) -> None:
        started = time.monotonic()
        try:
            response = await post(self.client, document, variables, bearer=self.bearer)
            result: Any = (response.status_code, response.json())
        except Exception as exc:
            result = exc
        self.outcomes.append((started, time.monotonic(), kind, result))
        await asyncio.sleep(0.01)

    def failures(self) -> list[tuple[float, float, str, Any]]:
        return [o for o in self.outcomes if not _succeeded(o[3])]


def _succeeded(result: Any) -> bool:
    return isinstance(result, tuple) and result[0] == 200 and "errors" not in result[1]


async def test_a_replica_stopped_under_load_fails_no_read_and_is_used_again_once_back(
    primary: OwnPrimary, world: w.World
) -> None:
    with Replica(primary) as doomed:
        await caught_up(primary, doomed)
        async with serving(primary, doomed) as client:
            await until(lambda: _replica_serves(client, world), 5, "the replica in use")
            load = Load(client, world.bearer["owner"])
            readers = [asyncio.create_task(load.reader()) for _ in range(6)]
            await asyncio.sleep(0.5)
            await asyncio.to_thread(doomed.stop, "fast")

            async def reported_down() -> bool:
                ready = await client.get("/readyz")
                assert ready.status_code == 200  # the primary serves: still ready
                return bool(ready.json()["replicas"][_name(doomed)] != "ok")

            await until(reported_down, 2, "/readyz reporting the replica down")
            await asyncio.sleep(1.0)
            await asyncio.to_thread(doomed.start)
            back = await until(lambda: _replica_serves(client, world), 5, "the replica back")
            log.info("replica used again %.2f s after it was started", back)
            load.running = False
            await asyncio.gather(*readers)
            assert len(load.outcomes) > 50
            assert load.failures() == []
            assert back < 3  # a few health checks
            assert _sample("vesper_replica_fallbacks_total", reason="failed") or _sample(
                "vesper_replica_fallbacks_total", reason="unhealthy"
            )


async def test_the_primary_restarted_under_load_loses_no_committed_write() -> None:
    with OwnPrimary() as own:
        await migrated(own)
        conn = await asyncpg.connect(own.url(DATABASE))
        try:
            world = await w.build_world(conn)
        finally:
            await conn.close()
        async with serving(own, statement_timeout_ms=1000) as client:
            load = Load(client, world.bearer["owner"])
            tasks = [asyncio.create_task(load.reader()) for _ in range(3)]
            tasks += [asyncio.create_task(load.writer(f"w{i}")) for i in range(3)]
            await asyncio.sleep(1.0)
            down = time.monotonic()
            await asyncio.to_thread(own.stop, "fast")
            assert (await client.get("/readyz")).status_code == 503
            await asyncio.sleep(1.0)
            await asyncio.to_thread(own.start)
            up = time.monotonic()
            await asyncio.sleep(5.5)
            load.running = False
            await asyncio.gather(*tasks)

            outcomes = load.outcomes
            # every failure is a coded GraphQL error, during the outage or just after it
            for started, ended, _, result in load.failures():
                assert isinstance(result, tuple), result
                status, body = result
                assert status in (200, 503), body
                assert codes(body), body
                assert down - 0.5 <= ended, (ended - down, body)
                assert started <= up + 5, (started - up, body)
            after = [o for o in outcomes if o[0] > up]
            recovered = min(o[1] for o in after if _succeeded(o[3])) - up
            log.info("outage %.2f s; first success %.2f s after it ended", up - down, recovered)
            assert recovered < 5
            assert all(_succeeded(o[3]) for o in outcomes if o[0] > up + 5)
            assert any(not _succeeded(o[3]) for o in outcomes)  # there was an outage
            # every write that answered success is in the database
            written = {
                body["data"]["createProject"]["project"]["name"]
                for _, _, kind, (status, body) in (
                    o for o in outcomes if o[2] == "write" and _succeeded(o[3])
                )
            }
            assert len(written) > 10
            conn = await asyncpg.connect(own.url(DATABASE))
            try:
                names = {r["name"] for r in await conn.fetch("SELECT name FROM projects")}
                assert written <= names
                assert await drift(conn) == []
                report = await stats.repair(conn, dry_run=True)
                assert report.drifted == 0
            finally:
                await conn.close()
