"""Typing helpers shared by the query modules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol, TypeAlias

import asyncpg


class Executor(Protocol):
    """What runs one statement: a connection, a pool, or a request's database
    (db/topology.py); the query functions accept any."""

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...
    async def fetchrow(self, query: str, *args: Any) -> Any: ...
    async def fetchval(self, query: str, *args: Any) -> Any: ...
    async def execute(self, query: str, *args: Any) -> str: ...


# A connection of its own or one borrowed from the pool.
Connection: TypeAlias = "asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]"


def utcnow() -> datetime:
    """Now as production stores it: naive UTC at millisecond precision (timestamp(3))."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
