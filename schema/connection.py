"""Relay connections: `XConnection { edges, pageInfo }` and `XEdge { cursor, node }`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.pagination import PageArgs, Slice

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


def given(value: T | None) -> T | None:
    """An optional argument's value, None when the client did not send it."""
    return None if value is UNSET else value


def page_args(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageArgs:
    return PageArgs(given(first), given(after), given(last), given(before))
