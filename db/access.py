"""What a write checks before it changes a row (db/queries/access.sql).

Each lookup answers None when the viewer does not see the row (whether or not it exists)
and otherwise locks the row until the transaction ends, so the facts returned stay true
while the caller decides and writes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain.vocabulary import GenerationStatus, NodeType, ProjectRole

from .sql import load_queries
from .types import Connection

_Q = load_queries("access")


@dataclass(frozen=True, slots=True)
class Target:
    viewer_role: ProjectRole | None  # on its project; None: visible as shared only
    owner_id: uuid.UUID  # the project's owner
    status: GenerationStatus | None  # a generation's (or an output's generation's) status


async def for_write(
    conn: Connection, *, kind: NodeType, viewer: uuid.UUID, key: uuid.UUID
) -> Target | None:
    """The `kind` row `key` (a project, session, generation or output) as `viewer` sees
    it, locked; None when not visible."""
    row = await conn.fetchrow(_Q[f"{kind.value.lower()}_for_write"], viewer, key)
    if row is None:
        return None
    role, status = row["viewer_role"], row["status"]
    return Target(
        viewer_role=None if role is None else ProjectRole(role),
        owner_id=row["owner_id"],
        status=None if status is None else GenerationStatus(status),
    )
