"""Object types of the public contract (API.md): shape and delegation only."""

from __future__ import annotations

import strawberry

from db.profiles import ProfileRow
from resolvers.ids import encode


@strawberry.interface(description="An object with a global id (Relay).")
class Node:
    id: strawberry.ID


@strawberry.type(description="A person's public profile.")
class Profile(Node):
    username: str | None
    display_name: str | None
    avatar_url: str | None

    @classmethod
    def from_row(cls, row: ProfileRow) -> Profile:
        return cls(
            id=strawberry.ID(encode("Profile", row.id)),
            username=row.username,
            display_name=row.display_name,
            avatar_url=row.avatar_url,
        )
