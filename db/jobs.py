"""The job queue (PgQueuer; its tables are migration 0015's): what a write enqueues in its
own transaction, what the queue holds (`vesper jobs`, /metrics), and the steps its jobs run
(jobs/, db/queries/jobs.sql): the purge of a deleted project, and the settling of a big
session's published_outputs rows after a change of privacy or project (migration 0018).

A job is enqueued with a dedupe key (its kind and the row it is about), so that a job
already waiting or running for the same row is not queued twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pgqueuer import AsyncpgDriver, Queries

from .sql import load_queries
from .types import Connection, Executor

_Q = load_queries("jobs")

PURGE_PROJECT = "purge_project"  # payload: the project's id (16 bytes)
# Enqueued by migration 0018's session trigger (so whoever writes), without a dedupe key.
SETTLE_SESSION = "settle_session"  # payload: the session's id


async def enqueue(conn: Connection, kind: str, key: uuid.UUID) -> None:
    """Queues job `kind` about `key` on `conn`: with its transaction, or not at all."""
    queries = Queries(AsyncpgDriver(conn))  # type: ignore[arg-type]
    await queries.enqueue(kind, key.bytes, dedupe_key=f"{kind}:{key}", on_conflict="skip")


@dataclass(frozen=True, slots=True)
class Waiting:
    kind: str
    status: str  # queued or picked (running)
    jobs: int
    oldest_s: float


@dataclass(frozen=True, slots=True)
class Failed:
    id: int
    kind: str
    key: uuid.UUID | None
    attempts: int
    at: datetime


async def waiting(db: Executor) -> list[Waiting]:
    """Jobs waiting or running, by kind and status."""
    return [Waiting(*row) for row in await db.fetch(_Q["jobs_summary"])]


async def failed(db: Executor, *, limit: int = 20) -> list[Failed]:
    """Jobs that failed for good, newest first."""
    rows = await db.fetch(_Q["jobs_failed"], limit)
    return [
        Failed(row["id"], row["entrypoint"], _key(row["payload"]), row["attempts"], row["updated"])
        for row in rows
    ]


def _key(payload: bytes | None) -> uuid.UUID | None:
    """The row a job is about (its payload: the id's 16 bytes)."""
    return uuid.UUID(bytes=payload) if payload is not None and len(payload) == 16 else None


async def retry_failed(conn: Connection) -> int:
    """Queues every job that failed for good again (attempts from 0); how many."""
    ids = [row["id"] for row in await conn.fetch(_Q["jobs_failed_ids"])]
    if ids:
        await Queries(AsyncpgDriver(conn)).requeue_jobs(ids)  # type: ignore[arg-type]
    return len(ids)


async def depth(db: Executor) -> tuple[int, float]:
    """Jobs waiting or running, and the age in seconds of the oldest (0 when none)."""
    row = await db.fetchrow(_Q["jobs_depth"])
    assert row is not None
    return row["depth"], row["oldest_s"]


PURGE_PHASES = (("generations",), ("sessions", "project"))


async def purge_step(
    db: Executor, project: uuid.UUID, *, batch: int, phase: tuple[str, ...]
) -> tuple[str, int]:
    """One bounded step of deleted project `project`'s purge, in a transaction of its own:
    in the first phase up to `batch` generations (with their outputs); in the second up to
    `batch` sessions, else the project's row. What it deleted and how many; ("done", 0)
    when nothing of the phase was left."""
    for what in phase:
        query = _Q[f"purge_{what}"]
        args = (project,) if what == "project" else (project, batch)
        count: int = await db.fetchval(query, *args)
        if count:
            return what, count
    return "done", 0


async def held_elsewhere(db: Executor, project: uuid.UUID) -> bool:
    """Whether deleted project `project` holds a session another project still reads session
    by session (a big session deleted by moving it here)."""
    held: bool = await db.fetchval(_Q["purge_held_elsewhere"], project)
    return held


@dataclass(frozen=True, slots=True)
class SettleStep:
    rewritten: int  # copies rewritten by the step
    walked: bool  # the walk is at its end: finish it
    settled: bool  # nothing for this job to do


async def settle_step(
    db: Executor, session: uuid.UUID, *, batch: int, job: int, stale_after_s: float
) -> SettleStep:
    """One bounded step of job `job` settling `session`, in a transaction of its own: up to
    `batch` of its published_outputs rows walked, the stale ones rewritten. `settled` when
    the job has nothing to do: nothing settling, or the session walked by another job that
    stepped less than `stale_after_s` ago."""
    row = await db.fetchrow(_Q["settle_step"], session, batch, job, stale_after_s)
    assert row is not None
    return SettleStep(row["rewritten"], row["walked"], row["settled"])


async def settle_finish(db: Executor, session: uuid.UUID, *, job: int) -> bool:
    """Ends job `job`'s walk of `session`: its records removed, its project(s) reading their
    ranges again; False when the session changed since the walk ended (it starts again)."""
    finished: bool = await db.fetchval(_Q["settle_finish"], session, job)
    return finished


async def vacuum_published(conn: Connection) -> None:
    """VACUUM (ANALYZE) of published_outputs, on a connection without a statement timeout
    (outside a transaction, as VACUUM must be)."""
    await conn.execute(_Q["vacuum_published"])
