"""`vesper bench`: the load benchmark of the projects page and the hot reads and writes.

For each scale: prepare its database (bench/database.py), find the subjects
(bench/subjects.py), start the real server twice — card figures from the read model and
computed live (bench/live_server.py) — check that all four strategies give the same 20
cards (bench/cards.py), then time them with the closed loop (bench/load.py):

- projects_first for read_model, live and the raw SQL floor at every concurrency, and the
  naive page at concurrency 1 (it takes seconds at small scale: that is the point);
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

import asyncpg

from bench.seed import Scale
from db.sql import load_queries

from . import QUERIES, report, targets
from .chart import chart
from .database import BenchError, prepare
from .load import Result
from .measure import measure
from .options import SCALES, Options

_Q = load_queries("bench", QUERIES)

Say = Callable[[str], None]


async def _postgres_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        version: str = await conn.fetchval(_Q["bench_server_version"])
    finally:
        await conn.close()
    return version


@dataclass(slots=True)
class _Run:
    results: list[Result] = field(default_factory=list)
    seeded_s: dict[str, float | None] = field(default_factory=dict)
    postgres: str = ""


async def _measure_all(options: Options, server_url: str, say: Say) -> _Run:
    run = _Run()
    for name in options.scales:
        scale = Scale.named(name)
        prepared = await prepare(
            server_url, scale, explicit=options.database is not None, reseed=options.reseed,
            say=say,
        )  # fmt: skip
        run.seeded_s[name] = None if prepared.seeded_s is None else round(prepared.seeded_s, 1)
        run.postgres = await _postgres_version(prepared.url)
        say(f"{name}: measuring on {prepared.name} (PostgreSQL {run.postgres})")
        run.results += await measure(prepared, scale, options, say)
    return run


def _write(options: Options, run: _Run, verdicts: list[targets.Verdict]) -> Path:
    """Writes the JSON document and the chart; returns their common stem."""
    settings = {
        "concurrency": list(options.concurrency),
        "budget": dataclasses.asdict(options.budget),
        "naive_budget": dataclasses.asdict(options.naive_budget),
        "quick": options.quick,
        "seeded_s": run.seeded_s,
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
    measured = asyncio.run(_measure_all(options, server_url, say))
    verdicts = targets.verdicts(measured.results, workers=options.workers)
    stem = _write(options, measured, verdicts)
    for line in report.table(measured.results):
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
