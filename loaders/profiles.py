"""Profiles by id."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from aiodataloader import DataLoader

from db import profiles
from db.profiles import ProfileRow


class ProfileByIdLoader(DataLoader[uuid.UUID, ProfileRow | None]):
    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        super().__init__()
        self._pool = pool

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[ProfileRow | None]:
        rows = await profiles.profiles_by_ids(self._pool, ids=list(keys))
        by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]
