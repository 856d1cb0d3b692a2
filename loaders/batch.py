"""The three loader shapes every entity uses, each batching one SQL call per tick.

- `ByIdLoader`: one row (or None) per id.
- `GroupLoader`: every row belonging to a parent id, in the order the query returns them.
- `PageLoader`: one keyset page per (parent, filter, keyset). Loads that share the filter
  and keyset (the usual case: the same field selected under every parent) become one
  statement; each distinct argument set is one more.

Results come back in key order, as aiodataloader requires. Each batch's size is observed
under the loader's `name` (the `Loaders` attribute it is stored in).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiodataloader import DataLoader

from db.keyset import Keyset
from observability.metrics import LOADER_BATCH

R = TypeVar("R")


class NotLoaded:
    """What `ByIdLoader.ready` answers for a key whose row has not arrived yet."""


NOT_LOADED = NotLoaded()


class ByIdLoader(DataLoader[uuid.UUID, R | None], Generic[R]):
    name = "unnamed"  # the metric label; `Loaders` sets it

    def __init__(
        self,
        fetch: Callable[[list[uuid.UUID]], Awaitable[list[R]]],
        key: Callable[[R], uuid.UUID],
    ) -> None:
        super().__init__()
        self._fetch, self._key = fetch, key

    def ready(self, key: uuid.UUID) -> R | NotLoaded | None:
        """The row (or None) of a key loaded or primed before, without awaiting; else
        NOT_LOADED. A resolver that finds its row here returns without a coroutine, which
        is most of the cost of a field (each awaited field costs tens of microseconds)."""
        future = self._cache.get(key)
        if future is None or not future.done() or future.cancelled() or future.exception():
            return NOT_LOADED
        found: R | None = future.result()
        return found

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[R | None]:
        LOADER_BATCH.labels(self.name).observe(len(keys))
        found = {self._key(row): row for row in await self._fetch(list(keys))}
        return [found.get(key) for key in keys]


class GroupLoader(DataLoader[uuid.UUID, list[R]], Generic[R]):
    name = "unnamed"

    def __init__(
        self,
        fetch: Callable[[list[uuid.UUID]], Awaitable[list[R]]],
        parent: Callable[[R], uuid.UUID],
    ) -> None:
        super().__init__()
        self._fetch, self._parent = fetch, parent

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[list[R]]:
        LOADER_BATCH.labels(self.name).observe(len(keys))
        groups: dict[uuid.UUID, list[R]] = defaultdict(list)
        for row in await self._fetch(list(keys)):
            groups[self._parent(row)].append(row)
        return [groups.get(key, []) for key in keys]


@dataclass(frozen=True, slots=True)
class PageKey:
    parent: uuid.UUID
    filter: str | None  # the connection's filter (type, status, file type as stored), or None
    keyset: Keyset


PageFetch = Callable[[list[uuid.UUID], str | None, Keyset], Awaitable[list[tuple[uuid.UUID, R]]]]


class PageLoader(DataLoader[PageKey, list[R]], Generic[R]):
    name = "unnamed"

    def __init__(self, fetch: PageFetch[R]) -> None:
        super().__init__()
        self._fetch = fetch

    async def batch_load_fn(self, keys: list[PageKey]) -> list[list[R]]:
        LOADER_BATCH.labels(self.name).observe(len(keys))
        # Parents per argument set, each once, in first-seen order (a dict as ordered set).
        parents: dict[tuple[str | None, Keyset], dict[uuid.UUID, None]] = defaultdict(dict)
        for key in keys:
            parents[key.filter, key.keyset][key.parent] = None
        pages: dict[tuple[uuid.UUID, str | None, Keyset], list[R]] = defaultdict(list)
        for (filter_, keyset), ids in parents.items():
            for parent, row in await self._fetch(list(ids), filter_, keyset):
                pages[parent, filter_, keyset].append(row)
        return [pages.get((key.parent, key.filter, key.keyset), []) for key in keys]
