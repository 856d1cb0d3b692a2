"""Development tokens for the demo users: what `vesper token` prints and what GraphiQL's
headers pane opens with, signed with the server's configured secret."""

from __future__ import annotations

import json

from domain.demo import DEMO_USERS
from settings import Settings

from . import tokens


class UnknownDemoUser(ValueError):
    """No demo user has that name (the message lists those that do)."""


def token(username: str, settings: Settings) -> str:
    if username not in DEMO_USERS:
        choices = ", ".join(DEMO_USERS)
        raise UnknownDemoUser(f"unknown demo user {username!r}; choose from {choices}")
    return tokens.issue(
        DEMO_USERS[username],
        secret=settings.jwt_secret,
        email=f"{username}@loopvesper.example",
        audience=settings.jwt_audience,
    )


def headers(username: str, settings: Settings) -> str:
    """The request header in the JSON form GraphiQL's headers pane takes."""
    return json.dumps({"Authorization": f"Bearer {token(username, settings)}"})
