"""Projects: the projects page, one project by id, their writes and the stats repair."""

from __future__ import annotations

import uuid

from db import projects, stats
from db.access import Target
from db.topology import position
from db.types import Connection, Executor
from domain.rows import ProjectRow
from domain.vocabulary import NodeType, ProjectScope
from domain.writes import Change, RepairReport
from loaders import Loaders

from . import inputs
from .errors import Forbidden, NotFound
from .ids import decode
from .pagination import PageArgs, Slice, keyset, page, prime, updated
from .permissions import DELETE_PROJECT, MANAGE_PROJECT
from .writes import Writer

PROJECTS = "Query.projects"  # the connection field its cursors belong to


async def visible_projects(
    db: Executor,
    loaders: Loaders,
    viewer_id: uuid.UUID,
    args: PageArgs,
    *,
    scope: ProjectScope,
    max_size: int,
    figures: bool = False,
    owners: bool = False,
) -> Slice[ProjectRow]:
    """A page of the projects list: one statement whatever the page size, which also reads
    the cards' figures (from the read model) and owners when asked; they then answer the
    request's loaders without another statement."""
    ks = keyset(PROJECTS, args, max_size=max_size)
    cards = await projects.projects_page(
        db,
        viewer=viewer_id,
        scope=scope,
        keyset=ks,
        figures=figures and loaders.figures_stored,
        owners=owners,
    )
    prime(loaders.project_by_id, cards.rows)
    for figures_row in cards.figures:
        loaders.stats_by_project.prime(figures_row.project_id, figures_row)
    for owner in cards.owners:
        loaders.profile_by_id.prime(owner.id, owner)
    return page(PROJECTS, cards.rows, ks, updated)


async def project(loaders: Loaders, global_id: str) -> ProjectRow | None:
    """The project behind a global id, or None when the viewer does not see it."""
    key = decode(global_id, NodeType.PROJECT)
    return await loaders.project_by_id.load(key)


async def create_project(
    w: Writer, *, name: str, description: str | None, is_shared: bool
) -> uuid.UUID:
    """Any viewer may create a project; they become its owner."""
    name = inputs.name("name", name)
    description = inputs.optional_text("description", description, limit=inputs.MAX_DESCRIPTION)

    async def work(conn: Connection) -> uuid.UUID:
        return await projects.insert_project(
            conn, owner=w.viewer.id, name=name, description=description, is_shared=is_shared
        )

    return await w.run(work)


async def update_project(
    w: Writer,
    *,
    id: str,
    name: Change[str],
    description: Change[str],
    cover_image_url: Change[str],
    is_shared: Change[bool],
) -> uuid.UUID:
    """Owner and ADMIN members; fields left out are kept."""
    project = decode(id, NodeType.PROJECT)
    new_name = inputs.new_name("name", name)
    shared = inputs.not_null("isShared", is_shared)
    description = Change(
        description.given,
        inputs.optional_text("description", description.value, limit=inputs.MAX_DESCRIPTION),
    )
    cover_image_url = Change(
        cover_image_url.given, inputs.url("coverImageUrl", cover_image_url.value)
    )

    async def write(conn: Connection, _: Target) -> uuid.UUID:
        await projects.update_project(
            conn,
            project=project,
            name=new_name,
            description=description,
            cover_image_url=cover_image_url,
            is_shared=shared,
        )
        return project

    return await w.on(NodeType.PROJECT, project, MANAGE_PROJECT, "update the project", write)


async def delete_project(w: Writer, *, id: str) -> uuid.UUID:
    """The owner only; everything in the project goes with it."""
    return await w.delete(
        NodeType.PROJECT, id, DELETE_PROJECT, "delete the project",
        lambda conn, key: projects.delete_project(conn, project=key),
    )  # fmt: skip


async def repair_stats(w: Writer, *, project_id: str | None) -> RepairReport:
    """Administrators only. Every project, or one the administrator sees."""
    if not w.viewer.is_admin:
        raise Forbidden("only administrators may repair project stats")
    key = None
    if project_id is not None:
        key = decode(project_id, NodeType.PROJECT)
        if await w.loaders.project_by_id.load(key) is None:
            raise NotFound("no project with this id is visible to you")
    async with w.db.acquire() as conn:
        report = await stats.repair(conn, project=key, frame=w.db.frame)
        w.committed(await position(conn))
    w.loaders.clear_all()
    return report
