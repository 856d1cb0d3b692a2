"""The GraphQL schema: Strawberry types and root fields only (no SQL, no permission logic)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig

from observability import querystats
from settings import Settings

from .context import Context
from .cost import CostLimit
from .errors import format_error
from .http import PARSE_CACHE_SIZE
from .limits import ErrorPhases, LimitedValidation, Limits, OneOperation
from .mutation import Mutation
from .query import Query
from .scalars import DATETIME
from .subscription import Subscription
from .types import NODE_TYPES


class VesperSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Errors are logged once, with the request id, where they are formatted: by the
        HTTP endpoint, or here for a WebSocket, whose transport sends each error's
        `formatted` form."""
        context = getattr(execution_context, "context", None)
        if isinstance(context, Context) and context.live is not None:
            detail = not context.settings.production
            for error in errors:
                shown = format_error(error, request_id=context.request_id, detail=detail)
                error.message = shown["message"]
                error.extensions = shown["extensions"]


class RecordOperation(SchemaExtension):
    """Tells the request's statistics scope the operation's name, for logs and metrics
    (a client need not send `operationName` for a document with one named operation)."""

    def on_validate(self) -> Iterator[None]:
        stats = querystats.current()
        if stats is not None:
            stats.operation = self.execution_context.operation_name
        yield


def limits_of(settings: Settings) -> Limits:
    return Limits(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_spreads=settings.max_fragment_spreads,
        max_comparisons=settings.max_field_comparisons,
    )


def build_schema(settings: Settings) -> strawberry.Schema:
    limits = limits_of(settings)
    # Factories, not instances: an extension instance would be shared by concurrent requests.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        ErrorPhases,
        RecordOperation,
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=PARSE_CACHE_SIZE),  # shared with routing (http.py)
        lambda: LimitedValidation(limits, maxsize=512),
        OneOperation,
        lambda: CostLimit(settings.max_nodes),  # after validation: valid documents only
    ]
    if settings.production:
        extensions.append(DisableIntrospection)
    return VesperSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(NODE_TYPES.values()),
        extensions=extensions,
        config=StrawberryConfig(
            disable_field_suggestions=settings.production, scalar_map={datetime: DATETIME}
        ),
    )
