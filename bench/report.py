"""What a benchmark run leaves behind: a table for people, a JSON document for machines.

The JSON names the machine and versions (a timing means nothing without them), the run's
settings, every measurement and the target verdicts. It holds no paths or host names, so
the small report files of `make bench` can be committed.
"""

from __future__ import annotations

import dataclasses
import os
import platform
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from .load import Result
from .targets import Verdict

COLUMNS = (
    ("strategy", 10), ("scenario", 14), ("scale", 6), ("conc", 4), ("reqs", 6), ("err", 4),
    ("p50 ms", 9), ("p95 ms", 9), ("p99 ms", 9), ("mean ms", 9), ("req/s", 8), ("stmts", 5),
)  # fmt: skip


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
        "targets": [dataclasses.asdict(v) for v in verdicts],
    }


def _cells(r: Result) -> tuple[str, ...]:
    statements = "-" if r.statements is None else f"{r.statements:g}"
    return (
        r.strategy, r.scenario, r.scale, str(r.concurrency), str(r.requests), str(r.errors),
        f"{r.p50_ms:.2f}", f"{r.p95_ms:.2f}", f"{r.p99_ms:.2f}", f"{r.mean_ms:.2f}",
        f"{r.rps:.1f}", statements,
    )  # fmt: skip


def table(results: list[Result]) -> Iterator[str]:
    """One line per measurement, text left-aligned and numbers right-aligned."""
    yield " ".join(f"{name:>{width}}" if n > 2 else f"{name:<{width}}"
                   for n, (name, width) in enumerate(COLUMNS))  # fmt: skip
    for r in results:
        yield " ".join(
            f"{cell:>{width}}" if n > 2 else f"{cell:<{width}}"
            for n, (cell, (_, width)) in enumerate(zip(_cells(r), COLUMNS, strict=True))
        )
        if r.first_error:
            yield f"  first error: {r.first_error[:300]}"


def verdict_lines(verdicts: list[Verdict]) -> Iterator[str]:
    for v in verdicts:
        measured = "not measured" if v.measured is None else f"{v.measured:g}"
        yield f"  {'met   ' if v.met else 'MISSED'} {v.target}: {measured} (wanted {v.wanted})"
