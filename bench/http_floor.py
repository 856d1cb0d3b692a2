"""The HTTP floor: the projects page's statements behind the least HTTP there is.

Why it exists: `vesper bench` measures the server's CPU time per projects page (about
2 ms), and the SQL floor (bench/floor.py) runs the page's statements with no HTTP at all,
so the gap between them mixes what serving HTTP costs in any Python server with what
GraphQL, auth, loaders and middleware add. This app is the first part alone: a Starlette
route served by uvicorn exactly as the real server is (bench/live_server.py), running the
same statements on a pool configured like the server's (`floor_rows`, `create_pool` with
the server's settings and statement observer) — no GraphQL, no auth (the viewer is the
`viewer` query parameter), no loaders, no middleware. It answers the JSON the server
answers to bench/scenarios.py's PROJECTS (the same fields, ids, cursor and statement
count), written with orjson; the run checks its answer against the API's before timing it
(strategy `http_floor`), and reports the server against it.

    DATABASE_URL=... python -m uvicorn bench.http_floor:app   # GET or POST /projects?viewer=<uuid>
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.pool import create_pool
from domain.vocabulary import NodeType
from observability import querystats
from resolvers.ids import encode
from resolvers.pagination import encode_cursor, updated
from resolvers.projects import PROJECTS
from schema.scalars import serialize_datetime
from settings import ConfigError, Settings, asyncpg_url

from .cards import PAGE
from .floor import FloorPage, floor_rows

GC_THRESHOLD = (100_000, 20, 10)  # server.py's (settle_heap), so both collect alike


def answer(page: FloorPage, statements: int) -> dict[str, Any]:
    """The server's response to PROJECTS for `page`."""
    edges = []
    for row in page.rows[:PAGE]:
        owner, figures = page.owners[row.owner_id], page.figures.get(row.id)
        node = {
            "id": encode(NodeType.PROJECT, row.id), "name": row.name,
            "description": row.description, "isShared": row.is_shared,
            "updatedAt": serialize_datetime(row.updated_at),
            "owner": {"displayName": owner.display_name, "username": owner.username},
            "sessionCount": figures.session_count if figures else 0,
            "thumbnailUrl": figures.thumbnail_url if figures else None,
        }  # fmt: skip
        edges.append({"cursor": encode_cursor(PROJECTS, updated(row)), "node": node})
    shown = page.rows[:PAGE]
    info = {
        "hasNextPage": len(page.rows) > PAGE,
        "endCursor": encode_cursor(PROJECTS, updated(shown[-1])) if shown else None,
    }
    return {
        "data": {"projects": {"edges": edges, "pageInfo": info}},
        "extensions": {"queries": {"count": statements}},
    }


def create_app(settings: Settings) -> Starlette:
    if settings.database_url is None:
        raise ConfigError("the HTTP floor needs DATABASE_URL")
    url = asyncpg_url(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        observer = querystats.StatementObserver(slow_ms=settings.slow_statement_ms)
        pool = await create_pool(url, settings, init=observer.register())
        try:
            yield {"pool": pool}
        finally:
            await pool.close()

    async def projects(request: Request) -> Response:
        viewer = uuid.UUID(request.query_params["viewer"])
        with querystats.collecting() as stats:
            page = await floor_rows(request.state.pool, viewer=viewer)
            await querystats.settle()
        return Response(orjson.dumps(answer(page, stats.count)), media_type="application/json")

    async def readyz(request: Request) -> Response:  # uvicorn listens once the pool is open
        return Response(b"ok")

    return Starlette(
        routes=[
            Route("/projects", projects, methods=["GET", "POST"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def __getattr__(name: str) -> Any:
    # Built from the environment on first access, as server.py's app, so that importing
    # this module (tests, tools) reads no environment.
    if name == "app":
        app = create_app(Settings.from_env())
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLD)
        return app
    raise AttributeError(name)
