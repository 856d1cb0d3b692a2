"""Fields whose value comes through a per-request loader, each declared once.

A `Relation` says where a field's value comes from: which loader, keyed by what of the
parent object's row, and what the loaded value becomes. That one declaration gives

- the GraphQL field (`related`, `optional`, `listed`, `figure` below),
- its resolver, which answers at once, without a coroutine, when the value is already in
  the loader (a connection loaded it ahead) and awaits the batched load otherwise,
- its entry in the load-ahead table (`relations_of`, read by schema/lookahead.py), with
  the GraphQL type the loaded rows become so that what they select is loaded in turn.

Every object type that has relations keeps its row as `row` (a payload keeps the id of
the changed object).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import strawberry
from strawberry.schema.name_converter import NameConverter

from domain.rows import StatsRow
from domain.vocabulary import NodeType
from loaders import NODE_LOADERS, KeyedLoader, Loaders, NotLoaded
from resolvers.errors import NotFound

from .context import Context, Info

P = TypeVar("P")  # the parent object's row
K = TypeVar("K")  # what the loader holds for one key
V = TypeVar("V")  # the field's value
R = TypeVar("R")
T = TypeVar("T")
R_contra = TypeVar("R_contra", contravariant=True)
T_co = TypeVar("T_co", covariant=True)

Key = Callable[[Any], uuid.UUID]  # the parent object's row -> the loader's key


class FromRow(Protocol[R_contra, T_co]):
    """A GraphQL object type (the class itself) that builds its objects from rows."""

    def from_row(self, row: R_contra, /) -> T_co: ...


class NodeClass(FromRow[R_contra, T_co], Protocol[R_contra, T_co]):
    """A Node type: built from a row, loaded by the loader of its `node_type`."""

    @property
    def node_type(self) -> NodeType: ...


@dataclass(frozen=True, slots=True, eq=False)
class Relation(Generic[P, K, V]):
    loader: Callable[[Loaders], KeyedLoader[K]]
    key: Key  # the parent's row -> the loader's key
    value: Callable[[K], V]  # what the loader holds -> the field's value
    becomes: Callable[[], Any] | None = None  # the object type of the loaded rows

    def resolve(self, root: Any, info: Info) -> V | Awaitable[V]:
        loader = self.loader(info.context.loaders)
        key = self.key(root.row)
        found = loader.ready(key)
        if isinstance(found, NotLoaded):
            return self._later(loader, key)
        return self.value(found)

    async def _later(self, loader: KeyedLoader[K], key: uuid.UUID) -> V:
        return self.value(await loader.load(key))

    def field(self, description: str | None = None) -> Any:
        """The field; its GraphQL type is the class attribute's annotation."""
        return strawberry.field(resolver=self.resolve, description=description)


def _gone(what: str) -> NotFound:
    # Each loader reads its own snapshot: a writer can delete the parent of a row this
    # request has already read (a session between its generation and the generation's
    # session field). The field fails as the contract says of what does not exist.
    return NotFound(f"the {what} was deleted while this request ran")


def related(target: NodeClass[R, T], key: Key, description: str | None = None) -> Any:
    """A non-null field holding the `target` node whose id is `key(row)`; NOT_FOUND when it
    was deleted while the request ran."""
    what = target.node_type.value.lower()

    def value(row: R | None) -> T:
        if row is None:
            raise _gone(what)
        return target.from_row(row)

    relation: Relation[Any, R | None, T] = Relation(
        NODE_LOADERS[target.node_type], key, value, lambda: target
    )
    return relation.field(description)


def optional(target: NodeClass[R, T], key: Key) -> Any:
    """A nullable field holding the `target` node whose id is `key(row)`, null when the
    viewer does not see it."""

    def value(row: R | None) -> T | None:
        return None if row is None else target.from_row(row)

    relation: Relation[Any, R | None, T | None] = Relation(
        NODE_LOADERS[target.node_type], key, value, lambda: target
    )
    return relation.field()


def listed(
    target: Callable[[], FromRow[R, T]],
    loader: Callable[[Loaders], KeyedLoader[list[R]]],
    key: Key,
    description: str,
) -> Any:
    """A list field holding an object per row the group `loader` has for `key(row)`
    (`target` is a thunk: the type may be defined further down)."""

    def value(rows: list[R]) -> list[T]:
        build = target().from_row
        return [build(row) for row in rows]

    relation: Relation[Any, list[R], list[T]] = Relation(loader, key, value, target)
    return relation.field(description)


def figure(pick: Callable[[StatsRow], V], empty: V, description: str) -> Any:
    """A project card figure, picked from the project's stats for this viewer (`empty` for
    a project the stats source did not answer for: it has no sessions or outputs)."""

    def value(stats: StatsRow | None) -> V:
        return empty if stats is None else pick(stats)

    relation: Relation[Any, StatsRow | None, V] = Relation(
        lambda loaders: loaders.stats_by_project, lambda project: project.id, value
    )
    _FIGURES.add(relation)
    return relation.field(description)


_FIGURES: set[Relation[Any, Any, Any]] = set()  # every relation `figure` made


@functools.cache
def figures_of(object_type: Any) -> frozenset[str]:
    """The GraphQL names of the object type's card figures (`figure` fields)."""
    return frozenset(name for name, r in relations_of(object_type).items() if r in _FIGURES)


@dataclass(frozen=True, slots=True, eq=False)
class ViewerField(Generic[V]):
    """A field computed from the object's row and the request (what the viewer may see of
    a column)."""

    value: Callable[[Any, Context], V]

    def resolve(self, root: Any, info: Info) -> V:
        return self.value(root.row, info.context)


def for_viewer(value: Callable[[Any, Context], V], description: str) -> Any:
    """A field whose value is `value(row, context)`."""
    return strawberry.field(resolver=ViewerField(value).resolve, description=description)


def viewer_field_of(resolver: Any) -> ViewerField[Any] | None:
    """The declaration behind a field's Strawberry resolver, if `for_viewer` made it."""
    found = getattr(resolver.wrapped_func, "__self__", None) if resolver else None
    return found if isinstance(found, ViewerField) else None


_NAMES = NameConverter()


@functools.cache
def relations_of(object_type: Any) -> Mapping[str, Relation[Any, Any, Any]]:
    """The relations of a GraphQL object type by GraphQL field name."""
    found: dict[str, Relation[Any, Any, Any]] = {}
    for field in object_type.__strawberry_definition__.fields:
        resolver = field.base_resolver
        relation = getattr(resolver.wrapped_func, "__self__", None) if resolver else None
        if isinstance(relation, Relation):
            found[_NAMES.get_graphql_name(field)] = relation
    return found
