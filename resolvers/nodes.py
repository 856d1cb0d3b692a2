"""`viewer`, `node` and `nodes`: global ids to the rows the viewer may see."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from domain.rows import ProfileRow
from domain.vocabulary import NodeType
from loaders import Loaders

from .errors import BadUserInput
from .ids import decode_node


async def viewer_profile(loaders: Loaders, viewer_id: uuid.UUID) -> ProfileRow:
    row = await loaders.profile_by_id.load(viewer_id)
    if row is None:  # pragma: no cover - the profile is created when the token is first seen
        raise RuntimeError("the viewer's profile disappeared")
    return row


async def node(loaders: Loaders, global_id: str) -> tuple[NodeType, Any] | None:
    """The type and row behind a global id, or None when it does not exist or is not
    visible (the two are indistinguishable on purpose)."""
    node_type, key = decode_node(global_id)
    row = await loaders.by_node_type(node_type).load(key)
    return None if row is None else (node_type, row)


def check_ids(global_ids: Sequence[str], *, max_ids: int) -> None:
    """What `nodes` refuses before anything is read: too many ids, or one malformed."""
    if len(global_ids) > max_ids:
        raise BadUserInput(f"nodes accepts at most {max_ids} ids")
    for global_id in global_ids:
        decode_node(global_id)


async def nodes(
    loaders: Loaders, global_ids: Sequence[str], *, max_ids: int
) -> list[tuple[NodeType, Any] | None]:
    check_ids(global_ids, max_ids=max_ids)  # every id is checked before anything is read
    return list(await asyncio.gather(*(node(loaders, gid) for gid in global_ids)))
