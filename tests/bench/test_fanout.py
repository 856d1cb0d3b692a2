"""`vesper fanout`: a small run against the suite's PostgreSQL — the real server started as
the benchmark starts it, real WebSocket subscribers, events from real commits. What is
asserted is that every subscriber received every event once, and that the run's database
is gone afterwards; timings are the benchmark's own business."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

import cli
from tests.bench.conftest import exists

SUBSCRIBERS, EVENTS = 20, 3


def test_every_subscriber_receives_every_event_and_the_database_is_dropped(
    on_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["fanout", "--subscribers", str(SUBSCRIBERS), "--events", str(EVENTS),
            "--out", str(tmp_path)]  # fmt: skip

    assert cli.main(argv) == 0

    out = capsys.readouterr().out
    report = json.loads((tmp_path / "fanout.json").read_text())
    deliveries = report["deliveries"]
    assert deliveries == {
        "expected": SUBSCRIBERS * EVENTS,
        "received": SUBSCRIBERS * EVENTS,
        "missing": 0,
        "duplicates": 0,
        "unexpected_messages": 0,
        "closed_early": 0,
        "first_problem": None,
    }
    assert f"deliveries      {SUBSCRIBERS * EVENTS} of {SUBSCRIBERS * EVENTS}\n" in out
    assert report["settings"]["subscribers"] == SUBSCRIBERS
    assert report["server_cpu_ms_per_event"] is not None
    database = re.search(r"database (vesper_fanout_[0-9a-f]+):", out)
    assert database is not None, out
    assert not asyncio.run(exists(on_server, database[1]))
