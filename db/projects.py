"""Projects: the visible page, lookups by id, members, and their writes
(db/queries/projects.sql)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from domain.rows import MemberRow, ProfileRow, ProjectRow, StatsRow
from domain.vocabulary import ProjectRole, ProjectScope
from domain.writes import Change

from . import jobs
from .errors import reference_gone
from .keyset import Keyset
from .sql import load_queries
from .types import Connection, Executor

_Q = load_queries("projects")


def _project(record: asyncpg.Record) -> ProjectRow:
    role = record["viewer_role"]
    return ProjectRow(
        record["id"],
        record["name"],
        record["description"],
        record["cover_image_url"],
        record["is_shared"],
        record["created_at"],
        record["updated_at"],
        record["owner_id"],
        None if role is None else ProjectRole(role),
    )


@dataclass(slots=True)
class Cards:
    """A page of projects, and what its statement read for the cards when asked."""

    rows: list[ProjectRow]
    figures: list[StatsRow]  # as stats.stored_stats reads them
    owners: list[ProfileRow]  # as profiles.profiles_by_ids reads them


async def projects_page(
    db: Executor,
    *,
    viewer: uuid.UUID,
    scope: ProjectScope,
    keyset: Keyset,
    figures: bool = False,
    owners: bool = False,
) -> Cards:
    """Up to `keyset.limit` visible projects of `scope` in walking order (backward pages
    come oldest first); with `figures` their card figures from the read model, with
    `owners` their owners' profiles, in the same statement."""
    records = await db.fetch(
        keyset.query(_Q, "projects_page"),
        viewer,
        scope.value,
        *keyset.bounds(),
        keyset.limit,
        figures,
        owners,
    )
    cards = Cards([_project(record) for record in records], [], [])
    for record in records:
        if figures:
            cards.figures.append(
                StatsRow(
                    record["id"],
                    record["session_count"],
                    record["thumbnail_url"],
                    record["last_activity_at"],
                )
            )
        if record["owner_found"] is not None:
            cards.owners.append(
                ProfileRow(
                    record["owner_found"],
                    record["owner_username"],
                    record["owner_display_name"],
                    record["owner_avatar_url"],
                )
            )
    return cards


async def projects_by_ids(
    db: Executor, *, viewer: uuid.UUID, ids: list[uuid.UUID]
) -> list[ProjectRow]:
    return [_project(row) for row in await db.fetch(_Q["projects_by_ids"], viewer, ids)]


async def members_by_projects(
    db: Executor, *, viewer: uuid.UUID, project_ids: list[uuid.UUID]
) -> list[MemberRow]:
    rows = await db.fetch(_Q["members_by_projects"], viewer, project_ids)
    return [MemberRow(**{**row, "role": ProjectRole(row["role"])}) for row in rows]


async def insert_project(
    conn: Connection, *, owner: uuid.UUID, name: str, description: str | None, is_shared: bool
) -> uuid.UUID:
    new_id: uuid.UUID = await conn.fetchval(
        _Q["insert_project"], owner, name, description, is_shared
    )
    return new_id


async def update_project(
    conn: Connection,
    *,
    project: uuid.UUID,
    name: str | None,
    description: Change[str],
    cover_image_url: Change[str],
    is_shared: bool | None,
) -> None:
    """Sets the given values (None: keep; a `Change` says whether to set a nullable one)."""
    await conn.execute(
        _Q["update_project"],
        project,
        name,
        description.value,
        cover_image_url.value,
        is_shared,
        description.given,
        cover_image_url.given,
    )


async def delete_project(conn: Connection, *, project: uuid.UUID) -> None:
    """Hides `project` from everyone and queues the purge of its rows, in the caller's
    transaction: bounded whatever the project holds (migration 0016, jobs/)."""
    await conn.execute(_Q["delete_project"], project)
    await jobs.enqueue(conn, jobs.PURGE_PROJECT, project)


async def upsert_member(
    conn: Connection, *, project: uuid.UUID, user: uuid.UUID, role: ProjectRole
) -> bool:
    """Adds `user` with the member `role` or changes their role; True when anything
    changed. `ReferenceGone` when the user has no profile."""
    with reference_gone():
        changed: bool = await conn.fetchval(_Q["upsert_member"], project, user, role.stored)
    return changed


async def delete_member(conn: Connection, *, project: uuid.UUID, user: uuid.UUID) -> bool:
    """False when `user` was not a member."""
    removed: bool = await conn.fetchval(_Q["delete_member"], project, user)
    return removed
