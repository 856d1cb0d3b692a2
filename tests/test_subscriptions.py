"""Subscriptions over graphql-transport-ws (API.md "Subscriptions"): a real uvicorn, a real
WebSocket client, events from the database's triggers — including writes made straight in
the database, as another application would."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from db.ops import migrate
from domain.vocabulary import NodeType
from resolvers.ids import encode
from settings import Settings
from tests.support import factories as f
from tests.support.graphql import token
from tests.support.live import PROTOCOL, Client, serving, ws_client
from tests.support.sql import execute
from tests.support.topology import OwnPrimary, PgBouncer, through_pooler

GENERATION_UPDATED = """
subscription ($id: ID!) { generationUpdated(sessionId: $id) { id status prompt } }
"""
PROJECT_ACTIVITY = """
subscription ($id: ID!) {
  projectActivity(projectId: $id) { project { name } session { name } generation { status } }
}
"""
QUIET = 0.4  # seconds a subscriber waits to be sure an event is not coming


@dataclass
class World:
    owner: uuid.UUID
    admin: uuid.UUID
    editor: uuid.UUID
    viewer: uuid.UUID
    outsider: uuid.UUID  # sees the project only because it is shared
    stranger: uuid.UUID  # a project that is not shared: sees nothing
    project: uuid.UUID
    private_project: uuid.UUID
    public: uuid.UUID  # a public session of `project`
    private: uuid.UUID  # a private session of `project`


@pytest.fixture
async def world(conn: asyncpg.Connection[Any]) -> World:
    owner = await f.profile(conn, "owner")
    names = ("admin", "editor", "viewer", "outsider", "stranger")
    admin, editor, viewer, outsider, stranger = [await f.profile(conn, n) for n in names]
    project = await f.project(conn, owner, "Shared", shared=True)
    for person, role in ((admin, "admin"), (editor, "editor"), (viewer, "viewer")):
        await f.member(conn, project, person, role)
    private_project = await f.project(conn, owner, "Mine")
    return World(
        owner,
        admin,
        editor,
        viewer,
        outsider,
        stranger,
        project=project,
        private_project=private_project,
        public=await f.session(conn, project, "Public"),
        private=await f.session(conn, project, "Private", private=True),
    )


@pytest.fixture
async def url(settings: Settings) -> AsyncIterator[str]:
    async with serving(settings) as ws_url:
        yield ws_url


def sid(session: uuid.UUID) -> dict[str, str]:
    return {"id": encode(NodeType.SESSION, session)}


def pid(project: uuid.UUID) -> dict[str, str]:
    return {"id": encode(NodeType.PROJECT, project)}


async def subscribed(client: Client, query: str, variables: dict[str, str]) -> str:
    op = await client.subscribe(query, variables)
    await asyncio.sleep(0.05)  # registered before the write that follows
    return op


def error_codes(message: dict[str, Any]) -> list[str]:
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return [e["extensions"]["code"] for e in errors]


async def test_owner_sees_generation_created_completed_and_given_outputs(
    url: str, world: World, conn: asyncpg.Connection[Any]
) -> None:
    delivered = REGISTRY.get_sample_value("vesper_subscription_events_total") or 0.0
    async with ws_client(url, token(world.owner)) as client:
        op = await subscribed(client, GENERATION_UPDATED, sid(world.private))
        gid = await f.generation(conn, world.private, world.owner, status="processing")
        created = await client.next_of(op)
        assert created["payload"] == {
            "data": {
                "generationUpdated": {
                    "id": encode(NodeType.GENERATION, gid),
                    "status": "PROCESSING",
                    "prompt": "a prompt",
                }
            }
        }
        await conn.execute("UPDATE generations SET status = 'completed' WHERE id = $1", gid)
        done = await client.next_of(op)
        assert done["payload"]["data"]["generationUpdated"]["status"] == "COMPLETED"
        async with conn.transaction():  # four outputs in one write: one event
            for _ in range(4):
                await f.output(conn, gid)
        again = await client.next_of(op)
        assert again["payload"]["data"]["generationUpdated"]["status"] == "COMPLETED"
        assert await client.nothing_for(QUIET) == []
        async with httpx.AsyncClient() as http:
            exposed = (
                await http.get(url.replace("ws://", "http://").replace("/graphql", "/metrics"))
            ).text
        assert "vesper_subscriptions 1.0" in exposed
        assert "vesper_events_listening 1.0" in exposed
    # the server runs in this process: its counter is this registry's
    assert REGISTRY.get_sample_value("vesper_subscription_events_total") == delivered + 3


@pytest.mark.parametrize(
    ("who", "sees_public", "sees_private"),
    [
        ("owner", True, True),
        ("admin", True, False),
        ("editor", True, False),
        ("viewer", True, False),
        ("outsider", True, False),  # the project is shared
    ],
)
async def test_events_follow_read_visibility(
    url: str,
    world: World,
    conn: asyncpg.Connection[Any],
    who: str,
    sees_public: bool,
    sees_private: bool,
) -> None:
    person = getattr(world, who)
    async with ws_client(url, token(person)) as client:
        public = await subscribed(client, GENERATION_UPDATED, sid(world.public))
        private = await client.subscribe(GENERATION_UPDATED, sid(world.private))
        if not sees_private:
            refused = await client.next_of(private)
            assert refused["type"] == "error"
            assert error_codes(refused) == ["NOT_FOUND"]
        await f.generation(conn, world.public, world.owner)
        await f.generation(conn, world.private, world.owner)
        if sees_public:
            assert (await client.next_of(public))["type"] == "next"
        if sees_private:
            assert (await client.next_of(private))["type"] == "next"
        assert await client.nothing_for(QUIET) == []


async def test_a_stranger_cannot_follow_a_project_it_does_not_see(url: str, world: World) -> None:
    async with ws_client(url, token(world.stranger)) as client:
        op = await client.subscribe(PROJECT_ACTIVITY, pid(world.private_project))
        refused = await client.next_of(op)
        assert error_codes(refused) == ["NOT_FOUND"]
        bad = await client.subscribe(GENERATION_UPDATED, {"id": "not-an-id"})
        assert error_codes(await client.next_of(bad)) == ["BAD_USER_INPUT"]


async def test_making_a_session_private_stops_a_members_events_at_once(
    url: str, world: World, conn: asyncpg.Connection[Any]
) -> None:
    async with (
        ws_client(url, token(world.owner)) as owner,
        ws_client(url, token(world.editor)) as editor,
    ):
        mine = await subscribed(owner, GENERATION_UPDATED, sid(world.public))
        theirs = await subscribed(editor, GENERATION_UPDATED, sid(world.public))
        await f.generation(conn, world.public, world.owner)
        assert (await editor.next_of(theirs))["type"] == "next"
        assert (await owner.next_of(mine))["type"] == "next"
        async with conn.transaction():  # private, and a generation in the same commit
            await conn.execute("UPDATE sessions SET is_private = true WHERE id = $1", world.public)
            await f.generation(conn, world.public, world.owner)
        assert (await owner.next_of(mine))["type"] == "next"
        assert await editor.nothing_for(QUIET) == []


async def test_a_removed_member_gets_no_more_events(
    url: str, world: World, conn: asyncpg.Connection[Any]
) -> None:
    await conn.execute("UPDATE projects SET is_shared = false WHERE id = $1", world.project)
    async with ws_client(url, token(world.viewer)) as client:
        op = await subscribed(client, PROJECT_ACTIVITY, pid(world.project))
        await conn.execute("UPDATE projects SET name = 'Renamed' WHERE id = $1", world.project)
        renamed = await client.next_of(op)
        assert renamed["payload"]["data"]["projectActivity"] == {
            "project": {"name": "Renamed"},
            "session": None,
            "generation": None,
        }
        await conn.execute(
            "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2",
            world.project,
            world.viewer,
        )
        await conn.execute("UPDATE projects SET name = 'Again' WHERE id = $1", world.project)
        await f.generation(conn, world.public, world.owner)
        assert await client.nothing_for(QUIET) == []


async def test_project_activity_names_the_session_and_generation(
    url: str, world: World, conn: asyncpg.Connection[Any]
) -> None:
    async with ws_client(url, token(world.admin)) as client:
        op = await subscribed(client, PROJECT_ACTIVITY, pid(world.project))
        await f.generation(conn, world.private, world.owner)  # not the admin's to see
        await conn.execute(
            "INSERT INTO generations (id, session_id, user_id, model_id, prompt, parameters,"
            " status, created_at) VALUES (gen_random_uuid(), $1, $2, 'm', 'p', '{}', 'failed',"
            " now())",
            world.public,
            world.owner,
        )
        seen = []
        for message in await client.nothing_for(QUIET * 2):
            assert message["id"] == op
            seen.append(message["payload"]["data"]["projectActivity"])
        assert {"project": {"name": "Shared"}, "session": {"name": "Public"},
                "generation": {"status": "FAILED"}} in seen  # fmt: skip
        assert all(event["session"] != {"name": "Private"} for event in seen)


@pytest.mark.parametrize("bearer", [None, "not-a-token"])
async def test_connection_without_a_valid_token_closes_with_4401(
    url: str, bearer: str | None
) -> None:
    async with ws_client(url, None, **({"Authorization": bearer} if bearer else {})) as client:
        with pytest.raises(ConnectionClosed) as closed:
            await client.receive()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


async def test_queries_are_refused_over_websocket(url: str, world: World) -> None:
    async with ws_client(url, token(world.owner)) as client:
        op = await client.subscribe("{ viewer { id } }")
        refused = await client.next_of(op)
        assert refused["type"] == "error"
        assert error_codes(refused) == ["BAD_USER_INPUT"]


async def test_a_subscription_sent_over_http_is_a_clear_400(
    settings: Settings, world: World
) -> None:
    from asgi_lifespan import LifespanManager

    from server import create_app

    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post(
                "/graphql",
                json={"query": GENERATION_UPDATED, "variables": sid(world.public)},
                headers={"Authorization": f"Bearer {token(world.owner)}"},
            )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "WebSocket" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "settings", [{"max_subscriptions_per_connection": 2, "max_subscriptions": 3}], indirect=True
)
async def test_subscription_limits_per_connection_and_per_process(url: str, world: World) -> None:
    async with (
        ws_client(url, token(world.owner)) as first,
        ws_client(url, token(world.owner)) as second,
    ):
        ops = [await subscribed(first, GENERATION_UPDATED, sid(world.public)) for _ in range(2)]
        third = await first.subscribe(GENERATION_UPDATED, sid(world.public))
        assert error_codes(await first.next_of(third)) == ["BAD_USER_INPUT"]
        await subscribed(second, GENERATION_UPDATED, sid(world.public))
        fourth = await second.subscribe(GENERATION_UPDATED, sid(world.public))
        refused = await second.next_of(fourth)
        assert error_codes(refused) == ["BAD_USER_INPUT"]
        assert "limit of 3" in refused["payload"][0]["message"]
        # a completed subscription gives its place back, on the connection and the process
        await first.socket.send(json.dumps({"id": ops[0], "type": "complete"}))
        await asyncio.sleep(0.2)
        await second.subscribe(GENERATION_UPDATED, sid(world.public))
        assert await second.nothing_for(QUIET) == []  # accepted: no error, no event yet
        await first.socket.close()  # and a closed connection gives back all of its own
        await asyncio.sleep(0.2)
        async with ws_client(url, token(world.owner)) as third_client:
            await third_client.subscribe(GENERATION_UPDATED, sid(world.public))
            assert await third_client.nothing_for(QUIET) == []


async def test_listener_reconnects_and_tells_subscribers_to_refetch(
    url: str, world: World, conn: asyncpg.Connection[Any]
) -> None:
    async with ws_client(url, token(world.owner)) as client:
        await subscribed(client, GENERATION_UPDATED, sid(world.public))
        cut = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'vesper-events' AND datname = current_database()"
        )
        assert cut == 1
        with pytest.raises(ConnectionClosed) as closed:
            await client.nothing_for(5.0)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1012
    async with ws_client(url, token(world.owner)) as client:  # and events flow again
        op = await subscribed(client, GENERATION_UPDATED, sid(world.public))
        await f.generation(conn, world.public, world.owner)
        assert (await client.next_of(op))["type"] == "next"


@pytest.mark.parametrize(
    "settings", [{"cors_origins": ("https://app.example.com",)}], indirect=True
)
async def test_only_pages_on_listed_origins_may_open_a_socket(url: str, world: World) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, subprotocols=[PROTOCOL], origin=Origin("https://evil.example.com")):
            pass
    assert refused.value.response.status_code == 403
    async with connect(
        url, subprotocols=[PROTOCOL], origin=Origin("https://app.example.com")
    ) as ok:
        assert ok.subprotocol == PROTOCOL


@pytest.mark.slow
async def test_listener_survives_a_database_restart() -> None:
    """A PostgreSQL of the test's own, stopped and started under a subscription: the
    subscriber is told to refetch (1012), and events flow again on a new connection."""
    with OwnPrimary() as own:
        await execute(own.url(), "CREATE DATABASE vesper_events")
        url = own.url("vesper_events")
        await asyncio.to_thread(migrate.apply, url)
        conn = await asyncpg.connect(url)
        try:
            owner = await f.profile(conn, "owner")
            session = await f.session(conn, await f.project(conn, owner), private=True)
        finally:
            await conn.close()
        async with serving(Settings(database_url=url, pool_max_size=4)) as ws_url:
            async with ws_client(ws_url, token(owner)) as client:
                await subscribed(client, GENERATION_UPDATED, sid(session))
                await asyncio.to_thread(own.stop, "fast")
                await asyncio.to_thread(own.start)
                with pytest.raises(ConnectionClosed) as closed:
                    await client.nothing_for(15.0)
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 1012
            async with ws_client(ws_url, token(owner)) as client:
                op = await subscribed(client, GENERATION_UPDATED, sid(session))
                conn = await asyncpg.connect(url)
                try:
                    await f.generation(conn, session, owner)
                finally:
                    await conn.close()
                assert (await client.next_of(op))["type"] == "next"


async def test_behind_a_transaction_pooler_events_come_over_the_direct_url(
    db_url: str, pooler: PgBouncer, world: World, conn: asyncpg.Connection[Any]
) -> None:
    pooled = Settings(
        database_url=through_pooler(db_url, pooler),
        pool_mode="transaction",
        database_direct_url=db_url,
        pool_max_size=4,
    )
    async with serving(pooled) as url, ws_client(url, token(world.editor)) as client:
        op = await subscribed(client, PROJECT_ACTIVITY, pid(world.project))
        await f.generation(conn, world.public, world.owner)
        activity = (await client.next_of(op))["payload"]["data"]["projectActivity"]
        assert activity["session"] == {"name": "Public"}
        await f.generation(conn, world.private, world.owner)
        assert await client.nothing_for(QUIET) == []


async def test_behind_a_transaction_pooler_without_a_direct_url_subscriptions_are_off(
    db_url: str, pooler: PgBouncer, world: World
) -> None:
    pooled = Settings(
        database_url=through_pooler(db_url, pooler), pool_mode="transaction", pool_max_size=4
    )
    async with serving(pooled) as url:
        with pytest.raises(ConnectionClosed) as closed:  # instead of connection_ack
            async with ws_client(url, token(world.owner)):
                pass
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1013
