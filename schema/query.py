"""Query root fields: shape and delegation to resolvers/."""

from __future__ import annotations

import strawberry

from db.generations import GenerationRow
from db.outputs import OutputRow
from db.profiles import ProfileRow
from db.projects import ProjectRow
from db.sessions import SessionRow
from resolvers import nodes as node_resolvers
from resolvers import reads
from resolvers.nodes import Resolved

from .connection import UNSET, Connection, connection, page_args
from .context import Info
from .enums import ProjectScope
from .lookahead import load_page_ahead
from .types import Generation, Node, Output, Profile, Project, Session


def _as_node(found: tuple[str, Resolved] | None) -> Node | None:
    if found is None:
        return None
    match found[1]:
        case ProfileRow() as row:
            return Profile.from_row(row)
        case ProjectRow() as row:
            return Project.from_row(row)
        case SessionRow() as row:
            return Session.from_row(row)
        case GenerationRow() as row:
            return Generation.from_row(row)
        case OutputRow() as row:
            return Output.from_row(row)
    raise TypeError(found[0])  # pragma: no cover - Resolved lists every row type


@strawberry.type
class Query:
    @strawberry.field(description="The authenticated viewer's profile.")
    async def viewer(self, info: Info) -> Profile:
        ctx = info.context
        row = await node_resolvers.viewer_profile(ctx.loaders, ctx.viewer.id)
        return Profile.from_row(row)

    @strawberry.field(description="The object with this global id, or null if it is not visible.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        ctx = info.context
        _ = ctx.viewer
        return _as_node(await node_resolvers.node(ctx.loaders, id))

    @strawberry.field(description="One entry per id, in the given order (at most 100 ids).")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        ctx = info.context
        _ = ctx.viewer
        found = await node_resolvers.nodes(ctx.loaders, ctx.settings, ids)
        return [_as_node(item) for item in found]

    @strawberry.field(
        description="Projects the viewer sees (owned, member of, shared), most recently "
        "updated first."
    )
    async def projects(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        scope: ProjectScope | None = ProjectScope.ALL,
    ) -> Connection[Project]:
        ctx = info.context
        page = await reads.visible_projects(
            ctx.pool,
            ctx.loaders,
            ctx.viewer.id,
            page_args(first, after, last, before),
            scope=(scope or ProjectScope.ALL).value,
            max_size=ctx.settings.max_page_size,
        )
        await load_page_ahead(info, "Project", page.rows)
        return connection(page, Project.from_row)

    @strawberry.field(description="The project with this id, or null if it is not visible.")
    async def project(self, info: Info, id: strawberry.ID) -> Project | None:
        ctx = info.context
        _ = ctx.viewer
        row = await reads.project(ctx.loaders, id)
        return None if row is None else Project.from_row(row)
