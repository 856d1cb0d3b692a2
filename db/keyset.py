"""Keyset page bounds shared by every list query.

A list is totally ordered by `(timestamp, id)` descending. A page is the rows strictly
below `after` and strictly above `before`, the `limit` nearest to `after` when walking
forward or the `limit` nearest to `before` when walking backward. Absent bounds become
sentinels beyond any stored value, so that each query keeps one sargable row comparison
per bound instead of an `IS NULL OR ...` that would defeat the index.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

_TOP = (datetime.max, uuid.UUID(int=(1 << 128) - 1))
_BOTTOM = (datetime.min, uuid.UUID(int=0))


class Position(NamedTuple):
    """Where a row sits in its list: its ordering timestamp and its id."""

    at: datetime
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Keyset:
    forward: bool
    limit: int
    after: Position | None = None
    before: Position | None = None

    def bounds(self) -> tuple[Any, ...]:
        """The four bound parameters: after (timestamp, id), then before (timestamp, id)."""
        return (*(self.after or _TOP), *(self.before or _BOTTOM))

    def query(self, queries: dict[str, str], name: str) -> str:
        """The `<name>_forward` or `<name>_backward` block for this walking direction."""
        return queries[f"{name}_{'forward' if self.forward else 'backward'}"]
