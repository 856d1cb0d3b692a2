"""Database failures a caller can act on, raised in place of the driver's exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg


class ReferenceGone(Exception):
    """A write referred to a row that does not exist (or was deleted meanwhile)."""


@contextmanager
def reference_gone() -> Iterator[None]:
    """Turns a foreign-key violation of the statements inside into `ReferenceGone`."""
    try:
        yield
    except asyncpg.ForeignKeyViolationError as exc:
        raise ReferenceGone(exc.table_name or "row") from None
