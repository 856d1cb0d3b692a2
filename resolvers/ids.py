"""Relay global ids: opaque base64 of `Type:uuid`."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Collection

from .errors import BadUserInput

NODE_TYPES = frozenset({"Profile", "Project", "Session", "Generation", "Output"})


def encode(type_name: str, value: uuid.UUID) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode("ascii")


def decode(global_id: str, expected: Collection[str] = NODE_TYPES) -> tuple[str, uuid.UUID]:
    """The type and uuid of a global id; `BadUserInput` when malformed or of another type."""
    try:
        raw = base64.b64decode(global_id.encode("ascii"), validate=True).decode("utf-8")
        type_name, _, rest = raw.partition(":")
        value = uuid.UUID(rest)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadUserInput(f"{global_id!r} is not a valid id") from None
    if type_name not in NODE_TYPES or encode(type_name, value) != global_id:
        raise BadUserInput(f"{global_id!r} is not a valid id") from None
    if type_name not in expected:
        wanted = " or ".join(sorted(expected))
        raise BadUserInput(f"{global_id!r} is the id of a {type_name}, not of a {wanted}")
    return type_name, value
