"""Running a write as one transaction on the primary."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from .errors import CONNECTION_LOST, UNAVAILABLE
from .topology import Database, position
from .types import Connection

log = logging.getLogger("vesper.db")

T = TypeVar("T")

ATTEMPTS = 3


async def in_transaction(
    db: Database, work: Callable[[Connection], Awaitable[T]]
) -> tuple[T, str | None]:
    """`work` on one connection inside one transaction: all of it commits or none does.
    Returns its result and the consistency token of the commit (None in the rare case the
    connection failed right after the commit: the write stands, the token is unknown).

    A transaction PostgreSQL aborts to break a deadlock (or a serialization failure) has
    written nothing, so it is run again, up to `ATTEMPTS` times in all; `work` must not
    keep state between attempts. So is one whose pooled connection turns out dead at
    BEGIN (the server restarted meanwhile: nothing was sent). Every other exception rolls
    back and propagates.
    """
    for attempt in range(1, ATTEMPTS + 1):
        async with db.acquire() as conn:
            try:
                await conn.execute(db.begin)  # with the statement timeout in transaction mode
            except CONNECTION_LOST:
                await db.pool.expire_connections()
                if attempt == ATTEMPTS:
                    raise
                continue
            try:
                result = await work(conn)
                await conn.execute("COMMIT")
            except BaseException as exc:
                # (cancelled: the pool rolls back when the connection comes back)
                if isinstance(exc, Exception) and not conn.is_closed() and conn.is_in_transaction():
                    await _rollback(conn)
                if isinstance(exc, CONNECTION_LOST):
                    await db.pool.expire_connections()
                if attempt < ATTEMPTS and isinstance(
                    exc, asyncpg.DeadlockDetectedError | asyncpg.SerializationError
                ):
                    log.warning("write aborted by the database (attempt %d), retrying", attempt)
                    continue
                raise
            try:
                return result, await position(conn)
            except CONNECTION_LOST:
                return result, None
    raise AssertionError("unreachable")  # pragma: no cover


async def _rollback(conn: Connection) -> None:
    with contextlib.suppress(*UNAVAILABLE):  # gone: the transaction went with it
        await conn.execute("ROLLBACK")
