"""Subscriptions (API.md "Subscriptions"): what a subscriber follows, checked when it
subscribes (an id it cannot see is NOT_FOUND, as for reads) and again by the hub for every
event (db/events.py), with the same visibility functions as every read."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import TypeVar

from db.events import Delivery, Hub, Peer, Subscriber, TooManySubscriptions
from domain.rows import GenerationRow, ProjectRow, SessionRow
from domain.vocabulary import NodeType
from loaders import Loaders

from .errors import BadUserInput, NotFound
from .ids import decode

T = TypeVar("T")


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
        try:
            self.hub.check_room()
        except TooManySubscriptions as exc:
            raise BadUserInput(f"{exc}; try again later") from None

    @contextlib.asynccontextmanager
    async def following(self, subscriber: Subscriber) -> AsyncIterator[Subscriber]:
        self.check_room()
        self.hub.add(subscriber)  # cannot refuse: nothing ran since check_room
        self.count += 1
        try:
            yield subscriber
        finally:
            self.count -= 1
            self.hub.remove(subscriber)


async def generation_updates(live: Live, session_id: str) -> AsyncGenerator[GenerationRow, None]:
    """The generations of a session as they are created, change status or gain outputs.
    Raises NOT_FOUND before the first event when the session is not visible."""
    return await _start(live, session_id, NodeType.SESSION, _generation)


async def _start(
    live: Live, global_id: str, node_type: NodeType, shown: Callable[[Delivery], T | None]
) -> AsyncGenerator[T, None]:
    """Follows the session or project behind `global_id`: BAD_USER_INPUT for a malformed id
    or one of another type, NOT_FOUND when the viewer does not see it (as for reads), and
    the limits checked, all before the first event."""
    key = decode(global_id, node_type)
    live.check_room()
    if await live.loaders().by_node_type(node_type).load(key) is None:
        raise NotFound(f"no {node_type.value.lower()} with this id")
    if node_type is NodeType.SESSION:
        subscriber = Subscriber(live.viewer, live.peer, on_session=key)
    else:
        subscriber = Subscriber(live.viewer, live.peer, on_project=key)
    return _follow(live, subscriber, shown)


def _generation(delivery: Delivery) -> GenerationRow | None:
    return delivery.generation


async def _follow(
    live: Live, subscriber: Subscriber, shown: Callable[[Delivery], T | None]
) -> AsyncGenerator[T, None]:
    """What `shown` makes of each delivery, skipping those it makes nothing of; closing
    it ends the subscription (its place in the hub and the connection's count)."""
    async with live.following(subscriber):
        while True:
            item = shown(await subscriber.queue.get())
            if item is not None:
                yield item


Activity = tuple[ProjectRow, SessionRow | None, GenerationRow | None]


async def project_activity(live: Live, project_id: str) -> AsyncGenerator[Activity, None]:
    """What happens in a project: the project, a session, a generation changing."""
    return await _start(live, project_id, NodeType.PROJECT, _activity)


def _activity(delivery: Delivery) -> Activity | None:
    project, session = delivery.project, delivery.session
    if project is None or (delivery.event.session is not None and session is None):
        return None  # deleted since the event
    return project, session, delivery.generation
