"""The real server for the benchmark: uvicorn in a child process, as it runs in production
(and the HTTP floor, bench/http_floor.py, the same way).

Started with the production environment (query statistics on, so that each response says
how many statements it cost), on a free local port, and stopped afterwards whatever
happens — an error, a failed check or Ctrl-C. Readiness is `/readyz` answering 200, so the
first timed request never meets a cold start. The deployment settings are always given
(none inherited from the caller's environment): straight to the database, or through a
transaction pooler (`VESPER_POOL_MODE=transaction`), or with streaming replicas
(`DATABASE_REPLICA_URLS`). What the server reports about itself: its CPU time (the process
and its workers) and, from `/metrics`, which database served its requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psutil

from db.ops.parts import free_port
from settings import ROOT

from .database import BenchError

POOL_MAX = 16  # the server's pool: as many connections as the most requests in flight
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class ServerConfig:
    database_url: str
    jwt_secret: str
    stats_source: str  # read_model or live
    workers: int = 1
    pool_max: int = POOL_MAX
    pool_mode: str = "session"  # or "transaction": DATABASE_URL goes through a pooler
    replica_urls: tuple[str, ...] = ()  # streaming replicas serving the queries
    execution: str = "compiled"  # or "reference": graphql-core only (VESPER_EXECUTION)
    # The job queue's worker in the server (VESPER_WORKER): off where nothing is queued, as
    # a deployment running `vesper worker` apart has it (and one connection fewer: the
    # benchmark's servers and pools share the database's connection limit)
    worker: bool = False


@dataclass(frozen=True, slots=True)
class Served:
    """A running server: where to send requests, and its process."""

    base: str  # http://127.0.0.1:<port>
    pid: int
    endpoint: str = "/graphql"  # where the load's requests go (path and query)

    def cpu_s(self) -> float | None:
        """CPU seconds (user + system) the server has used so far, its worker processes
        included; None when it cannot be read."""
        try:
            process = psutil.Process(self.pid)
            processes = [process, *process.children(recursive=True)]
            total = 0.0
            for p in processes:
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = p.cpu_times()
                    total += times.user + times.system
        except psutil.Error:
            return None
        return total

    async def counters(self, session: aiohttp.ClientSession) -> dict[str, float]:
        """What its /metrics says about the databases it uses: requests by the database that
        served them (`database_requests.<role>`), fallbacks to the primary by reason
        (`replica_fallbacks.<reason>`) and each replica's lag (`replica_lag_seconds.<name>`)."""
        async with session.get(f"{self.base}/metrics") as response:
            text = await response.text()
        return {f"{name}.{label}": float(value) for name, label, value in _SAMPLE.findall(text)}


_SAMPLE = re.compile(
    r"^vesper_(database_requests|replica_fallbacks|replica_lag_seconds)(?:_total)?"
    r'\{(?:role|reason|replica)="([^"]+)"\} (\S+)$',
    re.MULTILINE,
)


def _environment(config: ServerConfig, metrics_dir: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=config.database_url,
        VESPER_ENV="production",
        VESPER_JWT_SECRET=config.jwt_secret,
        VESPER_QUERY_STATS="1",
        VESPER_STATS_SOURCE=config.stats_source,
        VESPER_POOL_MAX=str(config.pool_max),
        VESPER_POOL_MODE=config.pool_mode,
        DATABASE_REPLICA_URLS=",".join(config.replica_urls),
        VESPER_EXECUTION=config.execution,
        VESPER_WORKER="1" if config.worker else "0",
    )
    env.pop("DATABASE_DIRECT_URL", None)
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
async def serving(config: ServerConfig, app: str = "server:app") -> AsyncIterator[Served]:
    """Runs the server for the block; `app`: another ASGI app to serve the same way (the
    HTTP floor, bench/http_floor.py)."""
    port = free_port()
    metrics_dir = tempfile.mkdtemp(prefix="vesper-metrics-") if config.workers > 1 else None
    command = [
        sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(config.workers), "--no-access-log",
        "--ws", "websockets-sansio", "--ws-per-message-deflate", "false",  # as `vesper serve`
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
            yield Served(base, process.pid)
        finally:
            await _stop(process)
            if metrics_dir is not None:
                shutil.rmtree(metrics_dir, ignore_errors=True)
