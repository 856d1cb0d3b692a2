"""Supabase-compatible HS256 bearer tokens."""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired or badly signed (message is safe)."""


@dataclass(frozen=True, slots=True)
class Claims:
    subject: uuid.UUID
    email: str | None
    full_name: str | None

    @property
    def username(self) -> str | None:
        """The local part of the email, the username a new profile gets."""
        if not self.email or "@" not in self.email:
            return None
        return self.email.split("@", 1)[0] or None

    @property
    def display_name(self) -> str | None:
        return self.full_name or self.email


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header; None when there is no header."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def decode(token: str, *, secret: str, audience: str) -> Claims:
    """The claims of a valid token; InvalidToken saying why not.

    A token once verified is remembered (`VERIFIED` of them, the most recent): a client
    sends the same token with every request, and checking its signature and claims again
    costs more than the rest of authentication. Only tokens whose validity can change no
    more except by expiring are remembered (no `nbf` or `iat` still in the future), and
    each use checks the expiry again, as PyJWT does (expired from `exp` on)."""
    claims, expires = _verified(token, secret, audience)
    if expires <= time.time():
        raise InvalidToken("the token has expired")
    return claims


VERIFIED = 4096


@functools.lru_cache(maxsize=VERIFIED)
def _verified(token: str, secret: str, audience: str) -> tuple[Claims, int]:
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["exp", "sub"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("the token is invalid") from None
    aud = payload.get("aud")
    if aud is not None:
        audiences = aud if isinstance(aud, list) else [aud]
        if audience not in audiences:
            raise InvalidToken("the token is for another audience")
    try:
        subject = uuid.UUID(str(payload["sub"]))
    except ValueError:
        raise InvalidToken("the token's subject is not a user id") from None
    email = payload.get("email")
    metadata = payload.get("user_metadata")
    full_name = metadata.get("full_name") if isinstance(metadata, dict) else None
    claims = Claims(
        subject=subject,
        email=email if isinstance(email, str) else None,
        full_name=full_name if isinstance(full_name, str) and full_name else None,
    )
    return claims, int(payload["exp"])


def issue(
    subject: uuid.UUID,
    *,
    secret: str,
    email: str | None = None,
    full_name: str | None = None,
    audience: str | None = "authenticated",
    lifetime_s: int = 7 * 24 * 3600,
) -> str:
    """A token as Supabase would sign it (for development, the CLI and tests)."""
    now = int(time.time())
    payload: dict[str, Any] = {"sub": str(subject), "iat": now, "exp": now + lifetime_s}
    if audience is not None:
        payload["aud"] = audience
    if email is not None:
        payload["email"] = email
    if full_name is not None:
        payload["user_metadata"] = {"full_name": full_name}
    return jwt.encode(payload, secret, algorithm="HS256")
