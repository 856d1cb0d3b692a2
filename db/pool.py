"""The connection pool, and what to say when the database cannot be reached."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg

from settings import Settings


class DatabaseUnavailable(Exception):
    """The database cannot be reached or refuses us; the message says what to check."""


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or "local socket"
    return f"{host}:{parts.port or 5432}{parts.path}"


def explain_connect_error(url: str, exc: BaseException) -> DatabaseUnavailable:
    where = describe(url)
    if isinstance(
        exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        hint = "the user name and password in DATABASE_URL"
    elif isinstance(exc, asyncpg.InvalidCatalogNameError):
        hint = "that the database named in DATABASE_URL exists"
    elif isinstance(exc, OSError | asyncio.TimeoutError):
        hint = "that PostgreSQL is running and DATABASE_URL's host and port are right"
    else:
        hint = "DATABASE_URL"
    return DatabaseUnavailable(f"cannot connect to PostgreSQL at {where}: {exc}. Check {hint}.")


async def _keep_session(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Pool reset hook that skips asyncpg's default reset round trip on every release.

    The server never leaves session state behind (no session-level SET, LISTEN, advisory
    locks or cursors; timeouts are connection settings), and asyncpg still rolls back a
    transaction left open before calling this. Transaction-mode PgBouncer needs the same.
    """
    del conn


# asyncpg introspects the catalog (three extra statements) the first time a connection
# sees an array type; doing it when the connection opens keeps per-request statement
# counts independent of which pooled connection a request happens to get.
_WARM_TYPES = (
    "SELECT $1::uuid[], $2::int4[], $3::int8[], $4::bool[], $5::float8[], $6::numeric[],"
    " $7::timestamp[], $8::timestamptz[], $9::jsonb[], $10::text[], $11::bytea[],"
    " $12::interval[]"  # the last three: the job queue's enqueue (db/jobs.py)
)


def _connection_setup(
    init: Callable[[asyncpg.Connection[asyncpg.Record]], Coroutine[Any, Any, None]] | None,
) -> Callable[[asyncpg.Connection[asyncpg.Record]], Coroutine[Any, Any, None]]:
    async def setup(conn: asyncpg.Connection[asyncpg.Record]) -> None:
        await conn.fetchrow(_WARM_TYPES, *([None] * 12))
        if init is not None:
            await init(conn)

    return setup


async def create_pool(
    url: str,
    settings: Settings,
    *,
    init: Callable[[asyncpg.Connection[asyncpg.Record]], Coroutine[Any, Any, None]] | None = None,
    min_size: int | None = None,
) -> asyncpg.Pool[asyncpg.Record]:
    """A pool whose statements the database cancels at the statement timeout, with a
    deadline a little longer on our side (`Settings.database_deadline`): a statement the
    database does not answer in time (it stopped, the network dropped) fails with
    `TimeoutError`, and asyncpg cancels it and drops the connection if the cancel fails;
    opening a connection is bounded the same way.

    Session mode sets the timeout once per connection (a startup parameter). Transaction
    mode (a transaction pooler hands each transaction to any server connection) sends no
    startup parameter and keeps no prepared statement: asyncpg's statement cache is off,
    so every statement is parsed unnamed in the transaction that runs it, and
    `Database` applies the timeout inside each transaction instead (`SET LOCAL`).
    """
    pooled = settings.transaction_pooled
    try:
        pool: asyncpg.Pool[asyncpg.Record] = await asyncpg.create_pool(
            url,
            min_size=settings.pool_min_size if min_size is None else min_size,
            max_size=settings.pool_max_size,
            timeout=settings.database_deadline,
            command_timeout=settings.database_deadline,
            init=_connection_setup(init),
            reset=_keep_session,
            statement_cache_size=0 if pooled else 100,
            server_settings=None
            if pooled
            else {
                "statement_timeout": str(settings.statement_timeout_ms),
                "application_name": "vesper-api",
            },
        )
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise explain_connect_error(url, exc) from exc
    return pool
