"""The authenticated viewer, and the profile row created the first time a token is seen."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from db import profiles
from db.types import Executor, utcnow

from .tokens import Claims


@dataclass(frozen=True, slots=True)
class Viewer:
    id: uuid.UUID
    is_admin: bool = False


async def viewer_for(db: Executor, claims: Claims, *, primary: Executor | None = None) -> Viewer:
    """The viewer behind valid claims, read from `db`; creates the profile on first sight
    (on `primary` when `db` is a replica, and reads it back there).

    Steady state costs one primary-key read. First sight adds one
    `INSERT … ON CONFLICT DO NOTHING`; concurrent first requests all insert-or-skip and
    then read the one row. If another profile already holds the email's local part as its
    username, the new profile gets that name with a short suffix of its id.
    """
    role = await profiles.viewer_role(db, profile_id=claims.subject)
    if role is None:
        db = db if primary is None else primary
        for username in _usernames(claims):
            await profiles.insert_profile(
                db,
                profile_id=claims.subject,
                username=username,
                display_name=claims.display_name,
                now=utcnow(),
            )
            role = await profiles.viewer_role(db, profile_id=claims.subject)
            if role is not None:
                break
        else:  # pragma: no cover - both usernames taken by other profiles
            raise RuntimeError(f"could not create a profile for {claims.subject}")
    return Viewer(id=claims.subject, is_admin=role == "admin")


def _usernames(claims: Claims) -> list[str | None]:
    base = claims.username
    if base is None:
        return [None]
    return [base, f"{base}-{claims.subject.hex[:8]}"]
