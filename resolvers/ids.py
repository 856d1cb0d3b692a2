"""Relay global ids: opaque base64 of `Type:uuid`."""

from __future__ import annotations

import base64
import binascii
import uuid

from domain.vocabulary import NodeType

from .errors import BadUserInput

_BY_NAME = {node_type.value: node_type for node_type in NodeType}


def encode(node_type: NodeType, value: uuid.UUID) -> str:
    return base64.b64encode(f"{node_type.value}:{value}".encode()).decode("ascii")


def decode_node(global_id: str) -> tuple[NodeType, uuid.UUID]:
    """The type and uuid of a global id; `BadUserInput` when it is not one of ours."""
    try:
        raw = base64.b64decode(global_id.encode("ascii"), validate=True).decode("utf-8")
        type_name, _, rest = raw.partition(":")
        value = uuid.UUID(rest)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadUserInput(f"{global_id!r} is not a valid id") from None
    node_type = _BY_NAME.get(type_name)
    if node_type is None or encode(node_type, value) != global_id:
        raise BadUserInput(f"{global_id!r} is not a valid id") from None
    return node_type, value


def decode(global_id: str, expected: NodeType) -> uuid.UUID:
    """The uuid of a global id of type `expected`; `BadUserInput` when malformed or of
    another type."""
    node_type, value = decode_node(global_id)
    if node_type is not expected:
        raise BadUserInput(
            f"{global_id!r} is the id of a {node_type.value}, not of a {expected.value}"
        )
    return value
