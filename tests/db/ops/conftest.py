"""Fixtures of the migration tests: the production database as Prisma left it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from settings import ROOT, yoyo_url
from tests.conftest import temporary_database

PRODUCTION_DDL = ROOT / "tests" / "fixtures" / "production_ddl.sql"


@pytest.fixture
async def production_url(server_url: str) -> AsyncIterator[str]:
    """A database built from the production DDL, as Prisma left it."""
    async with temporary_database(server_url, PRODUCTION_DDL.read_text(encoding="utf-8")) as url:
        yield url


async def plain_yoyo(*args: str, url: str) -> tuple[int, str]:
    """yoyo's own command (`apply`, `rollback --all`, …: no code of ours runs) on `url`,
    in a clean shell (the explicit --database must be enough): its exit code and output."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "yoyo"),
        *args,
        "--batch",
        "--database",
        yoyo_url(url),
        "migrations",
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()
