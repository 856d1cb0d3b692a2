"""The words of the domain as plain enums. Member names are the API's values; values are
what the database stores (roles and scopes: what the SQL returns and takes).

The GraphQL layer exposes these very classes (schema/enums.py wraps them), so a value read
from a row reaches the response without translation, and permissions, transitions and
filters compare enums, never strings.
"""

from __future__ import annotations

from enum import Enum


class NodeType(Enum):
    """The kinds of object that have a global id; the values are their GraphQL type names."""

    PROFILE = "Profile"
    PROJECT = "Project"
    SESSION = "Session"
    GENERATION = "Generation"
    OUTPUT = "Output"


class ProjectRole(Enum):
    """How a viewer relates to a project (the owner is not a member)."""

    OWNER = "OWNER"
    ADMIN = "ADMIN"
    EDITOR = "EDITOR"
    VIEWER = "VIEWER"

    @property
    def stored(self) -> str:
        """The value production's `project_members.role` holds for a member role."""
        return self.value.lower()


MEMBER_ROLES = frozenset({ProjectRole.ADMIN, ProjectRole.EDITOR, ProjectRole.VIEWER})


class ProjectScope(Enum):
    """Which of the visible projects a projects page lists."""

    ALL = "ALL"
    OWNED = "OWNED"
    MEMBER = "MEMBER"
    SHARED = "SHARED"


class SessionType(Enum):
    IMAGE = "image"
    VIDEO = "video"


class GenerationStatus(Enum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DISMISSED = "dismissed"


# What a session's generations list shows when no status is asked for.
LISTED_STATUSES = tuple(s for s in GenerationStatus if s is not GenerationStatus.DISMISSED)


class FileType(Enum):
    IMAGE = "image"
    VIDEO = "video"
