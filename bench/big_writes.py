"""`vesper bigwrites`: how long the writes whose work grows with a session's size take
through the API — making a session private and public, removing a member, deleting the
session, deleting the project — for sessions of a given number of published outputs, and
how long the job queue's worker then takes to finish them (README "Big writes").

Each size gets a project of its own holding one public session of that many outputs (four
images per completed generation), and a VIEWER member. The rows are written set-based with
the triggers off, exactly as the triggers would have written them (the index table and the
project's read-model row included), then the server, started as in production
(bench/live_server.py: one uvicorn worker with its job-queue worker, the production
statement timeout), is sent the writes as the project's owner, one after the other, and the
time from request to response is recorded with the outcome: `ok`, or the error code the API
answered (a write that runs into the statement timeout or the request's deadline is rolled
back whole and answers INTERNAL_SERVER_ERROR, as API.md says). First ten rounds of private
then public, timed one by one (p50/p95 per write), then the worker's time to settle what
they left ("settle toggles"); then the session made private once more and the worker's time
to rewrite every row of it ("settle private"), during which the VIEWER member reads the
project's card figures and gallery one request at a time, and the gallery page's statement
is EXPLAINed as the member (buffers, time) while settling and once settled, and the
session's copies and the project's read-model row are checked exact (the run fails
otherwise). Then the
member's removal, the session's deletion (the project is filled again for its own
deletion), the project's deletion and its purge by the worker, timed to an empty queue;
meanwhile, and for a few seconds before the deletion, the owner reads the projects page and
a gallery of another project of theirs: the reads' p50/p95 before and during the purge. The
fill is checked: the project's read-model row must equal a recomputation from its rows.

The data lives in a database of its own, `vesper_bigwrites_<random>` on the server of the
URL given (the rule of `vesper bench`), created and migrated, and dropped at the end
whatever happens, as the server is stopped.
"""

from __future__ import annotations

import asyncio
import json
import platform
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from auth import tokens
from db import jobs, stats
from db.keyset import Keyset
from db.sql import load_queries
from domain.vocabulary import NodeType
from resolvers.ids import encode

from . import QUERIES
from .database import BenchError, scratch
from .live_server import ServerConfig, serving
from .load import percentiles
from .options import DEFAULT_OUT
from .report import machine

Say = Callable[[str], None]
Issue = Callable[[uuid.UUID], str]  # a bearer token for a profile

_Q = load_queries("bigwrites", QUERIES)
_OUTPUTS = load_queries("outputs")
SIZES = (125_000, 500_000, 2_000_000)  # published outputs of the big session
IMAGES = 4  # outputs per generation
FILL_BATCH = 50_000  # generations per statement of the fill

UPDATE_SESSION = """mutation($input: UpdateSessionInput!) {
  updateSession(input: $input) { session { id isPrivate } }
}"""
REMOVE_MEMBER = """mutation($input: RemoveProjectMemberInput!) {
  removeProjectMember(input: $input) { project { id } }
}"""
DELETE_SESSION = "mutation($input: DeleteInput!) { deleteSession(input: $input) { deletedId } }"
DELETE_PROJECT = "mutation($input: DeleteInput!) { deleteProject(input: $input) { deletedId } }"
# What the owner reads meanwhile: the projects page and a gallery of a project of theirs that
# is not touched (NEIGHBOUR outputs)
READ = """query($id: ID!) {
  projects(first: 20) { edges { node { id name sessionCount thumbnailUrl } } }
  project(id: $id) { outputs(first: 40) { edges { node { id fileUrl createdAt } } } }
}"""
NEIGHBOUR = 4_000
# What the VIEWER member reads of the big project while its session settles
GALLERY = """query($id: ID!) {
  project(id: $id) {
    sessionCount thumbnailUrl lastActivityAt
    outputs(first: 40) { edges { node { id fileUrl createdAt } } }
  }
}"""
TOGGLES = 10  # rounds of private then public, timed one by one
IDLE_READS_S = 3.0  # reads timed before a project's deletion, to set the purge's against


@dataclass(frozen=True, slots=True)
class BigWritesOptions:
    sizes: tuple[int, ...] = SIZES
    out: Path = DEFAULT_OUT


@dataclass(frozen=True, slots=True)
class _Big:
    project: uuid.UUID
    session: uuid.UUID
    member: uuid.UUID
    published: int  # rows of published_outputs the project holds
    fill_s: float


async def fill_session(
    conn: asyncpg.Connection, *, session: uuid.UUID, project: uuid.UUID, owner: uuid.UUID,
    outputs: int,
) -> None:  # fmt: skip
    """Completed generations by `owner` in public session `session` of `project`, four
    images each, `outputs` in all (rounded up to whole generations), with their
    published_outputs rows: written set-based with the triggers off, as the triggers would
    have written them, then the project's read-model row recomputed and the tables
    analysed."""
    await conn.execute("SET session_replication_role = replica")
    try:
        generations = -(-outputs // IMAGES)
        for first in range(1, generations + 1, FILL_BATCH):
            batch = min(FILL_BATCH, generations - first + 1)
            await conn.execute(_Q["bigwrites_fill"], session, project, batch, owner, first)
    finally:
        await conn.execute("SET session_replication_role = origin")
    await conn.execute(_Q["bigwrites_refresh"], project)
    await conn.execute("ANALYZE")


async def _build(url: str, owner: uuid.UUID, size: int) -> _Big:
    """A project with one public session of `size` published outputs and a VIEWER member."""
    project, session, member = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    started = time.monotonic()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(_Q["bigwrites_profiles"], [member])
        await conn.execute(_Q["bigwrites_project"], project, owner, session)
        await conn.execute(_Q["bigwrites_member"], project, member)
        await fill_session(conn, session=session, project=project, owner=owner, outputs=size)
        if (await stats.repair(conn, project=project, dry_run=True)).drifted:
            raise BenchError("the filled project's read-model row differs from its rows")
        published: int = await conn.fetchval(_Q["bigwrites_published"], project)
    finally:
        await conn.close()
    return _Big(project, session, member, published, time.monotonic() - started)


async def _send(
    session: aiohttp.ClientSession, base: str, bearer: str, query: str, variables: Any
) -> tuple[float, str]:
    """One request: its time from request to response in ms, and `ok` or the error code."""
    started = time.perf_counter()
    async with session.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {bearer}"},
    ) as response:
        body = await response.json(content_type=None)
    ms = (time.perf_counter() - started) * 1000
    errors = body.get("errors")
    if not errors:
        return ms, "ok"
    return ms, str(errors[0].get("extensions", {}).get("code", f"HTTP {response.status}"))


async def _measure_size(
    url: str, base: str, owner: uuid.UUID, issue: Issue, size: int, neighbour: str, say: Say
) -> dict[str, Any]:
    say(f"{size:,} outputs: filling")
    big = await _build(url, owner, size)
    published, fill_s = big.published, big.fill_s
    say(f"{size:,} outputs: {published:,} published, filled in {fill_s:.0f} s")
    bearer = issue(owner)
    session_id = encode(NodeType.SESSION, big.session)
    project_id = encode(NodeType.PROJECT, big.project)
    writes: list[dict[str, Any]] = []
    read_ms: dict[str, Any] = {}
    explain: dict[str, Any] = {}
    drift: dict[str, int] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:

        async def write(name: str, query: str, variables: Any) -> str:
            ms, outcome = await _send(http, base, bearer, query, variables)
            writes.append({"write": name, "ms": round(ms, 1), "outcome": outcome})
            say(f"{size:,} outputs: {name:<16} {ms:9,.0f} ms  {outcome}")
            return outcome

        for _ in range(TOGGLES):
            for private in (True, False):
                name = "make private" if private else "make public"
                variables = {"input": {"id": session_id, "isPrivate": private}}
                await write(name, UPDATE_SESSION, variables)
        member_reads = _Reads(http, base, issue(big.member), {"id": project_id}, GALLERY)

        async def settle(label: str) -> list[float]:
            """The worker's settling, timed from now to an empty queue, with the member's
            reads of the big project meanwhile."""
            started = time.perf_counter()
            during = await member_reads.timed(_drained(url))
            ms = (time.perf_counter() - started) * 1000
            writes.append({"write": label, "ms": round(ms, 1), "outcome": "ok"})
            say(f"{size:,} outputs: {label:<16} {ms:9,.0f} ms")
            return during

        await settle("settle toggles")  # what the toggles left to the worker
        # One change the worker must rewrite whole: every row of the session.
        await write(
            "make private", UPDATE_SESSION, {"input": {"id": session_id, "isPrivate": True}}
        )
        settling = await _explain_gallery(url, big)
        say(f"{size:,} outputs: member's gallery page while settling: {settling}")
        during_settle = await settle("settle private")
        drift = await _drift(url, big)
        say(f"{size:,} outputs: once settled, {drift}")
        explain = {"settling": settling, "settled": await _explain_gallery(url, big)}
        read_ms["member_gallery_during_settle"] = _summary(during_settle)
        await write(
            "remove member",
            REMOVE_MEMBER,
            {"input": {"projectId": project_id, "userId": encode(NodeType.PROFILE, big.member)}},
        )
        if await write("delete session", DELETE_SESSION, {"input": {"id": session_id}}) == "ok":
            say(f"{size:,} outputs: filling again for the project's deletion")
            big = await _build(url, owner, size)
            project_id = encode(NodeType.PROJECT, big.project)
        reads = _Reads(http, base, bearer, {"id": neighbour}, READ)
        idle = await reads.timed(asyncio.sleep(IDLE_READS_S))
        if await write("delete project", DELETE_PROJECT, {"input": {"id": project_id}}) == "ok":
            started = time.perf_counter()
            purging = await reads.timed(_drained(url))  # the server's worker purges meanwhile
            ms = (time.perf_counter() - started) * 1000
            writes.append({"write": "purge (worker)", "ms": round(ms, 1), "outcome": "ok"})
            say(f"{size:,} outputs: {'purge (worker)':<16} {ms:9,.0f} ms  after the deletion")
            say(f"{size:,} outputs: reads p50/p95 {_p(idle)} ms before, {_p(purging)} during")
            read_ms |= {"before": _summary(idle), "during_purge": _summary(purging)}
    return {
        "outputs": size,
        "published": published,
        "fill_s": round(fill_s, 1),
        "writes": writes,
        "write_ms": _by_write(writes),
        "reads_ms": read_ms,
        "member_gallery_explain": explain,
        "drift_after_settle": drift,
    }


@dataclass(slots=True)
class _Reads:
    """The owner's reads, one at a time, timed while something else runs."""

    http: aiohttp.ClientSession
    base: str
    bearer: str
    variables: dict[str, Any]
    query: str

    async def timed(self, meanwhile: Awaitable[Any]) -> list[float]:
        """The reads' times in ms until `meanwhile` is done; a read that fails raises."""
        other = asyncio.ensure_future(meanwhile)
        times: list[float] = []
        try:
            while not other.done():
                ms, outcome = await _send(
                    self.http, self.base, self.bearer, self.query, self.variables
                )
                if outcome != "ok":
                    raise BenchError(f"a read during the big writes failed: {outcome}")
                times.append(ms)
            await other
        finally:
            other.cancel()
        return times


def _by_write(writes: list[dict[str, Any]]) -> dict[str, dict[str, float | int]]:
    """p50/p95/p99 and the greatest time of each write that succeeded, by name."""
    names = dict.fromkeys(w["write"] for w in writes if w["outcome"] == "ok")
    by_write = {}
    for name in names:
        times = [w["ms"] for w in writes if w["write"] == name and w["outcome"] == "ok"]
        by_write[name] = {**_summary(times), "max": max(times)}
    return by_write


async def _drift(url: str, big: _Big) -> dict[str, int]:
    """What the drained queue left inexact: the session's stale copies and settling records,
    and the projects `vesper stats repair` finds drifted (both 0 when all is well)."""
    conn = await asyncpg.connect(url)
    try:
        stale: int = await conn.fetchval(_Q["bigwrites_stale"], big.session)
        drifted = (await stats.repair(conn, project=big.project, dry_run=True)).drifted
    finally:
        await conn.close()
    if stale or drifted:
        raise BenchError(f"drift once the queue drained: {stale} stale rows, {drifted} projects")
    return {"stale_copies": stale, "stats_drifted": drifted}


async def _explain_gallery(url: str, big: _Big) -> dict[str, float]:
    """EXPLAIN (ANALYZE, BUFFERS) of the VIEWER member's first gallery page of the big
    project, the statement the server runs: buffers touched and execution time."""
    conn = await asyncpg.connect(url)
    try:
        plan = await conn.fetchval(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {_OUTPUTS['gallery_page_forward']}",
            big.member,
            [big.project],
            ["image", "video"],
            *Keyset(forward=True, limit=41).bounds(),
            41,
        )
    finally:
        await conn.close()
    top = json.loads(plan)[0]
    node = top["Plan"]
    return {
        "buffers": node["Shared Hit Blocks"] + node["Shared Read Blocks"],
        "ms": round(top["Execution Time"], 2),
    }


def _summary(times: list[float]) -> dict[str, float | int]:
    p50, p95, p99 = percentiles(times) if times else (0.0, 0.0, 0.0)
    return {"reads": len(times), "p50": round(p50, 2), "p95": round(p95, 2), "p99": round(p99, 2)}


def _p(times: list[float]) -> str:
    summary = _summary(times)
    return f"{summary['p50']:.1f}/{summary['p95']:.1f}"


DRAIN_TIMEOUT_S = 1800.0


async def _drained(url: str) -> None:
    """Waits until the job queue is empty."""
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        while (await jobs.depth(conn))[0]:
            if time.perf_counter() - started > DRAIN_TIMEOUT_S:
                raise BenchError(f"the job queue did not drain in {DRAIN_TIMEOUT_S:.0f} s")
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def measure(server_url: str, options: BigWritesOptions, say: Say) -> dict[str, Any]:
    """Runs the writes on a database of its own on `server_url`'s server; the report."""
    if not options.sizes or min(options.sizes) < IMAGES:
        raise BenchError(f"--sizes take numbers of outputs from {IMAGES}")
    async with scratch(server_url, "vesper_bigwrites", say) as database:
        url, owner = database.url, uuid.uuid4()
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(_Q["bigwrites_profiles"], [owner])
        finally:
            await conn.close()
        secret = secrets.token_urlsafe(32)

        def issue(profile: uuid.UUID) -> str:
            return tokens.issue(profile, secret=secret)

        neighbour = encode(NodeType.PROJECT, (await _build(url, owner, NEIGHBOUR)).project)
        sizes = []
        async with serving(ServerConfig(url, secret, "read_model", worker=True)) as served:
            for size in options.sizes:
                sizes.append(
                    await _measure_size(url, served.base, owner, issue, size, neighbour, say)
                )
        return {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "postgres": database.postgres,
            "machine": {**machine(), "python": platform.python_version()},
            "sizes": sizes,
        }


def table(report: dict[str, Any]) -> list[str]:
    """The report for people: one line per write, a column per size."""
    sizes: Sequence[dict[str, Any]] = report["sizes"]
    names = list(dict.fromkeys(w["write"] for s in sizes for w in s["writes"]))
    lines = ["write".ljust(16) + "".join(f"{s['outputs']:>32,}" for s in sizes)]
    for write in names:
        cells = []
        for s in sizes:
            found = [w for w in s["writes"] if w["write"] == write]
            summary = s["write_ms"].get(write)
            if not found:
                cell = "-"
            elif len(found) > 1 and summary is not None:
                cell = f"p50 {summary['p50']:,.0f} p95 {summary['p95']:,.0f} ms ({len(found)})"
            else:
                cell = f"{found[0]['ms']:,.0f} ms {found[0]['outcome']}"
            cells.append(f"{cell:>32}")
        lines.append(write.ljust(16) + "".join(cells))
    for when, label in (
        ("member_gallery_during_settle", "reads in settle"),
        ("before", "reads before"),
        ("during_purge", "reads in purge"),
    ):
        cells = []
        for s in sizes:
            read = s["reads_ms"].get(when)
            cell = "-" if read is None else f"p50 {read['p50']:.1f} p95 {read['p95']:.1f} ms"
            cells.append(f"{cell:>32}")
        lines.append(label.ljust(16) + "".join(cells))
    for when in ("settling", "settled"):
        cells = []
        for s in sizes:
            plan = s.get("member_gallery_explain", {}).get(when)
            cell = "-" if plan is None else f"{plan['buffers']:,} buffers {plan['ms']:.1f} ms"
            cells.append(f"{cell:>32}")
        lines.append(f"page {when}".ljust(16) + "".join(cells))
    return lines


def run(options: BigWritesOptions, *, server_url: str, say: Say) -> int:
    """Runs the big writes and writes `<out>/bigwrites.json`; 0 (the times are reported,
    not judged, until writes of any size are bounded).

    Raises:
        BenchError: the run could not be made.
    """
    report = asyncio.run(measure(server_url, options, say))
    options.out.mkdir(parents=True, exist_ok=True)
    path = options.out / "bigwrites.json"
    path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    for line in table(report):
        say(line)
    say(f"wrote {path.name}")
    return 0
