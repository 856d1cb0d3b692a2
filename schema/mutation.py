"""Mutation root fields and their payloads: shape and delegation to resolvers/."""

from __future__ import annotations

import uuid
from typing import TypeVar

import strawberry

from domain.vocabulary import GenerationStatus, NodeType
from domain.writes import Change, NewOutput, RepairReport
from resolvers import generations, members, outputs, projects, sessions
from resolvers.ids import encode
from resolvers.writes import Writer

from .connection import UNSET
from .context import Info
from .inputs import (
    AddProjectMemberInput,
    CompleteGenerationInput,
    CreateGenerationInput,
    CreateProjectInput,
    CreateSessionInput,
    DeleteInput,
    IdInput,
    RemoveProjectMemberInput,
    RepairProjectStatsInput,
    UpdateOutputInput,
    UpdateProjectInput,
    UpdateSessionInput,
)
from .relations import optional
from .types import Generation, Output, Project, Session

T = TypeVar("T")

strawberry.type(RepairReport, description="What a stats repair found; `checked` counts projects.")


def _given(value: T | None) -> T | None:
    """None for a field left out (UNSET) as for null."""
    return None if value is UNSET else value


def _change(value: T | None) -> Change[T]:
    return Change() if value is UNSET else Change(True, value)


def _writer(info: Info) -> Writer:
    ctx = info.context
    return Writer(db=ctx.primary, loaders=ctx.loaders, viewer=ctx.viewer, committed=ctx.committed)


# Payloads carry the changed node as the viewer sees it after the write (null when they
# no longer see it, e.g. an ADMIN who removed themselves from a private project); `row` is
# the changed node's id.


def _key(key: uuid.UUID) -> uuid.UUID:
    return key


@strawberry.type
class ProjectPayload:
    row: strawberry.Private[uuid.UUID]
    project: Project | None = optional(Project, _key)


@strawberry.type
class SessionPayload:
    row: strawberry.Private[uuid.UUID]
    session: Session | None = optional(Session, _key)


@strawberry.type
class GenerationPayload:
    row: strawberry.Private[uuid.UUID]
    generation: Generation | None = optional(Generation, _key)


@strawberry.type
class OutputPayload:
    row: strawberry.Private[uuid.UUID]
    output: Output | None = optional(Output, _key)


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID


def _deleted(node_type: NodeType, key: uuid.UUID) -> DeletePayload:
    return DeletePayload(deleted_id=strawberry.ID(encode(node_type, key)))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="A new project owned by the viewer.")
    async def create_project(self, info: Info, input: CreateProjectInput) -> ProjectPayload:
        key = await projects.create_project(
            _writer(info),
            name=input.name,
            description=_given(input.description),
            is_shared=input.is_shared,
        )
        return ProjectPayload(row=key)

    @strawberry.mutation(description="Owner and ADMIN members.")
    async def update_project(self, info: Info, input: UpdateProjectInput) -> ProjectPayload:
        key = await projects.update_project(
            _writer(info),
            id=input.id,
            name=_change(input.name),
            description=_change(input.description),
            cover_image_url=_change(input.cover_image_url),
            is_shared=_change(input.is_shared),
        )
        return ProjectPayload(row=key)

    @strawberry.mutation(description="The owner only; removes everything in the project.")
    async def delete_project(self, info: Info, input: DeleteInput) -> DeletePayload:
        key = await projects.delete_project(_writer(info), id=input.id)
        return _deleted(NodeType.PROJECT, key)

    @strawberry.mutation(description="Owner and ADMIN members; an existing member's role "
                         "changes.")  # fmt: skip
    async def add_project_member(self, info: Info, input: AddProjectMemberInput) -> ProjectPayload:
        key = await members.add_member(
            _writer(info), project_id=input.project_id, user_id=input.user_id, role=input.role
        )
        return ProjectPayload(row=key)

    @strawberry.mutation(description="Owner and ADMIN members.")
    async def remove_project_member(
        self, info: Info, input: RemoveProjectMemberInput
    ) -> ProjectPayload:
        key = await members.remove_member(
            _writer(info), project_id=input.project_id, user_id=input.user_id
        )
        return ProjectPayload(row=key)

    @strawberry.mutation(description="Owner, ADMIN and EDITOR members.")
    async def create_session(self, info: Info, input: CreateSessionInput) -> SessionPayload:
        key = await sessions.create_session(
            _writer(info),
            project_id=input.project_id,
            name=input.name,
            type=input.type,
            is_private=_given(input.is_private),
        )
        return SessionPayload(row=key)

    @strawberry.mutation(description="Owner, ADMIN and EDITOR members; only the owner may "
                         "make a session private.")  # fmt: skip
    async def update_session(self, info: Info, input: UpdateSessionInput) -> SessionPayload:
        key = await sessions.update_session(
            _writer(info),
            id=input.id,
            name=_change(input.name),
            is_private=_change(input.is_private),
        )
        return SessionPayload(row=key)

    @strawberry.mutation(description="Owner, ADMIN and EDITOR members.")
    async def delete_session(self, info: Info, input: DeleteInput) -> DeletePayload:
        key = await sessions.delete_session(_writer(info), id=input.id)
        return _deleted(NodeType.SESSION, key)

    @strawberry.mutation(description="A PROCESSING generation run by the viewer.")
    async def create_generation(
        self, info: Info, input: CreateGenerationInput
    ) -> GenerationPayload:
        key = await generations.create_generation(
            _writer(info),
            session_id=input.session_id,
            model_id=input.model_id,
            prompt=input.prompt,
            negative_prompt=_given(input.negative_prompt),
            parameters=_given(input.parameters),
        )
        return GenerationPayload(row=key)

    @strawberry.mutation(description="PROCESSING or QUEUED -> COMPLETED, with its outputs.")
    async def complete_generation(
        self, info: Info, input: CompleteGenerationInput
    ) -> GenerationPayload:
        files = [
            NewOutput(
                file_url=o.file_url,
                file_type=o.file_type,
                width=_given(o.width),
                height=_given(o.height),
                duration=_given(o.duration),
            )
            for o in input.outputs
        ]
        key = await generations.finish_generation(
            _writer(info),
            id=input.id,
            status=GenerationStatus.COMPLETED,
            outputs=files,
            cost=_given(input.cost),
        )
        return GenerationPayload(row=key)

    @strawberry.mutation(description="PROCESSING or QUEUED -> FAILED.")
    async def fail_generation(self, info: Info, input: IdInput) -> GenerationPayload:
        return await _finish(info, input.id, GenerationStatus.FAILED)

    @strawberry.mutation(description="PROCESSING or QUEUED -> CANCELLED.")
    async def cancel_generation(self, info: Info, input: IdInput) -> GenerationPayload:
        return await _finish(info, input.id, GenerationStatus.CANCELLED)

    @strawberry.mutation(description="Any status but DISMISSED -> DISMISSED (unpublished).")
    async def dismiss_generation(self, info: Info, input: IdInput) -> GenerationPayload:
        return await _finish(info, input.id, GenerationStatus.DISMISSED)

    @strawberry.mutation(description="Owner, ADMIN and EDITOR members.")
    async def update_output(self, info: Info, input: UpdateOutputInput) -> OutputPayload:
        key = await outputs.update_output(
            _writer(info),
            id=input.id,
            is_starred=_change(input.is_starred),
            is_approved=_change(input.is_approved),
        )
        return OutputPayload(row=key)

    @strawberry.mutation(description="Owner, ADMIN and EDITOR members.")
    async def delete_output(self, info: Info, input: DeleteInput) -> DeletePayload:
        key = await outputs.delete_output(_writer(info), id=input.id)
        return _deleted(NodeType.OUTPUT, key)

    @strawberry.mutation(description="Administrators: recompute project_stats rows that "
                         "differ from the base tables.")  # fmt: skip
    async def repair_project_stats(
        self, info: Info, input: RepairProjectStatsInput
    ) -> RepairReport:
        return await projects.repair_stats(_writer(info), project_id=_given(input.project_id))


async def _finish(info: Info, id: strawberry.ID, status: GenerationStatus) -> GenerationPayload:
    key = await generations.finish_generation(_writer(info), id=id, status=status)
    return GenerationPayload(row=key)
