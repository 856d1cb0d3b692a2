"""Subscription root fields (API.md "Subscriptions"): shape and delegation to
resolvers/subscriptions.py. Each event is read with fresh loaders: the connection's
context outlives any one event. They are built when a field first uses them: most
selections read only the event's own row, and building a set for every subscriber of every
event was most of the fan-out's CPU (bench/fanout.py), its garbage collections included."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import TypeVar

import strawberry

from resolvers import subscriptions
from resolvers.errors import BadUserInput

from .context import Info
from .types import Generation, Project, Session

R = TypeVar("R")
T = TypeVar("T")


@strawberry.type(description="Something happened in a project the subscriber follows.")
class ProjectActivity:
    project: Project
    session: Session | None = strawberry.field(
        description="The session it happened in, when it happened in one."
    )
    generation: Generation | None = strawberry.field(
        description="The generation concerned, when a generation changed."
    )


def _live(info: Info) -> subscriptions.Live:
    ctx = info.context
    _ = ctx.viewer
    if ctx.live is None:
        raise BadUserInput("subscriptions are served over WebSocket (graphql-transport-ws)")
    return ctx.live


async def _generation_updated(info: Info, session_id: strawberry.ID) -> AsyncIterator[Generation]:
    live = _live(info)
    rows = await subscriptions.generation_updates(live, session_id)
    return _each(info, live, rows, Generation.from_row)


async def _project_activity(
    info: Info, project_id: strawberry.ID
) -> AsyncIterator[ProjectActivity]:
    live = _live(info)
    events = await subscriptions.project_activity(live, project_id)
    return _each(info, live, events, _activity)


def _activity(event: subscriptions.Activity) -> ProjectActivity:
    project, session, generation = event
    return ProjectActivity(
        project=Project.from_row(project),
        session=None if session is None else Session.from_row(session),
        generation=None if generation is None else Generation.from_row(generation),
    )


async def _each(
    info: Info, live: subscriptions.Live, rows: AsyncGenerator[R, None], shown: Callable[[R], T]
) -> AsyncIterator[T]:
    """Each row as the schema shows it, read with fresh loaders. Closing this (the client
    completes, or goes) closes `rows` at once, which ends the subscription."""
    async with aclosing(rows):
        async for row in rows:
            info.context.loaders = live.loaders()  # each loader built on first use
            yield shown(row)


@strawberry.type
class Subscription:
    generation_updated: AsyncIterator[Generation] = strawberry.subscription(
        resolver=_generation_updated,
        description="A generation of this session was created, changed status or gained outputs.",
    )
    project_activity: AsyncIterator[ProjectActivity] = strawberry.subscription(
        resolver=_project_activity,
        description="The project, one of its sessions or one of its generations changed.",
    )
