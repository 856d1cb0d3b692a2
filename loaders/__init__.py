"""Per-request DataLoaders, the viewer bound at creation: one attribute per (entity, key).

Every loader answers only what the viewer may see (the SQL applies visibility), so a
loader can be handed any id. `stats_source` picks where the project card figures come
from: the project_stats read model (default) or live computation (db/stats.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from typing import Any

import asyncpg

from auth.viewer import Viewer
from db import generations, outputs, profiles, projects, sessions
from db.generations import GenerationRow
from db.keyset import Keyset
from db.outputs import OutputRow
from db.profiles import ProfileRow
from db.projects import MemberRow, ProjectRow
from db.sessions import SessionRow
from db.stats import StatsRow, StatsSource, stored_stats

from .batch import ByIdLoader, GroupLoader, NotLoaded, PageKey, PageLoader

__all__ = ["Loaders", "NotLoaded", "PageKey", "build_loaders"]


@dataclass(frozen=True, slots=True)
class Loaders:
    profile_by_id: ByIdLoader[ProfileRow]
    project_by_id: ByIdLoader[ProjectRow]
    session_by_id: ByIdLoader[SessionRow]
    generation_by_id: ByIdLoader[GenerationRow]
    output_by_id: ByIdLoader[OutputRow]
    stats_by_project: ByIdLoader[StatsRow]
    members_by_project: GroupLoader[MemberRow]
    outputs_by_generation: GroupLoader[OutputRow]
    sessions_by_project: PageLoader[SessionRow]
    generations_by_session: PageLoader[GenerationRow]
    gallery_by_project: PageLoader[OutputRow]

    def __post_init__(self) -> None:
        for field in fields(self):  # each loader's metric label is its attribute name
            getattr(self, field.name).name = field.name

    def clear_all(self) -> None:
        """Forget every cached answer (after a write, so later loads see it)."""
        for field in fields(self):
            getattr(self, field.name).clear_all()


def build_loaders(
    pool: asyncpg.Pool[Any], viewer: Viewer | None, *, stats_source: StatsSource = stored_stats
) -> Loaders:
    # Without a viewer every root field fails before loading; a null id sees nothing.
    me: Any = viewer.id if viewer else None

    async def profile_rows(ids: list[uuid.UUID]) -> list[ProfileRow]:
        return await profiles.profiles_by_ids(pool, ids=ids)

    async def project_rows(ids: list[uuid.UUID]) -> list[ProjectRow]:
        return await projects.projects_by_ids(pool, viewer=me, ids=ids)

    async def session_rows(ids: list[uuid.UUID]) -> list[SessionRow]:
        return await sessions.sessions_by_ids(pool, viewer=me, ids=ids)

    async def generation_rows(ids: list[uuid.UUID]) -> list[GenerationRow]:
        return await generations.generations_by_ids(pool, viewer=me, ids=ids)

    async def output_rows(ids: list[uuid.UUID]) -> list[OutputRow]:
        return await outputs.outputs_by_ids(pool, viewer=me, ids=ids)

    async def stats_rows(ids: list[uuid.UUID]) -> list[StatsRow]:
        return await stats_source(pool, viewer=me, project_ids=ids)

    async def member_rows(ids: list[uuid.UUID]) -> list[MemberRow]:
        return await projects.members_by_projects(pool, viewer=me, project_ids=ids)

    async def generation_outputs(ids: list[uuid.UUID]) -> list[OutputRow]:
        return await outputs.outputs_by_generations(pool, viewer=me, generation_ids=ids)

    async def session_pages(
        ids: list[uuid.UUID], type_: str | None, keyset: Keyset
    ) -> list[tuple[uuid.UUID, SessionRow]]:
        rows = await sessions.sessions_pages(
            pool, viewer=me, project_ids=ids, type=type_, keyset=keyset
        )
        return [(row.project_id, row) for row in rows]

    async def generation_pages(
        ids: list[uuid.UUID], status: str | None, keyset: Keyset
    ) -> list[tuple[uuid.UUID, GenerationRow]]:
        rows = await generations.generations_pages(
            pool, viewer=me, session_ids=ids, status=status, keyset=keyset
        )
        return [(row.session_id, row) for row in rows]

    async def gallery_pages(
        ids: list[uuid.UUID], file_type: str | None, keyset: Keyset
    ) -> list[tuple[uuid.UUID, OutputRow]]:
        return await outputs.gallery_pages(
            pool, viewer=me, project_ids=ids, file_type=file_type, keyset=keyset
        )

    return Loaders(
        profile_by_id=ByIdLoader(profile_rows, key=lambda r: r.id),
        project_by_id=ByIdLoader(project_rows, key=lambda r: r.id),
        session_by_id=ByIdLoader(session_rows, key=lambda r: r.id),
        generation_by_id=ByIdLoader(generation_rows, key=lambda r: r.id),
        output_by_id=ByIdLoader(output_rows, key=lambda r: r.id),
        stats_by_project=ByIdLoader(stats_rows, key=lambda r: r.project_id),
        members_by_project=GroupLoader(member_rows, parent=lambda r: r.project_id),
        outputs_by_generation=GroupLoader(generation_outputs, parent=lambda r: r.generation_id),
        sessions_by_project=PageLoader(session_pages),
        generations_by_session=PageLoader(generation_pages),
        gallery_by_project=PageLoader(gallery_pages),
    )
