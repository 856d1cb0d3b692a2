"""Query root fields: shape and delegation to resolvers/."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import strawberry

from domain.vocabulary import NodeType, ProjectScope
from resolvers import nodes as node_resolvers
from resolvers import projects as project_resolvers
from resolvers.ids import decode, decode_node

from .connection import Connection, Filter, paged
from .context import Context, Info
from .relations import figures_of
from .types import NODE_TYPES, Node, Profile, Project


def _as_node(found: tuple[NodeType, Any] | None) -> Node | None:
    return None if found is None else NODE_TYPES[found[0]].from_row(found[1])


# Each root field's value from the request's context and its arguments; the resolvers
# below and compiled plans (schema/plans.py) both call these.


async def viewer_field(ctx: Context) -> Profile:
    return Profile.from_row(await node_resolvers.viewer_profile(ctx.loaders, ctx.viewer.id))


async def node_field(ctx: Context, id: strawberry.ID) -> Node | None:
    _ = ctx.viewer
    return _as_node(await node_resolvers.node(ctx.loaders, id))


async def nodes_field(ctx: Context, ids: list[strawberry.ID]) -> list[Node | None]:
    _ = ctx.viewer
    found = await node_resolvers.nodes(ctx.loaders, ids, max_ids=ctx.settings.max_node_ids)
    return [_as_node(item) for item in found]


async def project_field(ctx: Context, id: strawberry.ID) -> Project | None:
    _ = ctx.viewer
    row = await project_resolvers.project(ctx.loaders, id)
    return None if row is None else Project.from_row(row)


@dataclass(frozen=True, slots=True)
class Root:
    """A root field for compiled plans: its value, and what it refuses before reading
    anything (raising as the field would), so that a plan checks every root field's
    arguments before any statement runs."""

    value: Callable[..., Awaitable[Any]]
    check: Callable[..., object] = lambda ctx, **arguments: None


ROOT_FIELDS: dict[str, Root] = {
    "viewer": Root(viewer_field),
    "node": Root(node_field, lambda ctx, id: decode_node(id)),
    "nodes": Root(
        nodes_field,
        lambda ctx, ids: node_resolvers.check_ids(ids, max_ids=ctx.settings.max_node_ids),
    ),
    "project": Root(project_field, lambda ctx, id: decode(id, NodeType.PROJECT)),
}


async def _viewer(info: Info) -> Profile:
    return await viewer_field(info.context)


async def _node(info: Info, id: strawberry.ID) -> Node | None:
    return await node_field(info.context, id)


async def _nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    return await nodes_field(info.context, ids)


async def _project(info: Info, id: strawberry.ID) -> Project | None:
    return await project_field(info.context, id)


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
        project_resolvers.PROJECTS,
        "Projects the viewer sees (owned, member of, shared), most recently updated first.",
        Filter("scope", ProjectScope, default=ProjectScope.ALL),
        lambda ctx, _, args, scope, selected: project_resolvers.visible_projects(
            ctx.db,
            ctx.loaders,
            ctx.viewer.id,
            args,
            scope=scope or ProjectScope.ALL,
            max_size=ctx.settings.max_page_size,
            figures=not figures_of(Project).isdisjoint(selected),  # read with the page
            owners="owner" in selected,
        ),
    )
    project: Project | None = strawberry.field(
        resolver=_project, description="The project with this id, or null if it is not visible."
    )
