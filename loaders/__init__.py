"""Per-request DataLoaders: one XByYLoader per (entity, key), the viewer bound at creation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from auth.viewer import Viewer

from .profiles import ProfileByIdLoader


@dataclass(frozen=True, slots=True)
class Loaders:
    profile_by_id: ProfileByIdLoader


def build_loaders(pool: asyncpg.Pool[Any], viewer: Viewer | None) -> Loaders:
    del viewer  # profiles are readable by every authenticated viewer
    return Loaders(profile_by_id=ProfileByIdLoader(pool))
