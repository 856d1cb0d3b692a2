"""GraphQL over WebSocket at /graphql: the graphql-transport-ws protocol, as Strawberry's
ASGI view speaks it, with the API's own rules (API.md "Subscriptions"):

- the bearer token comes in `connection_init`'s payload (`{"Authorization": "Bearer …"}`);
  a missing or bad one closes the socket with 4401 before anything else runs;
- every error carries the API's `extensions.code` and request id (`VesperSchema.process_errors`);
- limits per connection and per process (resolvers/subscriptions.py `Live`);
- a page on another origin may connect only when that origin is in `VESPER_CORS_ORIGINS`.
Only subscriptions are served here; queries and mutations go over HTTP.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any, cast

import orjson
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from auth.request import authenticate
from db.errors import UNAVAILABLE
from db.events import Hub
from db.topology import Topology
from loaders import Loaders, build_loaders
from resolvers.subscriptions import Live
from settings import Settings

from .context import Context
from .errors import request_error
from .http import RequestRefused, operation_type
from .persisted import Documents

log = logging.getLogger("vesper.websocket")

UNAUTHORIZED = 4401
TRY_LATER = 1013


class Peer:
    """The client end of one connection, closed once whoever asks first."""

    def __init__(self, websocket: AsyncWebSocketAdapter) -> None:
        self.websocket = websocket
        self.closed = False

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.websocket.close(code=code, reason=reason)


class TransportHandler(BaseGraphQLTransportWSHandler[Context, None]):
    view: WebSocketView

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload")
        first = not (self.connection_init_received or self.connection_timed_out)
        if first and isinstance(payload, dict | None):
            socket = cast(ASGIWebSocketAdapter, self.websocket)
            hub: Hub | None = socket.ws.state.hub
            refusal = await self.view.sign_in(self.context, payload or {}, hub, Peer(socket))
            if refusal is not None:
                self.connection_init_received = True
                if self.connection_init_timeout_task:
                    self.connection_init_timeout_task.cancel()
                await self.websocket.close(code=refusal[0], reason=refusal[1])
                return
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message.get("payload")
        if self.connection_acknowledged and isinstance(payload, dict):
            try:
                query = self.view.documents.document(payload)  # persisted documents too
            except RequestRefused as refused:
                await self._refuse(message["id"], refused.message, refused.code)
                return
            kind = operation_type(
                query if isinstance(query, str) else "",
                payload.get("operationName"),
                self.context.settings.max_tokens,
            )
            if kind in {"query", "mutation"}:
                await self._refuse(message["id"], f"a {kind} is served over HTTP: POST /graphql")
                return
            if isinstance(query, str):
                payload["query"] = query
        await super().handle_subscribe(message)

    async def _refuse(self, operation: str, message: str, code: str = "BAD_USER_INPUT") -> None:
        error = request_error(message, code, request_id=self.context.request_id)["errors"][0]
        await self.send_message({"id": operation, "type": "error", "payload": [error]})


class WebSocketView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportHandler

    def __init__(self, schema: Any, settings: Settings, documents: Documents) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=None,  # Live counts subscriptions only
            allowed_origins=settings.cors_origins,
        )
        self.settings = settings
        self.documents = documents

    async def get_context(self, request: Any, response: Any) -> Context:
        topology: Topology = request.state.topology
        # The primary, not a replica: an event is read as committed on the primary (the hub
        # reads there), and what a subscriber selects around it must not be older.
        reads = topology.primary
        return Context(
            settings=self.settings,
            db=reads,
            primary=topology.primary,
            request_id=uuid.uuid4().hex,
            loaders=build_loaders(reads, None, stats_source=self.settings.stats_source),
            authenticated=None,
            auth_problem='send the token in connection_init: {"Authorization": "Bearer …"}',
        )

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()  # text frames: what graphql-ws clients read

    async def sign_in(
        self, context: Context, payload: dict[str, Any], hub: Hub | None, peer: Peer
    ) -> tuple[int, str] | None:
        """Binds the connection to the payload's viewer, or why the socket closes."""
        header = payload.get("Authorization", payload.get("authorization"))
        try:
            who = await authenticate(
                context.db,
                header if isinstance(header, str) else None,
                self.settings,
                primary=context.primary,
            )
        except UNAVAILABLE as exc:
            log.warning("database unavailable at connection_init: %s", type(exc).__name__)
            return TRY_LATER, "the database is unavailable, try again shortly"
        viewer = who.viewer
        if viewer is None:
            return UNAUTHORIZED, "Unauthorized: " + (who.problem or "bad token")[:100]
        if hub is None:
            return TRY_LATER, "subscriptions are not available on this server"
        db, stats_source = context.db, self.settings.stats_source

        def fresh() -> Loaders:
            return build_loaders(db, viewer.id, stats_source=stats_source)

        context.authenticated = viewer
        context.loaders = fresh()
        context.live = Live(
            viewer=viewer.id,
            hub=hub,
            peer=peer,
            loaders=fresh,
            limit=self.settings.max_subscriptions_per_connection,
        )
        return None
