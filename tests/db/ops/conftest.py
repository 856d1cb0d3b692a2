"""Fixtures of the migration tests: the production database as Prisma left it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from settings import ROOT
from tests.conftest import temporary_database

PRODUCTION_DDL = ROOT / "tests" / "fixtures" / "production_ddl.sql"


@pytest.fixture
async def production_url(server_url: str) -> AsyncIterator[str]:
    """A database built from the production DDL, as Prisma left it."""
    async with temporary_database(server_url, PRODUCTION_DDL.read_text(encoding="utf-8")) as url:
        yield url
