"""Test data written straight into the tables (the API has no writes yet).

Each helper inserts one row with production's conventions (server-made ids, naive UTC
timestamps at millisecond precision) and returns its id. Timestamps default to a clock
that ticks one second per call, so rows created later sort as newer.
"""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import datetime, timedelta
from typing import Any, TypeAlias

import asyncpg

Conn: TypeAlias = "asyncpg.Connection[Any]"

_EPOCH = datetime(2026, 1, 1)
_ticks = itertools.count()


def tick() -> datetime:
    """A fresh timestamp, later than every previous one."""
    return _EPOCH + timedelta(seconds=next(_ticks))


async def profile(conn: Conn, username: str | None = None, *, admin: bool = False) -> uuid.UUID:
    pid = uuid.uuid4()
    await conn.execute(
        "INSERT INTO profiles (id, username, display_name, role, updated_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        pid,
        username,
        username and username.title(),
        "admin" if admin else "user",
        tick(),
    )
    return pid


async def project(
    conn: Conn,
    owner: uuid.UUID,
    name: str = "Project",
    *,
    shared: bool = False,
    updated_at: datetime | None = None,
) -> uuid.UUID:
    pid = uuid.uuid4()
    await conn.execute(
        "INSERT INTO projects (id, name, owner_id, is_shared, updated_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        pid,
        name,
        owner,
        shared,
        updated_at or tick(),
    )
    return pid


async def member(
    conn: Conn,
    project_id: uuid.UUID,
    user: uuid.UUID,
    role: str,
    *,
    joined_at: datetime | None = None,
) -> uuid.UUID:
    mid = uuid.uuid4()
    await conn.execute(
        "INSERT INTO project_members (id, project_id, user_id, role, joined_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        mid,
        project_id,
        user,
        role,
        joined_at or tick(),
    )
    return mid


async def session(
    conn: Conn,
    project_id: uuid.UUID,
    name: str = "Session",
    *,
    private: bool = False,
    type: str = "image",
    updated_at: datetime | None = None,
) -> uuid.UUID:
    sid = uuid.uuid4()
    await conn.execute(
        "INSERT INTO sessions (id, project_id, name, type, is_private, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        sid,
        project_id,
        name,
        type,
        private,
        updated_at or tick(),
    )
    return sid


async def generation(
    conn: Conn,
    session_id: uuid.UUID,
    user: uuid.UUID,
    *,
    status: str = "completed",
    prompt: str = "a prompt",
    parameters: Any = None,
    created_at: datetime | None = None,
) -> uuid.UUID:
    gid = uuid.uuid4()
    await conn.execute(
        "INSERT INTO generations (id, session_id, user_id, model_id, prompt, parameters,"
        " status, created_at) VALUES ($1, $2, $3, 'gemini-nano-banana-pro', $4, $5::jsonb,"
        " $6, $7)",
        gid,
        session_id,
        user,
        prompt,
        json.dumps({} if parameters is None else parameters),
        status,
        created_at or tick(),
    )
    return gid


async def output(
    conn: Conn,
    generation_id: uuid.UUID,
    *,
    file_type: str = "image",
    url: str | None = None,
    created_at: datetime | None = None,
) -> uuid.UUID:
    oid = uuid.uuid4()
    await conn.execute(
        "INSERT INTO outputs (id, generation_id, file_url, file_type, created_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        oid,
        generation_id,
        url or f"https://cdn.example/{oid}.{'png' if file_type == 'image' else 'mp4'}",
        file_type,
        created_at or tick(),
    )
    return oid
