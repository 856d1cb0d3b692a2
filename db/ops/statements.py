"""The statements the database has spent its time on (pg_stat_statements), named after
our SQL blocks where their text matches one (db/ops/queries/observability.sql)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import asyncpg

from db.sql import load_queries, named_blocks
from db.types import Connection

from . import QUERIES

_Q = load_queries("observability", QUERIES)

HINT = (
    "pg_stat_statements is not available in this database: the server needs "
    "shared_preload_libraries = 'pg_stat_statements' (then a restart) and the database "
    "CREATE EXTENSION pg_stat_statements (the embedded server has both)."
)


class StatementsUnavailable(Exception):
    """pg_stat_statements is not installed or not loaded; the message says what to do."""


@dataclass(frozen=True, slots=True)
class TopStatement:
    block: str | None  # "file.block" of the named SQL block, None for other statements
    query: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int
    shared_blks_hit: int
    shared_blks_read: int


def _normal(sql: str) -> str:
    without_comments = re.sub(r"--[^\n]*", "", sql)
    return " ".join(without_comments.split())


@functools.cache
def _blocks() -> dict[str, str]:
    """Normalized SQL text -> "file.block" for every named block."""
    return {_normal(sql): name for sql, name in named_blocks().items()}


async def top(conn: Connection, *, limit: int) -> list[TopStatement]:
    """This database's `limit` statements with the most total time."""
    if not await conn.fetchval(_Q["extension_installed"]):
        raise StatementsUnavailable(HINT)
    try:
        rows = await conn.fetch(_Q["top_statements"], limit)
    except asyncpg.ObjectNotInPrerequisiteStateError:  # installed but not preloaded
        raise StatementsUnavailable(HINT) from None
    blocks = _blocks()
    return [TopStatement(block=blocks.get(_normal(row["query"])), **dict(row)) for row in rows]


async def install(conn: Connection) -> None:
    """Creates the extension in this database (the server must preload the library)."""
    await conn.execute(_Q["install_extension"])
