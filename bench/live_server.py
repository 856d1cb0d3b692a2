"""The real server for the benchmark: uvicorn in a child process, as it runs in production.

Started with the production environment (query statistics on, so that each response says
how many statements it cost), on a free local port, and stopped afterwards whatever
happens — an error, a failed check or Ctrl-C. Readiness is `/readyz` answering 200, so the
first timed request never meets a cold start.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from settings import ROOT

from .database import BenchError

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class ServerConfig:
    database_url: str
    jwt_secret: str
    stats_source: str  # read_model or live
    workers: int = 1
    pool_max: int = 16


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _environment(config: ServerConfig, metrics_dir: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=config.database_url,
        VESPER_ENV="production",
        VESPER_JWT_SECRET=config.jwt_secret,
        VESPER_QUERY_STATS="1",
        VESPER_STATS_SOURCE=config.stats_source,
        VESPER_POOL_MAX=str(config.pool_max),
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if metrics_dir is not None:  # worker processes share their metrics through files
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    return env


async def _wait_ready(process: asyncio.subprocess.Process, base: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                break
            try:
                async with session.get(f"{base}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    why = "exited" if process.returncode is not None else f"not ready after {READY_TIMEOUT_S:.0f} s"
    text = await asyncio.to_thread(log.read_text, encoding="utf-8", errors="replace")
    tail = text[-4000:]
    raise BenchError(f"the server {why}; its stderr:\n{tail}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def serving(config: ServerConfig) -> AsyncIterator[str]:
    """Runs the server for the block; yields its base URL (http://127.0.0.1:<port>)."""
    port = _free_port()
    metrics_dir = tempfile.mkdtemp(prefix="vesper-metrics-") if config.workers > 1 else None
    command = [
        sys.executable, "-m", "uvicorn", "server:app", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(config.workers), "--no-access-log",
    ]  # fmt: skip
    with tempfile.NamedTemporaryFile(prefix="vesper-bench-", suffix=".log") as log:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env=_environment(config, metrics_dir),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            await _wait_ready(process, base, Path(log.name))
            yield base
        finally:
            await _stop(process)
            if metrics_dir is not None:
                shutil.rmtree(metrics_dir, ignore_errors=True)
