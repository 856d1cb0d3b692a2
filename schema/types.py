"""Object types of the public contract (API.md): shape and delegation only.

Each node type keeps its row (domain/rows.py) as a private field and copies the columns it
shows. Fields that come from another row are declared once as relations
(schema/relations.py: `related`, `listed`, `figure`), connections with `paged`
(schema/connection.py); the resolvers they delegate to live in resolvers/.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import strawberry
from strawberry.scalars import JSON

from domain.rows import GenerationRow, MemberRow, OutputRow, ProfileRow, ProjectRow, SessionRow
from domain.vocabulary import NodeType
from resolvers.generations import GENERATIONS, visible_parameters
from resolvers.ids import encode
from resolvers.outputs import GALLERY
from resolvers.sessions import SESSIONS

from .connection import Connection, Filter, paged
from .enums import FileType, GenerationStatus, ProjectRole, SessionType
from .relations import figure, for_viewer, listed, related


@strawberry.interface(description="An object with a global id (Relay).")
class Node:
    id: strawberry.ID


def _id(
    node_type: NodeType, row: ProfileRow | ProjectRow | SessionRow | GenerationRow | OutputRow
) -> strawberry.ID:
    return strawberry.ID(encode(node_type, row.id))


@strawberry.type(description="A person's public profile.")
class Profile(Node):
    node_type: ClassVar[NodeType] = NodeType.PROFILE
    username: str | None
    display_name: str | None
    avatar_url: str | None

    @classmethod
    def from_row(cls, row: ProfileRow) -> Profile:
        return cls(
            id=_id(cls.node_type, row),
            username=row.username,
            display_name=row.display_name,
            avatar_url=row.avatar_url,
        )


@strawberry.type(description="A project: sessions of generations, shared or with members.")
class Project(Node):
    node_type: ClassVar[NodeType] = NodeType.PROJECT
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

    owner: Profile = related(Profile, lambda project: project.owner_id)
    session_count: int = figure(
        lambda stats: stats.session_count, 0, "Sessions visible to the viewer."
    )
    thumbnail_url: str | None = figure(
        lambda stats: stats.thumbnail_url,
        None,
        "The newest published image in a session visible to the viewer.",
    )
    last_activity_at: datetime | None = figure(
        lambda stats: stats.last_activity_at,
        None,
        "created_at of the newest published output in a visible session.",
    )
    sessions: Connection[Session] = paged(
        lambda: Session,
        SESSIONS.field,
        "Visible sessions, newest update first.",
        Filter("type", SessionType),
        lambda ctx, project, args, type, _: SESSIONS.page(
            ctx.loaders, project.id, type, args, max_size=ctx.settings.max_page_size
        ),
    )
    outputs: Connection[Output] = paged(
        lambda: Output,
        GALLERY.field,
        "The gallery: published outputs in visible sessions.",
        Filter("file_type", FileType),
        lambda ctx, project, args, file_type, _: GALLERY.page(
            ctx.loaders, project.id, file_type, args, max_size=ctx.settings.max_page_size
        ),
    )
    members: list[ProjectMember] = listed(
        lambda: ProjectMember,
        lambda loaders: loaders.members_by_project,
        lambda project: project.id,
        "Members by join date (the owner is not a member).",
    )

    @classmethod
    def from_row(cls, row: ProjectRow) -> Project:
        return cls(
            id=_id(cls.node_type, row),
            name=row.name,
            description=row.description,
            cover_image_url=row.cover_image_url,
            is_shared=row.is_shared,
            created_at=row.created_at,
            updated_at=row.updated_at,
            viewer_role=row.viewer_role,
            row=row,
        )


@strawberry.type
class ProjectMember:
    role: ProjectRole
    joined_at: datetime
    row: strawberry.Private[MemberRow]

    user: Profile = related(Profile, lambda member: member.user_id)

    @classmethod
    def from_row(cls, row: MemberRow) -> ProjectMember:
        return cls(role=row.role, joined_at=row.joined_at, row=row)


@strawberry.type(description="A series of generations of one kind inside a project.")
class Session(Node):
    node_type: ClassVar[NodeType] = NodeType.SESSION
    name: str
    type: SessionType
    is_private: bool
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[SessionRow]

    project: Project = related(Project, lambda session: session.project_id)
    generations: Connection[Generation] = paged(
        lambda: Generation,
        GENERATIONS.field,
        "Newest first; every status but DISMISSED unless asked.",
        Filter("status", GenerationStatus),
        lambda ctx, session, args, status, _: GENERATIONS.page(
            ctx.loaders, session.id, status, args, max_size=ctx.settings.max_page_size
        ),
    )

    @classmethod
    def from_row(cls, row: SessionRow) -> Session:
        return cls(
            id=_id(cls.node_type, row),
            name=row.name,
            type=row.type,
            is_private=row.is_private,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )


@strawberry.type(description="One prompt sent to one model.")
class Generation(Node):
    node_type: ClassVar[NodeType] = NodeType.GENERATION
    model_id: str
    prompt: str
    negative_prompt: str | None
    status: GenerationStatus
    cost: str | None = strawberry.field(description="USD, a decimal as a string.")
    created_at: datetime
    row: strawberry.Private[GenerationRow]

    session: Session = related(Session, lambda generation: generation.session_id)
    user: Profile = related(Profile, lambda generation: generation.user_id, "Who ran it.")
    parameters: JSON = for_viewer(
        lambda row, ctx: visible_parameters(row, ctx.viewer.id),
        "Everything for its creator and the project owner; otherwise only aspectRatio, "
        "numOutputs, resolution, duration, referenceImageUrl, referenceImages and "
        "sourceOutputId.",
    )
    outputs: list[Output] = listed(
        lambda: Output,
        lambda loaders: loaders.outputs_by_generation,
        lambda generation: generation.id,
        "Ordered by (createdAt, id).",
    )

    @classmethod
    def from_row(cls, row: GenerationRow) -> Generation:
        return cls(
            id=_id(cls.node_type, row),
            model_id=row.model_id,
            prompt=row.prompt,
            negative_prompt=row.negative_prompt,
            status=row.status,
            cost=None if row.cost is None else str(row.cost),
            created_at=row.created_at,
            row=row,
        )


@strawberry.type(description="An image or video file a generation produced.")
class Output(Node):
    node_type: ClassVar[NodeType] = NodeType.OUTPUT
    file_url: str
    file_type: FileType
    width: int | None
    height: int | None
    duration: float | None
    is_starred: bool
    is_approved: bool
    created_at: datetime
    row: strawberry.Private[OutputRow]

    generation: Generation = related(Generation, lambda output: output.generation_id)

    @classmethod
    def from_row(cls, row: OutputRow) -> Output:
        return cls(
            id=_id(cls.node_type, row),
            file_url=row.file_url,
            file_type=row.file_type,
            width=row.width,
            height=row.height,
            duration=row.duration,
            is_starred=row.is_starred,
            is_approved=row.is_approved,
            created_at=row.created_at,
            row=row,
        )


# Every node type, by the type its global ids name (`node`, `nodes`, the schema's types).
NODE_TYPES: dict[NodeType, type[Profile | Project | Session | Generation | Output]] = {
    cls.node_type: cls for cls in (Profile, Project, Session, Generation, Output)
}
