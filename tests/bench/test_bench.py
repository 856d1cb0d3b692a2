"""`vesper bench`: a smoke run at tiny scale, the naive page against the server's, the load
driver, and the bench database's reuse rules. Timings are never asserted here (the targets
are the benchmark's own business); what is asserted is that every measurement happens,
without errors, on strategies that answer the same page."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

import cli
from bench import QUERIES
from bench.cards import cards_from_api
from bench.database import BenchError, fill
from bench.floor import floor_page, floor_rows
from bench.http_floor import answer
from bench.load import Budget, Outcome, Step, closed_loop, summarize
from bench.naive import naive_page
from bench.options import PATHS, paths_for, scales_for
from bench.paths import check_replica, started
from bench.scenarios import PROJECTS
from bench.seed import Scale, seed
from bench.subjects import WRITE_MODEL
from db.pool import create_pool
from db.sql import load_queries
from settings import Settings
from tests.support.factories import Conn, profile, project
from tests.support.graphql import gql, token
from tests.support.sql import fetchval
from tests.support.topology import OwnPrimary

pytestmark = pytest.mark.slow  # data at volume, or the real server started by the test

TINY = Scale.named("tiny")
EXPLAIN = load_queries("explain", QUERIES)
STRATEGIES = {"naive", "live", "read_model", "reference", "floor", "http_floor"}
READ_MODEL_SCENARIOS = {
    "projects_first",
    "projects_deep",
    "projects_wide",
    "project_page",
    "gallery",
    "mixed",
}
# graphql-core's path, measured on the same requests as compiled plans
REFERENCE_SCENARIOS = {"projects_first", "projects_wide", "project_page", "gallery"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def _generations_of(url: str, model: str) -> int:
    count: int = await fetchval(url, "SELECT count(*) FROM generations WHERE model_id = $1", model)
    return count


def test_a_quick_run_at_tiny_measures_every_strategy_and_scenario_without_errors(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["bench", "--database", db_url, "--scale", "tiny", "--quick", "--no-check",
            "--out", str(tmp_path)]  # fmt: skip
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    # the HTTP floor's answer is the server's data too, not only its cards (bench/measure.py)
    assert (
        "naive, floor, http_floor, live, reference and read_model agree on the first 20 cards"
        in out
    )

    report = json.loads((tmp_path / "bench-tiny.json").read_text())
    results = report["results"]
    assert {r["strategy"] for r in results} == STRATEGIES
    assert {r["scenario"] for r in results if r["strategy"] == "read_model"} == (
        READ_MODEL_SCENARIOS
    )
    assert {r["scenario"] for r in results if r["strategy"] == "reference"} == (REFERENCE_SCENARIOS)
    assert {r["concurrency"] for r in results if r["scenario"] == "projects_first"} == {1, 4, 16}
    assert all(r["errors"] == 0 and r["requests"] > 0 for r in results), results
    assert all(r["statements"] > 0 for r in results), results
    # A quick run compares the pooler path with the direct one (no replica: see
    # bench/options.py); the server's CPU is measured for every request over HTTP.
    assert {r["path"] for r in results} == {"direct", "pooler"}
    over_http = {"read_model", "reference", "live", "http_floor"}
    assert all(r["cpu_ms"] is not None for r in results if r["strategy"] in over_http)
    # The HTTP floor runs the server's statements for the page: as many as it and the floor
    # (live card figures are a statement of their own).
    page = [r for r in results if r["scenario"] == "projects_first" and r["path"] == "direct"]
    counts: dict[str, set[float]] = {}
    for r in page:
        counts.setdefault(r["strategy"], set()).add(r["statements"])
    counts.pop("naive")
    live = counts.pop("live")
    shared = set().union(*counts.values())
    assert len(shared) == 1, page
    assert live == {min(shared) + 1}, page
    assert [(row["scale"], row["concurrency"]) for row in report["http_floor"]] == [
        ("tiny", c) for c in (1, 4, 16)
    ]
    assert all(
        row["server"]["cpu_ms"] > 0 and row["http_floor"]["cpu_ms"] > 0
        and row["server_over_floor"]["rps"] > 0 and row["server_over_floor"]["cpu"] > 0
        for row in report["http_floor"]
    ), report["http_floor"]  # fmt: skip
    assert "server against the HTTP floor" in out
    assert {(row["scenario"], row["concurrency"]) for row in report["executions"]} == {
        (scenario, c) for scenario in REFERENCE_SCENARIOS for c in (1, 16)
    }
    assert all(row["compiled"]["statements"] <= row["reference"]["statements"]
               for row in report["executions"]), report["executions"]  # fmt: skip
    assert "compiled plans against the graphql-core path" in out
    assert (report["scales"], report["workers"]) == (["tiny"], 1)
    assert report["postgres"]
    assert report["machine"]["cpus"]
    assert report["targets"] == []  # they speak to small scale only
    assert (tmp_path / "bench-tiny.png").read_bytes()[:8] == PNG_SIGNATURE
    # The mixed scenario's writes are gone: a rerun starts from the seed's data.
    assert asyncio.run(_generations_of(db_url, WRITE_MODEL)) == 0


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    pool = await create_pool(db_url, Settings(database_url=db_url))
    yield pool
    await pool.close()


async def test_the_naive_page_equals_the_floor_and_the_api_for_owner_member_and_outsider(
    conn: Conn, pool: asyncpg.Pool[Any], client: httpx.AsyncClient
) -> None:
    await seed(conn, TINY)
    for query in ("explain_heavy_owner", "explain_heavy_member", "explain_outsider"):
        viewer: uuid.UUID = await conn.fetchval(EXPLAIN[query])
        body = await gql(client, PROJECTS, {"after": None}, bearer=token(viewer))
        api = cards_from_api(body)
        naive = await naive_page(pool, viewer=viewer)
        assert naive, query
        assert naive == await floor_page(pool, viewer=viewer) == api, query
        # the HTTP floor's JSON: the server's data, field for field
        assert answer(await floor_rows(pool, viewer=viewer), 4)["data"] == body["data"], query


def _counting(calls: list[int], *, sleep_s: float = 0.0) -> Step:
    """A step that fails on every second call overall and otherwise runs 3 statements."""

    async def step() -> Outcome:
        calls.append(1)
        n = len(calls)
        await asyncio.sleep(sleep_s)
        if n % 2 == 0:
            raise RuntimeError("every second call fails")
        return Outcome(statements=3)

    return step


async def test_the_closed_loop_stops_at_the_request_budget_and_counts_failures() -> None:
    calls: list[int] = []
    sample = await closed_loop(
        lambda: _counting(calls), concurrency=4, budget=Budget(requests=20, seconds=30, warmup=2)
    )
    result = summarize(sample, strategy="s", scenario="x", scale="tiny", concurrency=4)

    assert len(calls) == 4 + 20  # a warm-up request per worker, then the budget
    assert (result.requests, result.errors, result.statements) == (20, 10, 3)
    assert result.first_error == "RuntimeError: every second call fails"
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms


async def test_the_closed_loop_stops_at_the_time_budget() -> None:
    calls: list[int] = []
    budget = Budget(requests=10_000, seconds=0.2, warmup=1)
    sample = await closed_loop(lambda: _counting(calls, sleep_s=0.01), concurrency=2, budget=budget)

    assert 0 < len(sample.latencies_s) < 100
    assert sample.wall_s < 1.0


async def test_a_bench_database_of_another_size_is_refused_unless_reseeded(conn: Conn) -> None:
    await project(conn, await profile(conn, "someone"))

    with pytest.raises(
        BenchError, match=r"holds 1 projects, not the 100 of scale tiny: pass --reseed"
    ):
        await fill(conn, TINY, name="vesper_bench_tiny", explicit=False)
    assert await fill(conn, TINY, name="given", explicit=True) is None  # used as it is
    assert await fill(conn, TINY, name="vesper_bench_tiny", explicit=False, reseed=True)
    assert await conn.fetchval("SELECT count(*) FROM projects") == TINY.projects
    assert await fill(conn, TINY, name="vesper_bench_tiny", explicit=False) is None  # reused


def test_a_quick_run_is_at_tiny_scale_unless_told_otherwise() -> None:
    assert scales_for(None, None, quick=True) == ("tiny",)
    assert scales_for(None, None, quick=False) == ("small",)
    assert scales_for("medium", None, quick=True) == ("medium",)
    assert scales_for("tiny", "small,medium", quick=False) == ("small", "medium")


def test_the_report_carries_the_paths_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The projects page through a PgBouncer and from a streaming replica of the bench
    database's server — one of the test's own, so that the base backup copies a small
    cluster — beside the direct path: the same cards on all three, every path at 1 and
    16, the replica's requests served by the replica (the run checks /metrics), each path's
    ratios to direct in the report."""
    with OwnPrimary() as primary:
        asyncio.run(_create_database(primary.url(), "vesper_bench"))
        argv = ["bench", "--database", primary.url("vesper_bench"), "--scale", "tiny",
                "--quick", "--no-check", "--paths", "direct,pooler,replica",
                "--out", str(tmp_path)]  # fmt: skip
        assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "agree on the first 20 cards (read_model direct, through the pooler and from the " in out
    assert "replica: streaming on 127.0.0.1:" in out

    report = json.loads((tmp_path / "bench-tiny.json").read_text())
    assert report["settings"]["paths"] == list(PATHS)
    page = [r for r in report["results"]
            if (r["strategy"], r["scenario"]) == ("read_model", "projects_first")]  # fmt: skip
    assert {(r["path"], r["concurrency"]) for r in page} == {
        *((path, c) for path in PATHS for c in (1, 16)),
        ("direct", 4),
    }
    assert all(r["errors"] == 0 and r["requests"] > 0 for r in page), page
    # the frames of transaction mode are not the request's statements: the same count
    assert len({r["statements"] for r in page}) == 1, page
    assert {(row["path"], row["concurrency"]) for row in report["paths"]} == {
        (path, c) for path in ("pooler", "replica") for c in (1, 16)
    }
    assert all(row["over_direct"]["p50"] > 0 for row in report["paths"]), report["paths"]
    assert "against direct" in out


async def _create_database(url: str, name: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()


def test_the_paths_default_to_all_and_a_quick_run_leaves_the_replica_out() -> None:
    assert paths_for(None, quick=False) == ("direct", "pooler", "replica")
    assert paths_for(None, quick=True) == ("direct", "pooler")
    assert paths_for("replica", quick=True) == ("direct", "replica")  # always beside direct
    with pytest.raises(ValueError, match="unknown path 'bouncer'"):
        paths_for("direct,bouncer", quick=False)


def test_a_missing_pgbouncer_is_one_line_unless_the_pooler_is_left_out(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("shutil.which", lambda *args, **kwargs: None)
    argv = ["bench", "--database", db_url, "--scale", "tiny", "--quick", "--no-check",
            "--out", str(tmp_path)]  # fmt: skip
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err == (
        "vesper: pgbouncer is not installed (Debian package pgbouncer): install it, or leave "
        "the pooler out (--paths direct,replica)\n"
    )
    assert not list(tmp_path.iterdir())  # said before anything was measured


def test_the_replica_path_refuses_a_server_it_cannot_copy_here() -> None:
    with pytest.raises(BenchError, match=r"db\.example\.com is not local: leave the replica out "
                       r"\(--paths direct,pooler\)"):  # fmt: skip
        asyncio.run(check_replica("postgresql://app@db.example.com/app", ("direct", "replica")))


def test_a_server_refusing_replication_connections_is_said_in_one_line() -> None:
    async def build(url: str) -> None:
        async with started(url, ("direct", "replica"), say=lambda line: None):
            pass

    with OwnPrimary() as primary:
        (primary.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"  # no replication
        )
        primary.restart()
        with pytest.raises(BenchError) as refused:
            asyncio.run(build(primary.url()))
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("building a streaming replica with pg_basebackup (")
    assert "no pg_hba.conf entry for replication connection" in message
    assert message.endswith("fix that, or leave the replica out (--paths direct,pooler)")
