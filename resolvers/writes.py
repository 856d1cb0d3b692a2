"""What every mutation shares: one transaction, the target row locked and checked, then a
fresh view for the payload."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from auth.viewer import Viewer
from db import access
from db.access import Target
from db.topology import Database
from db.transactions import in_transaction
from db.types import Connection
from domain.vocabulary import NodeType, ProjectRole
from loaders import Loaders

from .ids import decode
from .permissions import allowed

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Writer:
    """The request's viewer, where their writes go, and who learns of each commit (the
    consistency token the response carries)."""

    db: Database
    loaders: Loaders
    viewer: Viewer
    committed: Callable[[str | None], None]

    async def run(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """`work` in one transaction; afterwards the request's loaders forget what they
        read, so the payload (and any later field of the request) sees the write."""
        result, token = await in_transaction(self.db, work)
        self.committed(token)
        self.loaders.clear_all()
        return result

    async def on(
        self,
        kind: NodeType,
        key: uuid.UUID,
        roles: frozenset[ProjectRole],
        action: str,
        write: Callable[[Connection, Target], Awaitable[T]],
    ) -> T:
        """`write` in one transaction, after the `kind` row `key` was locked and found
        visible to the viewer with one of `roles` (else NOT_FOUND or FORBIDDEN; `action`
        says what was refused)."""

        async def work(conn: Connection) -> T:
            target = await access.for_write(conn, kind=kind, viewer=self.viewer.id, key=key)
            return await write(conn, allowed(target, roles, what=kind, action=action))

        return await self.run(work)

    async def delete(
        self,
        kind: NodeType,
        global_id: str,
        roles: frozenset[ProjectRole],
        action: str,
        delete: Callable[[Connection, uuid.UUID], Awaitable[None]],
    ) -> uuid.UUID:
        """Deletes the `kind` row of `global_id` with `delete` (what depends on it goes by
        cascade), as `on` allows; returns its key."""
        key = decode(global_id, kind)

        async def write(conn: Connection, _: Target) -> uuid.UUID:
            await delete(conn, key)
            return key

        return await self.on(kind, key, roles, action, write)
