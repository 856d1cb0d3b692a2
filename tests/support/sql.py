"""Running statements on a connection of their own, for test set-up and checks."""

from __future__ import annotations

from typing import Any

import asyncpg


async def execute(url: str, *statements: str, within: float | None = None) -> None:
    """`statements` in order on one new connection to `url`, closed afterwards; `within`
    (seconds) bounds the connect and each statement."""
    conn = await asyncpg.connect(url, timeout=60 if within is None else within)
    try:
        for statement in statements:
            await conn.execute(statement, timeout=within)
    finally:
        await conn.close()


async def fetchval(url: str, sql: str, *args: Any, within: float | None = None) -> Any:
    """The first value `sql` answers on a new connection to `url`, closed afterwards;
    `within` (seconds) bounds the connect and the statement."""
    conn = await asyncpg.connect(url, timeout=60 if within is None else within)
    try:
        return await conn.fetchval(sql, *args, timeout=within)
    finally:
        await conn.close()
