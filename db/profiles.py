"""Profiles: the viewer's own row and batched lookups (db/queries/profiles.sql)."""

from __future__ import annotations

import uuid
from datetime import datetime

from domain.rows import ProfileRow

from .sql import load_queries
from .types import Executor

_Q = load_queries("profiles")


async def viewer_role(db: Executor, *, profile_id: uuid.UUID) -> str | None:
    """The profile's account role (`user` or `admin`); None when it does not exist."""
    role: str | None = await db.fetchval(_Q["viewer_role"], profile_id)
    return role


async def insert_profile(
    db: Executor,
    *,
    profile_id: uuid.UUID,
    username: str | None,
    display_name: str | None,
    now: datetime,
) -> bool:
    """True when the row was created; False when the id or the username already exists."""
    status: str = await db.execute(_Q["insert_profile"], profile_id, username, display_name, now)
    return status == "INSERT 0 1"


async def profiles_by_ids(db: Executor, *, ids: list[uuid.UUID]) -> list[ProfileRow]:
    rows = await db.fetch(_Q["profiles_by_ids"], ids)
    return [ProfileRow(**row) for row in rows]
