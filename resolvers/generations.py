"""Generations: a session's generations page, what a viewer sees of their parameters, and
their writes — creation and the status transitions (owner, ADMIN and EDITOR members)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from db import generations
from db.access import Target
from db.types import Connection
from domain.rows import GenerationRow
from domain.vocabulary import GenerationStatus, NodeType
from domain.writes import NewOutput

from . import inputs
from .errors import BadUserInput
from .ids import decode
from .pagination import NestedPage, created
from .permissions import EDIT_CONTENT
from .writes import Writer

# Session.generations: a page per parent, batched; the rows primed for lookups by id.
GENERATIONS: NestedPage[GenerationStatus, GenerationRow] = NestedPage(
    field="Session.generations",
    pages=lambda loaders: loaders.generations_by_session,
    by_id=lambda loaders: loaders.generation_by_id,
    position=created,
)

# Keys of `Generation.parameters` shown to viewers who neither ran the generation nor own
# the project (API.md): settings, not debug logs or error context.
PUBLIC_PARAMETERS = frozenset(
    {
        "aspectRatio",
        "numOutputs",
        "resolution",
        "duration",
        "referenceImageUrl",
        "referenceImages",
        "sourceOutputId",
    }
)

# Status transitions (API.md): the statuses each finishing mutation may start from.
_UNFINISHED = frozenset({GenerationStatus.PROCESSING, GenerationStatus.QUEUED})
TRANSITIONS = {
    GenerationStatus.COMPLETED: _UNFINISHED,
    GenerationStatus.FAILED: _UNFINISHED,
    GenerationStatus.CANCELLED: _UNFINISHED,
    GenerationStatus.DISMISSED: frozenset(GenerationStatus) - {GenerationStatus.DISMISSED},
}
_VERBS = {
    GenerationStatus.COMPLETED: "complete",
    GenerationStatus.FAILED: "fail",
    GenerationStatus.CANCELLED: "cancel",
    GenerationStatus.DISMISSED: "dismiss",
}


def visible_parameters(row: GenerationRow, viewer_id: uuid.UUID) -> Any:
    """The whole JSON for the generation's creator and the project's owner; for anyone
    else only the public keys (an object that is not a JSON object shows as `{}`)."""
    if row.user_id == viewer_id or row.viewer_owns_project:
        return row.parameters
    if not isinstance(row.parameters, dict):
        return {}
    return {k: v for k, v in row.parameters.items() if k in PUBLIC_PARAMETERS}


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
    session = decode(session_id, NodeType.SESSION)
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

    return await w.on(NodeType.SESSION, session, EDIT_CONTENT, "create generations", write)


async def finish_generation(
    w: Writer,
    *,
    id: str,
    status: GenerationStatus,
    outputs: Sequence[NewOutput] = (),
    cost: str | None = None,
) -> uuid.UUID:
    """Moves a generation to `status` (completed, failed, cancelled, dismissed) when
    TRANSITIONS allow it from its current status; a completion inserts its outputs in the
    same transaction."""
    generation = decode(id, NodeType.GENERATION)
    amount = inputs.cost("cost", cost)
    if len(outputs) > inputs.MAX_OUTPUTS:
        raise BadUserInput(f"outputs: at most {inputs.MAX_OUTPUTS} per generation")
    checked = [inputs.output(f"outputs[{i}]", output) for i, output in enumerate(outputs)]
    allowed_from = TRANSITIONS[status]

    async def write(conn: Connection, target: Target) -> uuid.UUID:
        if target.status not in allowed_from:
            current = target.status.name if target.status else "UNKNOWN"
            raise BadUserInput(f"a {current} generation cannot be {status.name}")
        await generations.set_status(conn, generation=generation, status=status, cost=amount)
        await generations.insert_outputs(conn, generation=generation, outputs=checked)
        return generation

    verb = _VERBS[status]
    return await w.on(NodeType.GENERATION, generation, EDIT_CONTENT, f"{verb} generations", write)
