"""One scale's measurements: the servers started, the strategies checked, then timed.

The servers (card figures from the read model and computed live, both on compiled plans;
`reference`: the read model on the graphql-core path, VESPER_EXECUTION=reference) and the
HTTP floor (bench/http_floor.py) run for the whole scale, so that the agreement check sees
all six strategies before anything is timed (reference and read_model must answer the same
data); so do the read model's servers on the other paths
(through the pooler, with the replica), which must give the same cards too. Each
measurement then runs alone (an idle server costs nothing). The order: read_model's reads
— the projects page at each concurrency taking turns with the HTTP floor's, and at 1 and
16 with the other paths' too (bench/paths.py) —, reference's, live, the floor, naive, and
last the
mixed scenario, whose writes change the largest project (they are deleted again
afterwards, see bench/subjects.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

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
from .live_server import Served, ServerConfig, serving
from .load import Budget, Outcome, Result, Sample, Step, closed_loop, merge, summarize
from .naive import naive_page
from .options import (
    DIRECT,
    HTTP_FLOOR,
    LATENCY,
    PATH_CONCURRENCY,
    POOLER,
    REPLICA,
    THROUGHPUT,
    Options,
)
from .paths import Parts
from .scenarios import (
    GALLERY,
    PROJECT_PAGE,
    PROJECTS,
    PROJECTS_WIDE,
    Api,
    Request,
    deep_cursor,
    mixed,
)
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
    server: Served, concurrency: int, budget: Budget, worker: Callable[[Api], Callable[[], Step]]
) -> Sample:
    connector = aiohttp.TCPConnector(limit=concurrency)  # one keep-alive connection per worker
    async with aiohttp.ClientSession(connector=connector) as session:
        api = Api(session, server.base + server.endpoint)
        return await closed_loop(
            worker(api), concurrency=concurrency, budget=budget, cpu=server.cpu_s
        )


LABELS = {POOLER: "read_model through the pooler", REPLICA: "read_model from the replica"}
READY_WITHIN_S = 30.0  # for the replica to be healthy in its server's eyes
ATTEMPTS = 3  # of a replica's turn that the primary served part of


async def _replica_healthy(server: Served, session: aiohttp.ClientSession) -> None:
    """Waits until the server's last check found its replica caught up (lag 0: everything
    received replayed), so that its reads go there."""
    deadline = time.monotonic() + READY_WITHIN_S
    while True:
        lags = [
            v for k, v in (await server.counters(session)).items()
            if k.startswith("replica_lag_seconds.")
        ]  # fmt: skip
        if lags and all(lag == 0 for lag in lags):
            return
        if time.monotonic() > deadline:
            raise BenchError(f"the replica did not catch up within {READY_WITHIN_S:g} s: {lags}")
        await asyncio.sleep(0.1)


def _served_elsewhere(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What the replica did not serve between two readings of a server's counters: requests
    the primary served, and fallbacks by reason."""
    moved = {
        key: after.get(key, 0.0) - before.get(key, 0.0)
        for key in after.keys() | before.keys()
        if key == "database_requests.primary" or key.startswith("replica_fallbacks.")
    }
    return {key: n for key, n in moved.items() if n}


T = TypeVar("T")


async def on_replica(server: Served, work: Callable[[], Awaitable[T]], what: str, say: Say) -> T:
    """`work` against the replica path's server, every request of it served by the replica
    (its /metrics before and after): started once the replica is caught up, and taken
    again when the primary served part of it — the server's health check may briefly call
    the replica lagging when WAL without a commit arrives after an idle spell (see the
    README's Benchmark section)."""
    async with aiohttp.ClientSession() as session:
        for attempt in range(1, ATTEMPTS + 1):
            await _replica_healthy(server, session)
            before = await server.counters(session)
            done = await work()
            elsewhere = _served_elsewhere(before, await server.counters(session))
            if not elsewhere:
                return done
            say(f"  {what}: the primary served part of it ({elsewhere}), attempt {attempt}")
    raise BenchError(
        f"{what}: the replica path was not served by the replica alone in {ATTEMPTS} attempts; "
        f"its numbers would mix the primary's in"
    )


@dataclass(slots=True)
class _Scale:
    """One scale's measurements, in the order they are taken."""

    scale: str
    options: Options
    say: Say
    results: list[Result] = dataclasses.field(default_factory=list)

    def record(
        self, strategy: str, scenario: str, concurrency: int, sample: Sample, path: str = DIRECT
    ) -> None:
        r = summarize(
            sample, strategy=strategy, scenario=scenario, scale=self.scale,
            concurrency=concurrency, path=path,
        )  # fmt: skip
        self.results.append(r)
        errors = f", {r.errors} errors ({r.first_error})" if r.errors else ""
        cpu = "" if r.cpu_ms is None else f"  cpu {r.cpu_ms:5.2f} ms/req"
        where = "" if path == DIRECT else f" {path}"
        self.say(
            f"  {strategy:<10} {scenario + where:<22} c={concurrency:<3} p50 {r.p50_ms:8.2f} ms"
            f"  p95 {r.p95_ms:8.2f} ms  {r.rps:8.1f} req/s{cpu}{errors}"
        )

    async def http(
        self, strategy: str, scenario: str, server: Served, concurrency: int,
        worker: Callable[[Api], Callable[[], Step]],
    ) -> None:  # fmt: skip
        sample = await _over_http(server, concurrency, self.options.budget, worker)
        self.record(strategy, scenario, concurrency, sample)

    async def turns(
        self, servers: dict[str, Served], concurrency: int,
        worker: Callable[[Api], Callable[[], Step]],
    ) -> None:  # fmt: skip
        """The projects page of read_model on every path in `servers` and of the HTTP floor
        (when there), taking turns (each turn a share of the budget, each starting the next
        round one later), so that what the machine does meanwhile falls on all of them
        alike. Every request of the replica's turns must have been served by the replica."""
        order = list(servers)
        samples: dict[str, list[Sample]] = {path: [] for path in order}
        for turn in range(self.options.rounds):
            shift = turn % len(order)
            for path in order[shift:] + order[:shift]:
                server, budget = servers[path], self.options.round_budget
                take = functools.partial(_over_http, server, concurrency, budget, worker)
                if path == REPLICA:
                    what = f"replica turn at c={concurrency}"
                    samples[path].append(await on_replica(server, take, what, self.say))
                else:
                    samples[path].append(await take())
        for path in order:
            strategy, where = (HTTP_FLOOR, DIRECT) if path == HTTP_FLOOR else ("read_model", path)
            self.record(strategy, "projects_first", concurrency, merge(samples[path]), where)

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
        "projects_wide": Request(heavy, PROJECTS_WIDE, {"after": None}),
        "project_page": Request(owner, PROJECT_PAGE, project),
        "gallery": Request(owner, GALLERY, project),
    }
    if deep is None:  # the list has no second page (a database far smaller than tiny)
        del reads["projects_deep"]
    return reads


async def _agree(
    pool: asyncpg.Pool[Any],
    subjects: Subjects,
    apis: dict[str, Api],
    first: Request,
    replica: Served | None,
    say: Say,
) -> None:
    """Raises `BenchError` unless naive, floor, the HTTP floor, live and read_model (on
    every path) give the same cards, and the HTTP floor the same data as read_model; the
    replica path's answered by the replica."""
    pages: dict[str, list[Card]] = {
        "naive": await naive_page(pool, viewer=subjects.heavy_owner),
        "floor": await floor_page(pool, viewer=subjects.heavy_owner),
    }

    async def answered() -> dict[str, dict[str, Any]]:
        return {strategy: await api.data(first) for strategy, api in apis.items()}

    if replica is None:
        bodies = await answered()
    else:
        bodies = await on_replica(replica, answered, "agreement check", say)
    pages |= {strategy: cards_from_api(body) for strategy, body in bodies.items()}
    try:
        check_agreement(pages)
    except Disagreement as exc:
        raise BenchError(str(exc)) from None
    parts = [
        [*projects["edges"], projects["pageInfo"]]
        for projects in (bodies[name]["data"]["projects"] for name in (HTTP_FLOOR, "read_model"))
    ]
    if bodies["reference"]["data"] != bodies["read_model"]["data"]:
        raise BenchError("the compiled plan and the graphql-core path answer differently")
    differ = [(a, b) for a, b in zip(*parts, strict=True) if a != b]  # the cards agree: as many
    if differ:
        raise BenchError(
            f"the HTTP floor and the server answer the same cards with other data "
            f"({len(differ)} parts differ): {differ[0][0]} / {differ[0][1]}"
        )


async def _served(
    run: _Scale, pool: asyncpg.Pool[Any], subjects: Subjects, servers: dict[str, Served],
    secret: str,
) -> None:  # fmt: skip
    """Everything measured while the servers run: the check first, then the timings.
    `servers`: read_model, live and the HTTP floor (direct), and read_model on the other
    paths."""
    options = run.options
    paths = {DIRECT: servers["read_model"]} | {p: servers[p] for p in LABELS if p in servers}
    async with aiohttp.ClientSession() as session:
        apis = {
            LABELS.get(name, name): Api(session, server.base + server.endpoint)
            for name, server in servers.items()
        }
        heavy = tokens.issue(subjects.heavy_owner, secret=secret)
        reads = _reads(subjects, secret, await deep_cursor(apis["read_model"], heavy))
        replica = servers.get(REPLICA)
        await _agree(pool, subjects, apis, reads["projects_first"], replica, run.say)
    others = [LABELS[p].split(" ", 1)[1] for p in paths if p != DIRECT]
    also = f" (read_model direct, {' and '.join(others)})" if others else ""
    run.say(
        f"{run.scale}: naive, floor, http_floor, live, reference and read_model agree on the "
        f"first 20 cards{also}"
    )
    first = _fixed(reads["projects_first"])
    compared = set(PATH_CONCURRENCY) if len(paths) > 1 else set()
    for c in sorted({*options.concurrency, *compared}):
        turns = paths if c in compared else {DIRECT: paths[DIRECT]}
        await run.turns(turns | {HTTP_FLOOR: servers[HTTP_FLOOR]}, c, first)
    for name in ("projects_deep", "projects_wide", "project_page", "gallery"):
        for c in (LATENCY, THROUGHPUT):
            if name in reads:
                await run.http("read_model", name, servers["read_model"], c, _fixed(reads[name]))
    for name in ("projects_first", "projects_wide", "project_page", "gallery"):
        for c in (LATENCY, THROUGHPUT):  # the same requests on the graphql-core path
            await run.http("reference", name, servers["reference"], c, _fixed(reads[name]))
    for c in options.concurrency:
        await run.http("live", "projects_first", servers["live"], c, first)
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

        await run.http("read_model", "mixed", servers["read_model"], c, writers)


async def measure(
    prepared: Prepared, scale: Scale, options: Options, say: Say, parts: Parts | None = None
) -> list[Result]:
    """`parts`: the pooler and replica of the run's other paths (bench/paths.py)."""
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
        configs["reference"] = dataclasses.replace(configs["read_model"], execution="reference")
        if parts is not None:
            configs |= parts.configs(configs["read_model"])
        async with contextlib.AsyncExitStack() as stack:
            servers = {
                name: await stack.enter_async_context(serving(config))
                for name, config in configs.items()
            }
            floor = serving(configs["read_model"], app="bench.http_floor:app")
            servers[HTTP_FLOOR] = dataclasses.replace(
                await stack.enter_async_context(floor),
                endpoint=f"/projects?viewer={subjects.heavy_owner}",
            )
            await _served(run, pool, subjects, servers, secret)
    finally:
        try:
            await forget_writes(pool)
        finally:
            await pool.close()
    return run.results
