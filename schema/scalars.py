"""Scalar formats of the contract."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry


def serialize_datetime(value: datetime) -> str:
    # Stored timestamps are naive UTC with millisecond precision: one fixed-width format.
    if value.tzinfo is None:
        return value.isoformat(timespec="milliseconds") + "+00:00"
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a DateTime needs a UTC offset")
    return parsed


DATETIME = strawberry.scalar(
    name="DateTime",
    description="ISO-8601 date and time in UTC with its offset, millisecond precision, in "
    'one fixed width: "2026-09-08T04:40:25.000+00:00". A string for code generators.',
    specified_by_url="https://datatracker.ietf.org/doc/html/rfc3339",
    serialize=serialize_datetime,
    parse_value=_parse,
)
