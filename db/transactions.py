"""Running a write as one transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from .types import Connection

log = logging.getLogger("vesper.db")

T = TypeVar("T")

ATTEMPTS = 3


async def in_transaction(pool: asyncpg.Pool[Any], work: Callable[[Connection], Awaitable[T]]) -> T:
    """`work` on one connection inside one transaction: all of it commits or none does.

    A transaction PostgreSQL aborts to break a deadlock (or a serialization failure) has
    written nothing, so it is run again, up to `ATTEMPTS` times in all; `work` must not
    keep state between attempts. Every other exception rolls back and propagates.
    """
    for attempt in range(1, ATTEMPTS + 1):
        async with pool.acquire() as conn:
            try:
                async with conn.transaction():
                    return await work(conn)
            except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
                if attempt == ATTEMPTS:
                    raise
                log.warning("write aborted by the database (attempt %d), retrying", attempt)
    raise AssertionError("unreachable")  # pragma: no cover
