"""The domain's enums as GraphQL enums: the same classes (domain/vocabulary.py), wrapped.
Member names are the GraphQL values."""

from __future__ import annotations

import strawberry

from domain.vocabulary import FileType, GenerationStatus, ProjectRole, ProjectScope, SessionType

__all__ = ["FileType", "GenerationStatus", "ProjectRole", "ProjectScope", "SessionType"]

strawberry.enum(ProjectRole, description="How the viewer relates to a project.")
strawberry.enum(ProjectScope, description="Which visible projects `projects` lists.")
strawberry.enum(SessionType)
strawberry.enum(GenerationStatus)
strawberry.enum(FileType)
