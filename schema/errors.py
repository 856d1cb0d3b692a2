"""The one place that turns errors into what clients see (API.md "Errors")."""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError

from db.errors import UNAVAILABLE
from resolvers.errors import VesperError

from .limits import code_of_syntax_error

log = logging.getLogger("vesper.errors")

INTERNAL = "INTERNAL_SERVER_ERROR"
# graphql-core's suggestions, wherever they stand in a message: " Did you mean 'first' or
# 'last'?" (names never hold a question mark).
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def code_of(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, VesperError):
        return original.code
    if isinstance(error, GraphQLSyntaxError):
        return code_of_syntax_error(error)
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if error.path is None and (original is None or isinstance(original, GraphQLError)):
        # Not a parse or validation error (those are coded by ErrorPhases) and not raised
        # in a field: graphql-core rejected the variables.
        return "BAD_USER_INPUT"
    return INTERNAL


def format_error(error: GraphQLError, *, request_id: str, detail: bool) -> dict[str, Any]:
    """The error as the client sees it; without `detail` (production) no suggestion of a
    schema name ("Did you mean …?") survives, whatever rule made it."""
    code = code_of(error)
    formatted: dict[str, Any] = {
        "message": error.message if detail else _SUGGESTION.sub("", error.message)
    }
    if code == INTERNAL and isinstance(error.original_error, UNAVAILABLE):
        # not a bug: the database is away (restarting, unreachable) or cancelled the
        # statement at the timeout; one line each, no traceback, and a message that says so
        log.warning(
            "database unavailable [request %s]: %s: %s",
            request_id,
            type(error.original_error).__name__,
            error.message,
        )
        formatted["message"] = "The database is unavailable or did not answer in time"
    elif code == INTERNAL:
        log.error(
            "internal error [request %s]: %s",
            request_id,
            error.message,
            exc_info=error.original_error,
        )
        formatted["message"] = "Internal server error"
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path is not None:
        formatted["path"] = list(error.path)
    extensions: dict[str, Any] = {"code": code, "requestId": request_id}
    if code == INTERNAL and detail and error.original_error is not None:
        extensions["exception"] = type(error.original_error).__name__
    formatted["extensions"] = extensions
    return formatted


def request_error(message: str, code: str, *, request_id: str) -> dict[str, Any]:
    """A GraphQL-shaped body for a request refused before execution."""
    return {"errors": [{"message": message, "extensions": {"code": code, "requestId": request_id}}]}
