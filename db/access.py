"""What a write checks before it changes a row (db/queries/access.sql).

Each lookup answers None when the viewer does not see the row (whether or not it exists)
and otherwise locks the row until the transaction ends, so the facts returned stay true
while the caller decides and writes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, TypeAlias

from .sql import load_queries
from .types import Connection

_Q = load_queries("access")


@dataclass(frozen=True, slots=True)
class Target:
    viewer_role: str | None  # on its project: OWNER, ADMIN, EDITOR, VIEWER; None: shared only
    owner_id: uuid.UUID  # the project's owner
    status: str | None  # a generation's (or an output's generation's) status, else None


Kind: TypeAlias = Literal["project", "session", "generation", "output"]


async def for_write(
    conn: Connection, *, kind: Kind, viewer: uuid.UUID, key: uuid.UUID
) -> Target | None:
    """The `kind` row `key` as `viewer` sees it, locked; None when not visible."""
    row = await conn.fetchrow(_Q[f"{kind}_for_write"], viewer, key)
    return None if row is None else Target(**dict(row))
