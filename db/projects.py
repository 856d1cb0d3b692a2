"""Projects: the visible page, lookups by id, members (db/queries/projects.sql)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from .keyset import Keyset
from .sql import load_queries
from .types import Executor

_Q = load_queries("projects")


@dataclass(frozen=True, slots=True)
class ProjectRow:
    id: uuid.UUID
    name: str
    description: str | None
    cover_image_url: str | None
    is_shared: bool
    created_at: datetime
    updated_at: datetime
    owner_id: uuid.UUID
    viewer_role: str | None  # OWNER, ADMIN, EDITOR, VIEWER; None: visible as shared only


@dataclass(frozen=True, slots=True)
class MemberRow:
    project_id: uuid.UUID
    user_id: uuid.UUID
    role: str  # ADMIN, EDITOR or VIEWER
    joined_at: datetime


async def projects_page(
    db: Executor, *, viewer: uuid.UUID, scope: str, keyset: Keyset
) -> list[ProjectRow]:
    """Up to `keyset.limit` visible projects in walking order (backward pages come oldest
    first). `scope` is ALL, OWNED, MEMBER or SHARED."""
    rows = await db.fetch(
        keyset.query(_Q, "projects_page"), viewer, scope, *keyset.bounds(), keyset.limit
    )
    return [ProjectRow(**dict(row)) for row in rows]


async def projects_by_ids(
    db: Executor, *, viewer: uuid.UUID, ids: list[uuid.UUID]
) -> list[ProjectRow]:
    rows = await db.fetch(_Q["projects_by_ids"], viewer, ids)
    return [ProjectRow(**dict(row)) for row in rows]


async def members_by_projects(
    db: Executor, *, viewer: uuid.UUID, project_ids: list[uuid.UUID]
) -> list[MemberRow]:
    rows = await db.fetch(_Q["members_by_projects"], viewer, project_ids)
    return [MemberRow(**dict(row)) for row in rows]
