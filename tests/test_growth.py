"""A page's cost does not grow with the data: every hot statement `vesper explain` measures
touches under 1.5 times the buffers per row returned at ten times the data, and the explain
check flags a statement whose index is gone.

The two sizes are 3x and 30x tiny (3% and 30% of small): at tiny some pages are not full
(10 shared projects in all) and most indexes are a single page, so the first levels of
every B-tree would be counted as growth. Per row returned, because a page that is not full
at the smaller size returns fewer rows; a statement within SLACK buffers of its smaller
self (a single-row lookup whose index gained a level) is not growth either."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

import cli
from bench.explain import Measured, explain
from bench.seed import Scale, seed
from tests.conftest import temporary_database

SMALLER = Scale.scaled("3x tiny", 0.03)
LARGER = Scale.scaled("30x tiny", 0.3)
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
    server_url: str, template_name: str, capsys: Any
) -> None:
    async with (
        temporary_database(server_url, template=template_name) as small_url,
        temporary_database(server_url, template=template_name) as large_url,
    ):
        small = _by_statement(await _seeded(small_url, SMALLER))
        large = _by_statement(await _seeded(large_url, LARGER))

        # The same viewers and statements at both sizes (a viewer found twice is
        # measured once, so one size may have an extra viewer).
        common = small.keys() & large.keys()
        assert len(common) >= 48
        grown = {
            key: (_per_row(small[key]), _per_row(large[key]))
            for key in common
            if _per_row(large[key]) >= GROWTH * _per_row(small[key])
            and large[key].buffers - small[key].buffers > SLACK
        }
        assert grown == {}
        # At 30x tiny the tables are big enough for the planner to prefer the indexes.
        assert [m.flags for m in large.values() if m.flags] == []

        # Without the gallery's index the gallery statements read published_outputs whole.
        conn = await asyncpg.connect(large_url)
        try:
            await conn.execute("DROP INDEX published_outputs_gallery_idx")
            await conn.execute("ANALYZE published_outputs")
            flagged = {m.statement for m in await explain(conn) if m.flags}
        finally:
            await conn.close()
        assert "largest project: gallery page of 40" in flagged
        assert await asyncio.to_thread(cli.main, ["explain", "--database", large_url]) == 1
        assert "flagged" in capsys.readouterr().out
