"""What a `vesper bench` run is asked to do: scales, budgets, concurrency, paths, where to
write.

The defaults size `make bench` at small scale to a few minutes: 2,000 requests or 10 s per
measurement, whichever ends first, the naive page capped at 20 requests in 30 s (each takes
seconds), and `--quick` makes every measurement a handful of requests (the smoke test).

Paths: how the server reaches the database for the projects page (read_model) at
concurrency 1 and 16 — `direct`, `pooler` (a PgBouncer in transaction mode the run starts)
and `replica` (a streaming replica the run builds with pg_basebackup). All three by default;
`--quick` leaves the replica out unless asked: a base backup copies the whole cluster the
database lives on (for the suite, every test database of every session on its server).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from settings import ROOT

from .load import Budget

DEFAULT_OUT = ROOT / "bench" / "out"
SCALES = ("tiny", "small", "medium")
LATENCY, THROUGHPUT = 1, 16  # concurrency of the scenarios other than projects_first
DIRECT, POOLER, REPLICA = "direct", "pooler", "replica"
PATHS = (DIRECT, POOLER, REPLICA)
QUICK_PATHS = (DIRECT, POOLER)
PATH_CONCURRENCY = (LATENCY, THROUGHPUT)  # where the paths are compared
HTTP_FLOOR = "http_floor"  # the strategy taking turns with read_model's page (bench/http_floor.py)
ROUNDS = 5  # the paths take turns this many times per concurrency, a fifth of the budget each
QUICK = Budget(requests=30, seconds=2.0, warmup=5)
NAIVE_REQUESTS, NAIVE_SECONDS = 20, 30.0  # the naive page takes seconds per request


@dataclass(frozen=True, slots=True)
class Options:
    scales: tuple[str, ...] = ("small",)
    workers: int = 1
    database: str | None = None  # used as it is; otherwise vesper_bench_<scale>
    requests: int = 2000
    seconds: float = 10.0
    concurrency: tuple[int, ...] = (1, 4, 16)
    out: Path = DEFAULT_OUT
    check: bool = True
    quick: bool = False
    reseed: bool = False
    paths: tuple[str, ...] = (DIRECT,)

    @property
    def budget(self) -> Budget:
        return QUICK if self.quick else Budget(self.requests, self.seconds)

    @property
    def naive_budget(self) -> Budget:
        if self.quick:
            return Budget(requests=3, seconds=QUICK.seconds, warmup=1)
        return Budget(min(self.requests, NAIVE_REQUESTS), NAIVE_SECONDS, warmup=1)

    @property
    def most(self) -> int:
        return max(*self.concurrency, THROUGHPUT)

    @property
    def rounds(self) -> int:
        """Turns each path takes at a concurrency (one in a quick run)."""
        return 1 if self.quick else ROUNDS

    @property
    def round_budget(self) -> Budget:
        """One turn's share of the budget (the warm-up is each turn's own)."""
        budget = self.budget
        return Budget(
            requests=-(-budget.requests // self.rounds),
            seconds=budget.seconds / self.rounds,
            warmup=budget.warmup,
        )


def scales_for(scale: str | None, scales: str | None, *, quick: bool) -> tuple[str, ...]:
    """The scales a run measures: `--scales`, else `--scale`, else tiny for a quick run
    (seconds) and small otherwise."""
    if scales:
        return tuple(scales.split(","))
    return (scale or ("tiny" if quick else "small"),)


def paths_for(paths: str | None, *, quick: bool) -> tuple[str, ...]:
    """The paths a run compares: `--paths`, else all of them (a quick run: no replica).
    `direct` is always measured: the others are compared with it.

    Raises:
        ValueError: a path that is not one of PATHS.
    """
    if not paths:
        return QUICK_PATHS if quick else PATHS
    asked = [p.strip() for p in paths.split(",") if p.strip()]
    unknown = [p for p in asked if p not in PATHS]
    if unknown:
        raise ValueError(f"unknown path {unknown[0]!r}; choose from {', '.join(PATHS)}")
    return tuple(p for p in PATHS if p == DIRECT or p in asked)
