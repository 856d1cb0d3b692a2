"""The naive strategy: the projects page as it was built before the read path (the
multi-query approach the roadmap replaced), kept only to be measured against.

It asks the database for everything the viewer can see — every visible project, every
session of them, every image of every completed generation in the visible sessions — and
works out the cards in Python: session counts, the thumbnail (newest image by
generation.created_at, output.created_at, output.id, all descending), the order
(updated_at, id descending), the first page, then the owners of that page. Its cost grows
with what the viewer can see, which is what the benchmark shows. The images are streamed
through a cursor so that a medium-scale viewer's millions of rows do not sit in memory
(asyncpg's query logger does not see a cursor's statement, so the statements counted for
this strategy are one short of what it runs).
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any

import asyncpg

from db import profiles
from db.sql import load_queries

from . import QUERIES
from .cards import PAGE, Card

_Q = load_queries("bench", QUERIES)
CURSOR_ROWS = 10_000  # rows per round trip of the images cursor

_Key = tuple[datetime, datetime, uuid.UUID]  # generation created_at, created_at, id


async def naive_page(pool: asyncpg.Pool[Any], *, viewer: uuid.UUID) -> list[Card]:
    """The viewer's first page of projects, computed from everything they can see."""
    await profiles.viewer_role(pool, profile_id=viewer)  # authentication, as the server
    async with pool.acquire() as conn:
        projects = await conn.fetch(_Q["bench_naive_projects"], viewer)
        owner_of = {p["id"]: p["viewer_role"] == "OWNER" for p in projects}
        sessions = await conn.fetch(_Q["bench_naive_sessions"], list(owner_of))
        counts: Counter[uuid.UUID] = Counter()
        project_of: dict[uuid.UUID, uuid.UUID] = {}
        for s in sessions:
            if owner_of[s["project_id"]] or not s["is_private"]:
                counts[s["project_id"]] += 1
                project_of[s["id"]] = s["project_id"]
        newest: dict[uuid.UUID, tuple[_Key, str]] = {}
        async with conn.transaction():  # a cursor lives in a transaction
            images = conn.cursor(_Q["bench_naive_images"], list(project_of), prefetch=CURSOR_ROWS)
            async for image in images:
                project = project_of[image["session_id"]]
                key = (image["generation_created_at"], image["created_at"], image["id"])
                best = newest.get(project)
                if best is None or key > best[0]:
                    newest[project] = (key, image["file_url"])
        page = sorted(projects, key=lambda p: (p["updated_at"], p["id"]), reverse=True)[:PAGE]
        owner_ids = list({p["owner_id"] for p in page})
        owners = {o["id"]: o for o in await conn.fetch(_Q["bench_naive_owners"], owner_ids)}
    return [
        Card(
            id=p["id"],
            owner_username=owners[p["owner_id"]]["username"],
            session_count=counts[p["id"]],
            thumbnail_url=newest[p["id"]][1] if p["id"] in newest else None,
        )
        for p in page
    ]
