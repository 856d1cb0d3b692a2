"""Project members: adding, re-rolling and removing them (they are read through the
per-request loaders: `Project.members`)."""

from __future__ import annotations

import uuid

from db import projects
from db.access import Target
from db.errors import ReferenceGone
from db.types import Connection
from domain.vocabulary import MEMBER_ROLES, NodeType, ProjectRole

from .errors import BadUserInput, NotFound
from .ids import decode
from .permissions import MANAGE_PROJECT
from .writes import Writer


async def add_member(w: Writer, *, project_id: str, user_id: str, role: ProjectRole) -> uuid.UUID:
    """Owner and ADMIN members; an existing member gets the new role."""
    project = decode(project_id, NodeType.PROJECT)
    user = decode(user_id, NodeType.PROFILE)
    if role not in MEMBER_ROLES:
        raise BadUserInput("role must be ADMIN, EDITOR or VIEWER (the owner is not a member)")

    async def write(conn: Connection, target: Target) -> uuid.UUID:
        if user == target.owner_id:
            raise BadUserInput("the project's owner cannot be added as a member")
        try:
            await projects.upsert_member(conn, project=project, user=user, role=role)
        except ReferenceGone:
            raise NotFound("no profile with this id exists") from None
        return project

    return await w.on(NodeType.PROJECT, project, MANAGE_PROJECT, "change its members", write)


async def remove_member(w: Writer, *, project_id: str, user_id: str) -> uuid.UUID:
    """Owner and ADMIN members."""
    project = decode(project_id, NodeType.PROJECT)
    user = decode(user_id, NodeType.PROFILE)

    async def write(conn: Connection, target: Target) -> uuid.UUID:
        if user == target.owner_id:
            raise BadUserInput("the project's owner is not a member and cannot be removed")
        if not await projects.delete_member(conn, project=project, user=user):
            raise NotFound("this profile is not a member of the project")
        return project

    return await w.on(NodeType.PROJECT, project, MANAGE_PROJECT, "change its members", write)
