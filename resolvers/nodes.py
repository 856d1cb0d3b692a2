"""`viewer`, `node` and `nodes`: global ids to visible objects."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from db.profiles import ProfileRow
from loaders import Loaders
from settings import Settings

from .errors import BadUserInput
from .ids import decode

Resolved = ProfileRow  # widened as more node types join


async def viewer_profile(loaders: Loaders, viewer_id: uuid.UUID) -> ProfileRow:
    row = await loaders.profile_by_id.load(viewer_id)
    if row is None:  # pragma: no cover - the profile is created when the token is first seen
        raise RuntimeError("the viewer's profile disappeared")
    return row


async def node(loaders: Loaders, global_id: str) -> tuple[str, Resolved] | None:
    """The object behind a global id, or None when it does not exist or is not visible."""
    type_name, key = decode(global_id)
    if type_name == "Profile":
        row = await loaders.profile_by_id.load(key)
        return None if row is None else (type_name, row)
    # Projects, sessions, generations and outputs are not served yet: none is visible.
    return None


async def nodes(
    loaders: Loaders, settings: Settings, global_ids: Sequence[str]
) -> list[tuple[str, Resolved] | None]:
    if len(global_ids) > settings.max_node_ids:
        raise BadUserInput(f"nodes accepts at most {settings.max_node_ids} ids")
    for global_id in global_ids:  # every id is checked before anything is read
        decode(global_id)
    return list(await asyncio.gather(*(node(loaders, gid) for gid in global_ids)))
