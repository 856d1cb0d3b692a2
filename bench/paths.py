"""The paths from the server to the database that the projects page is compared on, and the
parts they need (db/ops/parts.py), started once per run in front of the bench database's
server and stopped afterwards, whatever happens:

- `direct`: the server's DATABASE_URL is the bench database (every other measurement);
- `pooler`: a PgBouncer in transaction pooling mode in front of that server, and the server
  with `VESPER_POOL_MODE=transaction` and DATABASE_URL through it;
- `replica`: a streaming replica of that server, built with pg_basebackup (the whole
  cluster, into a temp folder, removed afterwards; the bench databases vacuumed first) and
  started on a free local port, and the server with `DATABASE_REPLICA_URLS` pointing at it:
  its queries go there (bench/measure.py checks that they did).

What cannot work is said before anything is seeded or started, in one line with the way
out (`--paths` without that path): pgbouncer missing, a server that is not on this machine,
of another major version than the embedded binaries that run the replica, that does not
send WAL to replicas, or a login without the REPLICATION attribute.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from db.ops import parts
from db.ops.parts import PgBouncer, Replica, Server, TopologyError, through_pooler

from .database import BenchError, row_of
from .live_server import POOL_MAX, ServerConfig
from .options import PATHS, POOLER, REPLICA

Say = Callable[[str], None]

VACUUM_TIMEOUT_S = 600.0
HEADROOM_BYTES = 1 << 30  # free space a base backup leaves besides the copy (WAL, logs)
COPY_BYTES_PER_S = 20e6  # the slowest copy the base backup's deadline allows for
COPY_BASE_S = 60.0


def _without(path: str) -> str:
    return "--paths " + ",".join(p for p in PATHS if p != path)


def check_pooler(paths: tuple[str, ...]) -> None:
    """Raises `BenchError` (one line) when the pooler path is asked and pgbouncer missing."""
    if POOLER not in paths:
        return
    try:
        parts.pgbouncer_binary()
    except parts.PgBouncerMissing as exc:
        raise BenchError(
            f"{exc}: install it, or leave the pooler out ({_without(POOLER)})"
        ) from None


async def check_replica(server_url: str, paths: tuple[str, ...]) -> None:
    """Raises `BenchError` (one line) when the replica path is asked and no streaming
    replica of the server at `server_url` can be built here."""
    if REPLICA not in paths:
        return
    out = f"leave the replica out ({_without(REPLICA)})"
    server = Server.of(server_url)
    if not server.local:
        raise BenchError(
            f"the replica path builds a streaming replica of the bench database's server on "
            f"this machine (pg_basebackup), and {server.host} is not local: {out}"
        )
    row = await row_of(server_url, "bench_replication_settings")
    binaries = parts.binaries_major()
    if row["major"] != binaries:
        raise BenchError(
            f"the server runs PostgreSQL {row['major']} and the replica would run the embedded "
            f"binaries' {binaries} (a replica runs its primary's major version): {out}"
        )
    if row["wal_level"] == "minimal" or row["max_wal_senders"] < 2:
        raise BenchError(
            f"the server sends no WAL to replicas (wal_level = {row['wal_level']}, "
            f"max_wal_senders = {row['max_wal_senders']}; a base backup needs replica and 2): "
            f"change them and restart it, or {out}"
        )
    if not row["may_replicate"]:
        raise BenchError(
            f"{row['login']} may not open replication connections (ALTER ROLE ... REPLICATION "
            f"on the server), so no replica can be built: {out}"
        )


@dataclass(frozen=True, slots=True)
class Parts:
    """The running parts of a run's paths (None: that path is not measured)."""

    pooler: PgBouncer | None = None
    replica: Replica | None = None

    def configs(self, base: ServerConfig) -> dict[str, ServerConfig]:
        """The server of `base` (direct) on each other path, for the same database."""
        found: dict[str, ServerConfig] = {}
        if self.pooler is not None:
            url = through_pooler(base.database_url, self.pooler)
            found[POOLER] = dataclasses.replace(base, database_url=url, pool_mode="transaction")
        if self.replica is not None:
            name = urlsplit(base.database_url).path.lstrip("/")
            found[REPLICA] = dataclasses.replace(base, replica_urls=(self.replica.url(name),))
        return found


def _started(stack: contextlib.ExitStack, part: Any, what: str, out: str) -> Any:
    """`part` entered on `stack` (blocking: Ctrl-C stops the child and removes its files);
    `BenchError` in one line when it does not start: what failed, its first words of output
    (the command line left out), and the way out."""
    try:
        return stack.enter_context(part)
    except TopologyError as exc:
        lines = [line.strip() for line in str(exc).strip().splitlines()[1:] if line.strip()]
        detail = " / ".join(lines[:3]) or str(exc).strip()
        raise BenchError(f"{what} failed ({detail}): fix that, or {out}") from None


async def _vacuum(url: str, say: Say) -> None:
    """VACUUM of a bench database, before the replica is copied: what autovacuum would do
    after a seed (the visibility map, the hint bits of every row), done before rather than
    while the paths are measured, so that its I/O and WAL fall on none of them."""
    name = urlsplit(url).path.lstrip("/")
    began = time.monotonic()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM", timeout=VACUUM_TIMEOUT_S)
    finally:
        await conn.close()
    say(f"replica: vacuumed {name} first ({time.monotonic() - began:.0f} s)")


@contextlib.asynccontextmanager
async def started(
    server_url: str, paths: tuple[str, ...], say: Say, databases: tuple[str, ...] = ()
) -> AsyncIterator[Parts]:
    """The parts of `paths` in front of the server of `server_url`, for the block.
    `databases`: the URLs of the bench databases on it (vacuumed before a replica)."""
    with contextlib.ExitStack() as stack:
        pooler = replica = None
        if POOLER in paths:
            out = f"leave the pooler out ({_without(POOLER)})"
            # as many server connections as the server's pool can ask for: no idle ones
            # beyond, under the database's connection limit the run's parts share
            bouncer = PgBouncer(server_url, pool_size=POOL_MAX)
            pooler = _started(stack, bouncer, "starting pgbouncer", out)
            say(f"pooler: pgbouncer (transaction pooling) on 127.0.0.1:{pooler.port}")
        if REPLICA in paths:
            for url in databases:
                await _vacuum(url, say)
            size: int = (await row_of(server_url, "bench_cluster_bytes"))[0]
            folder = tempfile.gettempdir()
            free = shutil.disk_usage(folder).free
            if free < size + HEADROOM_BYTES:
                raise BenchError(
                    f"a replica of the server takes {size / 1e9:.1f} GB and {folder} has "
                    f"{free / 1e9:.1f} GB free: free some, or {_without(REPLICA)}"
                )
            say(f"replica: copying the server ({size / 1e9:.1f} GB) with pg_basebackup")
            began = time.monotonic()
            deadline = COPY_BASE_S + size / COPY_BYTES_PER_S
            replica = _started(
                stack,
                Replica(server_url, timeout=deadline),
                "building a streaming replica with pg_basebackup (the server must accept a "
                "replication connection from this machine: pg_hba.conf `replication` lines)",
                f"leave the replica out ({_without(REPLICA)})",
            )
            say(
                f"replica: streaming on 127.0.0.1:{replica.port} "
                f"(built in {time.monotonic() - began:.0f} s)"
            )
        yield Parts(pooler, replica)
