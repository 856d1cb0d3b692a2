"""Fixtures of the resolver tests: small worlds of projects, sessions and generations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support import factories as f
from tests.support import writes as w
from tests.support.graphql import token

from .shared import T0


@pytest.fixture
async def busy(conn: f.Conn) -> str:
    """A viewer who sees 120 projects (owned, member of, shared by 40 other owners), each
    with three sessions of generations and outputs; returns the viewer's token."""
    me = await f.profile(conn, "me")
    await conn.execute(
        """
        INSERT INTO profiles (id, username, updated_at)
        SELECT gen_random_uuid(), 'owner' || i, now() FROM generate_series(1, 40) i;
        INSERT INTO projects (id, name, owner_id, is_shared, updated_at)
        SELECT gen_random_uuid(), 'p' || i,
               CASE WHEN i % 3 = 0 THEN $1::uuid
                    ELSE (SELECT id FROM profiles WHERE username = 'owner' || (i % 40 + 1)) END,
               i % 3 = 1, timestamp '2026-01-01' + i * interval '1 minute'
        FROM generate_series(1, 120) i;
        INSERT INTO project_members (id, project_id, user_id, role)
        SELECT gen_random_uuid(), p.id, $1::uuid, 'editor'
        FROM projects p WHERE p.owner_id <> $1::uuid AND NOT p.is_shared;
        INSERT INTO sessions (id, project_id, name, type, is_private, updated_at)
        SELECT gen_random_uuid(), p.id, 's' || j, 'image', j = 1, p.updated_at
        FROM projects p, generate_series(1, 3) j;
        INSERT INTO generations (id, session_id, user_id, model_id, prompt, parameters, status,
                                 created_at)
        SELECT gen_random_uuid(), s.id, $1::uuid, 'm', 'p', '{}', 'completed',
               s.updated_at + k * interval '1 second'
        FROM sessions s, generate_series(1, 2) k;
        INSERT INTO outputs (id, generation_id, file_url, file_type, created_at)
        SELECT gen_random_uuid(), g.id, 'https://cdn.example/' || g.id, 'image', g.created_at
        FROM generations g;
        """.replace("$1::uuid", f"'{me}'::uuid")
    )
    return token(me)


@pytest.fixture
async def studio(conn: f.Conn) -> dict[str, Any]:
    """A project with five sessions (two of them video, one private) for its owner."""
    owner = await f.profile(conn, "owner")
    project = await f.project(conn, owner, "Studio")
    other = await f.project(conn, owner, "Other")
    for i in range(5):
        await f.session(
            conn,
            project,
            f"s{i}",
            type="video" if i in (1, 3) else "image",
            private=i == 4,
            updated_at=T0 + timedelta(minutes=i),
        )
    await f.session(conn, other, "o0", updated_at=T0 + timedelta(minutes=2, seconds=30))
    return {"bearer": token(owner), "project": project, "other": other, "owner": owner}


@pytest.fixture
async def session_world(conn: f.Conn) -> dict[str, Any]:
    """Owner Olga's project with Ed (EDITOR) and Val (VIEWER); one session holding a
    generation of every status, run by Ed, with secret parameters."""
    olga, ed, val = [await f.profile(conn, n) for n in ("olga", "ed", "val")]
    project = await f.project(conn, olga, "Studio")
    await f.member(conn, project, ed, "editor")
    await f.member(conn, project, val, "viewer")
    session = await f.session(conn, project, "Shots")
    params = {"aspectRatio": "16:9", "numOutputs": 4, "debugLog": "trace", "seed": 7}
    generations = {}
    for i, status in enumerate(
        ("completed", "processing", "queued", "failed", "cancelled", "dismissed")
    ):
        generations[status] = await f.generation(
            conn,
            session,
            ed,
            status=status,
            parameters=params,
            created_at=T0 + timedelta(minutes=i),
        )
    await conn.execute("UPDATE generations SET cost = 0.04 WHERE status = 'completed'")
    done = generations["completed"]
    tie = T0 + timedelta(hours=1)
    outputs = sorted([await f.output(conn, done, created_at=tie) for _ in range(3)])
    await f.output(conn, generations["dismissed"], created_at=tie)
    return {
        "bearer": {"olga": token(olga), "ed": token(ed), "val": token(val)},
        "project": project,
        "session": session,
        "generations": generations,
        "outputs": outputs,
    }


@pytest.fixture
async def world(conn: f.Conn) -> w.World:
    return await w.build_world(conn)
