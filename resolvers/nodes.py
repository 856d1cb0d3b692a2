"""`viewer`, `node` and `nodes`: global ids to the objects the viewer may see."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from db.generations import GenerationRow
from db.outputs import OutputRow
from db.profiles import ProfileRow
from db.projects import ProjectRow
from db.sessions import SessionRow
from loaders import Loaders
from loaders.batch import ByIdLoader
from settings import Settings

from .errors import BadUserInput
from .ids import decode

Resolved = ProfileRow | ProjectRow | SessionRow | GenerationRow | OutputRow


async def viewer_profile(loaders: Loaders, viewer_id: uuid.UUID) -> ProfileRow:
    row = await loaders.profile_by_id.load(viewer_id)
    if row is None:  # pragma: no cover - the profile is created when the token is first seen
        raise RuntimeError("the viewer's profile disappeared")
    return row


async def node(loaders: Loaders, global_id: str) -> tuple[str, Resolved] | None:
    """The object behind a global id, or None when it does not exist or is not visible
    (the two are indistinguishable on purpose)."""
    type_name, key = decode(global_id)
    by_type: dict[str, ByIdLoader[Any]] = {
        "Profile": loaders.profile_by_id,
        "Project": loaders.project_by_id,
        "Session": loaders.session_by_id,
        "Generation": loaders.generation_by_id,
        "Output": loaders.output_by_id,
    }
    row: Resolved | None = await by_type[type_name].load(key)
    return None if row is None else (type_name, row)


async def nodes(
    loaders: Loaders, settings: Settings, global_ids: Sequence[str]
) -> list[tuple[str, Resolved] | None]:
    if len(global_ids) > settings.max_node_ids:
        raise BadUserInput(f"nodes accepts at most {settings.max_node_ids} ids")
    for global_id in global_ids:  # every id is checked before anything is read
        decode(global_id)
    return list(await asyncio.gather(*(node(loaders, gid) for gid in global_ids)))
