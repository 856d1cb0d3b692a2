"""What reads return: one record per row, as the viewer may see it.

Records are slotted dataclasses that nothing changes once built, but not `frozen`: a frozen
dataclass sets each field through `object.__setattr__`, which makes building one three to
four times dearer (1.1 against 0.3 µs for nine fields), and a page builds a record for each
of its rows and their owners, figures and generations — hundreds per request.

The database layer builds them (db/), loaders batch them (loaders/), resolvers page and
check them (resolvers/), and the GraphQL types keep them as their private state (schema/).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .vocabulary import FileType, GenerationStatus, ProjectRole, SessionType


@dataclass(slots=True)
class ProfileRow:
    id: uuid.UUID
    username: str | None
    display_name: str | None
    avatar_url: str | None


@dataclass(slots=True)
class ProjectRow:
    id: uuid.UUID
    name: str
    description: str | None
    cover_image_url: str | None
    is_shared: bool
    created_at: datetime
    updated_at: datetime
    owner_id: uuid.UUID
    viewer_role: ProjectRole | None  # None: visible only because the project is shared


@dataclass(slots=True)
class MemberRow:
    project_id: uuid.UUID
    user_id: uuid.UUID
    role: ProjectRole  # ADMIN, EDITOR or VIEWER
    joined_at: datetime


@dataclass(slots=True)
class SessionRow:
    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    type: SessionType
    is_private: bool
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class GenerationRow:
    id: uuid.UUID
    session_id: uuid.UUID
    user_id: uuid.UUID
    model_id: str
    prompt: str
    negative_prompt: str | None
    parameters: Any  # decoded JSON, whole: the caller decides what the viewer may see
    status: GenerationStatus
    cost: Decimal | None
    created_at: datetime
    viewer_owns_project: bool


@dataclass(slots=True)
class OutputRow:
    id: uuid.UUID
    generation_id: uuid.UUID
    file_url: str
    file_type: FileType
    width: int | None
    height: int | None
    duration: float | None
    is_starred: bool
    is_approved: bool
    created_at: datetime


@dataclass(slots=True)
class StatsRow:
    """A project's card figures for one viewer's class (the owner, or everyone else)."""

    project_id: uuid.UUID
    session_count: int
    thumbnail_url: str | None
    last_activity_at: datetime | None
