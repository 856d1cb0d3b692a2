"""Domain errors: each carries the API.md error code the client sees."""

from __future__ import annotations

from typing import ClassVar


class VesperError(Exception):
    """An error whose message is safe to show to the client."""

    code: ClassVar[str]


class Unauthenticated(VesperError):
    code = "UNAUTHENTICATED"


class Forbidden(VesperError):
    code = "FORBIDDEN"


class NotFound(VesperError):
    code = "NOT_FOUND"


class BadUserInput(VesperError):
    code = "BAD_USER_INPUT"
