"""Per-request DataLoaders, the viewer bound at creation: one attribute per (entity, key).

Every loader answers only what the viewer may see (the SQL applies visibility), so a
loader can be handed any id. `stats_source` picks where the project card figures come
from: the project_stats read model (`read_model`, the default) or live computation
(`live`), see db/stats.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar, cast

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

L = TypeVar("L", bound="KeyedLoader[Any] | PageLoader[Any, Any]")

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


class Loaders:
    """The request's loaders, each built the first time it is used (a request uses a few of
    the eleven, and building one costs microseconds that every request would pay)."""

    def __init__(self, pool: Executor, viewer: uuid.UUID | None, stats_source: str) -> None:
        self._pool, self._me, self._figures = pool, cast(uuid.UUID, viewer), stats_source
        self._built: list[KeyedLoader[Any] | PageLoader[Any, Any]] = []

    @property
    def figures_stored(self) -> bool:
        """Whether the card figures come from the read model."""
        return self._figures == "read_model"

    def _named(self, loader: L, name: str) -> L:
        loader.name = name  # its metric label
        self._built.append(loader)
        return loader

    @cached_property
    def profile_by_id(self) -> ByIdLoader[ProfileRow]:
        pool = self._pool
        return self._named(
            ByIdLoader(lambda ids: profiles.profiles_by_ids(pool, ids=ids), key=_id),
            "profile_by_id",
        )

    @cached_property
    def project_by_id(self) -> ByIdLoader[ProjectRow]:
        pool, me = self._pool, self._me
        return self._named(
            ByIdLoader(lambda ids: projects.projects_by_ids(pool, viewer=me, ids=ids), key=_id),
            "project_by_id",
        )

    @cached_property
    def session_by_id(self) -> ByIdLoader[SessionRow]:
        pool, me = self._pool, self._me
        return self._named(
            ByIdLoader(lambda ids: sessions.sessions_by_ids(pool, viewer=me, ids=ids), key=_id),
            "session_by_id",
        )

    @cached_property
    def generation_by_id(self) -> ByIdLoader[GenerationRow]:
        pool, me = self._pool, self._me
        return self._named(
            ByIdLoader(
                lambda ids: generations.generations_by_ids(pool, viewer=me, ids=ids), key=_id
            ),
            "generation_by_id",
        )

    @cached_property
    def output_by_id(self) -> ByIdLoader[OutputRow]:
        pool, me = self._pool, self._me
        return self._named(
            ByIdLoader(lambda ids: outputs.outputs_by_ids(pool, viewer=me, ids=ids), key=_id),
            "output_by_id",
        )

    @cached_property
    def stats_by_project(self) -> ByIdLoader[StatsRow]:
        pool, me, card_figures = self._pool, self._me, stats.SOURCES[self._figures]
        return self._named(
            ByIdLoader(
                lambda ids: card_figures(pool, viewer=me, project_ids=ids),
                key=lambda row: row.project_id,
            ),
            "stats_by_project",
        )

    @cached_property
    def members_by_project(self) -> GroupLoader[MemberRow]:
        pool, me = self._pool, self._me
        return self._named(
            GroupLoader(
                lambda ids: projects.members_by_projects(pool, viewer=me, project_ids=ids),
                parent=lambda row: row.project_id,
            ),
            "members_by_project",
        )

    @cached_property
    def outputs_by_generation(self) -> GroupLoader[OutputRow]:
        pool, me = self._pool, self._me
        return self._named(
            GroupLoader(
                lambda ids: outputs.outputs_by_generations(pool, viewer=me, generation_ids=ids),
                parent=lambda row: row.generation_id,
            ),
            "outputs_by_generation",
        )

    @cached_property
    def sessions_by_project(self) -> PageLoader[SessionType, SessionRow]:
        pool, me = self._pool, self._me
        return self._named(
            PageLoader(
                lambda ids, type_, keyset: sessions.sessions_pages(
                    pool, viewer=me, project_ids=ids, type=type_, keyset=keyset
                )
            ),
            "sessions_by_project",
        )

    @cached_property
    def generations_by_session(self) -> PageLoader[GenerationStatus, GenerationRow]:
        pool, me = self._pool, self._me
        return self._named(
            PageLoader(
                lambda ids, status, keyset: generations.generations_pages(
                    pool, viewer=me, session_ids=ids, status=status, keyset=keyset
                )
            ),
            "generations_by_session",
        )

    @cached_property
    def gallery_by_project(self) -> PageLoader[FileType, OutputRow]:
        pool, me = self._pool, self._me
        return self._named(
            PageLoader(
                lambda ids, file_type, keyset: outputs.gallery_pages(
                    pool, viewer=me, project_ids=ids, file_type=file_type, keyset=keyset
                )
            ),
            "gallery_by_project",
        )

    def by_node_type(self, node_type: NodeType) -> ByIdLoader[Any]:
        """The loader of the objects that have global ids of `node_type`."""
        return NODE_LOADERS[node_type](self)

    def clear_all(self) -> None:
        """Forget every cached answer (after a write, so later loads see it)."""
        for loader in self._built:
            loader.clear_all()


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
    return Loaders(pool, viewer, stats_source)


def _id(row: ProfileRow | ProjectRow | SessionRow | GenerationRow | OutputRow) -> uuid.UUID:
    return row.id
