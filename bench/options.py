"""What a `vesper bench` run is asked to do: scales, budgets, concurrency, where to write.

The defaults size `make bench` at small scale to a few minutes: 2,000 requests or 10 s per
measurement, whichever ends first, the naive page capped at 20 requests in 30 s (each takes
seconds), and `--quick` makes every measurement a handful of requests (the smoke test).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from settings import ROOT

from .load import Budget

DEFAULT_OUT = ROOT / "bench" / "out"
SCALES = ("tiny", "small", "medium")
LATENCY, THROUGHPUT = 1, 16  # concurrency of the scenarios other than projects_first
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


def scales_for(scale: str | None, scales: str | None, *, quick: bool) -> tuple[str, ...]:
    """The scales a run measures: `--scales`, else `--scale`, else tiny for a quick run
    (seconds) and small otherwise."""
    if scales:
        return tuple(scales.split(","))
    return (scale or ("tiny" if quick else "small"),)
