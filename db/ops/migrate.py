"""Schema migrations: yoyo over psycopg 3, and adopting the production database Prisma made.

The sync functions are CLI and test helpers (each opens its own connections). `adopt_check`
and `pending_ids` are async and take an asyncpg connection for use inside the server.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import yoyo
import yoyo.migrations
from yoyo.backends.core.postgresql import PostgresqlPsycopgBackend
from yoyo.connections import parse_uri

from db.pool import DatabaseUnavailable, explain_connect_error
from db.types import Connection
from settings import ROOT, asyncpg_url, yoyo_url

from . import catalog
from .catalog import Build, Catalog, Difference

MIGRATIONS_DIR = ROOT / "migrations"
BASELINE_ID = "0001_baseline"
SCRATCH_SCHEMA = "vesper_adopt_check"

# yoyo records applied migrations here (yoyo.default_migration_table), in the current schema.
_APPLIED_IDS = "SELECT migration_id FROM _yoyo_migration"

# An index build of a later migration (0004-0006), behind its guard: the index's name,
# then `ON table ...`.
_CONCURRENT_BUILD = re.compile(
    r"^CREATE INDEX CONCURRENTLY IF NOT EXISTS (\w+)\s+(ON\s[^;]+);", re.MULTILINE
)

__all__ = [
    "BASELINE_ID",
    "MIGRATIONS_DIR",
    "Adoption",
    "DatabaseUnavailable",
    "SchemaMismatch",
    "adopt",
    "adopt_check",
    "apply",
    "expected_catalog",
    "pending",
    "pending_ids",
    "rollback_all",
]


class SchemaMismatch(Exception):
    """The database is not the schema the baseline creates: adoption refused, nothing recorded."""

    def __init__(self, differences: list[Difference], reason: str) -> None:
        self.differences, self.reason = differences, reason
        lines = "".join(f"\n  - {difference}" for difference in differences)
        super().__init__(f"{reason}:{lines}")


def _connection_lost(exc: psycopg.Error) -> bool:
    # No SQLSTATE: the client lost or never had a connection; 08: connection exception;
    # 57P: the server is shutting down or refuses connections.
    state = exc.sqlstate
    return state is None or state.startswith(("08", "57P"))


# Told each migration applied (its id, the seconds it took) and each progress line a long
# migration sends (PostgreSQL notices: the backfills report how far they are).
Applied = Callable[[str, float], None]
Progress = Callable[[str], None]

# A migration reports progress with `RAISE NOTICE 'progress: …'`.
PROGRESS = "progress: "
# Where the progress of the migration being applied goes (`apply(progress=…)`).
_progress: contextvars.ContextVar[Progress | None] = contextvars.ContextVar(
    "vesper_migration_progress", default=None
)


class _Backend(PostgresqlPsycopgBackend):  # type: ignore[misc]
    """yoyo's psycopg 3 backend, passing the notices a migration raises (its progress) to
    the caller. yoyo applies each migration on a copy of the backend with a connection of
    its own: every connection is set up here."""

    def init_connection(self, connection: psycopg.Connection[Any]) -> None:
        super().init_connection(connection)  # also called again after a rollback
        progress = _progress.get()
        if progress is None or getattr(self, "_reporting", None) is connection:
            return
        self._reporting = connection

        def notice(diagnostic: psycopg.errors.Diagnostic) -> None:
            message = diagnostic.message_primary or ""
            if message.startswith(PROGRESS):  # not PostgreSQL's own notices ("skipping")
                progress(message.removeprefix(PROGRESS))

        connection.add_notice_handler(notice)


@contextmanager
def _backend(url: str) -> Iterator[Any]:
    """A yoyo backend for `url`; connection failures become DatabaseUnavailable."""
    plain = asyncpg_url(url)
    try:
        backend = _Backend(parse_uri(yoyo_url(url)), yoyo.default_migration_table)
        backend.init_database()
    except psycopg.Error as exc:
        raise explain_connect_error(plain, exc) from exc
    try:
        yield backend
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        if _connection_lost(exc):
            raise explain_connect_error(plain, exc) from exc
        raise
    finally:
        backend.connection.close()


def _migrations() -> Any:
    return yoyo.read_migrations(str(MIGRATIONS_DIR))


def _ids(migrations: Any) -> list[str]:
    return [str(migration.id) for migration in migrations]


def _through(migrations: Any, revision: str) -> Any:
    """`revision` and the migrations it depends on (what `yoyo apply -r` selects)."""
    target = next((m for m in migrations if m.id == revision), None)
    if target is None:
        raise ValueError(f"no migration {revision!r} in {MIGRATIONS_DIR}")
    wanted = yoyo.ancestors(target, migrations) | {target}
    return migrations.filter(lambda migration: migration in wanted)


def _quiet_applied(migration: str, seconds: float) -> None:
    del migration, seconds


def _quiet_progress(line: str) -> None:
    del line


def _apply_each(backend: Any, to_apply: Any, applied: Applied, progress: Progress) -> None:
    """The migrations one by one (each as yoyo would run it), timed and reported."""
    token = _progress.set(progress)
    try:
        for migration in to_apply:
            started = time.monotonic()
            backend.apply_migrations(yoyo.migrations.MigrationList([migration]))
            applied(str(migration.id), time.monotonic() - started)
    finally:
        _progress.reset(token)


def apply(
    url: str,
    *,
    revision: str | None = None,
    applied: Applied = _quiet_applied,
    progress: Progress = _quiet_progress,
) -> list[str]:
    """Apply the pending migrations (only up to `revision` if given); return the ids applied."""
    migrations = _migrations()
    if revision is not None:
        migrations = _through(migrations, revision)
    with _backend(url) as backend, backend.lock():
        # Decided under the lock, or two processes starting together could both apply.
        to_apply = backend.to_apply(migrations)
        _apply_each(backend, to_apply, applied, progress)
    return _ids(to_apply)


def rollback_all(url: str) -> list[str]:
    """Roll back every applied migration, newest first; return their ids in that order."""
    migrations = _migrations()
    with _backend(url) as backend, backend.lock():
        to_rollback = backend.to_rollback(migrations)
        backend.rollback_migrations(to_rollback)
    return _ids(to_rollback)


def pending(url: str) -> list[str]:
    """Ids of the migrations not yet applied, in the order `apply` would run them."""
    with _backend(url) as backend:
        return _ids(backend.to_apply(_migrations()))


@dataclass(frozen=True, slots=True)
class Adoption:
    kept: list[str]  # what the check listed beyond the baseline (nothing blocking)
    applied: list[str]  # the migrations run after the baseline was recorded


def adopt(
    url: str, *, applied: Applied = _quiet_applied, progress: Progress = _quiet_progress
) -> Adoption:
    """Take over an existing production database: record the baseline, apply the rest.

    The baseline is marked applied without running it, and only if the database already
    has its schema (extra tables, columns and indexes are kept, and listed) and no valid
    index is in the way of a later migration's index (same name, another definition); if
    it was recorded before, this is `apply`. Not for use inside a running event loop (it runs
    one): use `adopt_check` there.

    Raises:
        SchemaMismatch: no baseline table exists (a new database: use `apply`), some
            baseline object is missing or different, or an index is in the way. Nothing
            is recorded then.
    """
    migrations = _migrations()
    kept: list[str] = []
    with _backend(url) as backend, backend.lock():
        baseline = migrations.filter(lambda migration: migration.id == BASELINE_ID)
        if backend.to_apply(baseline):
            actual, found = asyncio.run(_check_url(url))
            if not actual.tables:
                raise SchemaMismatch(found, "no baseline table exists: use apply, not adopt")
            if any(difference.blocking for difference in found):
                raise SchemaMismatch(found, "the database differs from what the migrations expect")
            kept = [str(difference) for difference in found]
            backend.mark_migrations(baseline)
        to_apply = backend.to_apply(migrations)
        _apply_each(backend, to_apply, applied, progress)
    return Adoption(kept, _ids(to_apply))


def _baseline_sql() -> str:
    return (MIGRATIONS_DIR / f"{BASELINE_ID}.sql").read_text(encoding="utf-8")


@cache
def _concurrent_builds(directory: Path) -> tuple[tuple[str, str, str], ...]:
    """(migration id, index name, plain CREATE INDEX statement) of each index a migration
    of `directory` builds CONCURRENTLY, in migration order."""
    builds: list[tuple[str, str, str]] = []
    for path in sorted(directory.glob("*.sql")):
        if path.name.endswith(".rollback.sql"):
            continue
        for match in _CONCURRENT_BUILD.finditer(path.read_text(encoding="utf-8")):
            name, target = match.groups()
            builds.append((path.stem, name, f"CREATE INDEX {name} {target}"))
    return tuple(builds)


def _table_of(statement: str) -> str:
    """The table a CREATE INDEX statement of `_concurrent_builds` builds on."""
    return statement.split(" ON ", 1)[1].split()[0]


async def expected_catalog(conn: asyncpg.Connection[Any]) -> tuple[Catalog, list[Build]]:
    """The catalog the baseline creates, and the indexes the later migrations build on its
    tables as PostgreSQL describes them: built in a scratch schema, then rolled back."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute(f"CREATE SCHEMA {SCRATCH_SCHEMA}")
        await conn.execute(f"SET LOCAL search_path TO {SCRATCH_SCHEMA}")
        await conn.execute(_baseline_sql())
        baseline = await catalog.describe(conn, SCRATCH_SCHEMA)
        # Builds on tables of our own (created by a later migration) are not compared.
        tables = {table.name for table in baseline.tables}
        builds = tuple(
            build for build in _concurrent_builds(MIGRATIONS_DIR) if _table_of(build[2]) in tables
        )
        for _, _, statement in builds:  # on empty tables, in the transaction: at once
            await conn.execute(statement)
        built = {
            index.name: index
            for table in (await catalog.describe(conn, SCRATCH_SCHEMA)).tables
            for index in table.indexes
        }
        return baseline, [Build(migration, built[name]) for migration, name, _ in builds]
    finally:
        await transaction.rollback()


async def _check(conn: asyncpg.Connection[Any]) -> tuple[Catalog, list[Difference]]:
    schema = await conn.fetchval("SELECT current_schema()")
    if schema is None:
        raise DatabaseUnavailable("no schema of the search_path exists: check DATABASE_URL")
    actual = await catalog.describe(conn, schema)
    expected, builds = await expected_catalog(conn)
    return actual, catalog.differences(expected, actual, builds)


async def _check_url(url: str) -> tuple[Catalog, list[Difference]]:
    plain = asyncpg_url(url)
    try:
        conn = await asyncpg.connect(plain)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise explain_connect_error(plain, exc) from exc
    try:
        return await _check(conn)
    except (OSError, asyncpg.PostgresConnectionError) as exc:
        raise explain_connect_error(plain, exc) from exc
    finally:
        await conn.close()


async def adopt_check(conn: asyncpg.Connection[Any]) -> list[Difference]:
    """How the current schema differs from what the baseline would create (and what is in
    the way of the indexes the later migrations build)."""
    return (await _check(conn))[1]


@cache
def _ids_on_disk(directory: Path) -> tuple[str, ...]:
    return tuple(_ids(yoyo.read_migrations(str(directory))))


async def pending_ids(conn: Connection) -> list[str]:
    """Ids of migrations on disk that the database has not recorded (one cheap query).

    A database yoyo never touched has everything pending. The failed query aborts an
    enclosing transaction, so call this outside one.
    """
    try:
        rows = await conn.fetch(_APPLIED_IDS)
    except asyncpg.UndefinedTableError:
        return list(_ids_on_disk(MIGRATIONS_DIR))
    applied = {row["migration_id"] for row in rows}
    return [id_ for id_ in _ids_on_disk(MIGRATIONS_DIR) if id_ not in applied]
