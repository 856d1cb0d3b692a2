"""The ASGI application: `server:app`, or `create_app(settings)` for tests and tools.

Transport only: routes, GraphQL over HTTP (body limit, media types, status codes), CORS,
the lifespan that opens the pools (db/topology.py) and the subscriptions' listener
(db/events.py). Routes: POST/GET /graphql (GraphiQL on GET with Accept: text/html in
development, its files under /graphiql/: web/), WebSocket /graphql (subscriptions:
schema/websocket.py), GET /healthz (liveness), GET /readyz (database reachable and
migrations current), GET /metrics (Prometheus text). Who the viewer is comes from auth/,
the per-request context from schema/context.py; no SQL and no resolvers here.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypedDict, TypeVar

import orjson
import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from auth.request import authenticate
from db import jobs
from db.errors import UNAVAILABLE
from db.events import Hub, subscriptions
from db.ops import readiness
from db.ops.embedded import resolve_database_url
from db.topology import BadToken, Topology, open_topology, parse_token
from jobs.worker import working
from observability import logs, metrics, querystats, requestlog
from observability.requestid import RequestIdMiddleware, request_id
from schema import build_schema, limits_of, plans
from schema.context import Context
from schema.errors import INTERNAL, format_error, request_error
from schema.http import (
    GRAPHQL_RESPONSE,
    JSON,
    RequestRefused,
    checked,
    graphql_params,
    negotiate,
    operation_type,
    parse_document,
    read_body,
    unavailable,
)
from schema.persisted import Documents, load_manifest
from schema.websocket import WebSocketView
from settings import Settings
from web import graphiql

log = logging.getLogger("vesper.server")

T = TypeVar("T")
# uvicorn's WebSocket implementation on the `websockets` library's current API ("auto"
# picks its deprecated legacy one), without per-message compression (events are ~150
# bytes; compressing them cost ~11 % of a fan-out's CPU and a compressor per connection):
# `uvicorn server:app --ws websockets-sansio --ws-per-message-deflate false`.
WS_PROTOCOL = "websockets-sansio"


class AppState(TypedDict):
    """What the lifespan opens for every request (Starlette's lifespan state)."""

    topology: Topology
    database_url: str  # for what needs a connection of its own (the readiness check)
    hub: Hub | None  # the subscriptions of this process; None without a direct connection


Request = StarletteRequest[AppState]


class GraphQLApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schema: strawberry.Schema = build_schema(settings)
        trusted = (
            {} if settings.trusted_documents is None else load_manifest(settings.trusted_documents)
        )
        self.documents = Documents(trusted, only_trusted=settings.only_trusted)
        self.plans = (
            None
            if settings.execution == "reference"
            else plans.Plans(
                self.schema._schema,
                lambda query: parse_document(query, settings.max_tokens),
                limits_of(settings),
                trusted=trusted.values(),
            )
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The /graphql route as an ASGI app of its own: Starlette calls it without wrapping
        a function endpoint (a request object and an exception layer fewer per request;
        `handle` answers every error itself)."""
        response = await self.handle(StarletteRequest(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        rid = request_id(request.scope)
        if request.method == "GET" and not _NAMES_A_DOCUMENT & request.query_params.keys():
            if "text/html" in request.headers.get("accept", "") and not self.settings.production:
                return graphiql.page(self.settings)
            return JSONResponse(request_error("Not found", "NOT_FOUND", request_id=rid), 404)
        media = negotiate(request.headers.get("accept"))
        operation: str | None = None
        with querystats.collecting(rid) as stats:
            try:
                if media is None:
                    raise RequestRefused(406, f"accept {GRAPHQL_RESPONSE} or {JSON}")
                body = await read_body(request, self.settings.max_body_bytes)
                params = graphql_params(request, body, max_depth=self.settings.max_json_depth)
                query, variables, operation = checked(params, self.documents.document(params))
                response, codes = await self.within_deadline(
                    self.execute(request, stats, media, query, variables, operation), media
                )
            except RequestRefused as refused:
                codes = [refused.code]
                response = JSONResponse(
                    request_error(refused.message, refused.code, request_id=rid),
                    refused.status,
                    headers=refused.headers,
                    media_type=media or JSON,
                )
            except Exception as exc:  # logged with the request id, masked, and counted
                codes = [INTERNAL]
                response = internal_error(request, exc, media)
            requestlog.finish(
                stats,
                operation=operation,
                codes=codes,
                status=response.status_code,
                seconds=time.perf_counter() - started,
                pool=request.state["topology"].primary.pool,
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
        topology = request.state["topology"]
        allowed = {OperationType.QUERY}
        if request.method == "POST":
            allowed.add(OperationType.MUTATION)
        after = consistency_token(request)
        kind = operation_type(query, operation, self.settings.max_tokens)
        if kind == "subscription":
            raise RequestRefused(
                400, "subscriptions are served over WebSocket (graphql-transport-ws) at /graphql"
            )
        # a mutation, or a document execution will refuse, goes to the primary
        reads = topology.for_read(after) if kind == "query" else topology.for_write()
        try:
            who = await authenticate(
                reads,
                request.headers.get("authorization"),
                self.settings,
                primary=topology.primary,
            )
        except UNAVAILABLE as exc:
            log.warning("database unavailable [request %s]: %s", rid, type(exc).__name__)
            raise unavailable(media, "the database is unavailable, try again shortly") from None

        def fresh() -> Context:
            return Context.for_request(self.settings, reads, topology.primary, rid, who, operation)

        context = fresh()
        plan = self.plans.plan(query, operation) if self.plans and kind == "query" else None
        data = None
        if plan is not None:
            stats.operation = plan.name
            before = await self.statements_so_far(stats)
            data = await plans.run(
                plan, context, self.schema._schema, variables, max_nodes=self.settings.max_nodes
            )
        if data is not None:
            metrics.EXECUTIONS.labels("compiled").inc()
            errors_found: list[GraphQLError] = []
            if self.settings.execution == "differential":
                await querystats.settle()
                await self.compare(
                    data, stats.count - before, fresh(), query, variables, operation, allowed
                )
        else:
            metrics.EXECUTIONS.labels("reference").inc()
            context = fresh() if plan is not None else context
            result = await self.reference(context, query, variables, operation, allowed)
            data, errors_found = result.data, list(result.errors or ())
        await querystats.settle()
        payload: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        if errors_found:
            detail = not self.settings.production
            errors = [format_error(e, request_id=rid, detail=detail) for e in errors_found]
            payload["errors"] = errors
        # `data` is absent when the request failed before execution (GraphQL-over-HTTP).
        executed = data is not None or not errors_found or _executed(errors_found)
        if executed:
            payload["data"] = data
        extensions: dict[str, Any] = {}
        headers: dict[str, str] = {}
        if self.settings.query_stats:
            extensions["queries"] = stats.as_extension()
        if context.cost is not None and not self.settings.production:
            extensions["cost"] = context.cost  # the estimated result size (schema/cost.py)
        if context.consistency is not None:  # what a write committed: read your writes
            extensions["consistency"] = headers[CONSISTENCY] = context.consistency
        if extensions:
            payload["extensions"] = extensions
        status = 400 if media == GRAPHQL_RESPONSE and not executed else 200
        codes = [e["extensions"]["code"] for e in errors]
        return Response(render(payload), status, headers, media_type=media), codes

    async def statements_so_far(self, stats: querystats.QueryStats) -> int:
        """The statements the request ran so far (authentication's), for the differential
        comparison; 0 otherwise (counting them costs a turn of the event loop)."""
        if self.settings.execution != "differential":
            return 0
        await querystats.settle()
        return stats.count

    async def reference(
        self,
        context: Context,
        query: str,
        variables: dict[str, Any] | None,
        operation: str | None,
        allowed: set[OperationType],
    ) -> ExecutionResult:
        """The request executed by graphql-core through Strawberry: what the plans do not
        cover, and the reference they are compared with."""
        try:
            return await self.schema.execute(
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

    async def compare(
        self,
        data: dict[str, Any],
        statements: int,
        context: Context,
        query: str,
        variables: dict[str, Any] | None,
        operation: str | None,
        allowed: set[OperationType],
    ) -> None:
        """Differential execution (tests): the reference path runs the request again, on
        statements counted apart; its response must be the plan's, byte for byte, with at
        least as many statements."""
        with querystats.collecting(context.request_id) as reference_stats:
            result = await self.reference(context, query, variables, operation, allowed)
            await querystats.settle()
        expected = render(
            {"data": result.data, "errors": [e.formatted for e in result.errors or ()]}
        )
        got = render({"data": data, "errors": []})
        if got != expected or statements > reference_stats.count:
            at = next(
                (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b), None
            )
            log.error(
                "compiled plan differs [request %s]: %s statements against %s; responses "
                "differ from byte %s\nquery: %s\nvariables: %s\nplan: %s\nreference: %s",
                context.request_id, statements, reference_stats.count, at, query, variables,
                got[:_SHOWN].decode(errors="replace"), expected[:_SHOWN].decode(errors="replace"),
            )  # fmt: skip
            raise PlanMismatch("the compiled plan and the reference path differ")

    async def within_deadline(self, work: Awaitable[T], media: str) -> T:
        """`work`, or a coded error once `Settings.request_deadline` has passed. The work is
        then cancelled and left to finish its clean-up (a rollback, a connection given
        back or dropped) without holding up the answer."""
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.settings.request_deadline)
        except asyncio.CancelledError:  # the client went away: so does the work
            task.cancel()
            raise
        if not done:
            task.cancel()
            task.add_done_callback(_outcome_ignored)
            raise unavailable(media, "the database did not answer in time, try again shortly")
        return task.result()


_SHOWN = 2000  # bytes of each response a mismatch logs


class PlanMismatch(Exception):
    """Differential execution found a plan answering otherwise than the reference path."""


CONSISTENCY = "X-Vesper-Consistency"
# A GET with one of these runs a document; without, it asks for GraphiQL (or a 404).
_NAMES_A_DOCUMENT = frozenset({"query", "documentId", "extensions"})


def consistency_token(request: Request) -> int | None:
    """The WAL position the client has seen written (the header a mutation answered with)."""
    token = request.headers.get(CONSISTENCY)
    if token is None:
        return None
    try:
        return parse_token(token)
    except BadToken as exc:
        raise RequestRefused(400, str(exc)) from None


def _outcome_ignored(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a late failure of abandoned work is not news


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


def internal_error(
    request: StarletteRequest[Any], exc: Exception | None = None, media: str | None = None
) -> Response:
    """Anything that escapes: logged with the request id, masked for the client. A
    well-formed `application/json` GraphQL request still gets 200 (GraphQL-over-HTTP)."""
    rid = request_id(request.scope)
    log.exception("internal error [request %s]", rid, exc_info=exc or True)
    status = 200 if media == JSON else 500
    body = request_error("Internal server error", INTERNAL, request_id=rid)
    return JSONResponse(body, status, media_type=media or JSON)


async def _unhandled(request: StarletteRequest[Any], exc: Exception) -> Response:
    return internal_error(request, exc)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def metrics_endpoint(request: Request) -> Response:
    topology = request.state["topology"]
    metrics.observe_pool(topology.primary.pool)
    # The queue's depth: one statement on the pool, never cut short here (a statement
    # cancelled from the client side may take the next user of its connection with it); the
    # database unreachable, the gauges keep their last values and /metrics still answers.
    with contextlib.suppress(*UNAVAILABLE):
        metrics.observe_jobs(*await jobs.depth(topology.primary))
    hub = request.state["hub"]
    if hub is None:
        metrics.observe_subscriptions(0, listening=False)
    else:
        metrics.observe_subscriptions(hub.count, listening=hub.listening)
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


READY_WITHIN = 1.0  # seconds /readyz waits for the database before it says why not


async def readyz(request: Request) -> Response:
    topology = request.state["topology"]
    why = await readiness.not_ready(
        request.state["database_url"],
        within=READY_WITHIN,
        pooled=topology.primary.frame is not None,
    )
    if why is not None:
        return JSONResponse(why, 503)
    body: dict[str, Any] = {"status": "ready"}
    if topology.replicas:  # the primary serves when none is healthy: still ready
        body["replicas"] = {r.name: r.why for r in topology.replicas}
    return JSONResponse(body)


class ListedOrigins(CORSMiddleware):
    """Starlette's CORS, except that a response to an origin not listed carries no CORS
    header at all (Starlette adds its credentials and exposed-headers lines to every
    response that has an Origin; only the allowed origin line is left out)."""

    async def simple_response(
        self, scope: Scope, receive: Receive, send: Send, request_headers: Headers
    ) -> None:
        if self.is_allowed_origin(request_headers["origin"]):
            await super().simple_response(scope, receive, send, request_headers)
        else:
            await self.app(scope, receive, send)


def cors(origins: tuple[str, ...]) -> Middleware:
    """CORS for a browser front end on the listed origins (API.md "CORS"): credentials
    allowed, the headers the API reads allowed, those it answers with exposed; preflights
    cached for ten minutes. An origin not listed gets no CORS header at all."""
    return Middleware(
        ListedOrigins,
        allow_origins=list(origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", "X-Request-Id", CONSISTENCY],
        expose_headers=["X-Request-Id", CONSISTENCY],
        allow_credentials=True,
        max_age=600,
    )


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[AppState]:
        url = await run_in_threadpool(resolve_database_url, settings)
        observer = querystats.StatementObserver(slow_ms=settings.slow_statement_ms)
        topology = await open_topology(
            url, settings, init=observer.register(), watcher=metrics.TopologyMetrics()
        )
        try:
            async with (
                topology.checking(),
                subscriptions(
                    settings, url, topology.primary, watcher=metrics.EventMetrics()
                ) as hub,
                working(settings, url, topology.primary),
            ):
                yield {"topology": topology, "database_url": url, "hub": hub}
        finally:
            await topology.close()
            metrics.worker_stopped()

    graphql = GraphQLApp(settings)
    # Every HTTP response: its request id, and `X-Content-Type-Options: nosniff` (a browser
    # must not guess another media type than the one the server sent).
    middleware = [Middleware(RequestIdMiddleware, headers={"x-content-type-options": "nosniff"})]
    if settings.cors_origins:
        middleware.insert(0, cors(settings.cors_origins))
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", WebSocketView(graphql.schema, settings, graphql.documents)),
            *graphiql.routes(settings),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
        middleware=middleware,
        exception_handlers={Exception: _unhandled},
        lifespan=lifespan,
    )


# The collector's first generation is collected every 100,000 allocations net of frees
# (Python's default: 700), the second every 20 of those: a server holding many connections
# keeps a large heap, and with the defaults every few events of a subscription fan-out
# triggered a full collection of it (0.3 to 0.4 s each with 1,000 WebSockets open,
# bench/fanout.py; p95 620 ms there, 82 ms with these).
GC_THRESHOLD = (100_000, 20, 10)


def settle_heap() -> None:
    """For a process that will serve until it stops, once the app is built: what exists
    now (modules, the schema, the app) lives as long as the process, so the collector
    stops scanning it (`gc.freeze`), and collects less often (`GC_THRESHOLD`)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def __getattr__(name: str) -> Any:
    # `uvicorn server:app` builds the app from the environment on first access, so that
    # importing this module (tests, tools) does not read the environment.
    if name == "app":
        settings = Settings.from_env()
        logs.configure(log_format=settings.log_format, level=settings.log_level)
        app = create_app(settings)
        settle_heap()
        return app
    raise AttributeError(name)
