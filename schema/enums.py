"""Enums of the contract. Member names are the GraphQL values; values are what the
database stores (or, for roles and scopes, what the SQL returns)."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="How the viewer relates to a project.")
class ProjectRole(Enum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    EDITOR = "EDITOR"
    VIEWER = "VIEWER"


@strawberry.enum
class SessionType(Enum):
    IMAGE = "image"
    VIDEO = "video"


@strawberry.enum
class GenerationStatus(Enum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DISMISSED = "dismissed"


@strawberry.enum
class FileType(Enum):
    IMAGE = "image"
    VIDEO = "video"


@strawberry.enum(description="Which visible projects `projects` lists.")
class ProjectScope(Enum):
    ALL = "ALL"
    OWNED = "OWNED"
    MEMBER = "MEMBER"
    SHARED = "SHARED"
