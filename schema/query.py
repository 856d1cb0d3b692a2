"""Query root fields: shape and delegation to resolvers/."""

from __future__ import annotations

from typing import Any

import strawberry

from domain.vocabulary import NodeType, ProjectScope
from resolvers import nodes as node_resolvers
from resolvers import projects as project_resolvers

from .connection import Connection, Filter, paged
from .context import Info
from .types import NODE_TYPES, Node, Profile, Project


def _as_node(found: tuple[NodeType, Any] | None) -> Node | None:
    return None if found is None else NODE_TYPES[found[0]].from_row(found[1])


async def _viewer(info: Info) -> Profile:
    ctx = info.context
    return Profile.from_row(await node_resolvers.viewer_profile(ctx.loaders, ctx.viewer.id))


async def _node(info: Info, id: strawberry.ID) -> Node | None:
    ctx = info.context
    _ = ctx.viewer
    return _as_node(await node_resolvers.node(ctx.loaders, id))


async def _nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    ctx = info.context
    _ = ctx.viewer
    found = await node_resolvers.nodes(ctx.loaders, ids, max_ids=ctx.settings.max_node_ids)
    return [_as_node(item) for item in found]


async def _project(info: Info, id: strawberry.ID) -> Project | None:
    ctx = info.context
    _ = ctx.viewer
    row = await project_resolvers.project(ctx.loaders, id)
    return None if row is None else Project.from_row(row)


@strawberry.type
class Query:
    viewer: Profile = strawberry.field(
        resolver=_viewer, description="The authenticated viewer's profile."
    )
    node: Node | None = strawberry.field(
        resolver=_node, description="The object with this global id, or null if it is not visible."
    )
    nodes: list[Node | None] = strawberry.field(
        resolver=_nodes, description="One entry per id, in the given order (at most 100 ids)."
    )
    projects: Connection[Project] = paged(
        lambda: Project,
        "Projects the viewer sees (owned, member of, shared), most recently updated first.",
        Filter("scope", ProjectScope, default=ProjectScope.ALL),
        lambda ctx, _, args, scope: project_resolvers.visible_projects(
            ctx.db,
            ctx.loaders,
            ctx.viewer.id,
            args,
            scope=scope or ProjectScope.ALL,
            max_size=ctx.settings.max_page_size,
        ),
    )
    project: Project | None = strawberry.field(
        resolver=_project, description="The project with this id, or null if it is not visible."
    )
