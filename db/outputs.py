"""Outputs: lookups by id, per generation, the gallery, and their writes
(db/queries/outputs.sql)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from domain.rows import OutputRow
from domain.vocabulary import FileType

from .keyset import Keyset
from .sql import load_queries
from .types import Connection, Executor

_Q = load_queries("outputs")


def _output(values: Mapping[str, Any]) -> OutputRow:
    return OutputRow(**{**values, "file_type": FileType(values["file_type"])})


async def outputs_by_ids(
    db: Executor, *, viewer: uuid.UUID, ids: list[uuid.UUID]
) -> list[OutputRow]:
    return [_output(row) for row in await db.fetch(_Q["outputs_by_ids"], viewer, ids)]


async def outputs_by_generations(
    db: Executor, *, viewer: uuid.UUID, generation_ids: list[uuid.UUID]
) -> list[OutputRow]:
    """Every output of the visible generations, oldest first within each generation."""
    rows = await db.fetch(_Q["outputs_by_generations"], viewer, generation_ids)
    return [_output(row) for row in rows]


async def gallery_pages(
    db: Executor,
    *,
    viewer: uuid.UUID,
    project_ids: list[uuid.UUID],
    file_type: FileType | None,
    keyset: Keyset,
) -> list[tuple[uuid.UUID, OutputRow]]:
    """(project id, output) for up to `keyset.limit` published outputs per visible
    project, in walking order per project; `file_type` None means any (the gallery reads
    one index range per type)."""
    types = tuple(FileType) if file_type is None else (file_type,)
    rows = await db.fetch(
        keyset.query(_Q, "gallery_page"),
        viewer,
        project_ids,
        [t.value for t in types],
        *keyset.bounds(),
        keyset.limit,
    )
    result = []
    for row in rows:
        values = dict(row)
        project_id = values.pop("project_id")
        result.append((project_id, _output(values)))
    return result


async def update_output(
    conn: Connection, *, output: uuid.UUID, is_starred: bool | None, is_approved: bool | None
) -> None:
    """Sets the given flags (None: keep)."""
    await conn.execute(_Q["update_output"], output, is_starred, is_approved)


async def delete_output(conn: Connection, *, output: uuid.UUID) -> None:
    await conn.execute(_Q["delete_output"], output)
