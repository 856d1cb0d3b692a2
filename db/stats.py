"""Project card figures (session count, thumbnail, last activity) for one viewer.

`StatsSource` is what the stats loader calls; `live_stats` computes from the base tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from .outputs import FILE_TYPES
from .sql import load_queries
from .types import Executor

_Q = load_queries("stats")


@dataclass(frozen=True, slots=True)
class StatsRow:
    project_id: uuid.UUID
    session_count: int
    thumbnail_url: str | None
    last_activity_at: datetime | None


StatsSource: TypeAlias = Callable[..., Awaitable[list[StatsRow]]]


async def live_stats(
    db: Executor, *, viewer: uuid.UUID, project_ids: list[uuid.UUID]
) -> list[StatsRow]:
    """Figures of the visible projects among `project_ids`, computed on the spot (from the
    base tables and the published_outputs index table)."""
    rows = await db.fetch(_Q["live_stats_by_projects"], viewer, project_ids, list(FILE_TYPES))
    return [StatsRow(**dict(row)) for row in rows]
