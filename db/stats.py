"""Project card figures (session count, thumbnail, last activity) for one viewer, and the
repair of the project_stats read model.

`StatsSource` is what the stats loader calls: `live_stats` computes the figures now,
`stored_stats` reads the read model (migration 0009). Both answer for the viewer's class.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from domain.rows import StatsRow
from domain.writes import RepairReport

from .sql import load_queries
from .topology import CLOSE_FRAME
from .types import Connection, Executor

_Q = load_queries("stats")
_FIRST = uuid.UUID(int=0)
REPAIR_BATCH = 500  # projects compared per statement


StatsSource: TypeAlias = Callable[..., Awaitable[list[StatsRow]]]


async def live_stats(
    db: Executor, *, viewer: uuid.UUID, project_ids: list[uuid.UUID]
) -> list[StatsRow]:
    """Figures of the visible projects among `project_ids`, computed on the spot."""
    rows = await db.fetch(_Q["live_stats_by_projects"], viewer, project_ids)
    return [StatsRow(**row) for row in rows]


async def stored_stats(
    db: Executor, *, viewer: uuid.UUID, project_ids: list[uuid.UUID]
) -> list[StatsRow]:
    """Figures of the visible projects among `project_ids`, read from project_stats."""
    rows = await db.fetch(_Q["stored_stats_by_projects"], viewer, project_ids)
    return [StatsRow(**row) for row in rows]


SOURCES: dict[str, StatsSource] = {"live": live_stats, "read_model": stored_stats}


async def repair(
    conn: Connection,
    *,
    project: uuid.UUID | None = None,
    dry_run: bool = False,
    batch: int = REPAIR_BATCH,
    frame: str | None = None,
) -> RepairReport:
    """Compares project_stats with the base tables, `batch` projects per statement (every
    project, or only `project`), and recomputes the rows that differ unless `dry_run`.

    Each comparison reads one snapshot in which the writes' triggers have either fully run
    or not at all, so a difference is real drift, never a write in flight; each repair
    recomputes under the row lock, like the triggers. `frame` (transaction-pooler mode:
    `Database.frame`, which sets the statement timeout) makes each batch a transaction
    of its own; otherwise each statement is.
    """
    checked = drifted = repaired = 0
    after = _FIRST
    while True:
        if frame is not None:
            await conn.execute(frame)
        row = await conn.fetchrow(_Q["stats_drift"], after, batch, project)
        assert row is not None
        found: list[uuid.UUID] = list(row["drifted"])
        if found and not dry_run:
            await conn.execute(_Q["stats_refresh"], found)
            repaired += len(found)
        if frame is not None:
            await conn.execute(CLOSE_FRAME)
        if row["checked"] == 0:
            break
        checked += row["checked"]
        drifted += len(found)
        after = row["last_id"]
    return RepairReport(checked=checked, drifted=drifted, repaired=repaired)
