"""Who the benchmark's requests are made as, and on what: found in the data.

The heavy owner (the profile owning the most projects) reads the projects list; the owner
of the project with the most sessions reads that project's page and gallery and writes in
it (mixed scenario). The queries are explain.sql's, so `vesper explain` and `vesper bench`
look at the same worst cases, plus bench.sql for the session the writes go to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from db.sql import load_queries

from . import QUERIES
from .database import BenchError

_Q = {**load_queries("explain", QUERIES), **load_queries("bench", QUERIES)}

WRITE_MODEL = "vesper-bench-load"  # model id of the mixed scenario's generations


@dataclass(frozen=True, slots=True)
class Subjects:
    heavy_owner: uuid.UUID
    project_owner: uuid.UUID  # owner of `project`
    project: uuid.UUID  # the project with the most sessions
    write_session: uuid.UUID  # the session of `project` the mixed scenario writes in


async def find(db: asyncpg.Pool[Any]) -> Subjects:
    """The subjects of this database's data.

    Raises:
        BenchError: the database has no project with an image session.
    """
    heavy_owner = await db.fetchval(_Q["explain_heavy_owner"])
    project_owner = await db.fetchval(_Q["explain_largest_project_owner"])
    if heavy_owner is None or project_owner is None:
        raise BenchError("the database holds no projects with sessions to measure")
    project = await db.fetchval(_Q["explain_largest_project"], project_owner)
    session = await db.fetchval(_Q["bench_write_session"], project)
    if session is None:
        raise BenchError("the largest project has no image session for the writes")
    return Subjects(heavy_owner, project_owner, project, session)


async def forget_writes(db: asyncpg.Pool[Any]) -> int:
    """Deletes what the mixed scenario wrote (here or in an interrupted run); how many
    generations that was."""
    status: str = await db.execute(_Q["bench_forget_writes"], WRITE_MODEL)
    return int(status.split()[-1])
