"""The `vesper` command against a real database."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx
import psutil
import pytest

import cli
from auth import tokens
from db.ops.demo import DEMO_USERS
from db.ops.parts import free_port
from settings import DEV_JWT_SECRET
from tests.support.sql import execute


def test_token_prints_the_headers_pane_form_for_a_demo_user(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["token", "--user", "bob"]) == 0
    headers = json.loads(capsys.readouterr().out)
    assert list(headers) == ["Authorization"]
    assert headers["Authorization"].startswith("Bearer ")
    claims = tokens.decode(
        headers["Authorization"].removeprefix("Bearer "),
        secret=DEV_JWT_SECRET,
        audience="authenticated",
    )
    assert claims.subject == DEMO_USERS["bob"]
    assert cli.main(["token", "--user", "bob", "--raw"]) == 0
    raw = capsys.readouterr().out.strip()
    assert tokens.decode(raw, secret=DEV_JWT_SECRET, audience="authenticated") == claims


def test_unknown_demo_user_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["token", "--user", "mallory"]) == 2
    assert "unknown demo user 'mallory'" in capsys.readouterr().err


def test_migrate_then_demo_on_an_empty_database(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db_url)
    assert cli.main(["migrate"]) == 0
    out = capsys.readouterr().out
    assert "0001_baseline, 0002_visibility" in out
    # Each migration as it is applied, with its time, and the backfills' progress.
    assert re.search(r"^  0008_index_tables_backfill +\d+\.\d s$", out, re.MULTILINE), out
    assert "      published_outputs: filled" in out
    assert "      project_stats: 0 projects filled" in out
    assert cli.main(["migrate"]) == 0
    assert "none pending" in capsys.readouterr().out
    assert cli.main(["demo"]) == 0
    assert "demo data: loaded" in capsys.readouterr().out
    assert cli.main(["migrate", "--rollback-all"]) == 0
    assert "0002_visibility, 0001_baseline" in capsys.readouterr().out


def test_a_failing_migration_is_a_clear_error(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db_url)
    assert cli.main(["migrate"]) == 0
    assert cli.main(["migrate", "--rollback-all"]) == 0
    capsys.readouterr()
    # A table in the way of 0007: it fails, the migrations before it stay applied.
    asyncio.run(execute(empty_db_url, "CREATE TABLE member_projects (id int)"))
    assert cli.main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert 'a migration failed: relation "member_projects" already exists' in err
    assert "still pending: 0007_index_tables, 0008_index_tables_backfill" in err
    assert "Traceback" not in err


def test_unreachable_database_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    assert cli.main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vesper: cannot connect to PostgreSQL at 127.0.0.1:1/nowhere")
    assert "Traceback" not in err


def test_adopt_refuses_a_blank_database(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_db_url)
    assert cli.main(["migrate", "--adopt"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("refusing to adopt: no baseline table exists: use apply, not adopt")
    assert "  - missing table profiles" in err


def test_schema_prints_the_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema"]) == 0
    assert "type Query {" in capsys.readouterr().out


@pytest.fixture(scope="module")
def run_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder `vesper run` starts from nothing, as on a fresh clone."""
    return tmp_path_factory.mktemp("vesper-run") / "pgdata"


def _postgres_of(data: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if str(data) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


@pytest.mark.slow  # starts its own embedded PostgreSQL
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_vesper_run_prints_a_short_banner_whose_header_works_and_stops_its_database(
    run_data: Path, stop: signal.Signals
) -> None:
    port = free_port()
    env = {**os.environ, "VESPER_DATA_DIR": str(run_data), "VESPER_PORT": str(port)}
    env.pop("DATABASE_URL", None)
    vesper = Path(sys.executable).parent / "vesper"
    with subprocess.Popen(
        [str(vesper), "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            banner = _banner(process.stdout)
            assert len(banner) <= 12, banner
            assert f"http://127.0.0.1:{port}/graphql" in "".join(banner)
            line = next(b for b in banner if "Headers" in b)
            headers = json.loads(line.split("Headers", 1)[1])
            answer = _first_answer(port, headers)
            assert answer["data"] == {"viewer": {"username": "alice"}}
            assert _postgres_of(run_data), "the embedded PostgreSQL should be running"
        finally:
            process.send_signal(stop)
            _, stderr = process.communicate(timeout=60)
    assert not _postgres_of(run_data)
    assert "Traceback" not in stderr, stderr


def _banner(stdout: IO[str]) -> list[str]:
    """The lines `vesper run` prints, up to the last one ("Stop …")."""
    banner: list[str] = []
    while not banner or not banner[-1].strip().startswith("Stop"):
        line = stdout.readline()
        assert line, f"vesper run ended after {banner}"
        banner.append(line)
    return banner


def _first_answer(port: int, headers: dict[str, str]) -> Any:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
        deadline = time.monotonic() + 30
        while True:
            try:
                query = {"query": "{ viewer { username } }"}
                return http.post("/graphql", json=query, headers=headers).json()
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.2)
