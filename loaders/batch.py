"""The three loader shapes every entity uses, each batching one SQL call per tick.

- `ByIdLoader`: one row (or None) per id.
- `GroupLoader`: every row belonging to a parent id, in the order the query returns them.
- `PageLoader`: one keyset page per (parent, filter, keyset). Loads that share the filter
  and keyset (the usual case: the same field selected under every parent) become one
  statement; each distinct argument set is one more.

Results come back in key order, as aiodataloader requires. Each batch's size is observed
under the loader's `name` (the `Loaders` attribute it is stored in).

`ByIdLoader` and `GroupLoader` also keep what they answered in a plain dict, so that a
field whose rows were loaded ahead (schema/lookahead.py) can read them with `ready`
instead of awaiting a future: an awaited field costs tens of microseconds of Python.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from aiodataloader import DataLoader

from db.keyset import Keyset
from observability.metrics import LOADER_BATCH

R = TypeVar("R")
V = TypeVar("V")
K = TypeVar("K")
T = TypeVar("T")
F = TypeVar("F", bound=Enum)


class NotLoaded:
    """What `ready` answers for a key whose value has not arrived yet."""


NOT_LOADED = NotLoaded()


class SharedLoader(DataLoader[K, T], Generic[K, T]):
    """A DataLoader whose cached future, awaited by every field that asks for its key, is
    never cancelled by one of them: graphql-core cancels a field's pending awaitables when
    an error nulls their parent (a sibling's non-null field failed), and cancelling a task
    that awaits a future cancels the future — for every other field awaiting the same key,
    which then got CancelledError instead of the row. Each caller awaits a shield of it."""

    def load(self, key: K) -> asyncio.Future[T]:
        return asyncio.shield(super().load(key))


class KeyedLoader(SharedLoader[uuid.UUID, V], Generic[V]):
    """A loader by id that remembers its answers where `ready` can read them."""

    name = "unnamed"  # the metric label; `Loaders` sets it

    def __init__(self) -> None:
        super().__init__()
        self._answers: dict[uuid.UUID, V] = {}

    def ready(self, key: uuid.UUID) -> V | NotLoaded:
        """The value of a key loaded or primed before, without awaiting; else NOT_LOADED."""
        return self._answers.get(key, NOT_LOADED)

    async def fetch(self, keys: list[uuid.UUID]) -> list[V]:
        raise NotImplementedError

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[V]:
        LOADER_BATCH.labels(self.name).observe(len(keys))
        values = await self.fetch(list(keys))
        self._answers.update(zip(keys, values, strict=True))
        return values

    async def preload(self, keys: list[uuid.UUID]) -> None:
        """Loads the keys not answered yet in one batch, for `ready` (compiled plans read
        a whole level's keys at once: schema/plans.py)."""
        missing = [key for key in keys if key not in self._answers]
        if missing:
            await self.batch_load_fn(missing)

    def prime(self, key: uuid.UUID, value: V) -> KeyedLoader[V]:
        self._answers.setdefault(key, value)
        super().prime(key, value)
        return self

    def clear(self, key: uuid.UUID) -> KeyedLoader[V]:
        self._answers.pop(key, None)
        super().clear(key)
        return self

    def clear_all(self) -> KeyedLoader[V]:
        self._answers.clear()
        super().clear_all()
        return self


class ByIdLoader(KeyedLoader[R | None], Generic[R]):
    def __init__(
        self,
        fetch: Callable[[list[uuid.UUID]], Awaitable[list[R]]],
        key: Callable[[R], uuid.UUID],
    ) -> None:
        super().__init__()
        self._fetch, self._key = fetch, key

    async def fetch(self, keys: list[uuid.UUID]) -> list[R | None]:
        found = {self._key(row): row for row in await self._fetch(keys)}
        return [found.get(key) for key in keys]


class GroupLoader(KeyedLoader[list[R]], Generic[R]):
    def __init__(
        self,
        fetch: Callable[[list[uuid.UUID]], Awaitable[list[R]]],
        parent: Callable[[R], uuid.UUID],
    ) -> None:
        super().__init__()
        self._fetch, self._parent = fetch, parent

    async def fetch(self, keys: list[uuid.UUID]) -> list[list[R]]:
        groups: dict[uuid.UUID, list[R]] = defaultdict(list)
        for row in await self._fetch(keys):
            groups[self._parent(row)].append(row)
        return [groups.get(key, []) for key in keys]


@dataclass(frozen=True, slots=True)
class PageKey(Generic[F]):
    parent: uuid.UUID
    filter: F | None  # the connection's filter (session type, status, file type), or None
    keyset: Keyset


PageFetch = Callable[[list[uuid.UUID], F | None, Keyset], Awaitable[list[tuple[uuid.UUID, R]]]]


class PageLoader(SharedLoader[PageKey[F], list[R]], Generic[F, R]):
    name = "unnamed"

    def __init__(self, fetch: PageFetch[F, R]) -> None:
        super().__init__()
        self._fetch = fetch

    async def batch_load_fn(self, keys: list[PageKey[F]]) -> list[list[R]]:
        LOADER_BATCH.labels(self.name).observe(len(keys))
        # Parents per argument set, each once, in first-seen order (a dict as ordered set).
        parents: dict[tuple[F | None, Keyset], dict[uuid.UUID, None]] = defaultdict(dict)
        for key in keys:
            parents[key.filter, key.keyset][key.parent] = None
        pages: dict[tuple[uuid.UUID, F | None, Keyset], list[R]] = defaultdict(list)
        for (filter_, keyset), ids in parents.items():
            for parent, row in await self._fetch(list(ids), filter_, keyset):
                pages[parent, filter_, keyset].append(row)
        return [pages.get((key.parent, key.filter, key.keyset), []) for key in keys]
