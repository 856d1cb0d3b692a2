"""GraphQL over HTTP, the request side: which media type to answer with, the body within its
limit, strict JSON, the request's parameters — and the refusals that end a request before
execution, with the status codes of the GraphQL-over-HTTP spec."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from graphql import DocumentNode, GraphQLError, get_operation_ast
from starlette.requests import Request
from strawberry.extensions import ParserCache

from .errors import INTERNAL

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class RequestRefused(Exception):
    """A request that never reaches GraphQL execution (HTTP-level problem)."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = "BAD_USER_INPUT",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers


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


async def read_body(request: Request[Any], limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestRefused(413, f"request body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise RequestRefused(413, f"request body is larger than {limit} bytes")
    return bytes(body)


class BadJson(ValueError):
    """JSON the API does not take (beyond what the standard parser refuses)."""


def _constant(name: str) -> Any:
    raise BadJson(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"{text} is too large a number")
    return value


def _int(text: str) -> int:
    value = int(text) if len(text) <= 20 else None
    if value is None or not -(2**63) <= value < 2**63:
        shown = text if len(text) <= 24 else text[:24] + "…"
        raise BadJson(f"{shown} does not fit in 64 bits")
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def strict_json(text: str | bytes, *, max_depth: int) -> Any:
    """`text` decoded as strict JSON: finite numbers, integers within 64 bits, no lone
    surrogates, nesting at most `max_depth` deep; else `BadJson` saying why."""
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except RecursionError:
        raise BadJson(f"nested deeper than {max_depth} levels") from None
    # Walk the containers without recursion: depth and strings are checked once each.
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        item, depth = level.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise BadJson("a string holds a lone surrogate (invalid Unicode)")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise BadJson(f"nested deeper than {max_depth} levels")
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        level.extend((child, depth + 1) for child in children)
    return value


def graphql_params(request: Request[Any], body: bytes, *, max_depth: int) -> dict[str, Any]:
    if request.method == "GET":
        params: dict[str, Any] = dict(request.query_params)
        for name in ("variables", "extensions"):
            if name in params:
                try:
                    params[name] = strict_json(params[name], max_depth=max_depth)
                except ValueError as exc:
                    raise RequestRefused(
                        400, f"{name} must be a JSON object: {_why(exc)}"
                    ) from None
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise RequestRefused(415, "send the request as application/json")
    try:
        payload = strict_json(body, max_depth=max_depth)
    except ValueError as exc:
        raise RequestRefused(400, f"the request body is not valid JSON: {_why(exc)}") from None
    if not isinstance(payload, dict):
        raise RequestRefused(400, "the request body must be a JSON object (batching is off)")
    return payload


def _why(exc: ValueError) -> str:
    """What is wrong with the JSON, without the parser's internals."""
    if isinstance(exc, BadJson):
        return str(exc)
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    return "it cannot be decoded"  # not UTF-8, or a number too long to read


def checked(params: dict[str, Any], query: Any) -> tuple[str, dict[str, Any] | None, str | None]:
    """The request's document (`query`: sent, or named by a persisted document's id), its
    variables and operation name, each of the right form."""
    variables, name = params.get("variables"), params.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise RequestRefused(400, "the request has no GraphQL query")
    if variables is not None and not isinstance(variables, dict):
        raise RequestRefused(400, "variables must be a JSON object")
    if name is not None and not isinstance(name, str):
        raise RequestRefused(400, "operationName must be a string")
    return query, variables, name


def unavailable(media: str, message: str) -> RequestRefused:
    """The database could not serve the request in time. A well-formed `application/json`
    request still gets 200 (GraphQL-over-HTTP); `application/graphql-response+json` gets
    503 with Retry-After, as the spec allows for a request that could not be executed."""
    status = 503 if media == GRAPHQL_RESPONSE else 200
    headers = {"Retry-After": "1"} if status == 503 else None
    return RequestRefused(status, message, INTERNAL, headers)


# Parsed documents, shared with execution: the schema's ParserCache of the same size is the
# same process-wide cache, and both parse with the same options (`max_tokens`), so a
# document is parsed once for routing and execution alike.
PARSE_CACHE_SIZE = 512
_parsed = ParserCache(maxsize=PARSE_CACHE_SIZE).cached_parse_document


def parse_document(query: str, max_tokens: int) -> DocumentNode:
    """`query` parsed as execution parses it (cached); GraphQLError when it does not."""
    document: DocumentNode = _parsed(query, max_tokens=max_tokens)
    return document


def operation_type(query: str, operation_name: str | None, max_tokens: int) -> str | None:
    """`query`, `mutation` or `subscription`: what the request would run, known before
    execution so that it is sent to the right database; None when the document does not
    parse or names no single operation (execution then refuses it, on the primary)."""
    try:
        document = parse_document(query, max_tokens)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name)
    return None if operation is None else operation.operation.value
