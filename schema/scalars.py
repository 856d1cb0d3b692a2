"""Scalar formats of the contract."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry


def _serialize(value: datetime) -> str:
    # Stored timestamps are naive UTC with millisecond precision: one fixed-width format.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a DateTime needs a UTC offset")
    return parsed


DATETIME = strawberry.scalar(
    name="DateTime",
    description="ISO-8601 date and time in UTC with its offset, millisecond precision.",
    serialize=_serialize,
    parse_value=_parse,
)
