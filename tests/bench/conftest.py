"""Fixtures of the benchmark's tests."""

from __future__ import annotations

import pytest

from tests.support.sql import fetchval


@pytest.fixture
def on_server(server_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The environment of a `vesper` command that makes its database of its own on the
    suite's server (straight to it: no pooler, no replica); that server's URL."""
    monkeypatch.setenv("DATABASE_URL", server_url)
    for name in ("DATABASE_DIRECT_URL", "DATABASE_REPLICA_URLS", "VESPER_POOL_MODE"):
        monkeypatch.delenv(name, raising=False)
    return server_url


async def exists(server_url: str, name: str) -> bool:
    """Whether database `name` is on the server."""
    found: bool = await fetchval(
        server_url, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name
    )
    return found
