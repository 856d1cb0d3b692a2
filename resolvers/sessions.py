"""Sessions: a project's sessions page and their writes (owner, ADMIN and EDITOR members,
API.md "Permissions")."""

from __future__ import annotations

import uuid

from db import sessions
from db.access import Target
from db.types import Connection
from domain.rows import SessionRow
from domain.vocabulary import NodeType, ProjectRole, SessionType
from domain.writes import Change

from . import inputs
from .errors import Forbidden
from .ids import decode
from .pagination import NestedPage, updated
from .permissions import EDIT_CONTENT
from .writes import Writer

# Project.sessions: a page per parent, batched; the rows primed for lookups by id.
SESSIONS: NestedPage[SessionType, SessionRow] = NestedPage(
    field="Project.sessions",
    pages=lambda loaders: loaders.sessions_by_project,
    by_id=lambda loaders: loaders.session_by_id,
    position=updated,
)


async def create_session(
    w: Writer, *, project_id: str, name: str, type: SessionType, is_private: bool | None
) -> uuid.UUID:
    """`is_private` defaults to true for the owner and false for members; only the owner
    may make a session private (members could not see it)."""
    project = decode(project_id, NodeType.PROJECT)
    name = inputs.name("name", name)

    async def write(conn: Connection, target: Target) -> uuid.UUID:
        owner = target.viewer_role is ProjectRole.OWNER
        if is_private and not owner:
            raise Forbidden("only the project's owner may make a session private")
        return await sessions.insert_session(
            conn,
            project=project,
            name=name,
            type=type,
            is_private=owner if is_private is None else is_private,
        )

    return await w.on(NodeType.PROJECT, project, EDIT_CONTENT, "create sessions", write)


async def update_session(
    w: Writer, *, id: str, name: Change[str], is_private: Change[bool]
) -> uuid.UUID:
    session = decode(id, NodeType.SESSION)
    new_name = inputs.new_name("name", name)
    private = inputs.not_null("isPrivate", is_private)

    async def write(conn: Connection, target: Target) -> uuid.UUID:
        if private and target.viewer_role is not ProjectRole.OWNER:
            raise Forbidden("only the project's owner may make a session private")
        await sessions.update_session(conn, session=session, name=new_name, is_private=private)
        return session

    return await w.on(NodeType.SESSION, session, EDIT_CONTENT, "change sessions", write)


async def delete_session(w: Writer, *, id: str) -> uuid.UUID:
    return await w.delete(
        NodeType.SESSION, id, EDIT_CONTENT, "delete sessions",
        lambda conn, key: sessions.delete_session(conn, session=key),
    )  # fmt: skip
