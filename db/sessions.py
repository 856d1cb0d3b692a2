"""Sessions: lookups by id and per-project pages (db/queries/sessions.sql)."""

from __future__ import annotations

import uuid

import asyncpg

from domain.rows import SessionRow
from domain.vocabulary import SessionType

from . import jobs
from .keyset import Keyset
from .sql import load_queries
from .types import Connection, Executor

_Q = load_queries("sessions")


def _session(record: asyncpg.Record) -> SessionRow:
    return SessionRow(**{**record, "type": SessionType(record["type"])})


async def sessions_by_ids(
    db: Executor, *, viewer: uuid.UUID, ids: list[uuid.UUID]
) -> list[SessionRow]:
    return [_session(row) for row in await db.fetch(_Q["sessions_by_ids"], viewer, ids)]


async def sessions_pages(
    db: Executor,
    *,
    viewer: uuid.UUID,
    project_ids: list[uuid.UUID],
    type: SessionType | None,
    keyset: Keyset,
) -> list[tuple[uuid.UUID, SessionRow]]:
    """(project id, session) for up to `keyset.limit` visible sessions per project, in
    walking order per project; `type` None means any."""
    rows = await db.fetch(
        keyset.query(_Q, "sessions_page"),
        viewer,
        project_ids,
        None if type is None else type.value,
        *keyset.bounds(),
        keyset.limit,
    )
    return [(row["project_id"], _session(row)) for row in rows]


async def insert_session(
    conn: Connection, *, project: uuid.UUID, name: str, type: SessionType, is_private: bool
) -> uuid.UUID:
    new_id: uuid.UUID = await conn.fetchval(
        _Q["insert_session"], project, name, type.value, is_private
    )
    return new_id


async def update_session(
    conn: Connection, *, session: uuid.UUID, name: str | None, is_private: bool | None
) -> None:
    """Sets the given values (None: keep)."""
    await conn.execute(_Q["update_session"], session, name, is_private)


async def delete_session(conn: Connection, *, session: uuid.UUID) -> None:
    """Deletes `session` in the caller's transaction when it is small; otherwise hides it
    from everyone at once and queues its purge: bounded whatever it holds (README "Big
    writes")."""
    if not await conn.fetchval(_Q["delete_session"], session):
        holder: uuid.UUID = await conn.fetchval(_Q["hide_session"], session)
        await jobs.enqueue(conn, jobs.PURGE_PROJECT, holder)
