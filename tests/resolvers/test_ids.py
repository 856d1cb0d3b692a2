"""Global ids are opaque, canonical and typed."""

from __future__ import annotations

import base64
import uuid

import pytest

from domain.vocabulary import NodeType
from resolvers.errors import BadUserInput
from resolvers.ids import decode, decode_node, encode

KEY = uuid.UUID("6f1c8a52-0b7e-4c1e-9d55-3a2f1e0c9b77")


def test_round_trip() -> None:
    assert decode_node(encode(NodeType.PROJECT, KEY)) == (NodeType.PROJECT, KEY)
    assert decode(encode(NodeType.PROJECT, KEY), NodeType.PROJECT) == KEY


def test_wrong_type_is_rejected_with_both_names() -> None:
    with pytest.raises(BadUserInput, match=r"Profile.*not of a Project"):
        decode(encode(NodeType.PROFILE, KEY), NodeType.PROJECT)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not base64!",
        base64.b64encode(b"Project").decode(),
        base64.b64encode(b"Project:not-a-uuid").decode(),
        base64.b64encode(f"Widget:{KEY}".encode()).decode(),
        base64.b64encode(f"Project:{KEY.hex}".encode()).decode(),  # not canonical
        base64.b64encode(b"\xff\xfe").decode(),
    ],
)
def test_malformed_ids_are_bad_user_input(bad: str) -> None:
    with pytest.raises(BadUserInput, match="not a valid id"):
        decode_node(bad)
