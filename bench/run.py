"""`vesper bench`: the load benchmark of the projects page and the hot reads and writes.

Prepare every scale's database (bench/database.py), start the parts of the paths asked
(bench/paths.py: a PgBouncer, a streaming replica) in front of their server, then for each
scale: find the subjects (bench/subjects.py), start the real server — card figures from the
read model and computed live, and the read model's on the other paths
(bench/live_server.py) — check that every strategy and path gives the same 20 cards
(bench/cards.py), then time them with the closed loop (bench/load.py):

- projects_first for read_model, live, the HTTP floor (bench/http_floor.py: the same
  statements behind a bare Starlette route, taking turns with read_model) and the raw SQL
  floor at every concurrency, read_model on every path at 1 and 16 (the paths taking turns
  too), and the naive page at concurrency 1 (it takes seconds at small scale: that is the
  point);
- projects_deep, project_page, gallery and mixed on read_model at 1 (latency) and 16
  (throughput).

Then the table, `<out>/bench-<scales>.json` and `.png`, and the targets (bench/targets.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.seed import Scale

from . import report, targets
from .chart import chart
from .database import BenchError, prepare, row_of
from .load import Result
from .measure import measure
from .options import SCALES, Options
from .paths import check_pooler, check_replica, started

Say = Callable[[str], None]


@dataclass(slots=True)
class _Run:
    results: list[Result] = field(default_factory=list)
    seeded_s: dict[str, float | None] = field(default_factory=dict)
    postgres: str = ""


async def _measure_all(options: Options, server_url: str, say: Say) -> _Run:
    run = _Run()
    await check_replica(server_url, options.paths)  # before a seed that may take minutes
    ready = []
    for name in options.scales:
        scale = Scale.named(name)
        prepared = await prepare(
            server_url, scale, explicit=options.database is not None, reseed=options.reseed,
            say=say,
        )  # fmt: skip
        run.seeded_s[name] = None if prepared.seeded_s is None else round(prepared.seeded_s, 1)
        ready.append((scale, prepared))
    databases = tuple(prepared.url for _, prepared in ready)
    async with started(server_url, options.paths, say, databases) as parts:  # for every scale
        for scale, prepared in ready:
            run.postgres = (await row_of(prepared.url, "bench_server_version"))[0]
            say(f"{scale.name}: measuring on {prepared.name} (PostgreSQL {run.postgres})")
            run.results += await measure(prepared, scale, options, say, parts)
    return run


def _write(options: Options, run: _Run, verdicts: list[targets.Verdict]) -> Path:
    """Writes the JSON document and the chart; returns their common stem."""
    settings = {
        "concurrency": list(options.concurrency),
        "budget": dataclasses.asdict(options.budget),
        "naive_budget": dataclasses.asdict(options.naive_budget),
        "quick": options.quick,
        "seeded_s": run.seeded_s,
        "paths": list(options.paths),
        "path_rounds": options.rounds,
    }
    document = report.document(
        results=run.results,
        verdicts=verdicts,
        postgres=run.postgres,
        workers=options.workers,
        settings=settings,
    )
    options.out.mkdir(parents=True, exist_ok=True)
    stem = options.out / f"bench-{'-'.join(options.scales)}"
    stem.with_suffix(".json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    chart(run.results, stem.with_suffix(".png"))
    return stem


def run(options: Options, *, server_url: str, say: Say) -> int:
    """Runs the benchmark; 1 when a target is missed (and checked), else 0.

    `server_url` is the database to use as it is when `options.database` is set, else any
    database of the server the per-scale bench databases are made on.

    Raises:
        BenchError: the run cannot be made as asked, or the strategies disagree.
    """
    unknown = [name for name in options.scales if name not in SCALES]
    if unknown:
        raise BenchError(f"unknown scale {unknown[0]!r}; choose from {', '.join(SCALES)}")
    if options.database is not None and len(options.scales) > 1:
        raise BenchError("--database holds one scale: pass one --scale with it")
    check_pooler(options.paths)
    measured = asyncio.run(_measure_all(options, server_url, say))
    verdicts = targets.verdicts(measured.results, workers=options.workers)
    stem = _write(options, measured, verdicts)
    for line in report.table(measured.results):
        say(line)
    if report.execution_rows(measured.results):
        say("compiled plans against the graphql-core path (read_model / reference):")
        for line in report.execution_lines(measured.results):
            say(line)
    if report.http_floor_rows(measured.results):
        say("server against the HTTP floor (projects_first, read_model / http_floor):")
        for line in report.http_floor_lines(measured.results):
            say(line)
    if len(options.paths) > 1:
        say("paths (read_model projects_first, against direct):")
        for line in report.path_lines(measured.results):
            say(line)
    say(f"wrote {stem.name}.json and {stem.name}.png")
    if not verdicts:
        say("targets: they apply to a run at small scale with one worker (not checked)")
        return 0
    say("targets:")
    for line in report.verdict_lines(verdicts):
        say(line)
    missed = [v for v in verdicts if not v.met]
    return 1 if options.check and missed else 0
