"""Input limits of the contract (API.md "Input limits"): each check returns the value as
it will be stored or raises `BadUserInput` naming the field, before anything is written."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

from domain.writes import Change, NewOutput

from .errors import BadUserInput

T = TypeVar("T")

MAX_NAME = 200
MAX_DESCRIPTION = 5_000
MAX_PROMPT = 10_000
MAX_PARAMETERS_BYTES = 64 * 1024
MAX_URL = 2_048
MAX_DIMENSION = 16_384
MAX_OUTPUTS = 100  # per completed generation; production makes 1 or 4
# numeric(10,6): at most 4 digits before the point and 6 after.
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_COST_LIMIT = Decimal(10_000)
_COST_STEP = Decimal("0.000001")


def not_null(field: str, change: Change[T]) -> T | None:
    """The new value of a field that may be left out (None: keep) but not set to null."""
    if change.given and change.value is None:
        raise BadUserInput(f"{field} cannot be null")
    return change.value


def _no_nul(field: str, value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here keeps it a user error.
    if "\x00" in value:
        raise BadUserInput(f"{field} must not contain NUL characters")
    return value


def text(field: str, value: str, *, limit: int) -> str:
    if len(value) > limit:
        raise BadUserInput(f"{field} is longer than {limit:,} characters")
    return _no_nul(field, value)


def optional_text(field: str, value: str | None, *, limit: int) -> str | None:
    return None if value is None else text(field, value, limit=limit)


def name(field: str, value: str) -> str:
    """A name: not blank, at most 200 characters (stored as given)."""
    if not value.strip():
        raise BadUserInput(f"{field} must not be blank")
    return text(field, value, limit=MAX_NAME)


def new_name(field: str, change: Change[str]) -> str | None:
    """An update's name: None when left out, else a valid name (null is refused)."""
    value = not_null(field, change)
    return None if value is None else name(field, value)


def url(field: str, value: str | None) -> str | None:
    """An absolute http or https URL of at most 2,048 characters (null stays null)."""
    if value is None:
        return None
    text(field, value, limit=MAX_URL)
    try:
        parts = urlsplit(value)
    except ValueError:
        raise BadUserInput(f"{field} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadUserInput(f"{field} must be an http or https URL")
    if any(c.isspace() or ord(c) < 32 for c in value):
        raise BadUserInput(f"{field} must not contain spaces or control characters")
    return value


def parameters(field: str, value: Any) -> str:
    """A JSON object of at most 64 KB (as UTF-8 JSON text); returns that text."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise BadUserInput(f"{field} must be a JSON object")
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if len(encoded.encode("utf-8")) > MAX_PARAMETERS_BYTES:
        raise BadUserInput(f"{field} is larger than {MAX_PARAMETERS_BYTES // 1024} KB")
    # jsonb cannot hold NUL in a string (nor in a key).
    if "\\u0000" in encoded or "\x00" in encoded:
        raise BadUserInput(f"{field} must not contain NUL characters")
    return encoded


def dimension(field: str, value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_DIMENSION:
        raise BadUserInput(f"{field} must be between 1 and {MAX_DIMENSION:,}")
    return value


def duration(field: str, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise BadUserInput(f"{field} must be a number of seconds, 0 or more")
    return value


def cost(field: str, value: str | None) -> Decimal | None:
    """A plain decimal string ("0.039") that fits numeric(10,6) exactly: not negative,
    below 10,000, at most 6 decimal places (never rounded)."""
    if value is None:
        return None
    if not _DECIMAL.fullmatch(value):
        raise BadUserInput(f'{field} must be a decimal number such as "0.039", 0 or more')
    amount = Decimal(value)
    if amount >= _COST_LIMIT or amount != amount.quantize(_COST_STEP):
        raise BadUserInput(f"{field} must be below 10,000 with at most 6 decimal places")
    return amount


def output(field: str, value: NewOutput) -> NewOutput:
    """One output of a completed generation, its URL and sizes checked."""
    url_ = url(f"{field}.fileUrl", value.file_url)
    assert url_ is not None
    return NewOutput(
        file_url=url_,
        file_type=value.file_type,
        width=dimension(f"{field}.width", value.width),
        height=dimension(f"{field}.height", value.height),
        duration=duration(f"{field}.duration", value.duration),
    )
