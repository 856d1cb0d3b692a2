"""`vesper seed`: realistic, skewed volumes, loaded set-based and deterministically.

Sizes scale from `small` (1k users, 10k projects, 100k sessions, 1M generations, ~2.4M
outputs) by a factor; the heavy cases that break naive plans scale with it: a user owning
half the projects (5,000 at small), a project with 5,000 sessions, a session with 50,000
generations, a user who is a member of 2,000 projects, and one project in ten shared.
The SQL is in bench/queries/seed.sql; this module only chooses sizes and ranges.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from db.sql import load_queries

from . import QUERIES

_Q = load_queries("seed", QUERIES)

FACTORS = {"tiny": 0.01, "small": 1.0, "medium": 5.0, "large": 20.0}
CHUNK = 100_000  # rows per statement for the large tables (progress granularity)


@dataclass(frozen=True, slots=True)
class Scale:
    name: str
    users: int
    projects: int
    sessions: int
    generations: int
    heavy_owner_projects: int
    heavy_project_sessions: int
    heavy_session_generations: int
    heavy_member_projects: int

    @classmethod
    def named(cls, name: str) -> Scale:
        """The scale `name` (tiny, small, medium, large); ValueError for another name."""
        if name not in FACTORS:
            raise ValueError(f"unknown scale {name!r}; choose from {', '.join(FACTORS)}")
        return cls.scaled(name, FACTORS[name])

    @classmethod
    def scaled(cls, name: str, f: float) -> Scale:
        """`f` times small (every size and heavy case), called `name`."""
        return cls(
            name=name,
            users=max(10, round(1_000 * f)),
            projects=round(10_000 * f),
            sessions=round(100_000 * f),
            generations=round(1_000_000 * f),
            heavy_owner_projects=round(5_000 * f),
            heavy_project_sessions=round(5_000 * f),
            heavy_session_generations=round(50_000 * f),
            heavy_member_projects=round(2_000 * f),
        )


@dataclass(frozen=True, slots=True)
class SeedReport:
    scale: str
    seed: int
    seconds: float
    counts: dict[str, int]
    bytes: int


class NotEmpty(Exception):
    """The database already holds profiles or projects."""


Progress = Callable[[str, int], None]  # (table, rows of it just written)


def _ranges(total: int) -> Iterator[tuple[int, int]]:
    for lo in range(1, total + 1, CHUNK):
        yield lo, min(total, lo + CHUNK - 1)


# The progress a seed reports is in rows; rebuilding the keys and indexes afterwards takes
# about a third of the time (measured at small and medium), so it counts as half as many
# rows again, shared out over its steps.
INDEX_WEIGHT = 0.5


def work(scale: Scale) -> int:
    """What a seed of `scale` reports in all: its rows, and the index phase's share."""
    rows = scale.users + scale.projects + scale.sessions + scale.generations
    return rows + int(rows * INDEX_WEIGHT)


async def seed(
    conn: asyncpg.Connection[Any],
    scale: Scale,
    *,
    seed: int = 1,
    replace: bool = False,
    progress: Progress | None = None,
) -> SeedReport:
    """Loads `scale` into an empty, migrated database in one transaction, then ANALYZEs.

    Raises:
        NotEmpty: the database holds data and `replace` is false.
    """
    report = progress or (lambda table, rows: None)
    started = time.perf_counter()
    async with conn.transaction():
        if not await conn.fetchval(_Q["seed_is_empty"]):
            if not replace:
                raise NotEmpty("the database already holds data (use --replace to wipe it)")
            await conn.execute(_Q["seed_truncate"])
        toggles = {
            on: [r[0] for r in await conn.fetch(_Q["seed_sync_triggers"], on)]
            for on in ("DISABLE", "ENABLE")
        }
        for statement in toggles["DISABLE"]:
            await conn.execute(statement)
        await conn.execute("SET LOCAL synchronous_commit = off")
        await conn.execute("SET LOCAL work_mem = '64MB'")
        if await conn.fetchval(_Q["seed_has_lz4"]):  # compresses `parameters` faster
            await conn.execute("SET LOCAL default_toast_compression = lz4")
        await conn.execute(_Q["seed_profiles"], seed, scale.users)
        report("profiles", scale.users)
        await conn.execute(
            _Q["seed_projects"], seed, 1, scale.projects, scale.users, scale.heavy_owner_projects
        )
        report("projects", scale.projects)
        await conn.execute(
            _Q["seed_members"],
            seed,
            scale.projects,
            scale.users,
            scale.heavy_member_projects,
            scale.heavy_owner_projects,
        )
        report("project_members", 0)
        for lo, hi in _ranges(scale.sessions):
            await conn.execute(
                _Q["seed_sessions"], seed, lo, hi, scale.projects, scale.heavy_project_sessions
            )
            report("sessions", hi - lo + 1)
        indexes = await conn.fetch(_Q["seed_secondary_indexes"])
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        keys = await conn.fetch(_Q["seed_index_table_keys"])
        for key in reversed(keys):
            await conn.execute(
                f'ALTER TABLE "{key["table_name"]}" DROP CONSTRAINT "{key["conname"]}"'
            )
        for lo, hi in _ranges(scale.generations):
            await conn.execute(
                _Q["seed_generations"],
                seed,
                lo,
                hi,
                scale.sessions,
                scale.heavy_session_generations,
                scale.projects,
            )
            report("generations", hi - lo + 1)
        await conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        index_work = work(scale) - (scale.users + scale.projects + scale.sessions)
        index_work -= scale.generations  # what is left once the rows are in
        share, left = divmod(index_work, len(indexes) + 1)
        await conn.execute(_Q["seed_member_projects"])
        for key in keys:
            await conn.execute(
                f'ALTER TABLE "{key["table_name"]}" ADD CONSTRAINT "{key["conname"]}" {key["def"]}'
            )
        report("index tables", share)
        for index in indexes:
            await conn.execute(index["indexdef"])
            report("indexes", share)
        report("indexes", left)
        await conn.execute(_Q["seed_project_stats"])
        for statement in toggles["ENABLE"]:
            await conn.execute(statement)
    # Statistics for everything; the visibility map for the tables whose counts are read
    # from an index alone (as autovacuum would have it on a live database).
    await conn.execute("ANALYZE")
    await conn.execute("VACUUM projects, project_members, sessions, member_projects, project_stats")
    row = await conn.fetchrow(_Q["seed_counts"])
    assert row is not None
    counts = {key: int(value) for key, value in dict(row).items() if key != "bytes"}
    return SeedReport(scale.name, seed, time.perf_counter() - started, counts, int(row["bytes"]))
