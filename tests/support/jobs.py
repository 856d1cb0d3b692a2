"""Running the job queue's worker from a test: until the queue is empty."""

from __future__ import annotations

from jobs.worker import work_alone
from settings import Settings


async def drain(settings: Settings) -> None:
    """A real worker (jobs/worker.py) on the settings' database until no job is left."""
    assert settings.database_url is not None
    await work_alone(settings, settings.database_url, drain=True)
