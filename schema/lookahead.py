"""What a query selects on a connection's nodes, and loading it ahead.

Every field that awaits a loader costs tens of microseconds of Python (a coroutine, a
future, the executor's bookkeeping): on a page of 40 gallery outputs with their generation
and its user, or 20 project cards with owner and figures, that is more than the SQL. So a
connection field, once it has its rows, looks at what the query selects on its nodes
(aliases and fragments followed) and loads the related rows through the same per-request
loaders — the same batched statements the fields would have caused, level by level — and
the fields then find their rows ready (`ByIdLoader.ready`) and answer without awaiting.
Nothing selected, nothing loaded.
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

Selected = dict[str, list[SelectedField]]  # field name -> its occurrences (aliases)

# Per type, the fields that are one row of another type: the loader, the attribute of this
# type's row holding the key, and the type the loaded row becomes.
RELATIONS: dict[str, dict[str, tuple[str, str, str]]] = {
    "Project": {"owner": ("profile_by_id", "owner_id", "Profile")},
    "Session": {"project": ("project_by_id", "project_id", "Project")},
    "Generation": {
        "session": ("session_by_id", "session_id", "Session"),
        "user": ("profile_by_id", "user_id", "Profile"),
    },
    "Output": {"generation": ("generation_by_id", "generation_id", "Generation")},
}
# The Project fields read from the card figures (the stats loader).
CARD_FIGURES = frozenset({"sessionCount", "thumbnailUrl", "lastActivityAt"})


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


def node_fields(info: Info) -> frozenset[str]:
    """Names of the fields selected on the connection's nodes."""
    return frozenset(node_selections(info))


async def load_ahead(
    loaders: Loaders, type_name: str, rows: Sequence[Any], selected: Selected
) -> None:
    """Loads what `selected` needs of `rows` (rows of GraphQL type `type_name`), and what
    that needs in turn. Best effort: a load that fails is left for its field to report."""
    work: list[Awaitable[Any]] = []
    for name, (loader, key, related) in RELATIONS.get(type_name, {}).items():
        if name in selected and rows:
            keys = list(dict.fromkeys(getattr(row, key) for row in rows))
            work.append(_follow(loaders, loader, keys, related, below(selected[name])))
    if type_name == "Project" and rows and not CARD_FIGURES.isdisjoint(selected):
        work.append(loaders.stats_by_project.load_many([row.id for row in rows]))
    await asyncio.gather(*work, return_exceptions=True)


async def _follow(
    loaders: Loaders, loader: str, keys: list[Any], type_name: str, selected: Selected
) -> None:
    found = await getattr(loaders, loader).load_many(keys)
    await load_ahead(loaders, type_name, [row for row in found if row is not None], selected)


async def load_page_ahead(info: Info, type_name: str, rows: Sequence[Any]) -> None:
    """`load_ahead` for the rows of the connection field being resolved."""
    await load_ahead(info.context.loaders, type_name, rows, node_selections(info))
