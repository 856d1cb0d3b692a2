"""`node_selections`: what a query selects on a connection's nodes, through aliases and
fragments (connections load related rows ahead only for those)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import strawberry

from schema.lookahead import node_selections

seen: list[frozenset[str]] = []


@strawberry.type
class Item:
    name: str
    owner: str
    count: int


@strawberry.type
class ItemEdge:
    node: Item
    cursor: str


@strawberry.type
class ItemConnection:
    edges: list[ItemEdge]


@strawberry.type
class Query:
    @strawberry.field
    def items(self, info: strawberry.Info[Any, None]) -> ItemConnection:
        seen.append(frozenset(node_selections(info)))
        return ItemConnection(edges=[])


SCHEMA = strawberry.Schema(query=Query)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ items { edges { node { name } } } }", {"name"}),
        ("{ items { edges { cursor node { n: name who: owner } } } }", {"name", "owner"}),
        (
            "{ items { edges { node { ...F ... on Item { count } } } } }"
            " fragment F on Item { owner }",
            {"owner", "count"},
        ),
        ("{ items { ...C } } fragment C on ItemConnection { edges { node { count } } }", {"count"}),
        ("{ items { edges { cursor } } }", set()),
    ],
)
def test_node_selections_follow_aliases_and_fragments(query: str, expected: set[str]) -> None:
    seen.clear()
    result = SCHEMA.execute_sync(query, context_value=SimpleNamespace(lookahead={}))
    assert result.errors is None, result.errors
    assert seen == [frozenset(expected)]
