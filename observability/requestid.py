"""Request ids: taken from `X-Request-Id` when sane, else generated; echoed in the response."""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
_HEADER = HEADER.encode("latin-1")
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "vesper_request_id", default=None
)


def current_request_id() -> str | None:
    """The id of the request this code serves, if any (for log records)."""
    return _current.get()


def request_id(scope: Scope) -> str:
    """The id RequestIdMiddleware gave this request."""
    value: str = scope["state"]["request_id"]
    return value


class RequestIdMiddleware:
    """Gives each HTTP request its id and adds it to the response as `X-Request-Id`, with
    `headers` (fixed headers every response carries: one layer instead of one each)."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(_HEADER, b"").decode("latin-1")
        rid = given if _SANE.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        added = [*self.headers, (_HEADER, rid.encode("latin-1"))]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *added]
            await send(message)

        token = _current.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
