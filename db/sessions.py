"""Sessions: lookups by id and per-project pages (db/queries/sessions.sql)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from .keyset import Keyset
from .sql import load_queries
from .types import Connection, Executor

_Q = load_queries("sessions")


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    type: str  # image | video
    is_private: bool
    created_at: datetime
    updated_at: datetime


async def sessions_by_ids(
    db: Executor, *, viewer: uuid.UUID, ids: list[uuid.UUID]
) -> list[SessionRow]:
    rows = await db.fetch(_Q["sessions_by_ids"], viewer, ids)
    return [SessionRow(**dict(row)) for row in rows]


async def sessions_pages(
    db: Executor,
    *,
    viewer: uuid.UUID,
    project_ids: list[uuid.UUID],
    type: str | None,
    keyset: Keyset,
) -> list[SessionRow]:
    """Up to `keyset.limit` visible sessions per project, in walking order per project."""
    rows = await db.fetch(
        keyset.query(_Q, "sessions_page"),
        viewer,
        project_ids,
        type,
        *keyset.bounds(),
        keyset.limit,
    )
    return [SessionRow(**dict(row)) for row in rows]


async def insert_session(
    conn: Connection, *, project: uuid.UUID, name: str, type: str, is_private: bool
) -> uuid.UUID:
    new_id: uuid.UUID = await conn.fetchval(_Q["insert_session"], project, name, type, is_private)
    return new_id


async def update_session(
    conn: Connection, *, session: uuid.UUID, name: str | None, is_private: bool | None
) -> None:
    """Sets the given values (None: keep)."""
    await conn.execute(_Q["update_session"], session, name, is_private)


async def delete_session(conn: Connection, *, session: uuid.UUID) -> None:
    await conn.execute(_Q["delete_session"], session)
