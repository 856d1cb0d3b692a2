"""The read side below the root: connections, lists, and what a viewer sees of a row.

Every function takes the per-request loaders (visibility is applied in SQL by them) and
returns rows; pages come back as `Slice`s with their cursors. Rows a page brings in are
primed into the by-id loaders so that nested lookups (`Output.generation`, ...) are free.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from db import projects
from db.generations import GenerationRow
from db.keyset import Position
from db.outputs import OutputRow
from db.projects import MemberRow, ProjectRow
from db.sessions import SessionRow
from db.stats import StatsRow
from loaders import Loaders, PageKey

from .ids import decode
from .pagination import PageArgs, Slice, keyset, page

PROJECTS = "Query.projects"
SESSIONS = "Project.sessions"
GENERATIONS = "Session.generations"
GALLERY = "Project.outputs"

# Keys of `Generation.parameters` shown to viewers who neither ran the generation nor own
# the project (API.md): settings, not debug logs or error context.
PUBLIC_PARAMETERS = frozenset(
    {
        "aspectRatio",
        "numOutputs",
        "resolution",
        "duration",
        "referenceImageUrl",
        "referenceImages",
        "sourceOutputId",
    }
)


def _updated(row: ProjectRow | SessionRow) -> Position:
    return Position(row.updated_at, row.id)


def _created(row: GenerationRow | OutputRow) -> Position:
    return Position(row.created_at, row.id)


async def visible_projects(
    pool: asyncpg.Pool[Any],
    loaders: Loaders,
    viewer_id: uuid.UUID,
    args: PageArgs,
    *,
    scope: str,
    max_size: int,
) -> Slice[ProjectRow]:
    """A page of the projects list: one statement whatever the page size."""
    ks = keyset(PROJECTS, args, max_size=max_size)
    rows = await projects.projects_page(pool, viewer=viewer_id, scope=scope, keyset=ks)
    for row in rows:
        loaders.project_by_id.prime(row.id, row)
    return page(PROJECTS, rows, ks, _updated)


async def project(loaders: Loaders, global_id: str) -> ProjectRow | None:
    _, key = decode(global_id, {"Project"})
    return await loaders.project_by_id.load(key)


async def project_sessions(
    loaders: Loaders, project_id: uuid.UUID, args: PageArgs, *, type: str | None, max_size: int
) -> Slice[SessionRow]:
    ks = keyset(SESSIONS, args, max_size=max_size)
    rows = await loaders.sessions_by_project.load(PageKey(project_id, type, ks))
    for row in rows:
        loaders.session_by_id.prime(row.id, row)
    return page(SESSIONS, rows, ks, _updated)


async def session_generations(
    loaders: Loaders,
    session_id: uuid.UUID,
    args: PageArgs,
    *,
    status: str | None,
    max_size: int,
) -> Slice[GenerationRow]:
    ks = keyset(GENERATIONS, args, max_size=max_size)
    rows = await loaders.generations_by_session.load(PageKey(session_id, status, ks))
    for row in rows:
        loaders.generation_by_id.prime(row.id, row)
    return page(GENERATIONS, rows, ks, _created)


async def project_gallery(
    loaders: Loaders,
    project_id: uuid.UUID,
    args: PageArgs,
    *,
    file_type: str | None,
    max_size: int,
) -> Slice[OutputRow]:
    ks = keyset(GALLERY, args, max_size=max_size)
    rows = await loaders.gallery_by_project.load(PageKey(project_id, file_type, ks))
    for row in rows:
        loaders.output_by_id.prime(row.id, row)
    return page(GALLERY, rows, ks, _created)


async def project_stats(loaders: Loaders, project_id: uuid.UUID) -> StatsRow:
    found = await loaders.stats_by_project.load(project_id)
    return found or StatsRow(project_id, 0, None, None)


async def project_members(loaders: Loaders, project_id: uuid.UUID) -> list[MemberRow]:
    return await loaders.members_by_project.load(project_id)


async def generation_outputs(loaders: Loaders, generation_id: uuid.UUID) -> list[OutputRow]:
    return await loaders.outputs_by_generation.load(generation_id)


def visible_parameters(row: GenerationRow, viewer_id: uuid.UUID) -> Any:
    """The whole JSON for the generation's creator and the project's owner; for anyone
    else only the public keys (an object that is not a JSON object shows as `{}`)."""
    if row.user_id == viewer_id or row.viewer_owns_project:
        return row.parameters
    if not isinstance(row.parameters, dict):
        return {}
    return {k: v for k, v in row.parameters.items() if k in PUBLIC_PARAMETERS}
