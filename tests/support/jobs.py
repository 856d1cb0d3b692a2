"""Running the job queue's worker from a test: until the queue is empty."""

from __future__ import annotations

from db.pool import create_pool
from db.topology import Database
from jobs.worker import work
from settings import Settings


async def drain(settings: Settings) -> None:
    """A real worker (jobs/worker.py) on the settings' database until no job is left."""
    assert settings.database_url is not None
    pool = await create_pool(settings.database_url, settings)
    try:
        await work(
            settings, settings.database_url, Database.over(pool, timeout_ms=None), drain=True
        )
    finally:
        await pool.close()
