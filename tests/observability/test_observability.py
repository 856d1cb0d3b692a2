"""Observability: `/metrics` (names, labels, counts that grow), agreement with
`extensions.queries`, loader batch sizes, errors by code, the request log, the
slow-statement log, JSON logs, and several uvicorn workers sharing their metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from db.ops.parts import free_port
from observability import logs, metrics
from observability.querystats import statement_label
from observability.requestid import RequestIdMiddleware
from settings import ROOT
from tests.support import factories as f
from tests.support.graphql import codes, gql, post, token

# The metrics count what the server runs: one execution per request, not the differential
# mode's two (tests/conftest.py `settings`).
ONE_EXECUTION = pytest.mark.parametrize("settings", [{"execution": "compiled"}], indirect=True)

CARDS = """
query CardsPage {
  projects(first: 20) {
    edges { node { id name owner { displayName } sessionCount thumbnailUrl members { role } } }
  }
}
"""
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, keyed by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name` over every series whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much `name` (summed over the series matching `labels`) grew between scrapes."""
    return total(after, name, **labels) - total(before, name, **labels)


async def owner_with_projects(conn: f.Conn, count: int) -> uuid.UUID:
    owner = await f.profile(conn, f"owner{uuid.uuid4().hex[:6]}")
    for n in range(count):
        project = await f.project(conn, owner, f"P{n}")
        session = await f.session(conn, project)
        await f.output(conn, await f.generation(conn, session, owner))
    return owner


@ONE_EXECUTION
async def test_metrics_name_every_family_and_count_requests_by_operation(
    client: httpx.AsyncClient, conn: f.Conn
) -> None:
    owner = await owner_with_projects(conn, 3)
    before = await scrape(client)
    for _ in range(3):
        await gql(client, CARDS, bearer=token(owner))
    after = await scrape(client)

    requests = "vesper_request_duration_seconds_count"
    assert grew(before, after, requests, operation="CardsPage", outcome="ok") == 3
    statements = "vesper_sql_statement_duration_seconds_count"
    assert grew(before, after, statements, block="projects.projects_page_forward") == 3
    # 3 cards per request: the members loader batches all of them at once; the card
    # figures and owners came with the page, so their loaders load nothing.
    batches = "vesper_dataloader_batch_size_sum"
    assert grew(before, after, batches, loader="members_by_project") == 3 * 3
    assert grew(before, after, batches, loader="stats_by_project") == 0
    assert grew(before, after, batches, loader="profile_by_id") == 0
    assert total(after, "vesper_db_pool_size") >= 1
    assert ("vesper_db_pool_in_use", ()) in after


@ONE_EXECUTION
async def test_metrics_count_the_statements_extensions_queries_report(
    client: httpx.AsyncClient, conn: f.Conn
) -> None:
    owner = await owner_with_projects(conn, 2)
    sessions = "query Deep { projects { edges { node { sessions { edges { node { id } } } } } } }"
    before = await scrape(client)
    reported = 0
    for query in (CARDS, sessions, CARDS):
        body = await gql(client, query, bearer=token(owner))
        reported += body["extensions"]["queries"]["count"]
    after = await scrape(client)
    assert reported > 0
    # and the second scrape's own: it reads the job queue's depth (jobs_depth)
    statements = "vesper_sql_statement_duration_seconds_count"
    assert grew(before, after, statements) == reported + 1
    assert grew(before, after, statements, block="jobs.jobs_depth") == 1
    assert grew(before, after, "vesper_request_statements_sum") == reported


async def test_errors_are_counted_by_code(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    await post(client, "{ viewer { id } }")  # no token
    await post(client, "{ viewer { id }", bearer=token(uuid.uuid4()))  # cannot parse
    after = await scrape(client)
    for code in ("UNAUTHENTICATED", "GRAPHQL_PARSE_FAILED"):
        assert grew(before, after, "vesper_graphql_errors_total", code=code) == 1, code
    assert grew(before, after, "vesper_request_duration_seconds_count", outcome="error") == 2


async def test_a_request_refused_before_execution_is_counted_too(
    client: httpx.AsyncClient,
) -> None:
    before = await scrape(client)
    response = await client.post(
        "/graphql", content=b"not json", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    after = await scrape(client)
    assert grew(before, after, "vesper_graphql_errors_total", code="BAD_USER_INPUT") == 1


async def test_a_request_failing_before_graphql_runs_is_masked_and_counted(
    client: httpx.AsyncClient, conn: f.Conn
) -> None:
    await conn.execute("ALTER TABLE profiles RENAME COLUMN role TO gone")  # auth cannot read
    before = await scrape(client)
    response = await post(client, "{ viewer { id } }", bearer=token(uuid.uuid4()))
    # A well-formed application/json request is answered with 200 whatever happens
    # (GraphQL-over-HTTP); application/graphql-response+json may say 500.
    assert response.status_code == 200
    assert codes(response.json()) == ["INTERNAL_SERVER_ERROR"]
    assert "gone" not in response.text
    strict = await client.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Accept": "application/graphql-response+json", "Authorization": "Bearer x.y.z"},
    )
    assert (strict.status_code, codes(strict.json())) == (200, ["UNAUTHENTICATED"])
    strict = await client.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={
            "Accept": "application/graphql-response+json",
            "Authorization": f"Bearer {token(uuid.uuid4())}",
        },
    )
    assert (strict.status_code, codes(strict.json())) == (500, ["INTERNAL_SERVER_ERROR"])
    after = await scrape(client)
    assert grew(before, after, "vesper_graphql_errors_total", code="INTERNAL_SERVER_ERROR") == 2


def test_operation_labels_are_graphql_names_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    assert metrics.operation_label("CardsPage") == "CardsPage"
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("drop table; --") == "anonymous"
    assert metrics.operation_label("x" * 65) == "anonymous"
    monkeypatch.setattr(metrics, "_operations", {f"Op{n}" for n in range(metrics.MAX_OPERATIONS)})
    assert metrics.operation_label("Op7") == "Op7"
    assert metrics.operation_label("OneTooMany") == "other"


def test_statements_are_labelled_by_sql_block() -> None:
    from db.sql import load_queries

    assert statement_label(load_queries("profiles")["viewer_role"]) == "profiles.viewer_role"
    assert statement_label("BEGIN;") == "transaction"
    assert statement_label("COMMIT;") == "transaction"
    assert statement_label("SELECT 1") == "other"


async def test_each_request_logs_one_line_with_its_id_operation_and_statements(
    client: httpx.AsyncClient, conn: f.Conn, caplog: pytest.LogCaptureFixture
) -> None:
    owner = await owner_with_projects(conn, 1)
    caplog.set_level(logging.INFO, logger="vesper.request")
    response = await post(client, CARDS, bearer=token(owner), headers={"X-Request-Id": "rq-42"})
    assert response.headers["x-request-id"] == "rq-42"
    [record] = [r for r in caplog.records if r.name == "vesper.request"]
    assert record.request_id == "rq-42"  # type: ignore[attr-defined]
    assert record.operation == "CardsPage"  # type: ignore[attr-defined]
    assert record.outcome == "ok"  # type: ignore[attr-defined]
    assert record.status == 200  # type: ignore[attr-defined]
    reported = response.json()["extensions"]["queries"]["count"]
    assert record.statements == reported  # type: ignore[attr-defined]
    assert record.ms > 0  # type: ignore[attr-defined]


async def test_error_extensions_carry_the_request_id_of_the_header(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, "{ viewer { id } }", headers={"X-Request-Id": "abc-1"})
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    assert response.json()["errors"][0]["extensions"]["requestId"] == "abc-1"


@pytest.mark.parametrize("settings", [{"slow_statement_ms": 0}], indirect=True)
async def test_slow_statements_are_logged_with_their_sql_block_and_request(
    client: httpx.AsyncClient, conn: f.Conn, caplog: pytest.LogCaptureFixture
) -> None:
    owner = await owner_with_projects(conn, 1)
    caplog.set_level(logging.WARNING, logger="vesper.sql")
    await post(client, CARDS, bearer=token(owner), headers={"X-Request-Id": "slow-1"})
    await asyncio.sleep(0)
    slow = [r for r in caplog.records if r.name == "vesper.sql"]
    blocks = {r.block for r in slow}  # type: ignore[attr-defined]
    assert {"profiles.viewer_role", "projects.projects_page_forward"} <= blocks
    assert {r.request_id for r in slow} == {"slow-1"}  # type: ignore[attr-defined]
    assert "SELECT" not in " ".join(r.getMessage() for r in slow)  # names, not SQL text


async def test_fast_statements_are_not_logged_at_the_default_threshold(
    client: httpx.AsyncClient, conn: f.Conn, caplog: pytest.LogCaptureFixture
) -> None:
    owner = await owner_with_projects(conn, 1)
    caplog.set_level(logging.WARNING, logger="vesper.sql")
    await gql(client, CARDS, bearer=token(owner))
    assert not [r for r in caplog.records if r.name == "vesper.sql"]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ("", *logs.UVICORN, *logs.QUIET)]
    saved = [(list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    yield
    for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


@pytest.mark.usefixtures("restore_logging")
def test_json_logs_are_one_object_per_line_with_the_extras(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure(log_format="json", level="INFO")
    logs.configure(log_format="json", level="INFO")  # twice: still one handler
    logging.getLogger("vesper.request").info("hello %s", "there", extra={"request_id": "r1"})
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    logging.getLogger("uvicorn.access").info('%s - "%s" %d', "127.0.0.1:1", "GET /x", 200)
    mine, started, access = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert mine["message"] == "hello there"
    assert mine["level"] == "INFO"
    assert mine["logger"] == "vesper.request"
    assert mine["request_id"] == "r1"
    for record in (mine, started, access):  # ISO-8601 in UTC, milliseconds
        assert datetime.fromisoformat(record["time"]).utcoffset() == timedelta(0)
        assert record["time"].endswith("+00:00")
    assert started["message"] == "Started server process [42]"
    assert access["logger"] == "uvicorn.access"


@pytest.mark.usefixtures("restore_logging")
async def test_a_line_logged_while_a_request_is_served_carries_its_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure(log_format="json", level="INFO")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        logging.getLogger("somewhere.deep").info("working")  # no request id passed
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=RequestIdMiddleware(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        await http.get("/", headers={"X-Request-Id": "probe-1"})
    logging.getLogger("elsewhere").warning("outside any request")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    working, outside = [r for r in lines if r["logger"] in ("somewhere.deep", "elsewhere")]
    assert working["request_id"] == "probe-1"
    assert "request_id" not in outside


@pytest.mark.usefixtures("restore_logging")
def test_text_logs_respect_the_level(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure(log_format="text", level="WARNING")
    logging.getLogger("vesper.request").info("not shown")
    logging.getLogger("vesper.sql").warning("shown")
    err = capsys.readouterr().err
    assert "not shown" not in err
    assert "WARNING vesper.sql: shown" in err


@pytest.mark.slow  # two real uvicorn worker processes
async def test_two_uvicorn_workers_report_every_request_in_one_scrape(
    db_url: str, conn: f.Conn, tmp_path: Path
) -> None:
    owner = await owner_with_projects(conn, 1)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "VESPER_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "server:app", "--workers", "2"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    server = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, env=env, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(100):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            # New connections each time, so that both workers answer some of them.
            for _ in range(24):
                async with httpx.AsyncClient(base_url=http.base_url) as fresh:
                    await gql(fresh, CARDS, bearer=token(owner))
            samples = parse((await http.get("/metrics")).text)
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), timeout=20)
    requests = "vesper_request_duration_seconds_count"
    assert total(samples, requests, operation="CardsPage", outcome="ok") == 24
    pools = total(samples, "vesper_db_pool_size")
    assert pools >= 2, "each worker has a pool with at least one connection"
