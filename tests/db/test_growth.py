"""A page's cost does not grow with the data: every hot statement `vesper explain` measures
touches under 1.5 times the buffers per row returned at 3.3 times the data, and the explain
check flags a statement whose index is gone.

The two sizes are 30% and 100% of small. Below that the planner rightly reads small tables
whole, and the switch from scans to probes counts as growth: at 10% (1,000 projects in 14
pages) a lookup of 20 projects by id hashes the whole projects table for the access check
instead of probing it 20 times, and looks cheaper per row than at small; at 3% the first
level of every B-tree counts too (on PostgreSQL 15, the cards' ~5 index descents per
project). A statement that reads what it does not return grows about 3.3 times per row
here, well past 1.5. Per row returned, because a page that is not full at the smaller size
returns fewer rows. A statement within SLACK buffers plus one per row returned of its
smaller self is not growth either: that is a lookup per row whose index gained a level, or
a table of a page or two read whole at the smaller size."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest

import cli
from bench.explain import Measured, explain
from bench.seed import Scale, seed
from tests.conftest import temporary_database

pytestmark = pytest.mark.slow  # data at volume, or the real server started by the test

SMALLER = Scale.scaled("30% of small", 0.3)
LARGER = Scale.named("small")
GROWTH = 1.5
SLACK = 10


async def _seeded(url: str, scale: Scale) -> list[Measured]:
    conn = await asyncpg.connect(url)
    try:
        await seed(conn, scale)
        return await explain(conn)
    finally:
        await conn.close()


def _per_row(m: Measured) -> float:
    return m.buffers / max(m.rows, 1)


def _by_statement(results: list[Measured]) -> dict[tuple[str, str], Measured]:
    return {(m.viewer, m.statement): m for m in results}


async def test_hot_statement_buffers_do_not_grow_with_the_data(
    server_url: str, template_name: str, capsys: Any, tmp_path: Path
) -> None:
    async with (
        temporary_database(server_url, template=template_name) as small_url,
        temporary_database(server_url, template=template_name) as large_url,
    ):
        # Seeded side by side: each seed is one backend busy on one core.
        seeded = await asyncio.gather(_seeded(small_url, SMALLER), _seeded(large_url, LARGER))
        small, large = (_by_statement(results) for results in seeded)

        # The same viewers and statements at both sizes (a viewer found twice is
        # measured once, so one size may have an extra viewer).
        common = small.keys() & large.keys()
        assert len(common) >= 48
        grown = {
            key: (_per_row(small[key]), _per_row(large[key]))
            for key in common
            if _per_row(large[key]) >= GROWTH * _per_row(small[key])
            and large[key].buffers - small[key].buffers > SLACK + large[key].rows
        }
        assert grown == {}
        # At small the tables are big enough for the planner to prefer the indexes.
        assert [m.flags for m in large.values() if m.flags] == []

        # Without the gallery's index the gallery statements read published_outputs whole
        # (checked on the smaller database, where that is quick).
        conn = await asyncpg.connect(small_url)
        try:
            await conn.execute("DROP INDEX published_outputs_gallery_idx")
            await conn.execute("ANALYZE published_outputs")
        finally:
            await conn.close()
        report = tmp_path / "explain.json"
        argv = ["explain", "--database", small_url, "--json", str(report)]
        assert await asyncio.to_thread(cli.main, argv) == 1
        assert "flagged" in capsys.readouterr().out
        flagged = {m["statement"] for m in json.loads(report.read_text()) if m["flags"]}
        assert "largest project: gallery page of 40" in flagged
