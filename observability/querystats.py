"""Per-statement observation, fed by asyncpg's query logger: the request's statement count
and SQL time (`extensions.queries`), the SQL latency metric by named block, and the
slow-statement log.

A request opens a `QueryStats` scope; every pooled connection has a `StatementObserver`
registered as its query logger, and asyncpg calls it (via `call_soon`, so in the context
of the task that ran the statement) after each statement.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from db.sql import block_name
from db.topology import FRAME

from .metrics import SQL_SECONDS

log = logging.getLogger("vesper.sql")

_TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass(slots=True)
class QueryStats:
    request_id: str | None = None
    operation: str | None = None  # the GraphQL operation's name, once execution knows it
    count: int = 0
    seconds: float = 0.0

    def as_extension(self) -> dict[str, Any]:
        return {"count": self.count, "ms": round(self.seconds * 1000, 3)}


_current: contextvars.ContextVar[QueryStats | None] = contextvars.ContextVar(
    "vesper_query_stats", default=None
)


@contextmanager
def collecting(request_id: str | None = None) -> Iterator[QueryStats]:
    stats = QueryStats(request_id=request_id)
    token = _current.set(stats)
    try:
        yield stats
    finally:
        _current.reset(token)


def current() -> QueryStats | None:
    """The scope of the request running in this context, if any."""
    return _current.get()


def statement_label(sql: str) -> str:
    """The metric label of a statement: its SQL block, `transaction` or `other`."""
    name = block_name(sql)
    if name is not None:
        return name
    return "transaction" if sql.lstrip().upper().startswith(_TRANSACTION) else "other"


class StatementObserver:
    """The query logger: counts, times and names every statement a connection runs."""

    def __init__(self, *, slow_ms: float) -> None:
        self.slow_seconds = slow_ms / 1000

    def __call__(self, record: asyncpg.connection.LoggedQuery) -> None:
        elapsed = record.elapsed
        stats = _current.get()
        if stats is not None:
            stats.count += FRAME not in record.query[:24]  # transaction mode's frames
            stats.seconds += elapsed
        label = statement_label(record.query)
        SQL_SECONDS.labels(label).observe(elapsed)
        if elapsed >= self.slow_seconds:
            request_id = stats.request_id if stats is not None else None
            log.warning(
                "slow statement %s: %.1f ms [request %s]",
                label,
                elapsed * 1000,
                request_id or "-",
                extra={"block": label, "ms": round(elapsed * 1000, 3), "request_id": request_id},
            )

    def register(self) -> Callable[[asyncpg.Connection[Any]], Coroutine[Any, Any, None]]:
        """The pool `init` hook that attaches this observer to each new connection."""

        async def attach(conn: asyncpg.Connection[Any]) -> None:
            conn.add_query_logger(self)

        return attach


async def settle() -> None:
    """Let the logger callbacks of statements that just finished run before we report."""
    await asyncio.sleep(0)
