"""Mutation root fields and their payloads: shape and delegation to resolvers/."""

from __future__ import annotations

import uuid
from typing import TypeVar

import strawberry

from db.generations import NewOutput
from db.types import Change
from resolvers import content_writes, project_writes
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
from .types import Generation, Output, Project, Session

T = TypeVar("T")


def _given(value: T | None) -> T | None:
    """None for a field left out (UNSET) as for null."""
    return None if value is UNSET else value


def _change(value: T | None) -> Change[T]:
    return Change() if value is UNSET else Change(True, value)


def _writer(info: Info) -> Writer:
    ctx = info.context
    return Writer(pool=ctx.pool, loaders=ctx.loaders, viewer=ctx.viewer)


# Payloads carry the changed node as the viewer sees it after the write (null when they
# no longer see it, e.g. an ADMIN who removed themselves from a private project).


@strawberry.type
class ProjectPayload:
    key: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def project(self, info: Info) -> Project | None:
        row = await info.context.loaders.project_by_id.load(self.key)
        return None if row is None else Project.from_row(row)


@strawberry.type
class SessionPayload:
    key: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def session(self, info: Info) -> Session | None:
        row = await info.context.loaders.session_by_id.load(self.key)
        return None if row is None else Session.from_row(row)


@strawberry.type
class GenerationPayload:
    key: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def generation(self, info: Info) -> Generation | None:
        row = await info.context.loaders.generation_by_id.load(self.key)
        return None if row is None else Generation.from_row(row)


@strawberry.type
class OutputPayload:
    key: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def output(self, info: Info) -> Output | None:
        row = await info.context.loaders.output_by_id.load(self.key)
        return None if row is None else Output.from_row(row)


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID


@strawberry.type(description="What a stats repair found; `checked` counts projects.")
class RepairReport:
    checked: int
    drifted: int
    repaired: int


def _deleted(type_name: str, key: uuid.UUID) -> DeletePayload:
    return DeletePayload(deleted_id=strawberry.ID(encode(type_name, key)))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="A new project owned by the viewer.")
    async def create_project(self, info: Info, input: CreateProjectInput) -> ProjectPayload:
        key = await project_writes.create_project(
            _writer(info),
            name=input.name,
            description=_given(input.description),
            is_shared=input.is_shared,
        )
        return ProjectPayload(key=key)

    @strawberry.mutation(description="Owner and ADMIN members.")
    async def update_project(self, info: Info, input: UpdateProjectInput) -> ProjectPayload:
        key = await project_writes.update_project(
            _writer(info),
            id=input.id,
            name=_change(input.name),
            description=_change(input.description),
            cover_image_url=_change(input.cover_image_url),
            is_shared=_change(input.is_shared),
        )
        return ProjectPayload(key=key)

    @strawberry.mutation(description="The owner only; removes everything in the project.")
    async def delete_project(self, info: Info, input: DeleteInput) -> DeletePayload:
        return _deleted("Project", await project_writes.delete_project(_writer(info), id=input.id))

    @strawberry.mutation(description="Owner and ADMIN members; an existing member's role "
                         "changes.")  # fmt: skip
    async def add_project_member(self, info: Info, input: AddProjectMemberInput) -> ProjectPayload:
        key = await project_writes.add_member(
            _writer(info), project_id=input.project_id, user_id=input.user_id,
            role=input.role.value,
        )  # fmt: skip
        return ProjectPayload(key=key)

    @strawberry.mutation(description="Owner and ADMIN members.")
    async def remove_project_member(
        self, info: Info, input: RemoveProjectMemberInput
    ) -> ProjectPayload:
        key = await project_writes.remove_member(
            _writer(info), project_id=input.project_id, user_id=input.user_id
        )
        return ProjectPayload(key=key)

    @strawberry.mutation(description="Owner, ADMIN and EDITOR members.")
    async def create_session(self, info: Info, input: CreateSessionInput) -> SessionPayload:
        key = await content_writes.create_session(
            _writer(info),
            project_id=input.project_id,
            name=input.name,
            type=input.type.value,
            is_private=_given(input.is_private),
        )
        return SessionPayload(key=key)

    @strawberry.mutation(description="Owner, ADMIN and EDITOR members; only the owner may "
                         "make a session private.")  # fmt: skip
    async def update_session(self, info: Info, input: UpdateSessionInput) -> SessionPayload:
        key = await content_writes.update_session(
            _writer(info),
            id=input.id,
            name=_change(input.name),
            is_private=_change(input.is_private),
        )
        return SessionPayload(key=key)

    @strawberry.mutation(description="Owner, ADMIN and EDITOR members.")
    async def delete_session(self, info: Info, input: DeleteInput) -> DeletePayload:
        return _deleted("Session", await content_writes.delete_session(_writer(info), id=input.id))

    @strawberry.mutation(description="A PROCESSING generation run by the viewer.")
    async def create_generation(
        self, info: Info, input: CreateGenerationInput
    ) -> GenerationPayload:
        key = await content_writes.create_generation(
            _writer(info),
            session_id=input.session_id,
            model_id=input.model_id,
            prompt=input.prompt,
            negative_prompt=_given(input.negative_prompt),
            parameters=_given(input.parameters),
        )
        return GenerationPayload(key=key)

    @strawberry.mutation(description="PROCESSING or QUEUED -> COMPLETED, with its outputs.")
    async def complete_generation(
        self, info: Info, input: CompleteGenerationInput
    ) -> GenerationPayload:
        outputs = [
            NewOutput(
                file_url=o.file_url,
                file_type=o.file_type.value,
                width=_given(o.width),
                height=_given(o.height),
                duration=_given(o.duration),
            )
            for o in input.outputs
        ]
        key = await content_writes.finish_generation(
            _writer(info), id=input.id, status="completed", outputs=outputs,
            cost=_given(input.cost),
        )  # fmt: skip
        return GenerationPayload(key=key)

    @strawberry.mutation(description="PROCESSING or QUEUED -> FAILED.")
    async def fail_generation(self, info: Info, input: IdInput) -> GenerationPayload:
        return await _finish(info, input.id, "failed")

    @strawberry.mutation(description="PROCESSING or QUEUED -> CANCELLED.")
    async def cancel_generation(self, info: Info, input: IdInput) -> GenerationPayload:
        return await _finish(info, input.id, "cancelled")

    @strawberry.mutation(description="Any status but DISMISSED -> DISMISSED (unpublished).")
    async def dismiss_generation(self, info: Info, input: IdInput) -> GenerationPayload:
        return await _finish(info, input.id, "dismissed")

    @strawberry.mutation(description="Owner, ADMIN and EDITOR members.")
    async def update_output(self, info: Info, input: UpdateOutputInput) -> OutputPayload:
        key = await content_writes.update_output(
            _writer(info),
            id=input.id,
            is_starred=_change(input.is_starred),
            is_approved=_change(input.is_approved),
        )
        return OutputPayload(key=key)

    @strawberry.mutation(description="Owner, ADMIN and EDITOR members.")
    async def delete_output(self, info: Info, input: DeleteInput) -> DeletePayload:
        return _deleted("Output", await content_writes.delete_output(_writer(info), id=input.id))

    @strawberry.mutation(description="Administrators: recompute project_stats rows that "
                         "differ from the base tables.")  # fmt: skip
    async def repair_project_stats(
        self, info: Info, input: RepairProjectStatsInput
    ) -> RepairReport:
        report = await project_writes.repair_stats(
            _writer(info), project_id=_given(input.project_id)
        )
        return RepairReport(
            checked=report.checked, drifted=report.drifted, repaired=report.repaired
        )


async def _finish(info: Info, id: strawberry.ID, status: str) -> GenerationPayload:
    key = await content_writes.finish_generation(_writer(info), id=id, status=status)
    return GenerationPayload(key=key)
