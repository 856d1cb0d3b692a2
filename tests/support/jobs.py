"""Running the job queue's worker from a test: in this process until the queue is empty, or
as a command."""

from __future__ import annotations

import asyncio

from jobs.worker import work_alone
from settings import Settings


async def drain(settings: Settings) -> None:
    """A real worker (jobs/worker.py) on the settings' database until no job is left."""
    assert settings.database_url is not None
    await work_alone(settings, settings.database_url, drain=True)


async def run_command(env: dict[str, str], *argv: str) -> tuple[int | None, str, str]:
    """A command to its end (two minutes at most): its exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()
