"""Events for subscriptions: one LISTEN connection per process, and the fan-out to the
subscriptions of this process (API.md "Subscriptions"; the triggers are migration 0013).

The listener holds a connection of its own on the direct database URL (LISTEN is session
state: a transaction pooler would hand the session to someone else). Notifications arrive
in commit order and are handled one at a time, so a subscriber sees a generation's events
in the order they were committed. For each event that has subscribers, one statement asks
which of their viewers see what the event is about, at the time of the event (a session
made private, a member removed: their events stop with the next event); a generation's row
is read once for all of them.

If the connection drops (the database restarted), the listener reconnects with backoff;
notifications sent meanwhile are lost, so once it listens again every connection holding
a subscription is closed with 1012 (Service Restart): graphql-ws clients reconnect and
subscribe again, and the close tells the application to refetch what it shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import asyncpg

from domain.rows import GenerationRow, ProjectRow, SessionRow
from domain.vocabulary import ProjectRole
from settings import Settings, asyncpg_url

from .generations import generations_by_ids
from .projects import projects_by_ids
from .sessions import sessions_by_ids
from .sql import load_queries
from .types import Executor

log = logging.getLogger("vesper.events")
_Q = load_queries("events")

CHANNEL = "vesper_events"
RESTARTED = 1012  # WebSocket close code "Service Restart": events may have been missed
OVERFLOWED = 1013  # "Try Again Later": the client did not read its events
QUEUE_SIZE = 256  # undelivered events a subscription may hold before its client is dropped


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # "g" generation, "s" session, "p" project (migration 0013)
    project: uuid.UUID
    session: uuid.UUID | None = None
    generation: uuid.UUID | None = None


def parse(payload: str) -> Event | None:
    """The event a trigger sent, or None for a payload this version does not know."""
    kind, *ids = payload.split(" ")
    try:
        keys = [uuid.UUID(i) for i in ids]
    except ValueError:
        return None
    if kind == "g" and len(keys) == 3:
        return Event(kind, keys[0], keys[1], keys[2])
    if kind == "s" and len(keys) == 2:
        return Event(kind, keys[0], keys[1])
    if kind == "p" and len(keys) == 1:
        return Event(kind, keys[0])
    return None


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event as one subscriber reads it: the rows it is about, with the subscriber's
    own role in them (read once for every subscriber, then given each one's role)."""

    event: Event
    project: ProjectRow | None = None  # for projectActivity
    session: SessionRow | None = None  # for projectActivity, on a session's event
    generation: GenerationRow | None = None  # on a generation's event


class Peer(Protocol):
    """The client connection a subscription belongs to."""

    async def close(self, code: int, reason: str) -> None: ...


@dataclass(eq=False, slots=True)
class Subscriber:
    viewer: uuid.UUID
    peer: Peer
    on_session: uuid.UUID | None = None  # generationUpdated(sessionId)
    on_project: uuid.UUID | None = None  # projectActivity(projectId)
    queue: asyncio.Queue[Delivery] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )


class TooManySubscriptions(Exception):
    pass


class Watcher(Protocol):
    """Who is told what the hub did (observability's metrics; db/ imports none of it)."""

    def delivered(self, count: int) -> None: ...


class _Unwatched:
    def delivered(self, count: int) -> None:
        pass


class Hub:
    """The subscriptions of this process, by the session or project they follow."""

    def __init__(self, db: Executor, *, limit: int, watcher: Watcher | None = None) -> None:
        self.db = db
        self.limit = limit
        self.watcher = watcher or _Unwatched()
        self.sessions: dict[uuid.UUID, set[Subscriber]] = {}
        self.projects: dict[uuid.UUID, set[Subscriber]] = {}
        self.count = 0
        self.listening = False  # the listener's connection is up
        self._pending: asyncio.Queue[Event] = asyncio.Queue()

    def check_room(self) -> None:
        if self.count >= self.limit:
            raise TooManySubscriptions(f"the server holds its limit of {self.limit} subscriptions")

    def add(self, subscriber: Subscriber) -> None:
        self.check_room()
        index, key = self._place(subscriber)
        index.setdefault(key, set()).add(subscriber)
        self.count += 1

    def remove(self, subscriber: Subscriber) -> None:
        index, key = self._place(subscriber)
        followers = index.get(key)
        if followers is not None and subscriber in followers:
            followers.discard(subscriber)
            if not followers:
                del index[key]
            self.count -= 1

    def _place(self, subscriber: Subscriber) -> tuple[dict[uuid.UUID, set[Subscriber]], uuid.UUID]:
        if subscriber.on_session is not None:
            return self.sessions, subscriber.on_session
        assert subscriber.on_project is not None
        return self.projects, subscriber.on_project

    def publish(self, event: Event) -> None:
        self._pending.put_nowait(event)

    async def deliver_forever(self) -> None:
        while True:
            event = await self._pending.get()
            try:
                await self.deliver(event)
            except (asyncpg.PostgresError, OSError, TimeoutError) as exc:
                # The database is away: the listener has lost it too, and its reconnection
                # tells every subscriber that events may have been missed.
                log.warning("event not delivered: %s: %s", type(exc).__name__, exc)
            except Exception:  # a bug must not stop the events of everyone else
                log.exception("event not delivered")

    async def deliver(self, event: Event) -> None:
        # A session's followers want its generations' events; a project's, all of its own.
        targets: list[Subscriber] = []
        if event.generation is not None and event.session is not None:
            targets += self.sessions.get(event.session, ())
        targets += self.projects.get(event.project, ())
        if not targets:
            return
        viewers = list({s.viewer for s in targets})
        if event.session is not None:
            rows = await self.db.fetch(_Q["session_event_viewers"], viewers, event.session)
        else:
            rows = await self.db.fetch(_Q["project_event_viewers"], viewers, event.project)
        roles: dict[uuid.UUID, ProjectRole | None] = {
            r["viewer"]: None if r["viewer_role"] is None else ProjectRole(r["viewer_role"])
            for r in rows
        }
        if not roles:
            return
        seen = [s for s in targets if s.viewer in roles]
        reader = next(iter(roles))  # any viewer who sees it: the rows are the same for all
        generation = project = session = None
        if event.generation is not None:
            found = await generations_by_ids(self.db, viewer=reader, ids=[event.generation])
            generation = found[0] if found else None
        if any(s.on_project is not None for s in seen):
            projects = await projects_by_ids(self.db, viewer=reader, ids=[event.project])
            project = projects[0] if projects else None
            if event.session is not None:
                sessions = await sessions_by_ids(self.db, viewer=reader, ids=[event.session])
                session = sessions[0] if sessions else None
        handed = 0
        as_read: dict[ProjectRole | None, tuple[ProjectRow | None, GenerationRow | None]] = {}
        for subscriber in seen:
            role = roles[subscriber.viewer]
            if role not in as_read:
                as_read[role] = (
                    None if project is None else replace(project, viewer_role=role),
                    None
                    if generation is None
                    else replace(generation, viewer_owns_project=role is ProjectRole.OWNER),
                )
            theirs, their_generation = as_read[role]
            handed += self._hand(subscriber, Delivery(event, theirs, session, their_generation))
        self.watcher.delivered(handed)

    def _hand(self, subscriber: Subscriber, delivery: Delivery) -> bool:
        """Queues the delivery; a subscriber too far behind is dropped instead."""
        try:
            subscriber.queue.put_nowait(delivery)
            return True
        except asyncio.QueueFull:
            log.warning("a subscriber fell %d events behind: its connection is closed", QUEUE_SIZE)
            self.remove(subscriber)
            _later(
                subscriber.peer.close(
                    OVERFLOWED, "too many undelivered events: reconnect and refetch"
                )
            )
            return False

    def restarted(self) -> None:
        """Events may have been missed: close every connection that holds a subscription."""
        peers = {
            s.peer
            for index in (self.sessions, self.projects)
            for subs in index.values()
            for s in subs
        }
        if peers:
            log.warning(
                "events may have been missed: closing %d subscribed connection(s)", len(peers)
            )
        for peer in peers:
            _later(
                peer.close(RESTARTED, "events may have been missed: refetch and subscribe again")
            )


_background: set[asyncio.Task[Any]] = set()


def _later(work: Awaitable[Any]) -> None:
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(_background.discard)


class Listener:
    """LISTEN on `url` for as long as it runs, reconnecting when the connection drops."""

    def __init__(
        self,
        url: str,
        hub: Hub,
        *,
        timeout: float,
        check_every: float = 5.0,
    ) -> None:
        self.url = url
        self.hub = hub
        self.timeout = timeout
        self.check_every = check_every
        self.connections = 0  # how many times it has connected

    def _on_notification(self, conn: Any, pid: int, channel: str, payload: object) -> None:
        text = str(payload)
        event = parse(text)
        if event is None:
            log.warning("unknown event payload %r", text[:80])
            return
        self.hub.publish(event)

    async def _until_lost(self, conn: asyncpg.Connection[Any]) -> None:
        """Returns when the connection is gone: closed by the server (a restart), or no
        answer to a check within the timeout (a network gone quiet)."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _: lost.set())
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self.check_every)
            if not lost.is_set():
                await conn.execute("SELECT 1", timeout=self.timeout)

    async def run(self) -> None:
        delay = 0.1
        while True:
            conn: asyncpg.Connection[Any] | None = None
            try:
                conn = await asyncpg.connect(
                    self.url,
                    timeout=self.timeout,
                    statement_cache_size=0,
                    server_settings={"application_name": "vesper-events"},
                )
                await conn.add_listener(CHANNEL, self._on_notification)
                self.connections += 1
                if self.connections > 1:
                    log.info("listening for events again")
                    self.hub.restarted()
                self.hub.listening = True
                delay = 0.1
                await self._until_lost(conn)
                log.warning("event listener lost the database: the connection closed")
            except asyncio.CancelledError:
                raise
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
                if self.hub.listening:
                    log.warning("event listener lost the database: %s", type(exc).__name__)
            finally:
                self.hub.listening = False
                if conn is not None:
                    conn.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


@contextlib.asynccontextmanager
async def listening(url: str, hub: Hub, *, deadline: float) -> AsyncIterator[Listener]:
    """`hub` fed by a listener on `url` for the time of the block."""
    listener = Listener(url, hub, timeout=deadline)
    tasks = [asyncio.create_task(listener.run()), asyncio.create_task(hub.deliver_forever())]
    try:
        yield listener
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@contextlib.asynccontextmanager
async def subscriptions(
    settings: Settings, url: str, primary: Executor, *, watcher: Watcher
) -> AsyncIterator[Hub | None]:
    """The process's subscriptions, fed by a LISTEN connection on the direct URL (else
    `url`) for the time of the block; none when the only URL goes through a transaction
    pooler (LISTEN needs a session)."""
    direct = settings.database_direct_url
    if direct is None and settings.transaction_pooled:
        log.warning(
            "subscriptions are off: LISTEN needs a session, set DATABASE_DIRECT_URL "
            "beside a transaction pooler"
        )
        yield None
        return
    hub = Hub(primary, limit=settings.max_subscriptions, watcher=watcher)
    async with listening(asyncpg_url(direct or url), hub, deadline=settings.database_deadline):
        yield hub
