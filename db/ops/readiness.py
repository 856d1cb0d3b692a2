"""Readiness: can this instance serve — does the database answer, with every migration?

Asked on a connection of its own, not a pooled one: a pool that is busy serving requests
says nothing about the database, and a readiness probe that queued behind them would take
a busy, healthy instance out of service.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from db.errors import UNAVAILABLE

from .migrate import pending_ids

log = logging.getLogger("vesper.readiness")


async def not_ready(url: str, *, within: float, pooled: bool = False) -> dict[str, object] | None:
    """None when the database answers within `within` seconds and no migration is pending;
    else why not, as the body of the 503 answer. `pooled`: through a transaction pooler
    (no startup parameter, no prepared statement kept)."""
    try:
        async with asyncio.timeout(within):
            conn = await asyncpg.connect(
                url,
                statement_cache_size=0 if pooled else 100,
                server_settings=None if pooled else {"application_name": "vesper-ready"},
            )
            try:
                pending = await pending_ids(conn)
            finally:
                await conn.close()
    except TimeoutError:
        return {"status": "database unreachable", "reason": f"no answer within {within:g} s"}
    except UNAVAILABLE as exc:
        log.warning("readiness check: database unreachable (%s)", type(exc).__name__)
        return {"status": "database unreachable", "reason": _reason(exc)}
    if pending:
        return {"status": "migrations pending", "pending": pending}
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncpg.InsufficientResourcesError):
        return "the database has no connection to spare"
    if isinstance(exc, asyncpg.OperatorInterventionError):
        return "the database is starting up or shutting down"
    return "the connection was refused or dropped"
