"""Test fixtures: a real PostgreSQL, a migrated template database cloned per test.

TEST_DATABASE_URL selects a server (any database on it: the tests create their own);
otherwise the embedded server is started with its data in `.pgdata-test`.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest

from db.ops import embedded, migrate
from settings import ROOT, Settings, asyncpg_url, with_database
from tests.support.app import app_client
from tests.support.sql import execute
from tests.support.topology import PgBouncer, through_pooler

_counter = itertools.count()
_RUN = uuid.uuid4().hex[:8]


# The suite's own embedded server holds nothing worth keeping: it need not wait for the disk
# (the volume tests load gigabytes). A server named by TEST_DATABASE_URL is left as it is.
_THROWAWAY = (
    "ALTER SYSTEM SET fsync = off",
    "ALTER SYSTEM SET synchronous_commit = off",
    "ALTER SYSTEM SET full_page_writes = off",
    "ALTER SYSTEM SET max_wal_size = '8GB'",
    "ALTER SYSTEM SET checkpoint_timeout = '30min'",
    "SELECT pg_reload_conf()",
)


@pytest.fixture(scope="session")
def server_url() -> str:
    """Admin URL (database `postgres`) of the server the tests use."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return with_database(asyncpg_url(url), "postgres")
    url = embedded.start(ROOT / ".pgdata-test")
    asyncio.run(execute(url, *_THROWAWAY))
    return url


async def create_database(server_url: str, *, template: str | None = None) -> str:
    name = f"vesper_test_{_RUN}_{next(_counter)}"
    suffix = f" TEMPLATE {template}" if template else ""
    await execute(server_url, f"CREATE DATABASE {name}{suffix}")
    return name


async def drop_database(server_url: str, name: str) -> None:
    await execute(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@asynccontextmanager
async def temporary_database(
    server_url: str, *sql: str, template: str | None = None
) -> AsyncIterator[str]:
    """A database created for the caller (optionally from `template`, then `sql` run in it),
    dropped afterwards; yields its URL."""
    name = await create_database(server_url, template=template)
    url = with_database(server_url, name)
    try:
        if sql:
            await execute(url, *sql)
        yield url
    finally:
        await drop_database(server_url, name)


@pytest.fixture(scope="session")
async def template_name(server_url: str) -> AsyncIterator[str]:
    """A database with every migration applied, cloned by `db_url`."""
    name = await create_database(server_url)
    try:
        migrate.apply(with_database(server_url, name))
        yield name
    finally:
        await drop_database(server_url, name)


@pytest.fixture
async def db_url(server_url: str, template_name: str) -> AsyncIterator[str]:
    """A fresh, fully migrated database for one test."""
    async with temporary_database(server_url, template=template_name) as url:
        yield url


@pytest.fixture
async def empty_db_url(server_url: str) -> AsyncIterator[str]:
    """A fresh database with nothing in it (for migration tests)."""
    async with temporary_database(server_url) as url:
        yield url


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    connection = await asyncpg.connect(db_url)
    yield connection
    await connection.close()


# A test module that sets `BOTH_PATHS = True` runs each of its tests that uses the app
# twice: straight to PostgreSQL, and through a PgBouncer in transaction pooling mode with
# the server in transaction mode (VESPER_POOL_MODE=transaction). Its direct connections
# (`conn`, for setting up and checking) stay direct.
DIRECT, POOLER = "direct", "pooler"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if getattr(metafunc.module, "BOTH_PATHS", False) and "settings" in metafunc.fixturenames:
        metafunc.parametrize("path", [DIRECT, POOLER])


@pytest.fixture
def path() -> str:
    """How the app reaches the database: DIRECT, or POOLER (modules with BOTH_PATHS)."""
    return DIRECT


@pytest.fixture
def settings(request: pytest.FixtureRequest, db_url: str, path: str) -> Settings:
    """App settings for the test database; parametrize indirectly with a dict to override.

    Queries run differentially: every query a test sends that a compiled plan answers is
    executed again on the graphql-core path, and a response or statement count that
    differs fails the request (server.py `GraphQLApp.compare`)."""
    overrides: dict[str, Any] = getattr(request, "param", {})
    base: dict[str, Any] = {
        "database_url": db_url,
        "pool_max_size": 25,
        "execution": "differential",
        # the job queue's worker only where a test asks for it (tests/jobs): elsewhere a
        # deleted project's rows stay until the test drains the queue itself
        "worker": False,
    }
    if path == POOLER:
        pooler: PgBouncer = request.getfixturevalue("pooler")
        base |= {"database_url": through_pooler(db_url, pooler), "pool_mode": "transaction"}
    return Settings(**{**base, **overrides})


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the real app (lifespan, pool, middleware) in-process."""
    async with app_client(settings) as c:
        yield c


@pytest.fixture(scope="session")
def pooler(server_url: str) -> Iterator[PgBouncer]:
    """A PgBouncer (transaction pooling) in front of the suite's server: every database of it
    under its own name, e.g. `through_pooler(db_url, pooler)`."""
    with PgBouncer(server_url) as bouncer:
        yield bouncer


@pytest.fixture
def pooled_db_url(db_url: str, pooler: PgBouncer) -> str:
    """`db_url` through the pooler (connect with `statement_cache_size=0`)."""
    return through_pooler(db_url, pooler)
