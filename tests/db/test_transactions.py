"""db/transactions.py: a write runs in one transaction; one that PostgreSQL aborts to
break a deadlock is run again, anything else rolls back and propagates."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from db.topology import Database
from db.transactions import in_transaction
from db.types import Connection
from tests.support import factories as f


async def test_a_deadlock_victim_is_run_again_and_both_writes_land(
    conn: f.Conn, db_url: str
) -> None:
    owner = await f.profile(conn, "owner")
    first, second = await f.project(conn, owner, "A"), await f.project(conn, owner, "B")
    both_locked = asyncio.Barrier(2)
    calls: list[str] = []

    def writer(name: str, mine: Any, theirs: Any) -> Any:
        async def work(c: Connection) -> None:
            calls.append(name)
            await c.execute("UPDATE projects SET name = name || $2 WHERE id = $1", mine, name)
            if calls.count(name) == 1:  # the first attempt waits so that the locks cross
                await both_locked.wait()
            await c.execute("UPDATE projects SET name = name || $2 WHERE id = $1", theirs, name)

        return work

    async with asyncpg.create_pool(db_url, min_size=2, max_size=2) as pool:
        await asyncio.gather(
            in_transaction(Database(pool), writer("1", first, second)),
            in_transaction(Database(pool), writer("2", second, first)),
        )
    assert sorted(calls) == ["1", "1", "2"] or sorted(calls) == ["1", "2", "2"]
    names = await conn.fetch("SELECT name FROM projects ORDER BY name")
    assert sorted(len(r["name"]) for r in names) == [3, 3]  # each got both writers' marks


async def test_any_other_failure_rolls_back_everything(conn: f.Conn, db_url: str) -> None:
    owner = await f.profile(conn, "owner")

    async def work(c: Connection) -> None:
        await c.execute("UPDATE profiles SET username = 'changed' WHERE id = $1", owner)
        raise ValueError("refused half-way")

    async with asyncpg.create_pool(db_url, min_size=1, max_size=1) as pool:
        with pytest.raises(ValueError, match="half-way"):
            await in_transaction(Database(pool), work)
    assert await conn.fetchval("SELECT username FROM profiles WHERE id = $1", owner) == "owner"
