"""Generations: lookups by id and per-session pages (db/queries/generations.sql)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from .keyset import Keyset
from .sql import load_queries
from .types import Connection, Executor

_Q = load_queries("generations")

# What a session's generations list shows when no status is asked for: every status the API
# knows (schema.enums.GenerationStatus) but dismissed. The page reads one index range per
# status.
LISTED_STATUSES = ("queued", "processing", "completed", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class GenerationRow:
    id: uuid.UUID
    session_id: uuid.UUID
    user_id: uuid.UUID
    model_id: str
    prompt: str
    negative_prompt: str | None
    parameters: Any  # decoded JSON, whole: the caller decides what the viewer may see
    status: str  # processing, queued, completed, failed, cancelled, dismissed
    cost: Decimal | None
    created_at: datetime
    viewer_owns_project: bool


def _row(record: asyncpg.Record) -> GenerationRow:
    values = dict(record)
    values["parameters"] = json.loads(values["parameters"])
    return GenerationRow(**values)


async def generations_by_ids(
    db: Executor, *, viewer: uuid.UUID, ids: list[uuid.UUID]
) -> list[GenerationRow]:
    return [_row(r) for r in await db.fetch(_Q["generations_by_ids"], viewer, ids)]


async def generations_pages(
    db: Executor,
    *,
    viewer: uuid.UUID,
    session_ids: list[uuid.UUID],
    status: str | None,
    keyset: Keyset,
) -> list[GenerationRow]:
    """Up to `keyset.limit` generations per visible session, in walking order per session;
    `status` None lists every status but dismissed."""
    rows = await db.fetch(
        keyset.query(_Q, "generations_page"),
        viewer,
        session_ids,
        list(LISTED_STATUSES) if status is None else [status],
        *keyset.bounds(),
        keyset.limit,
    )
    return [_row(r) for r in rows]


async def insert_generation(
    conn: Connection,
    *,
    session: uuid.UUID,
    user: uuid.UUID,
    model_id: str,
    prompt: str,
    negative_prompt: str | None,
    parameters: str,
) -> uuid.UUID:
    """A new processing generation; `parameters` is JSON text. Moves the session's
    updated_at."""
    new_id: uuid.UUID = await conn.fetchval(
        _Q["insert_generation"], session, user, model_id, prompt, negative_prompt, parameters
    )
    return new_id


async def set_status(
    conn: Connection, *, generation: uuid.UUID, status: str, cost: Decimal | None = None
) -> None:
    await conn.execute(_Q["set_generation_status"], generation, status, cost)


@dataclass(frozen=True, slots=True)
class NewOutput:
    file_url: str
    file_type: str  # image | video
    width: int | None
    height: int | None
    duration: float | None


async def insert_outputs(
    conn: Connection, *, generation: uuid.UUID, outputs: Sequence[NewOutput]
) -> None:
    if not outputs:
        return
    columns = ("file_url", "file_type", "width", "height", "duration")
    arrays = [[getattr(output, column) for output in outputs] for column in columns]
    await conn.execute(_Q["insert_outputs"], generation, *arrays)
