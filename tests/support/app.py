"""The real app in the test's process, and an HTTP client talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager

from server import create_app
from settings import Settings


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the real app (lifespan, pool, middleware) in-process, for
    the time of the block."""
    async with LifespanManager(create_app(settings)) as manager:  # its app has the state
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
