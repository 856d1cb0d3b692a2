"""`vesper explain` on data too small to judge: the plans are shown, and no verdict given."""

from __future__ import annotations

import asyncio

import pytest

import cli
from bench.seed import Scale, seed
from tests.support.factories import Conn

pytestmark = pytest.mark.slow  # seeds the tiny scale


async def test_explain_on_tiny_data_says_it_is_no_verdict(
    conn: Conn, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(conn, Scale.named("tiny"), seed=1)
    assert await asyncio.to_thread(cli.main, ["explain", "--database", db_url]) == 0
    out = capsys.readouterr().out
    assert "statements," in out
    assert "not a verdict: 10,000 generations is too little data to judge plans on" in out
