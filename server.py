"""The ASGI application: `server:app`, or `create_app(settings)` for tests and tools.

Transport only: routes, GraphQL over HTTP (body limit, media types, status codes), the
lifespan that opens the pool. Routes: POST/GET /graphql (GraphiQL on GET with Accept:
text/html in development), GET /healthz (liveness), GET /readyz (database reachable and
migrations current), GET /metrics (Prometheus text). Who the viewer is comes from auth/,
the per-request context from schema/context.py; no SQL and no resolvers here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypedDict

import asyncpg
import orjson
import strawberry
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request as StarletteRequest
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from strawberry.exceptions import MissingQueryError
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from auth.request import authenticate
from db.ops import migrate
from db.ops.embedded import resolve_database_url
from db.pool import create_pool
from observability import logs, metrics, querystats, requestlog
from observability.requestid import RequestIdMiddleware, request_id
from schema import build_schema
from schema.context import Context
from schema.errors import INTERNAL, format_error, request_error
from settings import Settings

log = logging.getLogger("vesper.server")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class AppState(TypedDict):
    """What the lifespan opens for every request (Starlette's lifespan state)."""

    pool: asyncpg.Pool[asyncpg.Record]


Request = StarletteRequest[AppState]


class RequestRefused(Exception):
    """A request that never reaches GraphQL execution (HTTP-level problem)."""

    def __init__(self, status: int, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def negotiate(accept: str | None) -> str | None:
    """GraphQL-over-HTTP media type for the response; None when nothing acceptable."""
    if not accept:
        return JSON
    offered = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media in offered:
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in {JSON, "application/*", "*/*"}:
            return JSON
    return None


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestRefused(413, f"request body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise RequestRefused(413, f"request body is larger than {limit} bytes")
    return bytes(body)


def graphql_params(request: Request, body: bytes) -> dict[str, Any]:
    if request.method == "GET":
        params: dict[str, Any] = dict(request.query_params)
        if "variables" in params:
            try:
                params["variables"] = json.loads(params["variables"])
            except ValueError:
                raise RequestRefused(400, "variables must be a JSON object") from None
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise RequestRefused(415, "send the request as application/json")
    try:
        payload = json.loads(body)
    except ValueError:
        raise RequestRefused(400, "the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise RequestRefused(400, "the request body must be a JSON object (batching is off)")
    return payload


def _checked(params: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str | None]:
    query, variables, name = (params.get(k) for k in ("query", "variables", "operationName"))
    if not isinstance(query, str) or not query.strip():
        raise RequestRefused(400, "the request has no GraphQL query")
    if variables is not None and not isinstance(variables, dict):
        raise RequestRefused(400, "variables must be a JSON object")
    if name is not None and not isinstance(name, str):
        raise RequestRefused(400, "operationName must be a string")
    return query, variables, name


class GraphQLApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schema: strawberry.Schema = build_schema(settings)

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        rid = request_id(request.scope)
        if request.method == "GET" and "query" not in request.query_params:
            if "text/html" in request.headers.get("accept", "") and not self.settings.production:
                return HTMLResponse(get_graphql_ide_html(graphql_ide="graphiql"))
            return JSONResponse(request_error("Not found", "NOT_FOUND", request_id=rid), 404)
        media = negotiate(request.headers.get("accept"))
        operation: str | None = None
        with querystats.collecting(rid) as stats:
            try:
                if media is None:
                    raise RequestRefused(406, f"accept {GRAPHQL_RESPONSE} or {JSON}")
                body = await read_body(request, self.settings.max_body_bytes)
                query, variables, operation = _checked(graphql_params(request, body))
                response, codes = await self.execute(
                    request, stats, media, query, variables, operation
                )
            except RequestRefused as refused:
                codes = [refused.code]
                response = JSONResponse(
                    request_error(refused.message, refused.code, request_id=rid),
                    refused.status,
                    media_type=media or JSON,
                )
            except Exception as exc:  # logged with the request id, masked, and counted
                codes = [INTERNAL]
                response = internal_error(request, exc)
            requestlog.finish(
                stats,
                operation=operation,
                codes=codes,
                status=response.status_code,
                seconds=time.perf_counter() - started,
                pool=request.state["pool"],
            )
        return response

    async def execute(
        self,
        request: Request,
        stats: querystats.QueryStats,
        media: str,
        query: str,
        variables: dict[str, Any] | None,
        operation: str | None,
    ) -> tuple[Response, list[str]]:
        """The response and the `extensions.code` of each error it carries."""
        rid = request_id(request.scope)
        pool = request.state["pool"]
        allowed = {OperationType.QUERY}
        if request.method == "POST":
            allowed.add(OperationType.MUTATION)
        who = await authenticate(pool, request.headers.get("authorization"), self.settings)
        context = Context.for_request(self.settings, pool, rid, who)
        try:
            result = await self.schema.execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation,
                allowed_operation_types=allowed,
            )
        except MissingQueryError:
            raise RequestRefused(400, "the request has no GraphQL query") from None
        except InvalidOperationTypeError:
            raise RequestRefused(405, "mutations must be sent with POST") from None
        except CannotGetOperationTypeError as exc:
            raise RequestRefused(
                400, exc.as_http_error_reason(), "GRAPHQL_VALIDATION_FAILED"
            ) from None
        await querystats.settle()
        payload: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        if result.errors:
            detail = not self.settings.production
            errors = [format_error(e, request_id=rid, detail=detail) for e in result.errors]
            payload["errors"] = errors
        # `data` is absent when the request failed before execution (GraphQL-over-HTTP).
        executed = result.data is not None or not result.errors or _executed(result.errors)
        if executed:
            payload["data"] = result.data
        if self.settings.query_stats:
            payload["extensions"] = {"queries": stats.as_extension()}
        status = 400 if media == GRAPHQL_RESPONSE and not executed else 200
        codes = [e["extensions"]["code"] for e in errors]
        return Response(render(payload), status, media_type=media), codes


def render(payload: dict[str, Any]) -> bytes:
    """The response body: orjson (a tenth of the standard encoder's time for a page of
    cards), or the standard encoder for what orjson refuses (an integer beyond 64 bits in a
    JSON scalar: `parameters` may hold any JSON)."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload, separators=(",", ":")).encode()


def _executed(errors: list[Any]) -> bool:
    return any(e.path is not None for e in errors)


def internal_error(request: StarletteRequest[Any], exc: Exception | None = None) -> Response:
    """Anything that escapes: logged with the request id, masked for the client."""
    rid = request_id(request.scope)
    log.exception("internal error [request %s]", rid, exc_info=exc or True)
    return JSONResponse(request_error("Internal server error", INTERNAL, request_id=rid), 500)


async def _unhandled(request: StarletteRequest[Any], exc: Exception) -> Response:
    return internal_error(request, exc)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def metrics_endpoint(request: Request) -> Response:
    metrics.observe_pool(request.state["pool"])
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


async def readyz(request: Request) -> Response:
    try:
        async with request.state["pool"].acquire() as conn:
            pending = await migrate.pending_ids(conn)
    except Exception:
        log.exception("readiness check failed")
        return JSONResponse({"status": "database unreachable"}, 503)
    if pending:
        return JSONResponse({"status": "migrations pending", "pending": pending}, 503)
    return JSONResponse({"status": "ready"})


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[AppState]:
        url = await run_in_threadpool(resolve_database_url, settings)
        observer = querystats.StatementObserver(slow_ms=settings.slow_statement_ms)
        pool = await create_pool(url, settings, init=observer.register())
        try:
            yield {"pool": pool}
        finally:
            await pool.close()
            metrics.worker_stopped()

    graphql = GraphQLApp(settings)
    return Starlette(
        routes=[
            Route("/graphql", graphql.handle, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
        middleware=[Middleware(RequestIdMiddleware)],
        exception_handlers={Exception: _unhandled},
        lifespan=lifespan,
    )


def __getattr__(name: str) -> Any:
    # `uvicorn server:app` builds the app from the environment on first access, so that
    # importing this module (tests, tools) does not read the environment.
    if name == "app":
        settings = Settings.from_env()
        logs.configure(log_format=settings.log_format, level=settings.log_level)
        return create_app(settings)
    raise AttributeError(name)
