"""Per-request DataLoaders, the viewer bound at creation: one attribute per (entity, key).

Every loader answers only what the viewer may see (the SQL applies visibility), so a
loader can be handed any id. `stats_source` picks where the project card figures come
from: the project_stats read model (`read_model`, the default) or live computation
(`live`), see db/stats.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from db import generations, outputs, profiles, projects, sessions, stats
from db.types import Executor
from domain.rows import (
    GenerationRow,
    MemberRow,
    OutputRow,
    ProfileRow,
    ProjectRow,
    SessionRow,
    StatsRow,
)
from domain.vocabulary import FileType, GenerationStatus, NodeType, SessionType

from .batch import NOT_LOADED, ByIdLoader, GroupLoader, KeyedLoader, NotLoaded, PageKey, PageLoader

__all__ = [
    "NODE_LOADERS",
    "NOT_LOADED",
    "ByIdLoader",
    "GroupLoader",
    "KeyedLoader",
    "Loaders",
    "NotLoaded",
    "PageKey",
    "PageLoader",
    "build_loaders",
]


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
    sessions_by_project: PageLoader[SessionType, SessionRow]
    generations_by_session: PageLoader[GenerationStatus, GenerationRow]
    gallery_by_project: PageLoader[FileType, OutputRow]

    def __post_init__(self) -> None:
        for field in fields(self):  # each loader's metric label is its attribute name
            getattr(self, field.name).name = field.name

    def by_node_type(self, node_type: NodeType) -> ByIdLoader[Any]:
        """The loader of the objects that have global ids of `node_type`."""
        return NODE_LOADERS[node_type](self)

    def clear_all(self) -> None:
        """Forget every cached answer (after a write, so later loads see it)."""
        for field in fields(self):
            getattr(self, field.name).clear_all()


# The loader answering for each kind of global id.
NODE_LOADERS: dict[NodeType, Callable[[Loaders], ByIdLoader[Any]]] = {
    NodeType.PROFILE: lambda loaders: loaders.profile_by_id,
    NodeType.PROJECT: lambda loaders: loaders.project_by_id,
    NodeType.SESSION: lambda loaders: loaders.session_by_id,
    NodeType.GENERATION: lambda loaders: loaders.generation_by_id,
    NodeType.OUTPUT: lambda loaders: loaders.output_by_id,
}


def build_loaders(
    pool: Executor, viewer: uuid.UUID | None, *, stats_source: str = "read_model"
) -> Loaders:
    """Loaders for one request of `viewer` (None: anonymous; every root field fails before
    loading, and a null id would see nothing)."""
    me: Any = viewer
    card_figures = stats.SOURCES[stats_source]
    return Loaders(
        profile_by_id=ByIdLoader(lambda ids: profiles.profiles_by_ids(pool, ids=ids), key=_id),
        project_by_id=ByIdLoader(
            lambda ids: projects.projects_by_ids(pool, viewer=me, ids=ids), key=_id
        ),
        session_by_id=ByIdLoader(
            lambda ids: sessions.sessions_by_ids(pool, viewer=me, ids=ids), key=_id
        ),
        generation_by_id=ByIdLoader(
            lambda ids: generations.generations_by_ids(pool, viewer=me, ids=ids), key=_id
        ),
        output_by_id=ByIdLoader(
            lambda ids: outputs.outputs_by_ids(pool, viewer=me, ids=ids), key=_id
        ),
        stats_by_project=ByIdLoader(
            lambda ids: card_figures(pool, viewer=me, project_ids=ids),
            key=lambda row: row.project_id,
        ),
        members_by_project=GroupLoader(
            lambda ids: projects.members_by_projects(pool, viewer=me, project_ids=ids),
            parent=lambda row: row.project_id,
        ),
        outputs_by_generation=GroupLoader(
            lambda ids: outputs.outputs_by_generations(pool, viewer=me, generation_ids=ids),
            parent=lambda row: row.generation_id,
        ),
        sessions_by_project=PageLoader(
            lambda ids, type_, keyset: sessions.sessions_pages(
                pool, viewer=me, project_ids=ids, type=type_, keyset=keyset
            )
        ),
        generations_by_session=PageLoader(
            lambda ids, status, keyset: generations.generations_pages(
                pool, viewer=me, session_ids=ids, status=status, keyset=keyset
            )
        ),
        gallery_by_project=PageLoader(
            lambda ids, file_type, keyset: outputs.gallery_pages(
                pool, viewer=me, project_ids=ids, file_type=file_type, keyset=keyset
            )
        ),
    )


def _id(row: ProfileRow | ProjectRow | SessionRow | GenerationRow | OutputRow) -> uuid.UUID:
    return row.id
