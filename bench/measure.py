"""One scale's measurements: the servers started, the strategies checked, then timed.

Both servers (card figures from the read model and computed live) run for the whole scale,
so that the agreement check sees all four strategies before anything is timed; each
measurement then runs alone (an idle server costs nothing). The order: read_model's reads,
live, the floor, naive, and last the mixed scenario, whose writes change the largest
project (they are deleted again afterwards, see bench/subjects.py).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg

from auth import tokens
from bench.seed import Scale
from db.pool import create_pool
from domain.vocabulary import NodeType
from observability import querystats
from resolvers.ids import encode
from settings import Settings

from .cards import Card, Disagreement, cards_from_api, check_agreement
from .database import BenchError, Prepared
from .floor import floor_page
from .live_server import ServerConfig, serving
from .load import Budget, Outcome, Result, Sample, Step, closed_loop, summarize
from .naive import naive_page
from .options import LATENCY, THROUGHPUT, Options
from .scenarios import GALLERY, PROJECT_PAGE, PROJECTS, Api, Request, deep_cursor, mixed
from .subjects import WRITE_MODEL, Subjects, find, forget_writes

Say = Callable[[str], None]
PageFn = Callable[..., Any]


def _in_process(pool: asyncpg.Pool[Any], page: PageFn, viewer: Any) -> Callable[[], Step]:
    """A step that runs `page` here, counting its statements as the server counts them."""

    async def step() -> Outcome:
        with querystats.collecting() as stats:
            await page(pool, viewer=viewer)
            await querystats.settle()
        return Outcome(statements=stats.count)

    return lambda: step


async def _over_http(
    base: str, concurrency: int, budget: Budget, worker: Callable[[Api], Callable[[], Step]]
) -> Sample:
    connector = aiohttp.TCPConnector(limit=concurrency)  # one keep-alive connection per worker
    async with aiohttp.ClientSession(connector=connector) as session:
        api = Api(session, f"{base}/graphql")
        return await closed_loop(worker(api), concurrency=concurrency, budget=budget)


@dataclass(slots=True)
class _Scale:
    """One scale's measurements, in the order they are taken."""

    scale: str
    options: Options
    say: Say
    results: list[Result] = dataclasses.field(default_factory=list)

    def record(self, strategy: str, scenario: str, concurrency: int, sample: Sample) -> None:
        r = summarize(
            sample, strategy=strategy, scenario=scenario, scale=self.scale, concurrency=concurrency
        )
        self.results.append(r)
        errors = f", {r.errors} errors ({r.first_error})" if r.errors else ""
        self.say(
            f"  {strategy:<10} {scenario:<14} c={concurrency:<3} p50 {r.p50_ms:8.2f} ms  "
            f"p95 {r.p95_ms:8.2f} ms  {r.rps:8.1f} req/s{errors}"
        )

    async def http(
        self, strategy: str, scenario: str, base: str, concurrency: int,
        worker: Callable[[Api], Callable[[], Step]],
    ) -> None:  # fmt: skip
        sample = await _over_http(base, concurrency, self.options.budget, worker)
        self.record(strategy, scenario, concurrency, sample)

    async def local(
        self, strategy: str, concurrency: int, budget: Budget, step: Callable[[], Step]
    ) -> None:
        sample = await closed_loop(step, concurrency=concurrency, budget=budget)
        self.record(strategy, "projects_first", concurrency, sample)


def _fixed(request: Request) -> Callable[[Api], Callable[[], Step]]:
    """Workers that all send `request`."""
    return lambda api: lambda: api.step(request)


def _reads(subjects: Subjects, secret: str, deep: str | None) -> dict[str, Request]:
    heavy = tokens.issue(subjects.heavy_owner, secret=secret)
    owner = tokens.issue(subjects.project_owner, secret=secret)
    project = {"id": encode(NodeType.PROJECT, subjects.project)}
    reads = {
        "projects_first": Request(heavy, PROJECTS, {"after": None}),
        "projects_deep": Request(heavy, PROJECTS, {"after": deep}),
        "project_page": Request(owner, PROJECT_PAGE, project),
        "gallery": Request(owner, GALLERY, project),
    }
    if deep is None:  # the list has no second page (a database far smaller than tiny)
        del reads["projects_deep"]
    return reads


async def _agree(
    pool: asyncpg.Pool[Any], subjects: Subjects, apis: dict[str, Api], first: Request
) -> None:
    """Raises `BenchError` unless naive, floor, live and read_model give the same cards."""
    pages: dict[str, list[Card]] = {
        "naive": await naive_page(pool, viewer=subjects.heavy_owner),
        "floor": await floor_page(pool, viewer=subjects.heavy_owner),
    }
    for strategy, api in apis.items():
        pages[strategy] = cards_from_api(await api.data(first))
    try:
        check_agreement(pages)
    except Disagreement as exc:
        raise BenchError(str(exc)) from None


async def _served(
    run: _Scale, pool: asyncpg.Pool[Any], subjects: Subjects, urls: dict[str, str], secret: str
) -> None:
    """Everything measured while both servers run: the check first, then the timings."""
    options = run.options
    async with aiohttp.ClientSession() as session:
        apis = {source: Api(session, f"{url}/graphql") for source, url in urls.items()}
        heavy = tokens.issue(subjects.heavy_owner, secret=secret)
        reads = _reads(subjects, secret, await deep_cursor(apis["read_model"], heavy))
        await _agree(pool, subjects, apis, reads["projects_first"])
    run.say(f"{run.scale}: naive, floor, live and read_model agree on the first 20 cards")
    first = _fixed(reads["projects_first"])
    for c in options.concurrency:
        await run.http("read_model", "projects_first", urls["read_model"], c, first)
    for name in ("projects_deep", "project_page", "gallery"):
        for c in (LATENCY, THROUGHPUT):
            if name in reads:
                await run.http("read_model", name, urls["read_model"], c, _fixed(reads[name]))
    for c in options.concurrency:
        await run.http("live", "projects_first", urls["live"], c, first)
    for c in options.concurrency:
        floor = _in_process(pool, floor_page, subjects.heavy_owner)
        await run.local("floor", c, options.budget, floor)
    naive = _in_process(pool, naive_page, subjects.heavy_owner)
    await run.local("naive", 1, options.naive_budget, naive)
    owner = tokens.issue(subjects.project_owner, secret=secret)
    session_id = encode(NodeType.SESSION, subjects.write_session)
    for c in (LATENCY, THROUGHPUT):  # last: its writes change the largest project

        def writers(api: Api) -> Callable[[], Step]:
            return mixed(
                api, list(reads.values()), bearer=owner, session_id=session_id, model=WRITE_MODEL
            )

        await run.http("read_model", "mixed", urls["read_model"], c, writers)


async def measure(prepared: Prepared, scale: Scale, options: Options, say: Say) -> list[Result]:
    most = options.most
    settings = Settings(
        database_url=prepared.url, pool_min_size=most, pool_max_size=most,
        statement_timeout_ms=120_000,  # the naive page's statements at medium
    )  # fmt: skip
    # The server's statement observer counts the in-process strategies' statements (it never
    # calls them slow: the naive page's are, by design).
    observer = querystats.StatementObserver(slow_ms=float("inf"))
    pool = await create_pool(prepared.url, settings, init=observer.register())
    run = _Scale(scale.name, options, say)
    try:
        subjects = await find(pool)
        await forget_writes(pool)  # left by an interrupted run
        secret = secrets.token_urlsafe(32)
        configs = {
            source: ServerConfig(prepared.url, secret, source, options.workers, most)
            for source in ("read_model", "live")
        }
        async with serving(configs["read_model"]) as read_model, serving(configs["live"]) as live:
            await _served(run, pool, subjects, {"read_model": read_model, "live": live}, secret)
    finally:
        try:
            await forget_writes(pool)
        finally:
            await pool.close()
    return run.results
