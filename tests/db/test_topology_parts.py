"""The topology parts the tests build on (tests/support/topology.py) do what they claim: a
PgBouncer in transaction mode serves asyncpg, a replica streams from its primary (in
recovery, read-only, lagging by exactly its apply delay when given one), and a stopped part
refuses connections until started again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from tests.support.sql import execute, fetchval
from tests.support.topology import OwnPrimary, PgBouncer, Replica, through_pooler

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def primary() -> AsyncIterator[OwnPrimary]:
    with OwnPrimary() as server:
        await execute(server.url(), "CREATE TABLE marks (id int PRIMARY KEY)", within=10)
        yield server


@pytest.fixture(scope="module")
def replica(primary: OwnPrimary) -> Iterator[Replica]:
    with Replica(primary) as server:
        yield server


async def _has_mark(url: str, mark: int) -> bool:
    return bool(
        await fetchval(url, "SELECT EXISTS (SELECT FROM marks WHERE id = $1)", mark, within=10)
    )


async def _until_seen(url: str, mark: int, *, within: float) -> float:
    """Seconds until `mark` is visible at `url`; fails after `within`."""
    started = time.monotonic()
    while not await _has_mark(url, mark):
        assert time.monotonic() - started < within, f"mark {mark} not seen within {within} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_asyncpg_runs_concurrent_queries_through_pgbouncer(
    empty_db_url: str, pooler: PgBouncer
) -> None:
    url = through_pooler(empty_db_url, pooler)  # a database created for this test
    pool = await asyncpg.create_pool(
        url, min_size=5, max_size=5, statement_cache_size=0, timeout=10
    )
    try:
        query = "SELECT $1::int * 2 FROM pg_sleep(0.01) WHERE current_database() = $2"
        database = url.rsplit("/", 1)[1]
        answers = await asyncio.wait_for(
            asyncio.gather(*(pool.fetchval(query, i, database) for i in range(50))), 30
        )
    finally:
        await asyncio.wait_for(pool.close(), 10)
    assert answers == [i * 2 for i in range(50)]


async def test_the_replica_is_a_hot_standby_following_its_primary(
    primary: OwnPrimary, replica: Replica
) -> None:
    assert await fetchval(replica.url(), "SELECT pg_is_in_recovery()", within=10) is True
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await execute(replica.url(), "INSERT INTO marks VALUES (0)", within=10)
    await execute(primary.url(), "INSERT INTO marks VALUES (1)", within=10)
    await _until_seen(replica.url(), 1, within=10)


async def test_an_apply_delay_makes_the_replica_lag_by_it(primary: OwnPrimary) -> None:
    with Replica(primary, apply_delay_ms=2000) as lagging:
        await execute(primary.url(), "INSERT INTO marks VALUES (2)", within=10)
        inserted = time.monotonic()
        await asyncio.sleep(0.5)
        assert not await _has_mark(lagging.url(), 2)
        await _until_seen(lagging.url(), 2, within=5 - (time.monotonic() - inserted))
        assert time.monotonic() - inserted >= 2


async def test_stopped_parts_refuse_connections_until_started(
    primary: OwnPrimary, replica: Replica
) -> None:
    replica.stop()
    with pytest.raises(ConnectionRefusedError):
        await asyncpg.connect(replica.url(), timeout=5)
    replica.start()
    assert await fetchval(replica.url(), "SELECT pg_is_in_recovery()", within=10) is True

    before = primary.pid
    primary.restart()
    assert primary.pid != before
    await execute(primary.url(), "INSERT INTO marks VALUES (3)", within=10)
    await _until_seen(replica.url(), 3, within=15)  # the replica reconnects on its own
