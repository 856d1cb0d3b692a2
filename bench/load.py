"""The load generator: a bounded closed loop, and what one measurement reports.

`concurrency` workers each send a request, wait for its answer and send the next, until
`requests` have been sent or `seconds` have passed (whichever comes first), after a short
warm-up that is not recorded (connections opened, statements prepared, caches filled). A
closed loop measures latency at a given number of requests in flight and throughput as
completions over wall time; it never queues more work than the system can take, so the
latencies are the service's, not a backlog's.

A request is a `Step`: a coroutine that answers an `Outcome`. The HTTP scenarios and the
in-process strategies (naive, floor) are all steps, so one driver times them all.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Outcome:
    statements: int | None = None  # SQL statements the request ran, when known
    error: str | None = None  # why the request failed; None when it succeeded


Step = Callable[[], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class Budget:
    requests: int
    seconds: float
    warmup: int = 20  # requests sent first and not recorded (bounded by `seconds` too)


@dataclass(slots=True)
class Sample:
    latencies_s: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    wall_s: float = 0.0
    cpu_s: float | None = None  # the server's CPU seconds over the measured part, when known


@dataclass(frozen=True, slots=True)
class Result:
    """One measurement: a strategy's scenario at a scale and concurrency, on a path to the
    database (`direct`; the projects page of read_model also through a transaction pooler,
    `pooler`, and from a streaming replica, `replica`)."""

    strategy: str
    scenario: str
    scale: str
    concurrency: int
    requests: int  # completed, errors included
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    rps: float  # completed requests per second of wall time
    statements: float | None  # median SQL statements per request
    first_error: str | None = None
    path: str = "direct"
    cpu_ms: float | None = None  # the server process's CPU time per request (HTTP rows)


async def _drive(steps: list[Step], requests: int, seconds: float, sample: Sample) -> None:
    remaining = requests
    deadline = time.perf_counter() + seconds

    async def worker(step: Step) -> None:
        nonlocal remaining
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            started = time.perf_counter()
            try:
                outcome = await step()
            except Exception as exc:  # a failed request is counted, not fatal
                outcome = Outcome(error=f"{type(exc).__name__}: {exc}")
            sample.latencies_s.append(time.perf_counter() - started)
            if outcome.error is not None:
                sample.errors += 1
                sample.first_error = sample.first_error or outcome.error
            elif outcome.statements is not None:
                sample.statements.append(outcome.statements)

    started = time.perf_counter()
    await asyncio.gather(*(worker(step) for step in steps))
    sample.wall_s = time.perf_counter() - started


async def closed_loop(
    worker: Callable[[], Step],
    *,
    concurrency: int,
    budget: Budget,
    cpu: Callable[[], float | None] | None = None,
) -> Sample:
    """Runs `concurrency` workers (each made by `worker`, so each may keep its own state)
    through the warm-up (at least one request each: every connection is open before the
    clock starts), then the measured loop; returns the measured part. `cpu` reads the
    server's CPU seconds so far: read around the measured loop only."""
    steps = [worker() for _ in range(concurrency)]
    await _drive(steps, max(budget.warmup, concurrency), budget.seconds, Sample())
    sample = Sample()
    before = cpu() if cpu is not None else None
    await _drive(steps, budget.requests, budget.seconds, sample)
    after = cpu() if cpu is not None else None
    if before is not None and after is not None:
        sample.cpu_s = after - before
    return sample


def merge(samples: list[Sample]) -> Sample:
    """One sample of several rounds of the same measurement (latencies, statements and
    errors together, wall and CPU time added)."""
    merged = Sample()
    for s in samples:
        merged.latencies_s += s.latencies_s
        merged.statements += s.statements
        merged.errors += s.errors
        merged.first_error = merged.first_error or s.first_error
        merged.wall_s += s.wall_s
    cpu = [s.cpu_s for s in samples]
    merged.cpu_s = None if not cpu or None in cpu else sum(c for c in cpu if c is not None)
    return merged


def percentiles(values: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of `values` (at least one)."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def summarize(
    sample: Sample,
    *,
    strategy: str,
    scenario: str,
    scale: str,
    concurrency: int,
    path: str = "direct",
) -> Result:
    ms = [s * 1000 for s in sample.latencies_s]
    p50, p95, p99 = percentiles(ms) if ms else (0.0, 0.0, 0.0)
    return Result(
        strategy=strategy,
        scenario=scenario,
        scale=scale,
        concurrency=concurrency,
        requests=len(ms),
        errors=sample.errors,
        p50_ms=round(p50, 3),
        p95_ms=round(p95, 3),
        p99_ms=round(p99, 3),
        mean_ms=round(statistics.fmean(ms), 3) if ms else 0.0,
        rps=round(len(ms) / sample.wall_s, 1) if sample.wall_s else 0.0,
        statements=statistics.median(sample.statements) if sample.statements else None,
        first_error=sample.first_error,
        path=path,
        cpu_ms=round(sample.cpu_s * 1000 / len(ms), 3) if sample.cpu_s is not None and ms else None,
    )
