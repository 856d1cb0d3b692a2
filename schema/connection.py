"""Relay connections: `XConnection { edges, pageInfo }` and `XEdge { cursor, node }`, and
`paged`, the one declaration of a connection field and its arguments."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.pagination import PageArgs, Slice

from .context import Context, Info
from .lookahead import load_ahead, node_selections

# Optional arguments default to UNSET, so the schema prints them without `= null`.
UNSET: Any = strawberry.UNSET

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def connection(page: Slice[R], node: Callable[[R], T]) -> Connection[T]:
    edges = [Edge(cursor=cursor, node=node(row)) for cursor, row in page.edges]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


@dataclass(frozen=True, slots=True)
class Filter:
    """A connection's one filter argument: its Python name, enum and default."""

    name: str
    enum: type[Enum]
    default: Any = UNSET


# (context, the parent object's row or None at the root, the page arguments, the filter's
# value or None, the names of the fields the query selects on the nodes) -> the page. A
# page function may read, in its own statement, what the nodes' selected relations need
# and prime their loaders (the projects page and its cards).
PageFn = Callable[[Context, Any, PageArgs, Any, AbstractSet[str]], Awaitable[Slice[Any]]]

_PAGE_ARGUMENTS = (("first", int), ("after", str), ("last", int), ("before", str))


def page_args(arguments: Mapping[str, Any]) -> PageArgs:
    """The Relay arguments among a connection field's arguments (by Python name; one left
    out is None)."""
    return PageArgs(*(arguments.get(name) for name, _ in _PAGE_ARGUMENTS))


@dataclass(frozen=True, slots=True, eq=False)
class Paged:
    """A connection field's declaration: the node type (a thunk), the field its cursors
    belong to, its filter and its page function (read by compiled plans: schema/plans.py)."""

    node: Callable[[], Any]
    cursors: str
    filter: Filter
    page: PageFn


_PAGED: dict[Callable[..., Any], Paged] = {}


def paged_of(resolver: Any) -> Paged | None:
    """The declaration behind a field's Strawberry resolver, if `paged` made it."""
    return None if resolver is None else _PAGED.get(resolver.wrapped_func)


def paged(
    node: Callable[[], Any], cursors: str, description: str, filter: Filter, page: PageFn
) -> Any:
    """A connection field with the Relay arguments and `filter` (its type is the class
    attribute's annotation), whose cursors belong to the field named `cursors`. `page`
    reads the rows, what the query selects on them is loaded ahead, and they become
    `node()` objects (a thunk: the type may be defined further down)."""

    async def resolve(root: Any, info: Info, **arguments: Any) -> Any:
        # Strawberry passes only the arguments the query gives (or that have a default).
        args = page_args(arguments)
        parent = getattr(root, "row", None)  # None at the root
        selected = node_selections(info)
        rows = await page(info.context, parent, args, arguments.get(filter.name), selected.keys())
        node_type = node()
        await load_ahead(info.context.loaders, node_type, rows.rows, selected)
        return connection(rows, node_type.from_row)

    _PAGED[resolve] = Paged(node, cursors, filter, page)

    keyword = inspect.Parameter.KEYWORD_ONLY
    resolve.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("root", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            inspect.Parameter("info", keyword, annotation=Info),
            *(
                inspect.Parameter(name, keyword, default=UNSET, annotation=kind | None)
                for name, kind in _PAGE_ARGUMENTS
            ),
            inspect.Parameter(
                filter.name, keyword, default=filter.default, annotation=filter.enum | None
            ),
        ]
    )
    return strawberry.field(resolver=resolve, description=description)
