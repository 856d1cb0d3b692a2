"""Outputs: a project's gallery and the writes of one output (owner, ADMIN and EDITOR
members; the outputs of a generation are read through the loaders: `Generation.outputs`)."""

from __future__ import annotations

import uuid

from db import outputs
from db.access import Target
from db.types import Connection
from domain.rows import OutputRow
from domain.vocabulary import FileType, NodeType
from domain.writes import Change

from . import inputs
from .ids import decode
from .pagination import NestedPage, created
from .permissions import EDIT_CONTENT
from .writes import Writer

# Project.outputs: a page per parent, batched; the rows primed for lookups by id.
GALLERY: NestedPage[FileType, OutputRow] = NestedPage(
    field="Project.outputs",
    pages=lambda loaders: loaders.gallery_by_project,
    by_id=lambda loaders: loaders.output_by_id,
    position=created,
)


async def update_output(
    w: Writer, *, id: str, is_starred: Change[bool], is_approved: Change[bool]
) -> uuid.UUID:
    output = decode(id, NodeType.OUTPUT)
    starred = inputs.not_null("isStarred", is_starred)
    approved = inputs.not_null("isApproved", is_approved)

    async def write(conn: Connection, _: Target) -> uuid.UUID:
        await outputs.update_output(conn, output=output, is_starred=starred, is_approved=approved)
        return output

    return await w.on(NodeType.OUTPUT, output, EDIT_CONTENT, "change outputs", write)


async def delete_output(w: Writer, *, id: str) -> uuid.UUID:
    return await w.delete(
        NodeType.OUTPUT, id, EDIT_CONTENT, "delete outputs",
        lambda conn, key: outputs.delete_output(conn, output=key),
    )  # fmt: skip
