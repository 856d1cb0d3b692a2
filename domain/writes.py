"""What writes take and what they report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from .vocabulary import FileType

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Change(Generic[T]):
    """A write's new value for a nullable column: `given` False keeps the stored one (the
    client left the field out), True sets `value`, None included."""

    given: bool = False
    value: T | None = None


@dataclass(frozen=True, slots=True)
class NewOutput:
    """One file of a completed generation, checked (resolvers/generations.py)."""

    file_url: str
    file_type: FileType
    width: int | None
    height: int | None
    duration: float | None


@dataclass(frozen=True)  # not slotted: the GraphQL layer exposes this class as a type
class RepairReport:
    """What a project_stats repair found."""

    checked: int  # projects compared
    drifted: int  # of those, rows missing or different from a recomputation
    repaired: int  # of those, rows recomputed
