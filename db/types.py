"""Typing helpers shared by the query modules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeAlias, TypeVar

import asyncpg

# Both a pool and a connection can run one statement; functions accept either.
Executor: TypeAlias = "asyncpg.Connection[Any] | asyncpg.Pool[Any]"


def utcnow() -> datetime:
    """Now as production stores it: naive UTC at millisecond precision (timestamp(3))."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


# A connection of its own or one borrowed from the pool.
Connection: TypeAlias = "asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]"


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Change(Generic[T]):
    """A write's new value for a nullable column: `given` False keeps the stored one (the
    client left the field out), True sets `value`, None included."""

    given: bool = False
    value: T | None = None
