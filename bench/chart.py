"""The benchmark's picture: the projects page per strategy, latency and throughput.

Left: p50 and p95 latency of `projects_first` at one request in flight, per strategy (a
log scale, since naive and floor are orders of magnitude apart), grouped by scale when
several ran. Right: throughput against concurrency, one line per strategy (and scale).
The read model through the pooler and from the replica are series of their own, and so is
the HTTP floor (bench/http_floor.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

from .load import Result

SERIES = (
    "naive", "live", "read_model", "read_model via pooler", "read_model via replica", "floor",
    "http_floor",
)  # fmt: skip
SCENARIO = "projects_first"
STYLES = ("-", "--", ":", "-.")  # one per scale
COLORS = {series: f"C{n}" for n, series in enumerate(SERIES)}  # one per series


def series(r: Result) -> str:
    """A strategy, on its path when that is not the direct one."""
    return r.strategy if r.path == "direct" else f"{r.strategy} via {r.path}"


def chart(results: list[Result], path: Path) -> None:
    """Writes the PNG to `path`."""
    page = [r for r in results if r.scenario == SCENARIO]
    scales = list(dict.fromkeys(r.scale for r in page))
    strategies = [s for s in SERIES if any(series(r) == s for r in page)]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6))

    width = 0.8 / max(1, len(strategies))
    for n, strategy in enumerate(strategies):
        at_one = {r.scale: r for r in page if series(r) == strategy and r.concurrency == 1}
        xs = [i + (n - (len(strategies) - 1) / 2) * width for i in range(len(scales))]
        p50 = [at_one[s].p50_ms if s in at_one else 0.0 for s in scales]
        p95 = [at_one[s].p95_ms if s in at_one else 0.0 for s in scales]
        color = COLORS[strategy]
        left.bar(xs, p95, width * 0.9, color=color, alpha=0.35, label=f"{strategy} p95")
        left.bar(xs, p50, width * 0.9, color=color, label=f"{strategy} p50")
    left.set_yscale("log")
    left.set_xticks(range(len(scales)), scales)
    left.set_ylabel("latency, ms (log)")
    left.set_title(f"{SCENARIO}: latency at concurrency 1")
    # Below the bars, never over them.
    left.legend(fontsize=7, ncols=min(len(strategies), 3), loc="upper center",
                bbox_to_anchor=(0.5, -0.1))  # fmt: skip

    for strategy in strategies:
        for scale, style in zip(scales, STYLES, strict=False):
            rows = sorted(
                (r for r in page if series(r) == strategy and r.scale == scale),
                key=lambda r: r.concurrency,
            )
            label = strategy if len(scales) == 1 else f"{strategy} ({scale})"
            right.plot([r.concurrency for r in rows], [r.rps for r in rows], style,
                       color=COLORS[strategy], marker="o", label=label)  # fmt: skip
    right.set_xscale("log", base=2)
    sweep = sorted({r.concurrency for r in page})
    right.set_xticks(sweep, [str(c) for c in sweep])
    right.minorticks_off()
    right.set_xlabel("concurrency (requests in flight)")
    right.set_ylabel("requests per second")
    right.set_title(f"{SCENARIO}: throughput")
    right.legend(fontsize=7)
    right.grid(alpha=0.3)

    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def redraw(report: Path) -> Path:
    """The chart of a JSON report (`vesper bench` writes both), drawn again beside it: the
    picture and the numbers of a README come from one run."""
    results = [Result(**row) for row in json.loads(report.read_text())["results"]]  # path: direct
    picture = report.with_suffix(".png")
    chart(results, picture)
    return picture


if __name__ == "__main__":  # python -m bench.chart bench/reports/<report>.json
    redraw(Path(sys.argv[1]))
