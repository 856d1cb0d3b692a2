"""Outputs: lookups by id, per generation, and the gallery (db/queries/outputs.sql)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from .keyset import Keyset
from .sql import load_queries
from .types import Connection, Executor

_Q = load_queries("outputs")

# The file types the API knows (schema.enums.FileType): the gallery reads one index range
# per type, so "any type" means these.
FILE_TYPES = ("image", "video")


@dataclass(frozen=True, slots=True)
class OutputRow:
    id: uuid.UUID
    generation_id: uuid.UUID
    file_url: str
    file_type: str  # image | video
    width: int | None
    height: int | None
    duration: float | None
    is_starred: bool
    is_approved: bool
    created_at: datetime


async def outputs_by_ids(
    db: Executor, *, viewer: uuid.UUID, ids: list[uuid.UUID]
) -> list[OutputRow]:
    rows = await db.fetch(_Q["outputs_by_ids"], viewer, ids)
    return [OutputRow(**dict(row)) for row in rows]


async def outputs_by_generations(
    db: Executor, *, viewer: uuid.UUID, generation_ids: list[uuid.UUID]
) -> list[OutputRow]:
    """Every output of the visible generations, oldest first within each generation."""
    rows = await db.fetch(_Q["outputs_by_generations"], viewer, generation_ids)
    return [OutputRow(**dict(row)) for row in rows]


async def gallery_pages(
    db: Executor,
    *,
    viewer: uuid.UUID,
    project_ids: list[uuid.UUID],
    file_type: str | None,
    keyset: Keyset,
) -> list[tuple[uuid.UUID, OutputRow]]:
    """(project id, output) for up to `keyset.limit` published outputs per visible
    project, in walking order per project; `file_type` None means any."""
    rows = await db.fetch(
        keyset.query(_Q, "gallery_page"),
        viewer,
        project_ids,
        list(FILE_TYPES) if file_type is None else [file_type],
        *keyset.bounds(),
        keyset.limit,
    )
    result = []
    for row in rows:
        values = dict(row)
        project_id = values.pop("project_id")
        result.append((project_id, OutputRow(**values)))
    return result


async def update_output(
    conn: Connection, *, output: uuid.UUID, is_starred: bool | None, is_approved: bool | None
) -> None:
    """Sets the given flags (None: keep)."""
    await conn.execute(_Q["update_output"], output, is_starred, is_approved)


async def delete_output(conn: Connection, *, output: uuid.UUID) -> None:
    await conn.execute(_Q["delete_output"], output)
