"""The floor: the statements the server runs for the projects page, straight on an asyncpg
pool, with no HTTP, GraphQL or loaders in between.

The same functions of db/ in the same order: the viewer's role (authentication), then the
page (21 rows: one more than shown, to know whether the list goes on) with the owners and
the card figures of its projects read in the same statement, as the server asks for them.
What the server adds on top of this is its own overhead. The HTTP floor
(bench/http_floor.py) runs these same statements behind the least HTTP there is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from db import profiles, projects
from db.keyset import Keyset
from domain.rows import ProfileRow, ProjectRow, StatsRow
from domain.vocabulary import ProjectScope

from .cards import PAGE, Card

KEYSET = Keyset(forward=True, limit=PAGE + 1)  # the first page, one row more


@dataclass(frozen=True, slots=True)
class FloorPage:
    rows: list[ProjectRow]  # as the page statement returned them: PAGE + 1 when it goes on
    owners: dict[uuid.UUID, ProfileRow]
    figures: dict[uuid.UUID, StatsRow]  # by project

    @property
    def cards(self) -> list[Card]:
        return [
            Card(
                id=r.id,
                owner_username=self.owners[r.owner_id].username,
                session_count=self.figures[r.id].session_count,
                thumbnail_url=self.figures[r.id].thumbnail_url,
            )
            for r in self.rows[:PAGE]
        ]


async def floor_rows(pool: asyncpg.Pool[Any], *, viewer: uuid.UUID) -> FloorPage:
    """The viewer's first page of projects with their owners and the card figures of the
    read model, read as the server reads them: the viewer's role, then the page statement."""
    await profiles.viewer_role(pool, profile_id=viewer)
    cards = await projects.projects_page(
        pool, viewer=viewer, scope=ProjectScope.ALL, keyset=KEYSET, figures=True, owners=True
    )
    return FloorPage(
        cards.rows,
        {o.id: o for o in cards.owners},
        {f.project_id: f for f in cards.figures},
    )


async def floor_page(pool: asyncpg.Pool[Any], *, viewer: uuid.UUID) -> list[Card]:
    """The viewer's first page of projects as cards."""
    return (await floor_rows(pool, viewer=viewer)).cards
