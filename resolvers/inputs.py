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
_INT64 = (-(2**63), 2**63 - 1)


def not_null(field: str, change: Change[T]) -> T | None:
    """The new value of a field that may be left out (None: keep) but not set to null."""
    if change.given and change.value is None:
        raise BadUserInput(f"{field} cannot be null")
    return change.value


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(field: str, value: str) -> str:
    # PostgreSQL text holds neither NUL nor a lone surrogate (not valid Unicode): refusing
    # them here keeps them a user error.
    if _UNSTORABLE.search(value):
        raise BadUserInput(f"{field} must not contain NUL characters or lone surrogates")
    return value


def text(field: str, value: str, *, limit: int) -> str:
    if len(value) > limit:
        raise BadUserInput(f"{field} is longer than {limit:,} characters")
    return _storable(field, value)


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
    """A JSON object of at most 64 KB (as UTF-8 JSON text); returns that text. Its numbers
    must be finite and its integers fit in 64 bits; no string (key or value) may hold NUL
    or a lone surrogate."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise BadUserInput(f"{field} must be a JSON object")
    _check_json(field, value)
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(encoded.encode("utf-8")) > MAX_PARAMETERS_BYTES:
        raise BadUserInput(f"{field} is larger than {MAX_PARAMETERS_BYTES // 1024} KB")
    return encoded


def _check_json(field: str, value: Any) -> None:
    """Every value inside `value`, checked without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            _storable(field, item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not _INT64[0] <= item <= _INT64[1]:
                raise BadUserInput(f"{field}: integers must fit in 64 bits")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise BadUserInput(f"{field}: numbers must be finite")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


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
