"""Mutations of sessions, generations and outputs: owner, ADMIN and EDITOR members, in
sessions they can see (API.md "Permissions")."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from db import generations, outputs, sessions
from db.access import Target
from db.generations import NewOutput
from db.types import Change, Connection

from . import inputs
from .errors import BadUserInput, Forbidden
from .ids import decode
from .permissions import EDIT_CONTENT
from .writes import Writer

# Status transitions (API.md): the statuses each mutation may start from.
UNFINISHED = frozenset({"processing", "queued"})
TRANSITIONS = {
    "completed": UNFINISHED,
    "failed": UNFINISHED,
    "cancelled": UNFINISHED,
    "dismissed": frozenset({"processing", "queued", "completed", "failed", "cancelled"}),
}
_VERBS = {"completed": "complete", "failed": "fail", "cancelled": "cancel", "dismissed": "dismiss"}


async def create_session(
    w: Writer, *, project_id: str, name: str, type: str, is_private: bool | None
) -> uuid.UUID:
    """`is_private` defaults to true for the owner and false for members; only the owner
    may make a session private (members could not see it)."""
    _, project = decode(project_id, {"Project"})
    name = inputs.name("name", name)

    async def write(conn: Connection, target: Target) -> uuid.UUID:
        owner = target.viewer_role == "OWNER"
        if is_private and not owner:
            raise Forbidden("only the project's owner may make a session private")
        return await sessions.insert_session(
            conn,
            project=project,
            name=name,
            type=type,
            is_private=owner if is_private is None else is_private,
        )

    return await w.on("project", project, EDIT_CONTENT, "create sessions", write)


async def update_session(
    w: Writer, *, id: str, name: Change[str], is_private: Change[bool]
) -> uuid.UUID:
    _, session = decode(id, {"Session"})
    new_name = inputs.new_name("name", name)
    private = inputs.not_null("isPrivate", is_private)

    async def write(conn: Connection, target: Target) -> uuid.UUID:
        if private and target.viewer_role != "OWNER":
            raise Forbidden("only the project's owner may make a session private")
        await sessions.update_session(conn, session=session, name=new_name, is_private=private)
        return session

    return await w.on("session", session, EDIT_CONTENT, "change sessions", write)


async def delete_session(w: Writer, *, id: str) -> uuid.UUID:
    _, session = decode(id, {"Session"})

    async def write(conn: Connection, _: Target) -> uuid.UUID:
        await sessions.delete_session(conn, session=session)
        return session

    return await w.on("session", session, EDIT_CONTENT, "delete sessions", write)


async def create_generation(
    w: Writer,
    *,
    session_id: str,
    model_id: str,
    prompt: str,
    negative_prompt: str | None,
    parameters: Any,
) -> uuid.UUID:
    """A PROCESSING generation run by the viewer; the session's updatedAt moves."""
    _, session = decode(session_id, {"Session"})
    model_id = inputs.name("modelId", model_id)
    prompt = inputs.text("prompt", prompt, limit=inputs.MAX_PROMPT)
    negative_prompt = inputs.optional_text(
        "negativePrompt", negative_prompt, limit=inputs.MAX_PROMPT
    )
    parameters_json = inputs.parameters("parameters", parameters)

    async def write(conn: Connection, _: Target) -> uuid.UUID:
        return await generations.insert_generation(
            conn,
            session=session,
            user=w.viewer.id,
            model_id=model_id,
            prompt=prompt,
            negative_prompt=negative_prompt,
            parameters=parameters_json,
        )

    return await w.on("session", session, EDIT_CONTENT, "create generations", write)


async def finish_generation(
    w: Writer,
    *,
    id: str,
    status: str,
    outputs: Sequence[NewOutput] = (),
    cost: str | None = None,
) -> uuid.UUID:
    """Moves a generation to `status` (completed, failed, cancelled, dismissed) when
    TRANSITIONS allow it from its current status; a completion inserts its outputs in the
    same transaction."""
    _, generation = decode(id, {"Generation"})
    amount = inputs.cost("cost", cost)
    if len(outputs) > inputs.MAX_OUTPUTS:
        raise BadUserInput(f"outputs: at most {inputs.MAX_OUTPUTS} per generation")
    checked = [_output(f"outputs[{i}]", output) for i, output in enumerate(outputs)]
    verb = _VERBS[status]

    async def write(conn: Connection, target: Target) -> uuid.UUID:
        if target.status not in TRANSITIONS[status]:
            raise BadUserInput(
                f"a {str(target.status).upper()} generation cannot be {status.upper()}"
            )
        await generations.set_status(conn, generation=generation, status=status, cost=amount)
        await generations.insert_outputs(conn, generation=generation, outputs=checked)
        return generation

    return await w.on("generation", generation, EDIT_CONTENT, f"{verb} generations", write)


def _output(field: str, output: NewOutput) -> NewOutput:
    url = inputs.url(f"{field}.fileUrl", output.file_url)
    assert url is not None
    return NewOutput(
        file_url=url,
        file_type=output.file_type,
        width=inputs.dimension(f"{field}.width", output.width),
        height=inputs.dimension(f"{field}.height", output.height),
        duration=inputs.duration(f"{field}.duration", output.duration),
    )


async def update_output(
    w: Writer, *, id: str, is_starred: Change[bool], is_approved: Change[bool]
) -> uuid.UUID:
    _, output = decode(id, {"Output"})
    starred = inputs.not_null("isStarred", is_starred)
    approved = inputs.not_null("isApproved", is_approved)

    async def write(conn: Connection, _: Target) -> uuid.UUID:
        await outputs.update_output(conn, output=output, is_starred=starred, is_approved=approved)
        return output

    return await w.on("output", output, EDIT_CONTENT, "change outputs", write)


async def delete_output(w: Writer, *, id: str) -> uuid.UUID:
    _, output = decode(id, {"Output"})

    async def write(conn: Connection, _: Target) -> uuid.UUID:
        await outputs.delete_output(conn, output=output)
        return output

    return await w.on("output", output, EDIT_CONTENT, "delete outputs", write)
