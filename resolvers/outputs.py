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
from loaders import Loaders

from . import inputs
from .ids import decode
from .pagination import PageArgs, Slice, created, nested_page
from .permissions import EDIT_CONTENT
from .writes import Writer

GALLERY = "Project.outputs"  # the connection field its cursors belong to


async def project_gallery(
    loaders: Loaders,
    project_id: uuid.UUID,
    args: PageArgs,
    *,
    file_type: FileType | None,
    max_size: int,
) -> Slice[OutputRow]:
    return await nested_page(
        GALLERY,
        loaders.gallery_by_project,
        loaders.output_by_id,
        project_id,
        file_type,
        args,
        max_size=max_size,
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
    output = decode(id, NodeType.OUTPUT)

    async def write(conn: Connection, _: Target) -> uuid.UUID:
        await outputs.delete_output(conn, output=output)
        return output

    return await w.on(NodeType.OUTPUT, output, EDIT_CONTENT, "delete outputs", write)
