"""The worker (README "Big writes"): it purges deleted projects and settles big sessions'
published_outputs rows after a change of privacy or project.

PgQueuer's QueueManager picks jobs (FOR UPDATE SKIP LOCKED, so any number of workers share
the queue) on a connection of its own: a session, since it LISTENs for new jobs — opened on
DATABASE_DIRECT_URL when the API goes through a transaction pooler. The work itself runs on
the API's pool, each bounded step its own transaction, so a pooler is no obstacle to it.

A running job's heartbeat is renewed every half `job_heartbeat_s`. A worker killed in the
middle of a step loses that step's transaction only (PostgreSQL rolls it back); its job,
once its heartbeat is `job_heartbeat_s` old, is taken by the next worker, which goes on
from what was committed: a purge step deletes what is left and a settling step goes on from
the walk's committed position, so none is done twice or lost.
A job that raises is retried with exponential backoff (`job_attempts` tries, 5 by default,
from 1 s), then held as failed: `vesper jobs` shows it, `vesper jobs --retry` queues it
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import asyncpg
from pgqueuer import AsyncpgDriver, DatabaseRetryEntrypointExecutor, Job, Queries, QueueManager

from db import jobs
from db.topology import open_database
from db.types import Executor
from observability import metrics
from settings import Settings, asyncpg_url

log = logging.getLogger("vesper.jobs")


Vacuum = Callable[[], Awaitable[None]]


def vacuum_on(url: str) -> Vacuum:
    """VACUUM of published_outputs on a connection of its own to `url`, without the API's
    statement timeout."""

    async def vacuum() -> None:
        conn = await asyncpg.connect(asyncpg_url(url), server_settings={"statement_timeout": "0"})
        try:
            await jobs.vacuum_published(conn)
        finally:
            await conn.close()

    return vacuum


VACUUM_AFTER_ROWS = 10_000  # rows a job rewrote or deleted, from which it vacuums


async def purge_project(db: Executor, project: uuid.UUID, *, batch: int, vacuum: Vacuum) -> int:
    """Deletes what is left of deleted project `project`, one bounded step per transaction;
    the steps taken. Between its generations and its sessions, when it deleted many of a
    session that another project still reads session by session (a big session deleted by
    moving it here: until its row goes, migration 0018), it vacuums published_outputs, so
    that from then on that project's ranges no longer hold the dead rows' index entries.
    Nobody reads the ranges of the deleted project itself."""
    steps = 0
    for phase in jobs.PURGE_PHASES:
        deleted = 0
        while True:
            what, count = await jobs.purge_step(db, project, batch=batch, phase=phase)
            if what == "done":
                break
            steps += 1
            deleted += count
            metrics.JOB_STEPS.labels(kind=jobs.PURGE_PROJECT).inc()
            log.debug("purge of project %s: %d %s deleted", project, count, what)
        if (
            phase == jobs.PURGE_PHASES[0]
            and deleted >= VACUUM_AFTER_ROWS
            and await jobs.held_elsewhere(db, project)
        ):
            await vacuum()
    return steps


async def settle_session(
    db: Executor,
    session: uuid.UUID,
    *,
    batch: int,
    job: int,
    stale_after_s: float,
    vacuum: Vacuum,
) -> int:
    """Rewrites what is stale of `session`'s published_outputs rows, one bounded step per
    transaction, until it is settled or found walked by another live job; the rows
    rewritten. At the walk's end, when it rewrote many, it vacuums published_outputs before
    the project reads its ranges again (which would otherwise step over the old copies'
    index entries until autovacuum comes); a walk started again vacuums only for what it
    rewrote since."""
    rewritten = unvacuumed = 0
    while True:
        step = await jobs.settle_step(
            db, session, batch=batch, job=job, stale_after_s=stale_after_s
        )
        metrics.JOB_STEPS.labels(kind=jobs.SETTLE_SESSION).inc()
        rewritten += step.rewritten
        unvacuumed += step.rewritten
        if step.settled:
            return rewritten
        if step.walked:
            if unvacuumed >= VACUUM_AFTER_ROWS:
                await vacuum()
                unvacuumed = 0
            if await jobs.settle_finish(db, session, job=job):
                return rewritten


class Worker:
    """One QueueManager with the API's jobs, on `connection`, working on `db`."""

    def __init__(
        self, connection: asyncpg.Connection, db: Executor, settings: Settings, vacuum: Vacuum
    ) -> None:
        self.manager = QueueManager(Queries(AsyncpgDriver(connection)))
        self.heartbeat = timedelta(seconds=settings.job_heartbeat_s)

        async def purge(job: Job) -> None:
            assert job.payload is not None
            project = uuid.UUID(bytes=job.payload)
            steps = await purge_project(db, project, batch=settings.job_batch, vacuum=vacuum)
            log.info("project %s purged in %d steps", project, steps)

        async def settle(job: Job) -> None:
            assert job.payload is not None
            session = uuid.UUID(bytes=job.payload)
            rewritten = await settle_session(
                db,
                session,
                batch=settings.job_batch,
                job=job.id,
                stale_after_s=settings.job_heartbeat_s,
                vacuum=vacuum,
            )
            log.info("settling of session %s: %d published outputs rewritten", session, rewritten)

        for kind, work in ((jobs.PURGE_PROJECT, purge), (jobs.SETTLE_SESSION, settle)):
            self.manager.entrypoint(
                kind,
                on_failure="hold",
                executor_factory=lambda parameters: DatabaseRetryEntrypointExecutor(
                    parameters, max_attempts=settings.job_attempts
                ),
            )(work)

    async def run(self) -> None:
        """Works until stopped. It looks for jobs when told of one (NOTIFY) and at least
        every heartbeat period, so that a job whose worker died is taken again."""
        await self.manager.run(dequeue_timeout=self.heartbeat, heartbeat_timeout=self.heartbeat)

    def stop(self) -> None:
        """Asks the worker to finish the jobs it holds and return."""
        self.manager.shutdown.set()


NO_SESSION = (
    "the job queue's worker needs a session of its own (it LISTENs for new jobs): set "
    "DATABASE_DIRECT_URL beside a transaction pooler"
)


def needs_session(settings: Settings) -> bool:
    """Whether the only URL goes through a transaction pooler (no worker can run on it)."""
    return settings.database_direct_url is None and settings.transaction_pooled


@contextlib.asynccontextmanager
async def _running(settings: Settings, url: str, db: Executor) -> AsyncIterator[asyncio.Task[None]]:
    """A worker running for the time of the block, on a connection of its own: a session on
    the direct URL when there is one. On the way out the step under way may finish; a job
    longer than that is cut (its step rolls back) and taken again by a worker once its
    heartbeat is stale."""
    session_url = settings.database_direct_url or url
    conn = await asyncpg.connect(asyncpg_url(session_url))
    try:
        worker = Worker(conn, db, settings, vacuum_on(session_url))
        task = asyncio.create_task(worker.run())
        try:
            yield task
        finally:
            worker.stop()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=settings.database_deadline)
    finally:
        await conn.close()


DRAIN_POLL_S = 0.2


async def work(settings: Settings, url: str, db: Executor, *, drain: bool = False) -> None:
    """A worker until cancelled or, with `drain`, until no job is waiting or running — a job
    held by a dead worker included: it is taken again once its heartbeat is stale
    (PgQueuer's own drain mode stops when none is waiting). A worker that fails raises."""
    async with _running(settings, url, db) as task:
        while not drain or (await jobs.depth(db))[0]:
            done, _ = await asyncio.wait({task}, timeout=DRAIN_POLL_S if drain else None)
            if done:
                task.result()
                return


async def work_alone(settings: Settings, url: str, *, drain: bool = False) -> None:
    """`work` with a pool of its own on `url`, opened as the server opens its primary's
    (`vesper worker`)."""
    db = await open_database(url, settings)
    try:
        await work(settings, url, db, drain=drain)
    finally:
        await db.pool.close()


@contextlib.asynccontextmanager
async def working(settings: Settings, url: str, db: Executor) -> AsyncIterator[None]:
    """A worker in this process for the time of the block (none with VESPER_WORKER=0)."""
    if not settings.worker:
        yield
    elif needs_session(settings):
        log.warning("%s; deleted projects stay hidden until a worker purges them", NO_SESSION)
        yield
    else:
        async with _running(settings, url, db):
            yield
