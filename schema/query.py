"""Query root fields: shape and delegation to resolvers/."""

from __future__ import annotations

import strawberry

from db.profiles import ProfileRow
from resolvers import nodes as node_resolvers

from .context import Info
from .types import Node, Profile


def _as_node(found: tuple[str, ProfileRow] | None) -> Node | None:
    if found is None:
        return None
    _, row = found
    return Profile.from_row(row)


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
