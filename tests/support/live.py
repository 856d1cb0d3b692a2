"""The app served by a real uvicorn on 127.0.0.1, in the test's own event loop, and a real
graphql-transport-ws client (the `websockets` library) to talk to it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from db.ops.parts import HOST, free_port
from server import WS_PROTOCOL, create_app
from settings import Settings

PROTOCOL = Subprotocol("graphql-transport-ws")
WAIT = 5.0  # seconds any one message may take to arrive


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    """The app listening on a free port; yields its ws:// URL of /graphql."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host=HOST, port=port, log_config=None, lifespan="on", ws=WS_PROTOCOL
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if task.done():
        task.result()  # why it stopped
    assert server.started, "uvicorn did not start within 5 s"
    try:
        yield f"ws://{HOST}:{port}/graphql"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


class Client:
    """One graphql-transport-ws connection."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def receive(self, within: float = WAIT) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), within))
        return message

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, *, id: str | None = None
    ) -> str:
        op = id or uuid.uuid4().hex[:8]
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await self.socket.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
        return op

    async def next_of(self, op: str, within: float = WAIT) -> dict[str, Any]:
        """The next message for operation `op` (pings answered, other ids skipped)."""
        while True:
            message = await self.receive(within)
            if message.get("type") == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))
            elif message.get("id") == op:
                return message

    async def nothing_for(self, seconds: float) -> list[dict[str, Any]]:
        """Whatever arrives within `seconds` (expected: nothing)."""
        got: list[dict[str, Any]] = []
        try:
            while True:
                got.append(await self.receive(seconds))
        except TimeoutError:
            return got


@asynccontextmanager
async def ws_client(url: str, bearer: str | None, **init: Any) -> AsyncIterator[Client]:
    """A connection acknowledged by the server (`bearer` in connection_init's payload)."""
    async with connect(url, subprotocols=[PROTOCOL], open_timeout=WAIT) as socket:
        payload = dict(init)
        if bearer is not None:
            payload["Authorization"] = f"Bearer {bearer}"
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        client = Client(socket)
        if bearer is not None:
            ack = await client.receive()
            assert ack["type"] == "connection_ack", ack
        yield client
