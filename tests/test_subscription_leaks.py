"""A randomized leak check for subscriptions: privacy toggled, the project shared and
unshared, members removed and added back, while six viewers follow both sessions and the
project. After each change a generation is written as a probe; every viewer must get it
exactly when the read rules let them see its session at that moment (API.md "Visibility"),
and no message may show anyone a session they cannot see then. `LEAK_SEED` replays a run."""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest

from domain.vocabulary import NodeType
from resolvers.ids import encode
from settings import Settings
from tests.support import factories as f
from tests.support.graphql import token
from tests.support.live import Client, serving, ws_client

pytestmark = pytest.mark.slow

STEPS = 24
SETTLE = 0.35  # seconds after the last expected message in which nothing else may come
GENERATION_UPDATED = "subscription ($id: ID!) { generationUpdated(sessionId: $id) { id } }"
PROJECT_ACTIVITY = """subscription ($id: ID!) {
  projectActivity(projectId: $id) { session { id } generation { id } }
}"""
ROLES = {"admin": "admin", "editor": "editor", "viewer": "viewer"}


@dataclass
class State:
    owner: uuid.UUID
    people: dict[str, uuid.UUID]  # admin, editor, viewer, outsider, stranger
    project: uuid.UUID
    sessions: dict[uuid.UUID, bool]  # session -> private
    shared: bool = True
    members: set[str] = field(default_factory=lambda: set(ROLES))

    def sees(self, who: str, session: uuid.UUID) -> bool:
        if who == "owner":
            return True
        in_project = who in self.members or (self.shared and who != "stranger")
        return in_project and not self.sessions[session]


@dataclass
class Viewer:
    name: str
    client: Client
    follows: dict[str, uuid.UUID | None]  # operation id -> session (None: the project)


async def test_no_event_reaches_a_viewer_who_cannot_see_its_session(
    settings: Settings, conn: asyncpg.Connection[Any]
) -> None:
    seed = int(os.environ.get("LEAK_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    owner = await f.profile(conn, "owner")
    people = {n: await f.profile(conn, n) for n in (*ROLES, "outsider", "stranger")}
    project = await f.project(conn, owner, "P", shared=True)
    for name, role in ROLES.items():
        await f.member(conn, project, people[name], role)
    sessions = {
        await f.session(conn, project, name, private=private): private
        for name, private in (("A", False), ("B", True))
    }
    state = State(owner, people, project, sessions)
    ids = {**people, "owner": owner}

    async with serving(settings) as url, AsyncExitStack() as stack:
        viewers = []
        for name, person in ids.items():
            client = await stack.enter_async_context(ws_client(url, token(person)))
            follows: dict[str, uuid.UUID | None] = {}
            for session in sessions:
                if state.sees(name, session):
                    op = await client.subscribe(
                        GENERATION_UPDATED, {"id": encode(NodeType.SESSION, session)}
                    )
                    follows[op] = session
            if name != "stranger":
                op = await client.subscribe(
                    PROJECT_ACTIVITY, {"id": encode(NodeType.PROJECT, project)}
                )
                follows[op] = None
            viewers.append(Viewer(name, client, follows))
        await asyncio.sleep(0.2)

        for step in range(STEPS):
            change = rng.choice(["privacy", "share", "member", "none"])
            if change == "privacy":
                session = rng.choice(list(sessions))
                sessions[session] = not sessions[session]
                await conn.execute(
                    "UPDATE sessions SET is_private = $2 WHERE id = $1", session, sessions[session]
                )
            elif change == "share":
                state.shared = not state.shared
                await conn.execute(
                    "UPDATE projects SET is_shared = $2 WHERE id = $1", project, state.shared
                )
            elif change == "member":
                name = rng.choice(list(ROLES))
                if name in state.members:
                    state.members.discard(name)
                    await conn.execute(
                        "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2",
                        project, people[name],
                    )  # fmt: skip
                else:
                    state.members.add(name)
                    await f.member(conn, project, people[name], ROLES[name])
            probe_session = rng.choice(list(sessions))
            probe = await f.generation(conn, probe_session, owner)
            probe_id = encode(NodeType.GENERATION, probe)
            await asyncio.gather(
                *(
                    _check(v, state, seed, f"step {step} ({change})", probe_session, probe_id)
                    for v in viewers
                )
            )


async def _check(
    viewer: Viewer, state: State, seed: int, step: str, probe_session: uuid.UUID, probe_id: str
) -> None:
    """The viewer gets the probe on exactly the subscriptions the rules allow, and nothing
    that shows a session hidden from them."""
    expected = {
        op
        for op, followed in viewer.follows.items()
        if followed in (None, probe_session) and state.sees(viewer.name, probe_session)
    }
    got: set[str] = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    while True:
        within = SETTLE if expected <= got else max(deadline - loop.time(), 0.01)
        try:
            message = await viewer.client.receive(within)
        except TimeoutError:
            break
        where = f"seed {seed}, {step}, {viewer.name}: {message}"
        assert message["type"] == "next", where
        data = message["payload"]["data"]
        if "generationUpdated" in data:
            assert data["generationUpdated"]["id"] == probe_id, where
            got.add(message["id"])
            continue
        activity = data["projectActivity"]
        if activity["session"] is not None:  # never a session hidden from them
            shown = [
                s
                for s in state.sessions
                if encode(NodeType.SESSION, s) == activity["session"]["id"]
            ]
            assert shown, where
            assert state.sees(viewer.name, shown[0]), where
        generation = activity["generation"]
        if generation is not None and generation["id"] == probe_id:
            got.add(message["id"])
    assert got == expected, f"seed {seed}, {step}, {viewer.name}"
