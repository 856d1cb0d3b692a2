"""What a benchmark run leaves behind: a table for people, a JSON document for machines.

The JSON names the machine and versions (a timing means nothing without them), the run's
settings, every measurement (each with the path to the database it was measured on) and the
target verdicts, the projects page's paths against the direct one (`paths`: each path's
figures at 1 and 16 with their ratio to direct's), and the server against the HTTP floor
(`http_floor`: read_model's page and the floor's at each concurrency, with their ratios).
It holds no file paths or host names, so the small report files of `make bench` can be
committed.
"""

from __future__ import annotations

import dataclasses
import os
import platform
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from .load import Result
from .options import DIRECT, HTTP_FLOOR
from .targets import Verdict

COLUMNS = (
    ("strategy", 10), ("scenario", 14), ("path", 7), ("scale", 6), ("conc", 4), ("reqs", 6),
    ("err", 4), ("p50 ms", 9), ("p95 ms", 9), ("p99 ms", 9), ("mean ms", 9), ("req/s", 8),
    ("stmts", 5), ("cpu ms", 6),
)  # fmt: skip
TEXT_COLUMNS = 4  # left-aligned; the numbers right-aligned


def machine() -> dict[str, Any]:
    return {
        "system": platform.system(),
        "release": platform.release(),
        "architecture": platform.machine(),
        "processor": platform.processor() or None,
        "cpus": os.cpu_count(),
    }


def document(
    *,
    results: list[Result],
    verdicts: list[Verdict],
    postgres: str,
    workers: int,
    settings: dict[str, Any],
) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "python": platform.python_version(),
        "postgres": postgres,
        "scales": list(dict.fromkeys(r.scale for r in results)),
        "workers": workers,
        "settings": settings,
        "results": [dataclasses.asdict(r) for r in results],
        "paths": path_rows(results),
        "http_floor": http_floor_rows(results),
        "executions": execution_rows(results),
        "targets": [dataclasses.asdict(v) for v in verdicts],
    }


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or not bottom else round(top / bottom, 2)


def path_rows(results: list[Result]) -> list[dict[str, Any]]:
    """read_model's projects page on each path other than direct, with its ratio to the
    direct path's at the same scale and concurrency (empty when no other path ran)."""
    page = [r for r in results if (r.strategy, r.scenario) == ("read_model", "projects_first")]
    direct = {(r.scale, r.concurrency): r for r in page if r.path == DIRECT}
    rows = []
    for r in page:
        base = direct.get((r.scale, r.concurrency))
        if r.path == DIRECT or base is None:
            continue
        rows.append({
            "scale": r.scale, "path": r.path, "concurrency": r.concurrency,
            "p50_ms": r.p50_ms, "p95_ms": r.p95_ms, "p99_ms": r.p99_ms, "rps": r.rps,
            "statements": r.statements, "cpu_ms": r.cpu_ms,
            "over_direct": {
                "p50": _ratio(r.p50_ms, base.p50_ms), "p95": _ratio(r.p95_ms, base.p95_ms),
                "p99": _ratio(r.p99_ms, base.p99_ms), "rps": _ratio(r.rps, base.rps),
                "cpu": _ratio(r.cpu_ms, base.cpu_ms),
            },
        })  # fmt: skip
    return rows


def execution_rows(results: list[Result]) -> list[dict[str, Any]]:
    """Each request on compiled plans (read_model) beside the same on the graphql-core path
    (reference), direct, at the same scale and concurrency, with compiled / reference."""
    measured = {
        (r.strategy, r.scenario, r.scale, r.concurrency): r for r in results if r.path == DIRECT
    }
    rows = []
    for (strategy, scenario, scale, c), reference in measured.items():
        compiled = measured.get(("read_model", scenario, scale, c))
        if strategy != "reference" or compiled is None:
            continue
        rows.append({
            "scale": scale, "scenario": scenario, "concurrency": c,
            **{name: {"p50_ms": r.p50_ms, "p95_ms": r.p95_ms, "p99_ms": r.p99_ms,
                      "rps": r.rps, "cpu_ms": r.cpu_ms, "statements": r.statements}
               for name, r in (("compiled", compiled), ("reference", reference))},
            "compiled_over_reference": {
                "rps": _ratio(compiled.rps, reference.rps),
                "cpu": _ratio(compiled.cpu_ms, reference.cpu_ms),
                "p50": _ratio(compiled.p50_ms, reference.p50_ms),
            },
        })  # fmt: skip
    return rows


def _cpu(top: dict[str, Any], bottom: dict[str, Any]) -> str:
    """Two rows' CPU per request as `top / bottom ms`, or `-` when either is unknown."""
    if top["cpu_ms"] is None or bottom["cpu_ms"] is None:
        return "-"
    return f"{top['cpu_ms']:.2f} / {bottom['cpu_ms']:.2f} ms"


def execution_lines(results: list[Result]) -> Iterator[str]:
    """Compiled plans against the graphql-core path: CPU per request and throughput."""
    for row in execution_rows(results):
        compiled, reference = row["compiled"], row["reference"]
        over = row["compiled_over_reference"]
        yield (
            f"  {row['scale']:<6} {row['scenario']:<15} c={row['concurrency']:<3} "
            f"server cpu/req {_cpu(compiled, reference)} ({_times(over['cpu'])})  "
            f"req/s {compiled['rps']:.1f} / {reference['rps']:.1f} ({_times(over['rps'])})"
        )


def http_floor_rows(results: list[Result]) -> list[dict[str, Any]]:
    """read_model's projects page (direct) beside the HTTP floor's at the same scale and
    concurrency, with the server's figures over the floor's (empty when it did not run)."""
    page = {
        (r.strategy, r.scale, r.concurrency): r
        for r in results
        if r.scenario == "projects_first" and r.path == DIRECT
    }
    rows = []
    for (strategy, scale, c), floor in page.items():
        server = page.get(("read_model", scale, c))
        if strategy != HTTP_FLOOR or server is None:
            continue
        figures = {
            name: {"p50_ms": r.p50_ms, "p95_ms": r.p95_ms, "rps": r.rps, "cpu_ms": r.cpu_ms}
            for name, r in (("server", server), (HTTP_FLOOR, floor))
        }
        rows.append({
            "scale": scale, "concurrency": c, **figures,
            "server_over_floor": {
                "rps": _ratio(server.rps, floor.rps), "cpu": _ratio(server.cpu_ms, floor.cpu_ms),
                "p50": _ratio(server.p50_ms, floor.p50_ms),
            },
        })  # fmt: skip
    return rows


def _cells(r: Result) -> tuple[str, ...]:
    statements = "-" if r.statements is None else f"{r.statements:g}"
    cpu = "-" if r.cpu_ms is None else f"{r.cpu_ms:.2f}"
    return (
        r.strategy, r.scenario, r.path, r.scale, str(r.concurrency), str(r.requests),
        str(r.errors), f"{r.p50_ms:.2f}", f"{r.p95_ms:.2f}", f"{r.p99_ms:.2f}",
        f"{r.mean_ms:.2f}", f"{r.rps:.1f}", statements, cpu,
    )  # fmt: skip


def table(results: list[Result]) -> Iterator[str]:
    """One line per measurement, text left-aligned and numbers right-aligned."""
    yield " ".join(f"{name:>{width}}" if n >= TEXT_COLUMNS else f"{name:<{width}}"
                   for n, (name, width) in enumerate(COLUMNS))  # fmt: skip
    for r in results:
        yield " ".join(
            f"{cell:>{width}}" if n >= TEXT_COLUMNS else f"{cell:<{width}}"
            for n, (cell, (_, width)) in enumerate(zip(_cells(r), COLUMNS, strict=True))
        )
        if r.first_error:
            yield f"  first error: {r.first_error[:300]}"


def _times(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def path_lines(results: list[Result]) -> Iterator[str]:
    """Each path against direct: latency and throughput ratios, server CPU per request."""
    for row in path_rows(results):
        over = row["over_direct"]
        cpu = "-" if row["cpu_ms"] is None else f"{row['cpu_ms']:.2f} ms"
        yield (
            f"  {row['scale']:<6} {row['path']:<7} c={row['concurrency']:<3} "
            f"p50 {_times(over['p50'])}  p95 {_times(over['p95'])}  p99 {_times(over['p99'])}  "
            f"req/s {_times(over['rps'])}  server cpu/req {cpu} ({_times(over['cpu'])})"
        )


def http_floor_lines(results: list[Result]) -> Iterator[str]:
    """The server against the HTTP floor: throughput, CPU per request and p50, each as
    server / floor (ratio)."""
    for row in http_floor_rows(results):
        server, floor, over = row["server"], row[HTTP_FLOOR], row["server_over_floor"]
        yield (
            f"  {row['scale']:<6} c={row['concurrency']:<3} "
            f"req/s {server['rps']:.1f} / {floor['rps']:.1f} ({_times(over['rps'])})  "
            f"server cpu/req {_cpu(server, floor)} ({_times(over['cpu'])})  "
            f"p50 {server['p50_ms']:.2f} / {floor['p50_ms']:.2f} ms ({_times(over['p50'])})"
        )


def verdict_lines(verdicts: list[Verdict]) -> Iterator[str]:
    for v in verdicts:
        measured = "not measured" if v.measured is None else f"{v.measured:g}"
        yield f"  {'met   ' if v.met else 'MISSED'} {v.target}: {measured} (wanted {v.wanted})"
