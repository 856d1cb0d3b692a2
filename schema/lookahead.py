"""What a query selects on a connection's nodes, and loading it ahead.

Every field that awaits a loader costs tens of microseconds of Python (a coroutine, a
future, the executor's bookkeeping): on a page of 40 gallery outputs with their generation
and its user, or 20 project cards with owner and figures, that is more than the SQL. So a
connection field, once it has its rows, looks at what the query selects on its nodes
(aliases and fragments followed) and loads the related rows through the same per-request
loaders — the same batched statements the fields would have caused, level by level — and
the fields then find their values ready (`KeyedLoader.ready`) and answer without awaiting.
Which fields are relations, and where their values come from, is read from their
declarations (schema/relations.py). Nothing selected, nothing loaded.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from typing import Any

from graphql.pyutils import Path
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from loaders import Loaders

from .context import Info
from .relations import Relation, relations_of

Selected = dict[str, list[SelectedField]]  # field name -> its occurrences (aliases)


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, with fragments (named or inline) spread in."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)


def _by_name(fields: Iterable[SelectedField]) -> Selected:
    found: Selected = defaultdict(list)
    for field in fields:
        found[field.name].append(field)
    return found


def below(occurrences: Iterable[Selection]) -> Selected:
    """The fields selected inside every occurrence of a field, merged."""
    return _by_name(f for occurrence in occurrences for f in _fields(occurrence.selections))


def node_selections(info: Info) -> Selected:
    """The fields selected on `edges { node { … } }` of the connection field being
    resolved (a field under @skip counts: loading it is harmless).

    Worked out once per place in the query: a nested connection resolves once per parent,
    and every parent's path differs only in list indices."""
    place = []
    at: Path | None = info.path
    while at is not None:
        if isinstance(at.key, str):
            place.append((at.key, at.typename))
        at = at.prev
    cache = info.context.lookahead
    found = cache.get(tuple(place))
    if found is None:
        edges = below(info.selected_fields).get("edges", [])
        found = cache[tuple(place)] = below(below(edges).get("node", []))
    return found


async def load_ahead(
    loaders: Loaders, object_type: Any, rows: Sequence[Any], selected: Selected
) -> None:
    """Loads what `selected` needs of `rows` (the rows of GraphQL type `object_type`): each
    selected relation's values, and what their rows select in turn. Best effort: a load
    that fails is left for its field to report."""
    if not rows:
        return
    work: list[Awaitable[Any]] = []
    for name, relation in relations_of(object_type).items():
        if name in selected:
            keys = list(dict.fromkeys(relation.key(row) for row in rows))
            work.append(_follow(loaders, relation, keys, below(selected[name])))
    await asyncio.gather(*work, return_exceptions=True)


async def _follow(
    loaders: Loaders, relation: Relation[Any, Any, Any], keys: list[Any], selected: Selected
) -> None:
    values = await relation.loader(loaders).load_many(keys)
    if relation.becomes is None:
        return
    rows: list[Any] = []
    for value in values:
        if isinstance(value, list):
            rows.extend(value)
        elif value is not None:
            rows.append(value)
    await load_ahead(loaders, relation.becomes(), rows, selected)
