"""Where a request's statements go: the primary, or a streaming replica that has applied
what the client last wrote (API.md "Deployment: poolers, replicas, consistency").

`Database` is one server's pool, and how a transaction opens on it (in transaction-pooler
mode every statement outside a write runs in a transaction of its own that sets the
statement timeout first). `Topology` holds the primary and the replicas, reads each
replica's health and replay position in the background, and picks the database of a
request: mutations the primary; queries a healthy replica that has replayed the client's
consistency token, else the primary. A replica that fails under a request hands the
statement to the primary: a replica failure never fails a read.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import asyncpg

from settings import Settings, asyncpg_url

from .errors import CONNECTION_LOST, UNAVAILABLE
from .pool import create_pool, describe
from .types import Executor

log = logging.getLogger("vesper.db")

T = TypeVar("T")

PRIMARY = "primary"
REPLICA = "replica"

# What transaction mode sends around a statement that is not in a write's transaction
# (marked: not counted as the request's statements by observability/querystats.py, so
# counts are the same in both modes; their time is counted).
FRAME = "/* frame */"
CLOSE_FRAME = f"COMMIT {FRAME}"

# A replica's view of itself: in recovery, and how far it has replayed (with what it takes
# to compare that with the primary's positions, `next_record`).
_REPLICA_STATE = """
SELECT pg_is_in_recovery() AS in_recovery,
       pg_last_wal_replay_lsn()::text AS replayed,
       current_setting('wal_block_size')::int AS block,
       pg_size_bytes(current_setting('wal_segment_size')) AS segment
"""

# The primary's WAL position once a write has committed: where its next record goes
# (the insert position; the flush position may still be before the commit record with
# asynchronous commit). A replica has applied the write once it would put its next record
# there too (`next_record`).
POSITION = "SELECT pg_current_wal_insert_lsn()::text"

# WAL records start at 8-byte boundaries, after the header of the page (24 bytes; 40 on a
# segment's first page) when they start a page.
_ALIGN, _PAGE_HEADER, _SEGMENT_HEADER = 8, 24, 40


def next_record(replayed: int, *, block: int, segment: int) -> int:
    """Where the record after one that ends at `replayed` starts: comparable with a
    consistency token even when the primary has written nothing since (a token taken
    after a segment switch or at a page's end lies past the page header)."""
    position = -(-replayed // _ALIGN) * _ALIGN
    if position % block == 0:
        position += _SEGMENT_HEADER if position % segment == 0 else _PAGE_HEADER
    return position


async def position(conn: Executor) -> str:
    """The consistency token of what `conn` just committed."""
    token: str = await conn.fetchval(POSITION)
    return token


_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")


class BadToken(ValueError):
    """A consistency token that is not one this server issues."""


def parse_token(token: str) -> int:
    """The WAL position a consistency token stands for (`X/Y`, PostgreSQL's LSN text)."""
    match = _LSN.match(token.strip())
    if match is None:
        raise BadToken("X-Vesper-Consistency must be a token returned by a mutation")
    return (int(match[1], 16) << 32) | int(match[2], 16)


@dataclass(slots=True)
class Database:
    """One server's pool. `begin` opens a write's transaction (with the statement timeout
    in transaction mode); `frame`, in transaction mode, the transaction of its own that
    each other statement runs in (None in session mode: the timeout is a connection
    setting and a statement needs no frame)."""

    pool: asyncpg.Pool[Any]
    begin: str = "BEGIN"
    frame: str | None = None

    @classmethod
    def over(cls, pool: asyncpg.Pool[Any], *, timeout_ms: int | None) -> Database:
        """`timeout_ms` None: session mode."""
        if timeout_ms is None:
            return cls(pool)
        timeout = f"SET LOCAL statement_timeout = {int(timeout_ms)}"
        return cls(pool, f"BEGIN; {timeout}", f"BEGIN {FRAME}; {timeout}")

    def acquire(self) -> Any:
        return self.pool.acquire()

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return await self._run("fetch", query, args)  # type: ignore[no-any-return]

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self._run("fetchrow", query, args)  # type: ignore[no-any-return]

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._run("fetchval", query, args)

    async def execute(self, query: str, *args: Any) -> str:
        return await self._run("execute", query, args)  # type: ignore[no-any-return]

    async def _run(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        async with self.pool.acquire() as conn:
            try:
                if self.frame is None:
                    return await getattr(conn, method)(query, *args)
                await conn.execute(self.frame)
                try:
                    result = await getattr(conn, method)(query, *args)
                except asyncpg.PostgresError:  # the frame's transaction is aborted
                    await conn.execute(f"ROLLBACK {FRAME}")
                    raise
                await conn.execute(CLOSE_FRAME)
                return result
            except CONNECTION_LOST:
                # the server went away or restarted: the other idle connections are as
                # dead as this one; open new ones rather than fail a request on each
                await self.pool.expire_connections()
                raise


@dataclass(slots=True)
class Probe:
    """A connection of the health check's own to one server: never queued behind requests
    (a busy server is not a dead one); opened again after a failure."""

    url: str
    conn: asyncpg.Connection[Any] | None = None

    async def fetchrow(self, query: str, *, within: float) -> asyncpg.Record | None:
        try:
            async with asyncio.timeout(within):
                if self.conn is None or self.conn.is_closed():
                    self.conn = await asyncpg.connect(
                        self.url, statement_cache_size=0, server_settings=None
                    )
                return await self.conn.fetchrow(query)
        except BaseException:
            self.drop()
            raise

    def drop(self) -> None:
        if self.conn is not None:
            self.conn.terminate()
            self.conn = None


@dataclass(slots=True)
class Timeline:
    """The primary's WAL position as the checks saw it over the last `keep` seconds, to
    tell how far in time a replica's replay position lies behind: a replica that has not
    replayed what the primary had written at time t lags at least now - t. (Not the age of
    its last replayed commit: a primary writing WAL without commits — vacuum, hint bits —
    would make a caught-up replica look minutes behind.)"""

    keep: float
    samples: collections.deque[tuple[float, int]] = field(default_factory=collections.deque)

    def add(self, at: float, position: int) -> None:
        self.samples.append((at, position))
        while self.samples and self.samples[0][0] < at - self.keep:
            self.samples.popleft()

    def lag(self, replayed: int, now: float) -> float:
        """Seconds behind for a replica whose next record goes at `replayed`; infinite
        when it is behind the oldest position kept (how far is not known)."""
        for index, (at, position) in enumerate(self.samples):
            if position > replayed:
                return math.inf if index == 0 else now - at
        return 0.0


@dataclass(slots=True)
class Replica:
    """A replica's pool for requests, and its state as the last check found it."""

    database: Database
    probe: Probe
    name: str  # host:port/database, for metrics and logs
    healthy: bool = False
    replayed: int = -1  # the position of its next record (`next_record`): tokens up to it
    why: str = "not checked yet"


# Errors under which a read moves from a replica to the primary: the replica is unreachable,
# or cancelled the statement for a conflict with recovery (a hot standby's own hazard).
_REPLICA_TROUBLE = (
    *CONNECTION_LOST,
    TimeoutError,  # it stopped answering
    asyncpg.SerializationError,
    asyncpg.ReadOnlySQLTransactionError,
)


@dataclass(slots=True)
class ReadDatabase:
    """A query's database: the chosen replica, moving to the primary for good (this
    request) the first time the replica fails."""

    replica: Replica
    primary: Database
    topology: Topology
    role: str = REPLICA

    def acquire(self) -> Any:
        return self.primary.acquire()  # what needs a connection of its own is a write

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return await self._either(lambda db: db.fetch(query, *args))

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self._either(lambda db: db.fetchrow(query, *args))

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._either(lambda db: db.fetchval(query, *args))

    async def execute(self, query: str, *args: Any) -> str:
        return await self._either(lambda db: db.execute(query, *args))

    async def _either(self, run: Callable[[Database], Awaitable[T]]) -> T:
        if self.role == REPLICA:
            try:
                return await run(self.replica.database)
            except _REPLICA_TROUBLE as exc:
                self.topology.replica_failed(self.replica, exc)
                self.role = PRIMARY
        return await run(self.primary)


Reads = Database | ReadDatabase


class Watcher(Protocol):
    """What the topology reports (the metrics, in the server)."""

    def served(self, role: str) -> None: ...
    def fell_back(self, reason: str) -> None: ...
    def lag(self, replica: str, seconds: float | None) -> None: ...


class _Unwatched:
    def served(self, role: str) -> None:
        pass

    def fell_back(self, reason: str) -> None:
        pass

    def lag(self, replica: str, seconds: float | None) -> None:
        pass


@dataclass(slots=True)
class Topology:
    """The primary and the replicas of one process, and the background health check."""

    primary: Database
    replicas: list[Replica] = field(default_factory=list)
    primary_probe: Probe | None = None  # where the checks read the primary's position
    max_lag_ms: float = 1000
    check_seconds: float = 0.25
    watcher: Watcher = field(default_factory=_Unwatched)
    timeline: Timeline = field(default_factory=lambda: Timeline(keep=60.0))
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _checker: asyncio.Task[None] | None = None

    def for_write(self) -> Database:
        self.watcher.served(PRIMARY)
        return self.primary

    def for_read(self, after: int | None = None) -> Reads:
        """A healthy replica that has replayed `after` (a parsed consistency token), taking
        turns; else the primary, counted by why."""
        if not self.replicas:
            self.watcher.served(PRIMARY)
            return self.primary
        healthy = [r for r in self.replicas if r.healthy]
        ready = [r for r in healthy if after is None or r.replayed >= after]
        if ready:
            self.watcher.served(REPLICA)
            return ReadDatabase(ready[next(self._turn) % len(ready)], self.primary, self)
        self.watcher.fell_back("behind_token" if healthy else "unhealthy")
        self.watcher.served(PRIMARY)
        return self.primary

    def replica_failed(self, replica: Replica, exc: BaseException) -> None:
        self.watcher.fell_back("failed")
        if replica.healthy:
            log.warning(
                "replica %s failed (%s): the primary serves", replica.name, type(exc).__name__
            )
        replica.healthy = False
        replica.why = f"failed under a request ({type(exc).__name__})"

    @property
    def _within(self) -> float:
        return max(1.0, 4 * self.check_seconds)

    async def sample_primary(self) -> None:
        """Adds the primary's position now to the timeline (none while it is away: the
        replicas are then judged by what it wrote before)."""
        if self.primary_probe is None:
            return
        with contextlib.suppress(*UNAVAILABLE, asyncpg.PostgresError):
            row = await self.primary_probe.fetchrow(POSITION, within=self._within)
            assert row is not None
            self.timeline.add(time.monotonic(), parse_token(row[0]))

    async def check(self, replica: Replica) -> None:
        """Reads `replica`'s state once, within the check interval's budget."""
        was = replica.healthy
        try:
            row = await replica.probe.fetchrow(_REPLICA_STATE, within=self._within)
        except (*UNAVAILABLE, asyncpg.PostgresError) as exc:
            replica.healthy, replica.why = False, f"unreachable ({type(exc).__name__})"
            await replica.database.pool.expire_connections()
            self.watcher.lag(replica.name, None)
        else:
            assert row is not None
            replayed = -1
            if row["replayed"]:
                position = parse_token(row["replayed"])
                replayed = next_record(position, block=row["block"], segment=row["segment"])
            lag = self.timeline.lag(replayed, time.monotonic()) * 1000
            self.watcher.lag(replica.name, lag / 1000 if lag != math.inf else None)
            if not row["in_recovery"]:
                replica.healthy, replica.why = False, "not in recovery (not a replica)"
            elif lag > self.max_lag_ms:
                replica.healthy, replica.why = False, f"lagging {lag:.0f} ms"
            else:
                replica.healthy, replica.why = True, "ok"
            replica.replayed = replayed
        if replica.healthy != was:
            log.info("replica %s: %s", replica.name, replica.why)

    async def check_all(self) -> None:
        await self.sample_primary()
        await asyncio.gather(*(self.check(r) for r in self.replicas))

    async def _check_forever(self) -> None:
        while True:
            started = time.monotonic()
            await self.check_all()
            await asyncio.sleep(max(0.0, self.check_seconds - (time.monotonic() - started)))

    @contextlib.asynccontextmanager
    async def checking(self) -> AsyncIterator[Topology]:
        """The background check runs while this is entered (the first round done before)."""
        if not self.replicas:
            yield self
            return
        await self.check_all()
        self._checker = asyncio.create_task(self._check_forever(), name="replica-check")
        try:
            yield self
        finally:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker

    async def close(self) -> None:
        for probe in (self.primary_probe, *(r.probe for r in self.replicas)):
            if probe is not None:
                probe.drop()
        await asyncio.gather(
            self.primary.pool.close(), *(r.database.pool.close() for r in self.replicas)
        )


async def open_database(
    url: str,
    settings: Settings,
    *,
    init: Callable[[asyncpg.Connection[asyncpg.Record]], Coroutine[Any, Any, None]] | None = None,
    min_size: int | None = None,
) -> Database:
    """A pool on `url` as the server opens them, the statement timeout applied as the pool
    mode needs (a connection setting, or per transaction behind a transaction pooler)."""
    timeout = settings.statement_timeout_ms if settings.transaction_pooled else None
    pool = await create_pool(url, settings, init=init, min_size=min_size)
    return Database.over(pool, timeout_ms=timeout)


async def open_topology(
    url: str,
    settings: Settings,
    *,
    init: Callable[[asyncpg.Connection[asyncpg.Record]], Coroutine[Any, Any, None]],
    watcher: Watcher,
) -> Topology:
    """The primary's pool (connected now: the server does not start without it) and the
    replicas' (connected on first use: a replica may be down at start)."""
    primary = await open_database(url, settings, init=init)
    replicas = []
    for replica_url in map(asyncpg_url, settings.replica_urls):
        database = await open_database(replica_url, settings, init=init, min_size=0)
        replicas.append(Replica(database, Probe(replica_url), describe(replica_url)))
    return Topology(
        primary,
        replicas,
        primary_probe=Probe(url) if replicas else None,
        max_lag_ms=settings.replica_max_lag_ms,
        check_seconds=settings.replica_check_ms / 1000,
        watcher=watcher,
    )
