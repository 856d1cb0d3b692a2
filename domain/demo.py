"""Who the demo users are: names, display names, roles and fixed ids.

Shared by the demo dataset (db/ops/demo.py) and the development tokens (auth/demo.py), which
sit in layers that may not import each other. Ids are uuid5 over `NAMESPACE` and a readable
key, so they are the same on every machine.
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("5d0c9a7e-3b41-4f2a-9e6d-1c8b7a60f3d2")


def demo_id(kind: str, key: str) -> uuid.UUID:
    """The fixed id of demo object `kind` (profile, project, ...) named `key`."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


USERS = (  # (username, display name, role); the first is the one GraphiQL opens as
    ("alice", "Alice Anders", "user"),
    ("bob", "Bob Brennan", "user"),
    ("carol", "Carol Chen", "user"),
    ("dave", "Dave Diaz", "user"),
    ("erin", "Erin Eze", "user"),
    ("root", "Root Admin", "admin"),
)
DEMO_USERS: dict[str, uuid.UUID] = {name: demo_id("profile", name) for name, _, _ in USERS}
ADMINS = frozenset(name for name, _, role in USERS if role == "admin")
