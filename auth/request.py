"""Who sent a request: the `Authorization` header to a viewer, or the reason there is none.

A missing or bad token does not stop the request here: the GraphQL layer makes every root
field fail with UNAUTHENTICATED and this reason (introspection still works in development).
"""

from __future__ import annotations

from dataclasses import dataclass

from db.types import Executor
from settings import Settings

from . import tokens
from .viewer import Viewer, viewer_for


@dataclass(frozen=True, slots=True)
class Authentication:
    viewer: Viewer | None
    problem: str | None = None  # why there is no viewer, safe to show


async def authenticate(
    db: Executor, authorization: str | None, settings: Settings, *, primary: Executor
) -> Authentication:
    """The viewer behind the header, read from `db` (their profile created on first
    sight, on the `primary`)."""
    try:
        token = tokens.bearer_token(authorization)
        if token is None:
            return Authentication(
                None, "authentication required: send Authorization: Bearer <token>"
            )
        claims = tokens.decode(token, secret=settings.jwt_secret, audience=settings.jwt_audience)
    except tokens.InvalidToken as exc:
        return Authentication(None, str(exc))
    return Authentication(await viewer_for(db, claims, primary=primary))
