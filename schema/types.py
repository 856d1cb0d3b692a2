"""Object types of the public contract (API.md): shape and delegation only.

Each type keeps its database row as a private field; nested fields hand the row's keys to
resolvers/, which read through the per-request loaders.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import strawberry
from strawberry.scalars import JSON

from db.generations import GenerationRow
from db.outputs import OutputRow
from db.profiles import ProfileRow
from db.projects import MemberRow, ProjectRow
from db.sessions import SessionRow
from db.stats import StatsRow
from loaders import NotLoaded
from loaders.batch import ByIdLoader
from resolvers import reads
from resolvers.errors import NotFound
from resolvers.ids import encode

from .connection import UNSET, Connection, connection, page_args
from .context import Info
from .enums import FileType, GenerationStatus, ProjectRole, SessionType
from .lookahead import load_page_ahead

T = TypeVar("T")
R = TypeVar("R")


def _gone(what: str) -> NotFound:
    # Each loader reads its own snapshot: a writer can delete the parent of a row this
    # request has already read (a session between its generation and the generation's
    # session field). The field fails as the contract says of what does not exist.
    return NotFound(f"the {what} was deleted while this request ran")


def _max_size(info: Info) -> int:
    return info.context.settings.max_page_size


@strawberry.interface(description="An object with a global id (Relay).")
class Node:
    id: strawberry.ID


@strawberry.type(description="A person's public profile.")
class Profile(Node):
    username: str | None
    display_name: str | None
    avatar_url: str | None

    @classmethod
    def from_row(cls, row: ProfileRow) -> Profile:
        return cls(
            id=strawberry.ID(encode("Profile", row.id)),
            username=row.username,
            display_name=row.display_name,
            avatar_url=row.avatar_url,
        )


def _related(
    loader: ByIdLoader[R], key: uuid.UUID, build: Callable[[R], T], what: str
) -> T | Awaitable[T]:
    """The object for the row `key` of `loader`: at once when the row was loaded ahead
    (schema/lookahead.py), else the awaitable load."""
    row = loader.ready(key)
    if isinstance(row, NotLoaded):
        return _later(loader, key, build, what)
    if row is None:
        raise _gone(what)
    return build(row)


async def _later(loader: ByIdLoader[R], key: uuid.UUID, build: Callable[[R], T], what: str) -> T:
    row = await loader.load(key)
    if row is None:
        raise _gone(what)
    return build(row)


@strawberry.type(description="A project: sessions of generations, shared or with members.")
class Project(Node):
    name: str
    description: str | None
    cover_image_url: str | None
    is_shared: bool
    created_at: datetime
    updated_at: datetime
    viewer_role: ProjectRole | None = strawberry.field(
        description="Null when the viewer sees the project only because it is shared."
    )
    row: strawberry.Private[ProjectRow]

    @classmethod
    def from_row(cls, row: ProjectRow) -> Project:
        return cls(
            id=strawberry.ID(encode("Project", row.id)),
            name=row.name,
            description=row.description,
            cover_image_url=row.cover_image_url,
            is_shared=row.is_shared,
            created_at=row.created_at,
            updated_at=row.updated_at,
            viewer_role=None if row.viewer_role is None else ProjectRole(row.viewer_role),
            row=row,
        )

    # These answer without awaiting when a connection loaded their rows ahead.
    @strawberry.field(graphql_type=Profile)
    def owner(self, info: Info) -> Profile | Awaitable[Profile]:
        loaders = info.context.loaders
        return _related(loaders.profile_by_id, self.row.owner_id, Profile.from_row, "profile")

    @strawberry.field(graphql_type=int, description="Sessions visible to the viewer.")
    def session_count(self, info: Info) -> int | Awaitable[int]:
        return self._figure(info, lambda stats: stats.session_count)

    @strawberry.field(
        graphql_type=str | None,
        description="The newest published image in a session visible to the viewer.",
    )
    def thumbnail_url(self, info: Info) -> str | Awaitable[str | None] | None:
        return self._figure(info, lambda stats: stats.thumbnail_url)

    @strawberry.field(
        graphql_type=datetime | None,
        description="created_at of the newest published output in a visible session.",
    )
    def last_activity_at(self, info: Info) -> datetime | Awaitable[datetime | None] | None:
        return self._figure(info, lambda stats: stats.last_activity_at)

    def _figure(self, info: Info, pick: Callable[[StatsRow], T]) -> T | Awaitable[T]:
        loaders = info.context.loaders
        ready = reads.ready_project_stats(loaders, self.row.id)
        if not isinstance(ready, NotLoaded):
            return pick(ready)

        async def later() -> T:
            return pick(await reads.project_stats(loaders, self.row.id))

        return later()

    @strawberry.field(description="Visible sessions, newest update first.")
    async def sessions(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        type: SessionType | None = UNSET,
    ) -> Connection[Session]:
        page = await reads.project_sessions(
            info.context.loaders,
            self.row.id,
            page_args(first, after, last, before),
            type=type.value if type else None,
            max_size=_max_size(info),
        )
        await load_page_ahead(info, "Session", page.rows)
        return connection(page, Session.from_row)

    @strawberry.field(description="The gallery: published outputs in visible sessions.")
    async def outputs(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        file_type: FileType | None = UNSET,
    ) -> Connection[Output]:
        page = await reads.project_gallery(
            info.context.loaders,
            self.row.id,
            page_args(first, after, last, before),
            file_type=file_type.value if file_type else None,
            max_size=_max_size(info),
        )
        await load_page_ahead(info, "Output", page.rows)
        return connection(page, Output.from_row)

    @strawberry.field(description="Members by join date (the owner is not a member).")
    async def members(self, info: Info) -> list[ProjectMember]:
        rows = await reads.project_members(info.context.loaders, self.row.id)
        return [ProjectMember.from_row(row) for row in rows]


@strawberry.type
class ProjectMember:
    role: ProjectRole
    joined_at: datetime
    row: strawberry.Private[MemberRow]

    @classmethod
    def from_row(cls, row: MemberRow) -> ProjectMember:
        return cls(role=ProjectRole(row.role), joined_at=row.joined_at, row=row)

    @strawberry.field(graphql_type=Profile)
    def user(self, info: Info) -> Profile | Awaitable[Profile]:
        loaders = info.context.loaders
        return _related(loaders.profile_by_id, self.row.user_id, Profile.from_row, "profile")


@strawberry.type(description="A series of generations of one kind inside a project.")
class Session(Node):
    name: str
    type: SessionType
    is_private: bool
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[SessionRow]

    @classmethod
    def from_row(cls, row: SessionRow) -> Session:
        return cls(
            id=strawberry.ID(encode("Session", row.id)),
            name=row.name,
            type=SessionType(row.type),
            is_private=row.is_private,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )

    @strawberry.field(graphql_type=Project)
    def project(self, info: Info) -> Project | Awaitable[Project]:
        loaders = info.context.loaders
        return _related(loaders.project_by_id, self.row.project_id, Project.from_row, "project")

    @strawberry.field(description="Newest first; every status but DISMISSED unless asked.")
    async def generations(
        self,
        info: Info,
        first: int | None = UNSET,
        after: str | None = UNSET,
        last: int | None = UNSET,
        before: str | None = UNSET,
        status: GenerationStatus | None = UNSET,
    ) -> Connection[Generation]:
        page = await reads.session_generations(
            info.context.loaders,
            self.row.id,
            page_args(first, after, last, before),
            status=status.value if status else None,
            max_size=_max_size(info),
        )
        await load_page_ahead(info, "Generation", page.rows)
        return connection(page, Generation.from_row)


@strawberry.type(description="One prompt sent to one model.")
class Generation(Node):
    model_id: str
    prompt: str
    negative_prompt: str | None
    status: GenerationStatus
    cost: str | None = strawberry.field(description="USD, a decimal as a string.")
    created_at: datetime
    row: strawberry.Private[GenerationRow]

    @classmethod
    def from_row(cls, row: GenerationRow) -> Generation:
        return cls(
            id=strawberry.ID(encode("Generation", row.id)),
            model_id=row.model_id,
            prompt=row.prompt,
            negative_prompt=row.negative_prompt,
            status=GenerationStatus(row.status),
            cost=None if row.cost is None else str(row.cost),
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(graphql_type=Session)
    def session(self, info: Info) -> Session | Awaitable[Session]:
        loaders = info.context.loaders
        return _related(loaders.session_by_id, self.row.session_id, Session.from_row, "session")

    @strawberry.field(graphql_type=Profile, description="Who ran it.")
    def user(self, info: Info) -> Profile | Awaitable[Profile]:
        loaders = info.context.loaders
        return _related(loaders.profile_by_id, self.row.user_id, Profile.from_row, "profile")

    @strawberry.field(
        description="Everything for its creator and the project owner; otherwise only "
        "aspectRatio, numOutputs, resolution, duration, referenceImageUrl, "
        "referenceImages and sourceOutputId."
    )
    def parameters(self, info: Info) -> JSON:
        shown: JSON = reads.visible_parameters(self.row, info.context.viewer.id)
        return shown

    @strawberry.field(description="Ordered by (createdAt, id).")
    async def outputs(self, info: Info) -> list[Output]:
        rows = await reads.generation_outputs(info.context.loaders, self.row.id)
        return [Output.from_row(row) for row in rows]


@strawberry.type(description="An image or video file a generation produced.")
class Output(Node):
    file_url: str
    file_type: FileType
    width: int | None
    height: int | None
    duration: float | None
    is_starred: bool
    is_approved: bool
    created_at: datetime
    row: strawberry.Private[OutputRow]

    @classmethod
    def from_row(cls, row: OutputRow) -> Output:
        return cls(
            id=strawberry.ID(encode("Output", row.id)),
            file_url=row.file_url,
            file_type=FileType(row.file_type),
            width=row.width,
            height=row.height,
            duration=row.duration,
            is_starred=row.is_starred,
            is_approved=row.is_approved,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(graphql_type=Generation)
    def generation(self, info: Info) -> Generation | Awaitable[Generation]:
        loaders = info.context.loaders
        return _related(
            loaders.generation_by_id, self.row.generation_id, Generation.from_row, "generation"
        )
