"""Mutations of projects and their members, and the stats repair."""

from __future__ import annotations

import uuid

from db import projects, stats
from db.access import Target
from db.errors import ReferenceGone
from db.stats import RepairReport
from db.types import Change, Connection

from . import inputs
from .errors import BadUserInput, Forbidden, NotFound
from .ids import decode
from .permissions import DELETE_PROJECT, MANAGE_PROJECT
from .writes import Writer

# API role -> production's project_members.role value.
MEMBER_ROLES = {"ADMIN": "admin", "EDITOR": "editor", "VIEWER": "viewer"}


async def create_project(
    w: Writer, *, name: str, description: str | None, is_shared: bool
) -> uuid.UUID:
    """Any viewer may create a project; they become its owner."""
    name = inputs.name("name", name)
    description = inputs.optional_text("description", description, limit=inputs.MAX_DESCRIPTION)

    async def work(conn: Connection) -> uuid.UUID:
        return await projects.insert_project(
            conn, owner=w.viewer.id, name=name, description=description, is_shared=is_shared
        )

    return await w.run(work)


async def update_project(
    w: Writer,
    *,
    id: str,
    name: Change[str],
    description: Change[str],
    cover_image_url: Change[str],
    is_shared: Change[bool],
) -> uuid.UUID:
    """Owner and ADMIN members; fields left out are kept."""
    _, project = decode(id, {"Project"})
    new_name = inputs.new_name("name", name)
    shared = inputs.not_null("isShared", is_shared)
    description = Change(
        description.given,
        inputs.optional_text("description", description.value, limit=inputs.MAX_DESCRIPTION),
    )
    cover_image_url = Change(
        cover_image_url.given, inputs.url("coverImageUrl", cover_image_url.value)
    )

    async def write(conn: Connection, _: Target) -> uuid.UUID:
        await projects.update_project(
            conn,
            project=project,
            name=new_name,
            description=description,
            cover_image_url=cover_image_url,
            is_shared=shared,
        )
        return project

    return await w.on("project", project, MANAGE_PROJECT, "update the project", write)


async def delete_project(w: Writer, *, id: str) -> uuid.UUID:
    """The owner only; everything in the project goes with it."""
    _, project = decode(id, {"Project"})

    async def write(conn: Connection, _: Target) -> uuid.UUID:
        await projects.delete_project(conn, project=project)
        return project

    return await w.on("project", project, DELETE_PROJECT, "delete the project", write)


async def add_member(w: Writer, *, project_id: str, user_id: str, role: str) -> uuid.UUID:
    """Owner and ADMIN members; an existing member gets the new role."""
    _, project = decode(project_id, {"Project"})
    _, user = decode(user_id, {"Profile"})
    if role not in MEMBER_ROLES:
        raise BadUserInput("role must be ADMIN, EDITOR or VIEWER (the owner is not a member)")

    async def write(conn: Connection, target: Target) -> uuid.UUID:
        if user == target.owner_id:
            raise BadUserInput("the project's owner cannot be added as a member")
        try:
            await projects.upsert_member(conn, project=project, user=user, role=MEMBER_ROLES[role])
        except ReferenceGone:
            raise NotFound("no profile with this id exists") from None
        return project

    return await w.on("project", project, MANAGE_PROJECT, "change its members", write)


async def remove_member(w: Writer, *, project_id: str, user_id: str) -> uuid.UUID:
    """Owner and ADMIN members."""
    _, project = decode(project_id, {"Project"})
    _, user = decode(user_id, {"Profile"})

    async def write(conn: Connection, target: Target) -> uuid.UUID:
        if user == target.owner_id:
            raise BadUserInput("the project's owner is not a member and cannot be removed")
        if not await projects.delete_member(conn, project=project, user=user):
            raise NotFound("this profile is not a member of the project")
        return project

    return await w.on("project", project, MANAGE_PROJECT, "change its members", write)


async def repair_stats(w: Writer, *, project_id: str | None) -> RepairReport:
    """Administrators only. Every project, or one the administrator sees."""
    if not w.viewer.is_admin:
        raise Forbidden("only administrators may repair project stats")
    project = None
    if project_id is not None:
        _, project = decode(project_id, {"Project"})
        if await w.loaders.project_by_id.load(project) is None:
            raise NotFound("no project with this id is visible to you")
    async with w.pool.acquire() as conn:
        report = await stats.repair(conn, project=project)
    w.loaders.clear_all()
    return report
