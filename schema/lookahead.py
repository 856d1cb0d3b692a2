"""What a query selects below a field, for root fields that load ahead of their children."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from .context import Info


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, with fragments (named or inline) spread in."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)


def node_fields(info: Info) -> frozenset[str]:
    """Names of the fields selected on `edges { node { … } }` of the connection field being
    resolved, under any alias or fragment (a field under @skip counts: loading it is
    harmless)."""
    names: set[str] = set()
    for connection in info.selected_fields:
        for edges in _fields(connection.selections):
            if edges.name != "edges":
                continue
            for node in _fields(edges.selections):
                if node.name == "node":
                    names.update(field.name for field in _fields(node.selections))
    return frozenset(names)
