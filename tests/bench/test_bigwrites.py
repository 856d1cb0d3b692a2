"""`vesper bigwrites`: a small run against the suite's PostgreSQL — the real server started
as the benchmark starts it, each write sent through the API. What is asserted is that the
filled sessions hold what was asked (the fill also checks the project's read-model row
against its rows), that every write was answered `ok` at these sizes, and that the run's
database is gone afterwards; timings are the benchmark's own business."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

import cli
from tests.bench.conftest import exists

SIZES = (40, 400)
WRITES = [
    *["make private", "make public"] * 10,
    "settle toggles",
    "make private",
    "settle private",
    "remove member",
    "delete session",
    "delete project",
    "purge (worker)",
]


@pytest.mark.slow  # the real server, started by the benchmark
def test_every_write_is_timed_at_every_size_and_the_database_is_dropped(
    on_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["bigwrites", "--sizes", ",".join(map(str, SIZES)), "--out", str(tmp_path)]

    assert cli.main(argv) == 0

    out = capsys.readouterr().out
    report = json.loads((tmp_path / "bigwrites.json").read_text())
    assert [(s["outputs"], s["published"]) for s in report["sizes"]] == [(n, n) for n in SIZES]
    for size in report["sizes"]:
        assert [w["write"] for w in size["writes"]] == WRITES
        assert all(w["outcome"] == "ok" and w["ms"] > 0 for w in size["writes"]), size
        assert size["reads_ms"]["before"]["reads"] > 0, size
        assert size["write_ms"]["make private"]["reads"] == 11, size
        assert size["member_gallery_explain"]["settled"]["buffers"] > 0, size
        assert size["drift_after_settle"] == {"stale_copies": 0, "stats_drifted": 0}, size
        assert size["reads_ms"]["during_purge"]["p50"] >= 0, size
    database = re.search(r"database (vesper_bigwrites_[0-9a-f]+):", out)
    assert database is not None, out
    assert not asyncio.run(exists(on_server, database[1]))


@pytest.mark.parametrize("sizes", ["", "many", "2", "400,-1"])
def test_sizes_that_are_not_numbers_of_outputs_are_refused(
    sizes: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["bigwrites", "--sizes", sizes]) == 2
    assert "--sizes takes numbers of outputs from 4" in capsys.readouterr().err
