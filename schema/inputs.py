"""Input types of the mutations (API.md: the names and fields are binding).

Optional fields default to UNSET, so that "left out" (keep the stored value) and an
explicit null (clear it, where the column may be null) stay distinguishable.
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from .connection import UNSET
from .enums import FileType, ProjectRole, SessionType


@strawberry.input
class CreateProjectInput:
    name: str
    description: str | None = UNSET
    is_shared: bool = False


@strawberry.input(description="The project and the fields to change; others are kept.")
class UpdateProjectInput:
    id: strawberry.ID
    name: str | None = UNSET
    description: str | None = strawberry.field(default=UNSET, description="null clears it.")
    cover_image_url: str | None = strawberry.field(
        default=UNSET, description="http(s) URL; null clears it."
    )
    is_shared: bool | None = UNSET


@strawberry.input
class DeleteInput:
    id: strawberry.ID


@strawberry.input
class IdInput:
    id: strawberry.ID


@strawberry.input(description="Adding an existing member changes their role.")
class AddProjectMemberInput:
    project_id: strawberry.ID
    user_id: strawberry.ID
    role: ProjectRole = strawberry.field(description="ADMIN, EDITOR or VIEWER.")


@strawberry.input
class RemoveProjectMemberInput:
    project_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.input
class CreateSessionInput:
    project_id: strawberry.ID
    name: str
    type: SessionType
    is_private: bool | None = strawberry.field(
        default=UNSET,
        description="Default: true when the owner creates it, false for a member; only "
        "the owner may make a session private.",
    )


@strawberry.input(description="The session and the fields to change; others are kept.")
class UpdateSessionInput:
    id: strawberry.ID
    name: str | None = UNSET
    is_private: bool | None = UNSET


@strawberry.input
class CreateGenerationInput:
    session_id: strawberry.ID
    model_id: str
    prompt: str
    negative_prompt: str | None = UNSET
    parameters: JSON | None = strawberry.field(
        default=UNSET, description="A JSON object of at most 64 KB; default {}."
    )


@strawberry.input
class OutputInput:
    file_url: str
    file_type: FileType
    width: int | None = UNSET
    height: int | None = UNSET
    duration: float | None = UNSET


@strawberry.input
class CompleteGenerationInput:
    id: strawberry.ID
    outputs: list[OutputInput]
    cost: str | None = strawberry.field(
        default=UNSET, description='USD as a decimal string, e.g. "0.039".'
    )


@strawberry.input(description="The output and the flags to change; others are kept.")
class UpdateOutputInput:
    id: strawberry.ID
    is_starred: bool | None = UNSET
    is_approved: bool | None = UNSET


@strawberry.input(description="One project, or every project when left out.")
class RepairProjectStatsInput:
    project_id: strawberry.ID | None = UNSET
