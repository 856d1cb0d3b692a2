"""The per-request context every resolver receives, and how a request gets one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

import strawberry

from auth.request import Authentication
from auth.viewer import Viewer
from db.topology import Database, Reads
from loaders import Loaders, build_loaders
from resolvers.errors import Unauthenticated
from resolvers.subscriptions import Live
from settings import Settings


@dataclass(slots=True)
class Context:
    settings: Settings
    db: Reads  # what the request reads: the primary, or a replica for a query
    primary: Database  # where writes go
    request_id: str
    loaders: Loaders
    authenticated: Viewer | None
    auth_problem: str | None = None
    requested_operation: str | None = None  # the request's `operationName`
    # What each place of the query selects on its nodes (schema/lookahead.py).
    lookahead: dict[Any, Any] = field(default_factory=dict)
    consistency: str | None = None  # the token of the request's last commit
    live: Live | None = None  # a WebSocket connection's subscriptions
    cost: int | None = None  # the estimated result size, once estimated (schema/cost.py)

    def committed(self, token: str | None) -> None:
        self.consistency = token or self.consistency

    @classmethod
    def for_request(
        cls,
        settings: Settings,
        db: Reads,
        primary: Database,
        request_id: str,
        authentication: Authentication,
        requested_operation: str | None = None,
    ) -> Context:
        """A fresh context: loaders bound to this request's viewer."""
        viewer = authentication.viewer
        return cls(
            settings=settings,
            db=db,
            primary=primary,
            request_id=request_id,
            loaders=build_loaders(
                db, viewer.id if viewer else None, stats_source=settings.stats_source
            ),
            authenticated=viewer,
            auth_problem=authentication.problem,
            requested_operation=requested_operation,
        )

    @property
    def viewer(self) -> Viewer:
        """The authenticated viewer; every root field starts here (no anonymous access)."""
        if self.authenticated is None:
            raise Unauthenticated(self.auth_problem or "authentication required")
        return self.authenticated


Info: TypeAlias = strawberry.Info[Context, None]
