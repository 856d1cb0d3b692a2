"""What every mutation shares: one transaction, then a fresh view for the payload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

from auth.viewer import Viewer
from db.transactions import in_transaction
from db.types import Connection
from loaders import Loaders

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Writer:
    """The request's viewer and where their writes go."""

    pool: asyncpg.Pool[Any]
    loaders: Loaders
    viewer: Viewer

    async def run(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """`work` in one transaction; afterwards the request's loaders forget what they
        read, so the payload (and any later field of the request) sees the write."""
        result = await in_transaction(self.pool, work)
        self.loaders.clear_all()
        return result
