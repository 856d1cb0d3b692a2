"""The benchmark's database: one per scale, seeded once and reused.

`vesper bench --scale small` works on `vesper_bench_small` on the server of DATABASE_URL
(or the embedded one): created when missing, migrated, seeded when it holds no project,
reused when it holds exactly the scale's number of projects — so only the first run pays
for the seed (about 80 s at small). A database holding anything else is refused rather than
wiped, unless asked (`--reseed`). A database named with `--database` is used as it is
(migrated, and seeded only when empty): the smoke test points it at a fresh test database.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bench.seed import Scale, seed
from db.ops import migrate
from db.sql import load_queries
from settings import with_database

from . import QUERIES

_Q = load_queries("bench", QUERIES)


class BenchError(Exception):
    """The benchmark cannot run as asked; the message says why and what to do."""


async def row_of(url: str, block: str) -> asyncpg.Record:
    """The row the bench query `block` (bench/queries/bench.sql) returns, on a connection
    of its own."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(_Q[block])
    finally:
        await conn.close()
    assert row is not None, block
    return row


@dataclass(frozen=True, slots=True)
class Prepared:
    url: str
    name: str  # the database's name, for messages and the report
    seeded_s: float | None  # seconds spent seeding, None when reused


def bench_database(scale: Scale) -> str:
    return f"vesper_bench_{scale.name}"


async def prepare(
    server_url: str,
    scale: Scale,
    *,
    explicit: bool,
    reseed: bool = False,
    say: Callable[[str], None] = lambda line: None,
) -> Prepared:
    """The database to measure `scale` on, migrated and seeded.

    `server_url` is the database to use as it is when `explicit`, else any database of the
    server on which `vesper_bench_<scale>` is created.

    Raises:
        BenchError: the database holds data of another size (and not `reseed`).
    """
    if explicit:
        url, name = server_url, urlsplit(server_url).path.lstrip("/")
    else:
        name = bench_database(scale)
        url = with_database(server_url, name)
        admin = await asyncpg.connect(server_url)
        try:
            if not await admin.fetchval(_Q["bench_database_exists"], name):
                say(f"creating database {name}")
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
    applied = await asyncio.to_thread(migrate.apply, url)
    if applied:
        say(f"{name}: applied {len(applied)} migration(s)")
    conn = await asyncpg.connect(url)
    try:
        return Prepared(
            url, name, await fill(conn, scale, name=name, explicit=explicit, reseed=reseed, say=say)
        )
    finally:
        await conn.close()


async def fill(
    conn: asyncpg.Connection[Any],
    scale: Scale,
    *,
    name: str,
    explicit: bool,
    reseed: bool = False,
    say: Callable[[str], None] = lambda line: None,
) -> float | None:
    """Seeds `conn`'s database (called `name` in messages) when it holds no project, or
    holds another number than `scale`'s and `reseed`; the seconds that took, or None when
    its data is reused. An `explicit` database is reused whatever it holds.

    Raises:
        BenchError: a database of another size, and not `reseed`.
    """
    projects: int = await conn.fetchval(_Q["bench_project_count"])
    if projects and (explicit or projects == scale.projects) and not reseed:
        say(f"{name}: reusing {projects:,} projects")
        return None
    if projects and not reseed:
        raise BenchError(
            f"{name} holds {projects:,} projects, not the {scale.projects:,} of scale "
            f"{scale.name}: pass --reseed to replace its data, or drop the database"
        )
    say(f"{name}: seeding scale {scale.name} ({scale.projects:,} projects)")
    started = time.perf_counter()
    await seed(conn, scale, replace=reseed)
    return time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class Scratch:
    """A database of a run's own (`vesper fanout`, `vesper bigwrites`), migrated."""

    url: str
    postgres: str  # the server's version


@asynccontextmanager
async def scratch(
    server_url: str, prefix: str, say: Callable[[str], None]
) -> AsyncIterator[Scratch]:
    """`<prefix>_<random>` on `server_url`'s server, created and migrated for the block and
    dropped at its end whatever happens."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    try:
        postgres = await admin.fetchval("SELECT current_setting('server_version')")
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(server_url, name)
    try:
        say(f"database {name}: migrating")
        await asyncio.to_thread(migrate.apply, url)
        yield Scratch(url, str(postgres))
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
