"""Per-request SQL statement count and time, fed by asyncpg's query logger.

A request opens a `QueryStats` scope; every connection of the pool has `log_query`
registered as a query logger, and asyncpg calls it (via `call_soon`, so in the context
of the task that ran the statement) after each statement.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass(slots=True)
class QueryStats:
    count: int = 0
    seconds: float = 0.0

    def as_extension(self) -> dict[str, Any]:
        return {"count": self.count, "ms": round(self.seconds * 1000, 3)}


_current: contextvars.ContextVar[QueryStats | None] = contextvars.ContextVar(
    "vesper_query_stats", default=None
)


@contextmanager
def collecting() -> Iterator[QueryStats]:
    stats = QueryStats()
    token = _current.set(stats)
    try:
        yield stats
    finally:
        _current.reset(token)


def log_query(record: asyncpg.connection.LoggedQuery) -> None:
    stats = _current.get()
    if stats is not None:
        stats.count += 1
        stats.seconds += record.elapsed


async def settle() -> None:
    """Let the logger callbacks of statements that just finished run before we report."""
    await asyncio.sleep(0)


async def register(conn: asyncpg.Connection[Any]) -> None:
    """Pool `init` hook: attach the logger to a new connection."""
    conn.add_query_logger(log_query)
