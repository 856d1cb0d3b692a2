"""Relay connection arguments: opaque keyset cursors, validation, page slicing.

A cursor is the position of a row in one connection field's order (its ordering timestamp
and id) plus the field's name, so a cursor from one field is refused by another but stays
valid across parents and filters of the same field (API.md "Ordering and pagination").
Nothing is clamped: a bad argument is a `BadUserInput` naming the argument.

A nested connection's page is batched with its siblings' (`NestedPage`); the rows a page
brings are primed into the by-id loaders, so that nested lookups (`Output.generation`, …)
cost no statement.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Generic, Protocol, TypeVar

from db.keyset import Keyset, Position
from domain.rows import GenerationRow, OutputRow, ProjectRow, SessionRow
from loaders import ByIdLoader, Loaders, PageKey, PageLoader

from .errors import BadUserInput

DEFAULT_PAGE_SIZE = 20

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class PageArgs:
    """The four Relay arguments as the client sent them."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(frozen=True, slots=True)
class Slice(Generic[R]):
    """One page in list order as (cursor, row) pairs, and whether rows exist beyond
    either end."""

    edges: Sequence[tuple[str, R]]
    has_previous: bool
    has_next: bool

    @property
    def rows(self) -> list[R]:
        return [row for _, row in self.edges]


def encode_cursor(field: str, position: Position) -> str:
    raw = f"{field}|{position.at.isoformat()}|{position.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode("ascii")


def decode_cursor(field: str, cursor: str, argument: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
        owner, at, key = raw.split("|")
        position = Position(datetime.fromisoformat(at), uuid.UUID(key))
    except (ValueError, UnicodeError, binascii.Error):
        raise BadUserInput(f"`{argument}` is not a valid cursor") from None
    if encode_cursor(owner, position) != cursor or position.at.tzinfo is not None:
        raise BadUserInput(f"`{argument}` is not a valid cursor")
    if owner != field:
        raise BadUserInput(f"`{argument}` is a cursor of {owner}, not of {field}")
    return position


def keyset(field: str, args: PageArgs, *, max_size: int) -> Keyset:
    """The keyset a connection field's arguments ask for; one extra row is fetched to know
    whether the list goes on past the page."""
    if args.first is not None and args.last is not None:
        raise BadUserInput("pass `first` or `last`, not both")
    for name, value in (("first", args.first), ("last", args.last)):
        if value is not None and not 0 <= value <= max_size:
            raise BadUserInput(f"`{name}` must be between 0 and {max_size}, not {value}")
    after = None if args.after is None else decode_cursor(field, args.after, "after")
    before = None if args.before is None else decode_cursor(field, args.before, "before")
    forward = args.last is None
    size = args.first if forward else args.last
    if size is None:
        size = min(DEFAULT_PAGE_SIZE, max_size)
    return Keyset(forward=forward, limit=size + 1, after=after, before=before)


def page(
    field: str, rows: Sequence[R], keyset: Keyset, position: Callable[[R], Position]
) -> Slice[R]:
    """The page of connection `field` within `rows`, as a query for `keyset` returned them
    (walking order, one extra row when the list goes on). On the far side Relay allows a
    cheap answer: a page after a cursor has rows before it (the cursor's own row, unless it
    was deleted since), and likewise for `before`."""
    size = keyset.limit - 1
    more = len(rows) > size
    kept = list(rows[:size])
    if not keyset.forward:
        kept.reverse()
    edges = [(encode_cursor(field, position(row)), row) for row in kept]
    if keyset.forward:
        return Slice(edges, has_previous=keyset.after is not None, has_next=more)
    return Slice(edges, has_previous=more, has_next=keyset.before is not None)


class _HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


Row = TypeVar("Row", bound=_HasId)
F = TypeVar("F", bound=Enum)


def prime(by_id: ByIdLoader[Row], rows: Sequence[Row]) -> None:
    """Rows a page brought in answer later by-id loads of the request without a query."""
    for row in rows:
        by_id.prime(row.id, row)


def updated(row: ProjectRow | SessionRow) -> Position:
    """Where a row sits in a list ordered by last update."""
    return Position(row.updated_at, row.id)


def created(row: GenerationRow | OutputRow) -> Position:
    """Where a row sits in a list ordered by creation."""
    return Position(row.created_at, row.id)


@dataclass(frozen=True, slots=True)
class NestedPage(Generic[F, Row]):
    """A nested connection: its field (the cursors' owner), the loader batching every
    parent's page, the by-id loader its rows are primed into, and its order."""

    field: str
    pages: Callable[[Loaders], PageLoader[F, Row]]
    by_id: Callable[[Loaders], ByIdLoader[Row]]
    position: Callable[[Row], Position]

    async def page(
        self,
        loaders: Loaders,
        parent: uuid.UUID,
        filter: F | None,
        args: PageArgs,
        *,
        max_size: int,
    ) -> Slice[Row]:
        """One parent's page, batched with its siblings'."""
        ks = keyset(self.field, args, max_size=max_size)
        rows = await self.pages(loaders).load(PageKey(parent, filter, ks))
        prime(self.by_id(loaders), rows)
        return page(self.field, rows, ks, self.position)
