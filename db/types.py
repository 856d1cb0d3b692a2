"""Typing helpers shared by the query modules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeAlias

import asyncpg

# Both a pool and a connection can run one statement; functions accept either.
Executor: TypeAlias = "asyncpg.Connection[Any] | asyncpg.Pool[Any]"

# A connection of its own or one borrowed from the pool.
Connection: TypeAlias = "asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]"


def utcnow() -> datetime:
    """Now as production stores it: naive UTC at millisecond precision (timestamp(3))."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
