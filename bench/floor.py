"""The floor: the statements the server runs for the projects page, straight on an asyncpg
pool, with no HTTP, GraphQL or loaders in between.

The same functions of db/ in the same order: the viewer's role (authentication), the
page (21 rows: one more than shown, to know whether the list goes on), then the owners and
the card figures of the 20 projects concurrently, as the request's loaders batch them.
What the server adds on top of this is its own overhead.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg

from db import profiles, projects, stats
from db.keyset import Keyset
from domain.vocabulary import ProjectScope

from .cards import PAGE, Card


async def floor_page(pool: asyncpg.Pool[Any], *, viewer: uuid.UUID) -> list[Card]:
    """The viewer's first page of projects with the card figures of the read model."""
    await profiles.viewer_role(pool, profile_id=viewer)
    rows = await projects.projects_page(
        pool, viewer=viewer, scope=ProjectScope.ALL, keyset=Keyset(forward=True, limit=PAGE + 1)
    )
    page = rows[:PAGE]
    owners, figures = await asyncio.gather(
        profiles.profiles_by_ids(pool, ids=list(dict.fromkeys(r.owner_id for r in page))),
        stats.stored_stats(pool, viewer=viewer, project_ids=[r.id for r in page]),
    )
    username = {o.id: o.username for o in owners}
    by_project = {f.project_id: f for f in figures}
    return [
        Card(
            id=r.id,
            owner_username=username[r.owner_id],
            session_count=by_project[r.id].session_count,
            thumbnail_url=by_project[r.id].thumbnail_url,
        )
        for r in page
    ]
