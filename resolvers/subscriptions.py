"""Subscriptions (API.md "Subscriptions"): what a subscriber follows, checked when it
subscribes (an id it cannot see is NOT_FOUND, as for reads) and again by the hub for every
event (db/events.py), with the same visibility functions as every read."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from db.events import Hub, Peer, Subscriber, TooManySubscriptions
from domain.rows import GenerationRow, ProjectRow, SessionRow
from domain.vocabulary import NodeType
from loaders import Loaders

from .errors import BadUserInput, NotFound
from .ids import decode


@dataclass(slots=True)
class Live:
    """One client connection's side of the subscriptions."""

    viewer: uuid.UUID
    hub: Hub
    peer: Peer
    loaders: Callable[[], Loaders]  # fresh loaders: each event is read anew
    limit: int  # subscriptions per connection
    count: int = 0

    def check_room(self) -> None:
        """Refuses a subscription over the limits before it starts (`following` checks
        again: several may start at once)."""
        if self.count >= self.limit:
            raise BadUserInput(f"a connection may hold at most {self.limit} subscriptions")
        if self.hub.count >= self.hub.limit:
            raise BadUserInput(
                f"the server holds its limit of {self.hub.limit} subscriptions; try again later"
            )

    @contextlib.asynccontextmanager
    async def following(self, subscriber: Subscriber) -> AsyncIterator[Subscriber]:
        self.check_room()
        try:
            self.hub.add(subscriber)
        except TooManySubscriptions as exc:
            raise BadUserInput(f"{exc}; try again later") from None
        self.count += 1
        try:
            yield subscriber
        finally:
            self.count -= 1
            self.hub.remove(subscriber)


async def generation_updates(live: Live, session_id: str) -> AsyncIterator[GenerationRow]:
    """The generations of a session as they are created, change status or gain outputs.
    Raises NOT_FOUND before the first event when the session is not visible."""
    key = decode(session_id, NodeType.SESSION)
    live.check_room()
    if await live.loaders().session_by_id.load(key) is None:
        raise NotFound("no session with this id")
    return _generations(live, Subscriber(live.viewer, live.peer, on_session=key))


async def _generations(live: Live, subscriber: Subscriber) -> AsyncIterator[GenerationRow]:
    async with live.following(subscriber):
        while True:
            delivery = await subscriber.queue.get()
            if delivery.generation is not None:
                yield delivery.generation


Activity = tuple[ProjectRow, SessionRow | None, GenerationRow | None]


async def project_activity(live: Live, project_id: str) -> AsyncIterator[Activity]:
    """What happens in a project: the project, a session, a generation changing."""
    key = decode(project_id, NodeType.PROJECT)
    live.check_room()
    if await live.loaders().project_by_id.load(key) is None:
        raise NotFound("no project with this id")
    return _activity(live, Subscriber(live.viewer, live.peer, on_project=key))


async def _activity(live: Live, subscriber: Subscriber) -> AsyncIterator[Activity]:
    async with live.following(subscriber):
        while True:
            delivery = await subscriber.queue.get()
            if delivery.project is None:  # deleted since
                continue
            if delivery.event.session is not None and delivery.session is None:
                continue
            yield delivery.project, delivery.session, delivery.generation
