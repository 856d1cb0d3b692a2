"""Transaction-pooler mode (VESPER_POOL_MODE=transaction) through a real PgBouncer in
transaction pooling mode: the statement timeout still holds (applied in every
transaction), counts are the same as on the direct path, nothing is left on a pooled
connection, and the tools refuse to run through the pooler without a direct URL.

Visibility, pagination, every mutation and the racing writers run through the pooler too:
the modules with `BOTH_PATHS` (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

import cli
from db.pool import create_pool
from db.topology import Database
from settings import Settings
from tests.conftest import POOLER
from tests.support import writes as w
from tests.support.app import app_client
from tests.support.graphql import codes, post, statements
from tests.support.topology import PgBouncer, through_pooler

TIMEOUT_MS = 400
PROJECTS = "{ projects(first: 5) { edges { node { name sessionCount } } } }"


@pytest.fixture
async def pooled_client(db_url: str, pooler: PgBouncer) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=through_pooler(db_url, pooler),
        pool_mode="transaction",
        statement_timeout_ms=TIMEOUT_MS,
        pool_max_size=4,
    )
    async with app_client(settings) as client:
        yield client


async def _locked(conn: asyncpg.Connection[Any], sql: str) -> asyncpg.transaction.Transaction:
    """A transaction of the test's own holding the lock `sql` takes, until rolled back."""
    transaction = conn.transaction()
    await transaction.start()
    await conn.execute(sql)
    return transaction


async def test_the_statement_timeout_holds_through_the_pooler_for_reads_and_writes(
    pooled_client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    world = await w.build_world(conn)
    held = await _locked(conn, "LOCK TABLE projects IN ACCESS EXCLUSIVE MODE")
    try:
        for document, variables in (
            (PROJECTS, None),
            (w.UPDATE_PROJECT, {"input": {"id": world.project_id, "name": "Renamed"}}),
        ):
            started = time.monotonic()
            response = await post(pooled_client, document, variables, bearer=world.bearer["owner"])
            waited = time.monotonic() - started
            assert codes(response.json()) == ["INTERNAL_SERVER_ERROR"], response.text
            # cancelled by the database at the timeout, well before our own deadline (+1 s)
            assert TIMEOUT_MS / 1000 <= waited < TIMEOUT_MS / 1000 + 0.8, (document[:20], waited)
    finally:
        await held.rollback()
    assert await conn.fetchval("SELECT name FROM projects WHERE id = $1", world.project) == (
        "Studio"
    )
    # the pooled connections are usable again: nothing was left half-done on them
    response = await post(pooled_client, PROJECTS, bearer=world.bearer["owner"])
    assert "errors" not in response.json()


async def test_a_statement_outside_a_write_gets_its_own_transaction_with_the_timeout(
    db_url: str, pooler: PgBouncer
) -> None:
    settings = Settings(pool_mode="transaction", statement_timeout_ms=TIMEOUT_MS)
    pool = await create_pool(through_pooler(db_url, pooler), settings, min_size=1)
    try:
        db = Database.over(pool, timeout_ms=TIMEOUT_MS)
        with pytest.raises(asyncpg.QueryCanceledError):
            await db.fetchval("SELECT pg_sleep(2)")
        # each statement gets it; it does not outlive the transaction that set it
        assert await db.fetchval("SELECT current_setting('statement_timeout')") == (
            f"{TIMEOUT_MS}ms"
        )
        assert await pool.fetchval("SELECT current_setting('statement_timeout')") != (
            f"{TIMEOUT_MS}ms"
        )
    finally:
        await pool.close()


@pytest.mark.parametrize("path", [POOLER])
async def test_counts_are_the_same_through_the_pooler(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any], path: str
) -> None:
    world = await w.build_world(conn)
    owner = world.bearer["owner"]
    page = (await post(client, PROJECTS, bearer=owner)).json()
    assert statements(page) == 2  # the role, the page with its cards: as direct
    renamed = await w.mutate(
        client, w.UPDATE_PROJECT, {"input": {"id": world.project_id, "name": "N"}}, owner
    )
    # role; BEGIN (with the timeout), lock and look, update, COMMIT, position; payload
    assert statements(renamed) == 1 + 5 + 1, renamed
    assert renamed["extensions"]["consistency"]


async def test_client_that_goes_away_mid_request_leaks_no_connection(
    pooled_client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    world = await w.build_world(conn)
    held = await _locked(conn, "LOCK TABLE projects IN ACCESS EXCLUSIVE MODE")
    try:
        gone = [
            asyncio.wait_for(post(pooled_client, PROJECTS, bearer=world.bearer["owner"]), 0.1)
            for _ in range(6)
        ]
        results = await asyncio.gather(*gone, return_exceptions=True)
        assert all(isinstance(r, TimeoutError) for r in results), results
    finally:
        await held.rollback()
    metrics = ""
    for _ in range(40):  # the cancelled statements are cancelled on the server too
        metrics = (await pooled_client.get("/metrics")).text
        if "vesper_db_pool_in_use 0.0" in metrics:
            break
        await asyncio.sleep(0.05)
    assert "vesper_db_pool_in_use 0.0" in metrics
    response = await post(pooled_client, PROJECTS, bearer=world.bearer["owner"])
    assert "errors" not in response.json()


def test_tools_refuse_to_run_through_a_transaction_pooler_without_a_direct_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("VESPER_POOL_MODE", "transaction")
    monkeypatch.delenv("DATABASE_DIRECT_URL", raising=False)
    assert cli.main(["migrate"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "DATABASE_DIRECT_URL" in err
    monkeypatch.setenv("DATABASE_DIRECT_URL", db_url)
    assert cli.main(["migrate"]) == 0
    assert "none pending" in capsys.readouterr().out
