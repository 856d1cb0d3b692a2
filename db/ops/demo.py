"""A small deterministic demo dataset, loaded idempotently in one transaction.

Everything derives from constants: ids are uuid5 over a namespace and a readable key
(`demo_id`, in domain/demo.py with the users), timestamps are offsets from `BASE` (naive
UTC at millisecond precision, as the timestamp(3) columns hold), and the variety (prompts,
models, statuses, output counts) comes from one seeded `random.Random`, so every load
produces byte-identical rows. `_PROJECTS` is the shape: who owns what, who is a member
with which role, which sessions are private, and the scripted newest generations that pin
the edge cases (every status, a private newest image, a tie).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import asyncpg

from db.sql import load_queries

# The users are the dataset's too: named from here as well.
from domain.demo import ADMINS as ADMINS
from domain.demo import DEMO_USERS as DEMO_USERS
from domain.demo import USERS, demo_id

from . import QUERIES

BASE = datetime(2026, 11, 1)  # naive UTC
CDN = "https://cdn.loopvesper.example"
_SEED = 20261101
_LOCK_KEY = 0x56_45_53_50_45_52_00_01  # pg_advisory_xact_lock key ("VESPER", 1)


class _S(NamedTuple):
    """A session: `tail` scripts its newest generations as (kind, runner), oldest first."""

    key: str
    name: str
    type: str
    generations: int  # how many, `tail` included
    runners: tuple[str, ...]  # who runs the unscripted ones (owner, admins, editors)
    tail: tuple[tuple[str, str], ...] = ()
    private: bool = False
    tied: bool = False  # the two newest generations (and their outputs) share created_at


class _P(NamedTuple):
    key: str
    name: str
    owner: str
    members: tuple[tuple[str, str], ...]  # (username, role)
    sessions: tuple[_S, ...]  # oldest first: the last one holds the newest generations
    touched_days_ago: int  # updated_at = BASE - this many days
    shared: bool = False
    description: str | None = None
    briefing: str | None = None
    cover: str | None = None


_PROJECTS = (
    _P("nebula", "Nebula Campaign", "alice",
       (("bob", "admin"), ("carol", "editor"), ("dave", "viewer")),
       (_S("moodboard", "Moodboard", "image", 6, ("alice",), private=True),
        _S("hero", "Hero shots", "image", 14, ("alice", "bob", "carol"),
           (("completed", "carol"), ("dismissed_kept", "bob"))),
        _S("teaser", "Teaser cut", "video", 6, ("alice", "carol"), (("processing", "carol"),)),
        # The project's newest image, private: alice's thumbnail differs from her members'.
        _S("scratch", "Alice's scratch", "image", 6, ("alice",), (("completed", "alice"),),
           private=True)),
       touched_days_ago=3, description="Launch visuals for the Nebula headphones.",
       briefing="Deep-space palette, product centred, no text in frame."),
    _P("lookbook", "Autumn Lookbook", "alice", (("carol", "viewer"),),
       (_S("looks", "Looks", "image", 12, ("alice",)),
        _S("drafts", "Drafts", "image", 6, ("alice",), (("queued", "alice"),), private=True),
        _S("runway", "Runway loop", "video", 4, ("alice",))),
       touched_days_ago=5, shared=True,
       description="Fall/winter lookbook, shared with the whole studio.",
       cover=f"{CDN}/covers/autumn-lookbook.jpg"),
    # A stray membership row for the owner herself, as production has a few.
    _P("sketchbook", "Private Sketchbook", "alice", (("alice", "admin"),),
       (_S("sketches", "Sketches", "image", 8, ("alice",), (("failed", "alice"),),
           private=True),),
       touched_days_ago=9, description="Nobody else sees this."),
    _P("brand", "Brand Refresh", "alice", (("dave", "editor"),),
       (_S("logos", "Logos", "image", 10, ("alice", "dave"), (("cancelled", "dave"),)),
        _S("notes", "Alice's notes", "image", 4, ("alice",), private=True)),
       touched_days_ago=12, description="New marks and colour system."),
    _P("renders", "Product Renders", "bob", (("alice", "editor"), ("carol", "admin")),
       (_S("packshots", "Packshots", "image", 10, ("bob",), private=True),
        _S("lifestyle", "Lifestyle", "image", 14, ("bob", "alice", "carol"),
           (("failed", "carol"), ("processing", "alice"))),
        _S("spin", "Spin video", "video", 6, ("bob", "carol"), (("queued", "bob"),))),
       touched_days_ago=2, description="Catalogue renders for the spring range."),
    # No generations at all: no thumbnail, no last activity.
    _P("canvas", "Empty Canvas", "bob", (("dave", "viewer"),),
       (_S("first", "Session 1", "image", 0, ("bob",)),),
       touched_days_ago=7),
    # Same updated_at as "canvas": the project list needs its id tiebreak.
    _P("portraits", "Street Portraits", "carol", (("bob", "viewer"), ("alice", "viewer")),
       (_S("portraits", "Portraits", "image", 12, ("carol",),
           (("completed", "carol"), ("completed", "carol")), tied=True),
        _S("night", "Night walk", "image", 8, ("carol",), (("dismissed", "carol"),),
           private=True)),
       touched_days_ago=7, description="Candid city portraits, golden hour and night."),
    _P("motion", "Motion Tests", "carol", (("alice", "admin"),),
       (_S("storyboard", "Storyboard", "image", 6, ("carol",), private=True),
        _S("veo", "Veo shots", "video", 10, ("carol", "alice"),
           (("cancelled", "alice"), ("completed", "alice")))),
       touched_days_ago=1, description="Camera-move experiments with Veo."),
)  # fmt: skip

_SUBJECTS = (
    "a matte black headphone floating in a nebula", "a model in a rust wool coat on a pier",
    "a ceramic vase on travertine", "a cyclist crossing a rainy neon street",
    "an old fisherman mending nets", "a glass perfume bottle in morning light",
    "a fox curled in autumn leaves", "a minimalist logo mark of a lantern",
    "a sneaker exploding into paper shards", "a rooftop garden at dusk",
)  # fmt: skip
_STYLES = (
    "studio lighting, 85mm, shallow depth of field", "film grain, Kodak Portra 400",
    "isometric 3D render, soft shadows", "editorial fashion photography",
    "flat vector illustration, two colours", "cinematic, anamorphic flare",
)  # fmt: skip
_MOVES = ("slow dolly in", "orbiting drone shot", "handheld tracking shot", "rack focus")
_IMAGE_MODELS = {
    "gemini-nano-banana-pro": Decimal("0.134"),
    "replicate-seedream-4": Decimal("0.03"),
}
_VIDEO_MODEL, _VIDEO_PER_SECOND = "gemini-veo-3.1", Decimal("0.40")
_ASPECTS = ("1:1", "16:9", "9:16", "4:3", "3:4")
_LONG_SIDE = {"1K": 1024, "2K": 2048, "4K": 4096, "720p": 1280, "1080p": 1920}
# Kinds of generation: a status, except that dismissed ones may have been completed first.
_RANDOM_KINDS = ("completed", "failed", "cancelled", "dismissed", "dismissed_kept", "processing")
_RANDOM_WEIGHTS = (80, 5, 4, 3, 5, 3)
_WITH_OUTPUTS = frozenset({"completed", "dismissed_kept"})


class Profile(NamedTuple):
    id: uuid.UUID
    username: str
    display_name: str
    avatar_url: str
    role: str
    created_at: datetime
    updated_at: datetime


class Project(NamedTuple):
    id: uuid.UUID
    name: str
    description: str | None
    cover_image_url: str | None
    briefing: str | None
    owner_id: uuid.UUID
    is_shared: bool
    created_at: datetime
    updated_at: datetime


class Member(NamedTuple):
    id: uuid.UUID
    project_id: uuid.UUID
    user_id: uuid.UUID
    role: str
    joined_at: datetime


class Session(NamedTuple):
    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    type: str
    is_private: bool
    created_at: datetime
    updated_at: datetime


class Generation(NamedTuple):
    id: uuid.UUID
    session_id: uuid.UUID
    user_id: uuid.UUID
    model_id: str
    prompt: str
    negative_prompt: str | None
    parameters: str  # JSON text
    status: str
    cost: Decimal | None
    created_at: datetime


class Job(NamedTuple):
    id: uuid.UUID
    generation_id: uuid.UUID
    run_after: datetime | None
    attempts: int
    locked_at: datetime | None
    created_at: datetime


class Output(NamedTuple):
    id: uuid.UUID
    generation_id: uuid.UUID
    file_url: str
    file_type: str
    width: int
    height: int
    duration: float | None
    is_starred: bool
    is_approved: bool
    created_at: datetime


@dataclasses.dataclass(frozen=True)
class DemoData:
    """The rows of the demo dataset, per table, in insertion order."""

    profiles: tuple[Profile, ...]
    projects: tuple[Project, ...]
    project_members: tuple[Member, ...]
    sessions: tuple[Session, ...]
    generations: tuple[Generation, ...]
    generation_jobs: tuple[Job, ...]
    outputs: tuple[Output, ...]


@dataclasses.dataclass(frozen=True)
class DemoSummary:
    """Rows inserted per table by one `load_demo` call (all zero when `created` is False)."""

    created: bool
    profiles: int = 0
    projects: int = 0
    project_members: int = 0
    sessions: int = 0
    generations: int = 0
    generation_jobs: int = 0
    outputs: int = 0


class DemoConflictError(Exception):
    """A demo username belongs to another profile: the demo cannot be loaded here."""


def _size(aspect: str, resolution: str) -> tuple[int, int]:
    across, down = (int(part) for part in aspect.split(":"))
    long_side = _LONG_SIDE[resolution]
    if across >= down:
        return long_side, round(long_side * down / across)
    return round(long_side * across / down), long_side


def _parameters(rng: random.Random, video: bool, kind: str, at: datetime) -> dict[str, Any]:
    request = f"req_{rng.getrandbits(48):012x}"
    params: dict[str, Any] = {
        "aspectRatio": rng.choice(_ASPECTS[:3] if video else _ASPECTS),
        "numOutputs": 1 if video or rng.random() < 0.4 else 4,
        "resolution": rng.choice(("720p", "1080p") if video else ("1K", "2K", "2K", "4K")),
        "seed": rng.getrandbits(31),
        "debugLog": [f"{at.isoformat()}Z submitted {request}", f"worker w-{rng.randint(1, 9)}"],
    }
    if video:
        params["aspectRatio"] = "9:16" if params["aspectRatio"] == "9:16" else "16:9"
        params["duration"] = rng.choice((4, 6, 8))
    if rng.random() < 0.2:
        params["referenceImageUrl"] = f"{CDN}/uploads/ref-{rng.randint(100, 999)}.jpg"
    if kind in {"failed", "dismissed"}:
        params["errorContext"] = {
            "code": rng.choice(("SAFETY_BLOCK", "PROVIDER_TIMEOUT", "QUOTA_EXCEEDED")),
            "request": request,
            "stack": 'Traceback (most recent call last):\n  File "worker.py", line 88, in run',
        }
    return params


def _generations(
    rng: random.Random, spec: _S, session: Session, key: str, data: dict[str, list[Any]]
) -> datetime:
    """Append the session's generations, jobs and outputs; return its newest created_at."""
    video = spec.type == "video"
    scripted = list(spec.tail)
    kinds = [
        (rng.choices(_RANDOM_KINDS, _RANDOM_WEIGHTS)[0], rng.choice(spec.runners))
        for _ in range(spec.generations - len(scripted))
    ] + scripted
    at = done = session.created_at
    for index, (kind, runner) in enumerate(kinds):
        if not (spec.tied and index == len(kinds) - 1):
            at = session.created_at + timedelta(
                minutes=10 + 41 * index, seconds=rng.randint(0, 600)
            )
            done = at + timedelta(seconds=rng.randint(90, 240) if video else rng.randint(20, 90))
        generation_id = demo_id("generation", f"{key}/{index}")
        model = _VIDEO_MODEL if video else rng.choice(sorted(_IMAGE_MODELS))
        params = _parameters(rng, video, kind, at)
        count = params["numOutputs"] if kind in _WITH_OUTPUTS else 0
        unit = _VIDEO_PER_SECOND * params["duration"] if video else _IMAGE_MODELS[model]
        detail = rng.choice(_MOVES if video else _STYLES)
        data["generations"].append(
            Generation(
                id=generation_id,
                session_id=session.id,
                user_id=DEMO_USERS[runner],
                model_id=model,
                prompt=f"{rng.choice(_SUBJECTS)}, {detail}",
                negative_prompt="blurry, low quality, watermark" if rng.random() < 0.3 else None,
                parameters=json.dumps(params, sort_keys=True),
                status=kind.removesuffix("_kept"),
                cost=(unit * count).quantize(Decimal("0.000001")) if count else None,
                created_at=at,
            )
        )
        if kind in {"queued", "processing"}:
            queued = kind == "queued"
            data["generation_jobs"].append(
                Job(
                    id=demo_id("job", f"{key}/{index}"),
                    generation_id=generation_id,
                    run_after=at + timedelta(seconds=30) if queued else None,
                    attempts=0 if queued else 1,
                    locked_at=None if queued else at + timedelta(seconds=2),
                    created_at=at,
                )
            )
        width, height = _size(params["aspectRatio"], params["resolution"])
        for number in range(count):
            output_id = demo_id("output", f"{key}/{index}/{number}")
            data["outputs"].append(
                Output(
                    id=output_id,
                    generation_id=generation_id,
                    file_url=f"{CDN}/outputs/{output_id}.{'mp4' if video else 'png'}",
                    file_type=spec.type,
                    width=width,
                    height=height,
                    duration=float(params["duration"]) if video else None,
                    is_starred=rng.random() < 0.15,
                    is_approved=rng.random() < 0.1,
                    created_at=done,  # one instant for all outputs of a generation
                )
            )
    return at


@functools.cache
def build_demo() -> DemoData:
    """The demo rows; pure and deterministic (cached: the same objects on every call)."""
    rng = random.Random(_SEED)
    data: dict[str, list[Any]] = {field.name: [] for field in dataclasses.fields(DemoData)}
    for number, (name, display_name, role) in enumerate(USERS):
        at = BASE - timedelta(days=90 - number)
        avatar = f"{CDN}/avatars/{name}.png"
        data["profiles"].append(Profile(DEMO_USERS[name], name, display_name, avatar, role, at, at))
    for number, spec in enumerate(_PROJECTS):
        project_id, created = demo_id("project", spec.key), BASE - timedelta(days=60 - 5 * number)
        data["projects"].append(
            Project(
                id=project_id,
                name=spec.name,
                description=spec.description,
                cover_image_url=spec.cover,
                briefing=spec.briefing,
                owner_id=DEMO_USERS[spec.owner],
                is_shared=spec.shared,
                created_at=created,
                updated_at=BASE - timedelta(days=spec.touched_days_ago),
            )
        )
        for rank, (user, role) in enumerate(spec.members, start=1):
            member_id = demo_id("member", f"{spec.key}/{user}")
            joined = created + timedelta(hours=rank)
            data["project_members"].append(
                Member(member_id, project_id, DEMO_USERS[user], role, joined)
            )
        for rank, session_spec in enumerate(spec.sessions):
            key = f"{spec.key}/{session_spec.key}"
            at = created + timedelta(days=2 * rank, hours=1)
            session = Session(
                demo_id("session", key), project_id, session_spec.name, session_spec.type,
                session_spec.private, at, at,
            )  # fmt: skip
            # A new generation moves the session's updated_at.
            newest = _generations(rng, session_spec, session, key, data)
            data["sessions"].append(session._replace(updated_at=newest))
    return DemoData(**{table: tuple(rows) for table, rows in data.items()})


async def _insert(conn: asyncpg.Connection[Any], sql: str, rows: Sequence[tuple[Any, ...]]) -> int:
    # One array per column; every demo table has rows, so zip() sees the row width.
    columns = [list(column) for column in zip(*rows, strict=True)]
    status: str = await conn.execute(sql, *columns)
    return int(status.rsplit(" ", 1)[1])


async def load_demo(conn: asyncpg.Connection[Any]) -> DemoSummary:
    """Load the demo dataset in one transaction, unless it is already there.

    Concurrent calls are serialised by an advisory lock; the loser reports `created=False`.

    Raises:
        DemoConflictError: a demo username is taken by a profile that is not a demo one
            (nothing is written).
    """
    queries, data = load_queries("demo", QUERIES), build_demo()
    async with conn.transaction():
        await conn.execute(queries["lock_demo"], _LOCK_KEY)
        found = await conn.fetch(
            queries["find_demo_profiles"], list(DEMO_USERS.values()), list(DEMO_USERS)
        )
        if any(row["is_demo"] for row in found):
            return DemoSummary(created=False)
        if found:
            taken = ", ".join(sorted(row["username"] for row in found))
            raise DemoConflictError(f"demo usernames already taken by other profiles: {taken}")
        return DemoSummary(
            created=True,
            profiles=await _insert(conn, queries["insert_profiles"], data.profiles),
            projects=await _insert(conn, queries["insert_projects"], data.projects),
            project_members=await _insert(
                conn, queries["insert_project_members"], data.project_members
            ),
            sessions=await _insert(conn, queries["insert_sessions"], data.sessions),
            generations=await _insert(conn, queries["insert_generations"], data.generations),
            generation_jobs=await _insert(
                conn, queries["insert_generation_jobs"], data.generation_jobs
            ),
            outputs=await _insert(conn, queries["insert_outputs"], data.outputs),
        )
