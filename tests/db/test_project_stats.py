"""The project_stats read model: exact after every kind of write for both viewer classes,
equal to the live figures for every viewer kind, zero drift under racing writers, and the
repair job (library and `vesper stats repair`)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from typing import Any

import asyncpg
import pytest

import cli
from db.ops import migrate
from db.stats import live_stats, repair, stored_stats
from settings import ConfigError, Settings
from tests.support import factories as f
from tests.support.factories import Conn


async def _drifted(conn: Conn) -> int:
    return (await repair(conn, dry_run=True)).drifted


async def _same_for_everyone(
    conn: Conn, projects: list[uuid.UUID], viewers: list[uuid.UUID]
) -> None:
    for viewer in viewers:
        live = await live_stats(conn, viewer=viewer, project_ids=projects)
        stored = await stored_stats(conn, viewer=viewer, project_ids=projects)
        key = lambda row: row.project_id  # noqa: E731
        assert sorted(stored, key=key) == sorted(live, key=key), viewer


class World:
    """A project with an owner, an ADMIN/EDITOR/VIEWER member each, a shared-only viewer
    and an outsider; a second project to move things to."""

    async def build(self, conn: Conn) -> World:
        self.owner = await f.profile(conn, "owner")
        self.admin, self.editor, self.viewer = (
            await f.profile(conn, "admin"), await f.profile(conn, "editor"),
            await f.profile(conn, "viewer"),
        )  # fmt: skip
        self.outsider = await f.profile(conn, "outsider")
        self.project = await f.project(conn, self.owner, shared=True)
        self.other = await f.project(conn, self.owner)
        for user, role in ((self.admin, "admin"), (self.editor, "editor"), (self.viewer, "viewer")):
            await f.member(conn, self.project, user, role)
        return self

    @property
    def viewers(self) -> list[uuid.UUID]:
        return [self.owner, self.admin, self.editor, self.viewer, self.outsider]


async def test_every_write_keeps_the_stats_exact_for_every_viewer(conn: Conn) -> None:
    w = await World().build(conn)
    both = [w.project, w.other]
    assert await conn.fetchval("SELECT count(*) FROM project_stats") == 2

    private = await f.session(conn, w.project, private=True)
    public = await f.session(conn, w.project)
    done = await f.generation(conn, private, w.owner)
    shown = await f.generation(conn, public, w.owner)
    running = await f.generation(conn, public, w.owner, status="processing")
    first = await f.output(conn, done)
    await f.output(conn, shown)
    video = await f.output(conn, shown, file_type="video")
    await f.output(conn, running)
    writes: list[tuple[Any, ...]] = [
        ("UPDATE generations SET status = 'completed' WHERE id = $1", running),
        ("UPDATE generations SET parameters = '{\"beat\": 2}' WHERE id = $1", running),
        ("UPDATE generations SET status = 'dismissed' WHERE id = $1", done),
        ("UPDATE generations SET status = 'completed' WHERE id = $1", done),
        ("UPDATE sessions SET is_private = false WHERE id = $1", private),
        ("UPDATE sessions SET is_private = true WHERE id = $1", public),
        ("UPDATE sessions SET name = 'renamed', updated_at = $1 WHERE id = $2", f.tick(), public),
        ("UPDATE outputs SET file_url = 'https://cdn.example/moved.png' WHERE id = $1", first),
        ("UPDATE outputs SET created_at = $1 WHERE id = $2", f.tick(), video),
        ("DELETE FROM outputs WHERE id = $1", first),
        ("UPDATE sessions SET project_id = $1 WHERE id = $2", w.other, private),
        ("DELETE FROM generations WHERE id = $1", shown),
        ("DELETE FROM sessions WHERE id = $1", public),
    ]
    for statement, *args in writes:
        await conn.execute(str(statement), *args)
        assert await _drifted(conn) == 0, statement
        await _same_for_everyone(conn, both, w.viewers)

    await conn.execute("DELETE FROM projects WHERE id = $1", w.other)
    assert await conn.fetchval("SELECT count(*) FROM project_stats") == 1
    assert await _drifted(conn) == 0


async def _stats_rows_written(conn: Conn) -> int:
    # Row updates of project_stats so far, this transaction's included (the view also counts
    # earlier transactions whose statistics are not flushed yet: compare differences).
    written: int = await conn.fetchval(
        "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'project_stats'"
    )
    return written


async def test_a_write_of_many_rows_recomputes_each_project_once(conn: Conn) -> None:
    w = await World().build(conn)
    session = await f.session(conn, w.project)
    for _ in range(10):
        generation = await f.generation(conn, session, w.owner)
        for _ in range(4):
            await f.output(conn, generation)
    async with conn.transaction():
        before = await _stats_rows_written(conn)
        # 40 published outputs change privacy: one recomputation of the session counts and
        # one of the thumbnails/last activity, not one per row.
        await conn.execute("UPDATE sessions SET is_private = true WHERE id = $1", session)
        await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        assert await _stats_rows_written(conn) - before == 2
        assert await _drifted(conn) == 0
        # A later firing in the same transaction recomputes again.
        await conn.execute("UPDATE sessions SET is_private = false WHERE id = $1", session)
        await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        assert await _stats_rows_written(conn) - before == 4
        assert await _drifted(conn) == 0
    assert await _drifted(conn) == 0


async def test_the_two_viewer_classes_differ_where_the_rules_say(conn: Conn) -> None:
    w = await World().build(conn)
    private = await f.session(conn, w.project, private=True)
    public = await f.session(conn, w.project)
    old = await f.output(conn, await f.generation(conn, public, w.owner))
    new = await f.output(conn, await f.generation(conn, private, w.owner))
    urls = await conn.fetchrow(
        "SELECT owner_session_count, public_session_count, owner_thumbnail_output_id,"
        " public_thumbnail_output_id FROM project_stats WHERE project_id = $1",
        w.project,
    )
    assert tuple(urls or ()) == (2, 1, new, old)
    for viewer in w.viewers:
        (row,) = await stored_stats(conn, viewer=viewer, project_ids=[w.project])
        assert row.session_count == (2 if viewer == w.owner else 1)


async def test_a_heartbeat_touches_no_stats_row(conn: Conn) -> None:
    w = await World().build(conn)
    session = await f.session(conn, w.project)
    generation = await f.generation(conn, session, w.owner, status="processing")
    before = await conn.fetchval(
        "SELECT xmin::text FROM project_stats WHERE project_id = $1", w.project
    )
    for beat in range(3):
        await conn.execute(
            "UPDATE generations SET parameters = jsonb_build_object('beat', $1::int) WHERE id = $2",
            beat,
            generation,
        )
    after = await conn.fetchval(
        "SELECT xmin::text FROM project_stats WHERE project_id = $1", w.project
    )
    assert after == before


async def _writer(
    url: str, rng: random.Random, ids: dict[str, list[uuid.UUID]], rounds: int
) -> None:
    conn = await asyncpg.connect(url)
    try:
        for _ in range(rounds):
            project = rng.choice(ids["projects"])
            action = rng.randrange(7)
            # A session deleted under us fails the write whole, as it should.
            with contextlib.suppress(asyncpg.ForeignKeyViolationError):
                await _write(conn, rng, ids, project, action)
    finally:
        await conn.close()


async def _write(
    conn: Conn, rng: random.Random, ids: dict[str, list[uuid.UUID]], project: uuid.UUID, action: int
) -> None:
    async with conn.transaction():
        if action == 0:
            await f.session(conn, project, private=rng.random() < 0.5)
        elif action == 1:
            await conn.execute(
                "DELETE FROM sessions WHERE id = (SELECT id FROM sessions"
                " WHERE project_id = $1 ORDER BY random() LIMIT 1)",
                project,
            )
        elif action == 2:
            await conn.execute(
                "UPDATE sessions SET is_private = NOT is_private WHERE id = (SELECT id"
                " FROM sessions WHERE project_id = $1 ORDER BY random() LIMIT 1)",
                project,
            )
        elif action in (3, 4):
            session = await conn.fetchval(
                "SELECT id FROM sessions WHERE project_id = $1 ORDER BY random() LIMIT 1",
                project,
            )
            if session is not None:
                generation = await f.generation(conn, session, ids["owner"][0])
                for _ in range(rng.choice([1, 4])):
                    await f.output(conn, generation)
        elif action == 5:
            await conn.execute(
                "DELETE FROM outputs WHERE id = (SELECT o.id FROM outputs o"
                " JOIN generations g ON g.id = o.generation_id"
                " JOIN sessions s ON s.id = g.session_id"
                " WHERE s.project_id = $1 ORDER BY random() LIMIT 1)",
                project,
            )
        else:
            await conn.execute(
                "UPDATE generations SET status = 'dismissed' WHERE id = (SELECT g.id"
                " FROM generations g JOIN sessions s ON s.id = g.session_id"
                " WHERE s.project_id = $1 ORDER BY random() LIMIT 1)",
                project,
            )


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_racing_writers_leave_zero_drift(conn: Conn, db_url: str, seed: int) -> None:
    owner = await f.profile(conn, "owner")
    projects = [await f.project(conn, owner) for _ in range(3)]
    for project in projects:
        await f.session(conn, project)
    ids = {"owner": [owner], "projects": projects}
    rng = random.Random(seed)
    await asyncio.gather(*(_writer(db_url, random.Random(rng.random()), ids, 80) for _ in range(8)))
    report = await repair(conn, dry_run=True)
    assert (report.checked, report.drifted) == (3, 0)
    assert await conn.fetchval("SELECT count(*) FROM published_outputs") > 0


async def test_repair_finds_and_fixes_drift(conn: Conn) -> None:
    w = await World().build(conn)
    await f.output(conn, await f.generation(conn, await f.session(conn, w.project), w.owner))
    await conn.execute(
        "UPDATE project_stats SET public_session_count = 42 WHERE project_id = $1", w.project
    )
    await conn.execute("DELETE FROM project_stats WHERE project_id = $1", w.other)

    dry = await repair(conn, dry_run=True)
    assert (dry.checked, dry.drifted, dry.repaired) == (2, 2, 0)
    assert await conn.fetchval("SELECT count(*) FROM project_stats") == 1
    one = await repair(conn, project=w.project, batch=1)
    assert (one.checked, one.drifted, one.repaired) == (1, 1, 1)
    rest = await repair(conn, batch=1)  # one project per statement: walks both
    assert (rest.checked, rest.drifted, rest.repaired) == (2, 1, 1)
    assert await _drifted(conn) == 0


async def test_backfill_fills_an_emptied_read_model(conn: Conn, db_url: str) -> None:
    w = await World().build(conn)
    await f.output(conn, await f.generation(conn, await f.session(conn, w.project), w.owner))
    await conn.execute("TRUNCATE project_stats")
    await conn.execute(
        "DELETE FROM _yoyo_migration WHERE migration_id = '0010_project_stats_backfill'"
    )
    assert await asyncio.to_thread(migrate.apply, db_url) == ["0010_project_stats_backfill"]
    assert await conn.fetchval("SELECT count(*) FROM project_stats") == 2
    assert await _drifted(conn) == 0


def test_stats_repair_command(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["stats", "repair", "--dry-run", "--database", db_url]) == 0
    assert "checked 0, drifted 0, repaired 0 (dry run)" in capsys.readouterr().out
    assert cli.main(["stats", "repair", "--project", "nope", "--database", db_url]) == 2
    assert "--project must be a project id" in capsys.readouterr().err


def test_the_stats_source_setting() -> None:
    assert Settings.from_env({}).stats_source == "read_model"
    assert Settings.from_env({"VESPER_STATS_SOURCE": "live"}).stats_source == "live"
    with pytest.raises(ConfigError, match="VESPER_STATS_SOURCE"):
        Settings.from_env({"VESPER_STATS_SOURCE": "cache"})
