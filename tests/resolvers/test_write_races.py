"""Racing writers through the API: many viewers' mutations at once over a few projects
(sessions created, deleted and made private or public, generations created and completed
with images, failed and dismissed, outputs starred and deleted), then the read model has
drifted nowhere (`repairProjectStats` finds 0) and answers like the live path for every
kind of viewer. No write may fail for any reason but the contract's (a row deleted by a
racing writer is NOT_FOUND, a status already moved is BAD_USER_INPUT)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from db.stats import live_stats, stored_stats
from domain.vocabulary import NodeType
from resolvers.ids import encode
from tests.support import factories as f
from tests.support import writes as w
from tests.support.graphql import codes

BOTH_PATHS = True  # each test straight to PostgreSQL and through the pooler (conftest)

WRITERS = 8
SECONDS = 3.0  # each writer goes on this long
EXPECTED_REFUSALS = {"NOT_FOUND", "BAD_USER_INPUT"}


async def _pick(pool: asyncpg.Pool[Any], sql: str, projects: list[uuid.UUID]) -> uuid.UUID | None:
    found: uuid.UUID | None = await pool.fetchval(sql, projects)
    return found


SESSION = "SELECT id FROM sessions WHERE project_id = ANY($1) ORDER BY random() LIMIT 1"
GENERATION = (
    "SELECT g.id FROM generations g JOIN sessions s ON s.id = g.session_id"
    " WHERE s.project_id = ANY($1) ORDER BY random() LIMIT 1"
)
OUTPUT = (
    "SELECT o.id FROM outputs o JOIN generations g ON g.id = o.generation_id"
    " JOIN sessions s ON s.id = g.session_id WHERE s.project_id = ANY($1)"
    " ORDER BY random() LIMIT 1"
)


class Writer:
    def __init__(
        self, client: httpx.AsyncClient, pool: asyncpg.Pool[Any], world: w.World,
        projects: list[uuid.UUID], rng: random.Random,
    ) -> None:  # fmt: skip
        self.client, self.pool, self.world, self.projects, self.rng = (
            client, pool, world, projects, rng,
        )  # fmt: skip
        self.refused: dict[str, int] = {}
        self.sent = 0

    async def send(self, kind: str, document: str, **input: Any) -> dict[str, Any]:
        body = await w.mutate(self.client, document, {"input": input}, self.world.bearer[kind])
        self.sent += 1
        for code in codes(body):
            assert code in EXPECTED_REFUSALS, body
            self.refused[code] = self.refused.get(code, 0) + 1
        return body

    async def run(self) -> None:
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            await self.step(self.rng.randrange(8), self.rng.choice(["owner", "admin", "editor"]))

    async def step(self, action: int, kind: str) -> None:
        rng = self.rng
        if action == 0:
            project = encode(NodeType.PROJECT, rng.choice(self.projects))
            private = kind == "owner" and rng.random() < 0.5
            await self.send(kind, w.CREATE_SESSION, projectId=project, name="S", type="IMAGE",
                            isPrivate=private)  # fmt: skip
        elif action in (1, 2):
            session = await _pick(self.pool, SESSION, self.projects)
            if session is None:
                return
            sid = encode(NodeType.SESSION, session)
            if action == 1 and rng.random() < 0.3:
                await self.send(kind, w.DELETE_SESSION, id=sid)
            else:  # only the owner sees (and may set) private sessions
                await self.send("owner", w.UPDATE_SESSION, id=sid, isPrivate=rng.random() < 0.5)
        elif action in (3, 4):
            session = await _pick(self.pool, SESSION, self.projects)
            if session is None:
                return
            created = await self.send(
                "owner", w.CREATE_GENERATION, sessionId=encode(NodeType.SESSION, session),
                modelId="m", prompt="p",
            )  # fmt: skip
            if codes(created):
                return
            generation = created["data"]["createGeneration"]["generation"]
            if generation is None:  # its session was deleted right after the commit
                return
            gid = generation["id"]
            outputs = [w.IMAGE] * rng.choice([1, 4])
            await self.send(kind, w.COMPLETE_GENERATION, id=gid, outputs=outputs)
        elif action == 5:
            output = await _pick(self.pool, OUTPUT, self.projects)
            if output is not None:
                document = rng.choice([w.DELETE_OUTPUT, w.DELETE_OUTPUT, w.UPDATE_OUTPUT])
                extra = {"isStarred": True} if document is w.UPDATE_OUTPUT else {}
                await self.send("owner", document, id=encode(NodeType.OUTPUT, output), **extra)
        else:
            generation = await _pick(self.pool, GENERATION, self.projects)
            if generation is not None:
                document = w.DISMISS_GENERATION if action == 6 else w.FAIL_GENERATION
                await self.send("owner", document, id=encode(NodeType.GENERATION, generation))


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_racing_mutations_leave_zero_drift(
    client: httpx.AsyncClient, conn: f.Conn, db_url: str, seed: int,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    world = await w.build_world(conn)
    projects = [world.project]
    for _ in range(2):
        project = await f.project(conn, world.people["owner"], shared=True)
        for kind in ("admin", "editor", "viewer"):
            await f.member(conn, project, world.people[kind], kind)
        projects.append(project)
    rng = random.Random(seed)
    caplog.set_level(logging.WARNING, logger="vesper.db")
    async with asyncpg.create_pool(db_url, min_size=2, max_size=4) as pool:
        writers = [
            Writer(client, pool, world, projects, random.Random(rng.random()))
            for _ in range(WRITERS)
        ]
        await asyncio.gather(*(writer.run() for writer in writers))
    report = await w.mutate(client, w.REPAIR, {"input": {}}, world.bearer["root"])
    assert report["data"]["repairProjectStats"] == {"checked": 3, "drifted": 0, "repaired": 0}
    for kind in ("owner", "admin", "viewer", "outsider"):
        viewer = world.people[kind]
        stored = await stored_stats(conn, viewer=viewer, project_ids=projects)
        live = await live_stats(conn, viewer=viewer, project_ids=projects)
        assert sorted(stored, key=str) == sorted(live, key=str), kind
    assert await conn.fetchval("SELECT count(*) FROM published_outputs") > 0
    retries = sum("retrying" in r.message for r in caplog.records)
    refused = {code: sum(x.refused.get(code, 0) for x in writers) for code in EXPECTED_REFUSALS}
    sent = sum(x.sent for x in writers)
    print(f"seed {seed}: {sent} mutations, deadlock retries {retries}, refusals {refused}")  # noqa: T201
