"""Generations: lookups by id, per-session pages and their writes
(db/queries/generations.sql)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from decimal import Decimal

import asyncpg

from domain.rows import GenerationRow
from domain.vocabulary import LISTED_STATUSES, GenerationStatus
from domain.writes import NewOutput

from .keyset import Keyset
from .sql import load_queries
from .types import Connection, Executor

_Q = load_queries("generations")


def _generation(record: asyncpg.Record) -> GenerationRow:
    return GenerationRow(
        **{
            **record,
            "parameters": json.loads(record["parameters"]),
            "status": GenerationStatus(record["status"]),
        }
    )


async def generations_by_ids(
    db: Executor, *, viewer: uuid.UUID, ids: list[uuid.UUID]
) -> list[GenerationRow]:
    return [_generation(r) for r in await db.fetch(_Q["generations_by_ids"], viewer, ids)]


async def generations_pages(
    db: Executor,
    *,
    viewer: uuid.UUID,
    session_ids: list[uuid.UUID],
    status: GenerationStatus | None,
    keyset: Keyset,
) -> list[tuple[uuid.UUID, GenerationRow]]:
    """(session id, generation) for up to `keyset.limit` generations per visible session,
    in walking order per session; `status` None lists every status but dismissed (one
    index range per status)."""
    statuses = LISTED_STATUSES if status is None else (status,)
    rows = await db.fetch(
        keyset.query(_Q, "generations_page"),
        viewer,
        session_ids,
        [s.value for s in statuses],
        *keyset.bounds(),
        keyset.limit,
    )
    return [(r["session_id"], _generation(r)) for r in rows]


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
    conn: Connection,
    *,
    generation: uuid.UUID,
    status: GenerationStatus,
    cost: Decimal | None = None,
) -> None:
    await conn.execute(_Q["set_generation_status"], generation, status.value, cost)


async def insert_outputs(
    conn: Connection, *, generation: uuid.UUID, outputs: Sequence[NewOutput]
) -> None:
    if not outputs:
        return
    await conn.execute(
        _Q["insert_outputs"],
        generation,
        [o.file_url for o in outputs],
        [o.file_type.value for o in outputs],
        [o.width for o in outputs],
        [o.height for o in outputs],
        [o.duration for o in outputs],
    )
