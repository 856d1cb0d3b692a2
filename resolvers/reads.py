"""The read side below the root: connections, lists, and what a viewer sees of a row.

Every function takes the per-request loaders (visibility is applied in SQL by them) and
returns rows; pages come back as `Slice`s with their cursors. Rows a page brings in are
primed into the by-id loaders so that nested lookups (`Output.generation`, ...) are free.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import asyncpg

from db import projects
from db.generations import GenerationRow
from db.keyset import Position
from db.outputs import OutputRow
from db.projects import MemberRow, ProjectRow
from db.sessions import SessionRow
from db.stats import StatsRow
from loaders import Loaders, NotLoaded, PageKey
from loaders.batch import ByIdLoader, PageLoader

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


class _HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


Row = TypeVar("Row", bound=_HasId)


def _prime(by_id: ByIdLoader[Row], rows: Sequence[Row]) -> None:
    """Rows a page brought in answer later by-id loads of the request without a query."""
    for row in rows:
        by_id.prime(row.id, row)


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
    _prime(loaders.project_by_id, rows)
    return page(PROJECTS, rows, ks, _updated)


async def project(loaders: Loaders, global_id: str) -> ProjectRow | None:
    _, key = decode(global_id, {"Project"})
    return await loaders.project_by_id.load(key)


async def _nested_page(
    field: str,
    pages: PageLoader[Row],
    by_id: ByIdLoader[Row],
    key: PageKey,
    position: Callable[[Row], Position],
) -> Slice[Row]:
    """One parent's page of a nested connection, batched with its siblings' by `pages`;
    the rows it brings are primed into `by_id`."""
    rows = await pages.load(key)
    _prime(by_id, rows)
    return page(field, rows, key.keyset, position)


async def project_sessions(
    loaders: Loaders, project_id: uuid.UUID, args: PageArgs, *, type: str | None, max_size: int
) -> Slice[SessionRow]:
    key = PageKey(project_id, type, keyset(SESSIONS, args, max_size=max_size))
    return await _nested_page(
        SESSIONS, loaders.sessions_by_project, loaders.session_by_id, key, _updated
    )


async def session_generations(
    loaders: Loaders,
    session_id: uuid.UUID,
    args: PageArgs,
    *,
    status: str | None,
    max_size: int,
) -> Slice[GenerationRow]:
    key = PageKey(session_id, status, keyset(GENERATIONS, args, max_size=max_size))
    return await _nested_page(
        GENERATIONS, loaders.generations_by_session, loaders.generation_by_id, key, _created
    )


async def project_gallery(
    loaders: Loaders,
    project_id: uuid.UUID,
    args: PageArgs,
    *,
    file_type: str | None,
    max_size: int,
) -> Slice[OutputRow]:
    key = PageKey(project_id, file_type, keyset(GALLERY, args, max_size=max_size))
    return await _nested_page(
        GALLERY, loaders.gallery_by_project, loaders.output_by_id, key, _created
    )


def _or_empty(project_id: uuid.UUID, found: StatsRow | None) -> StatsRow:
    """A project the stats source did not answer for has no sessions or outputs."""
    return found or StatsRow(project_id, 0, None, None)


def ready_project_stats(loaders: Loaders, project_id: uuid.UUID) -> StatsRow | NotLoaded:
    """A project's card figures if they are loaded already, else NOT_LOADED."""
    found = loaders.stats_by_project.ready(project_id)
    return found if isinstance(found, NotLoaded) else _or_empty(project_id, found)


async def project_stats(loaders: Loaders, project_id: uuid.UUID) -> StatsRow:
    return _or_empty(project_id, await loaders.stats_by_project.load(project_id))


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
