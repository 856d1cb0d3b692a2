"""`vesper explain`: EXPLAIN (ANALYZE, BUFFERS) of every hot statement, for representative
viewers, with a verdict.

The viewers are found in the data (bench/queries/explain.sql): the profile owning the most
projects, the one with the most memberships, one who sees shared projects only, and the
owner of the project with the most sessions. For each: the projects page (first and deep),
every loader batch behind the page's cards and nested connections, and the sessions,
gallery and generations pages of the largest project and session that viewer sees. The
statements are the named SQL blocks the server runs, with the parameters it would pass.

A statement is flagged when its plan reads a large table sequentially or touches more
shared buffers than the threshold: both mean its cost grows with the data, not the page.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from db.keyset import Keyset, Position
from db.sql import load_queries
from domain.vocabulary import LISTED_STATUSES, FileType

from . import QUERIES

# Tables whose size grows with use: a sequential scan of one is a cost that grows with data.
WATCHED = frozenset({"sessions", "generations", "outputs", "published_outputs", "member_projects"})
DEFAULT_THRESHOLD = 1500  # shared buffers (8 KiB pages) per statement
# Below this many generations the planner rightly reads small tables whole, so sequential
# scans say nothing about production: the report is not a verdict (`vesper seed --scale
# small` loads a million).
JUDGED_FROM = 100_000

PAGE = 20  # the front end's projects page
NESTED = 5  # sessions(first: 5) on each card
GALLERY = 40  # a gallery page
DEEP = 200  # the deep page starts after the viewer's 200th project (or earlier)

_Q = {
    **load_queries("projects"),
    **load_queries("profiles"),
    **load_queries("sessions"),
    **load_queries("generations"),
    **load_queries("outputs"),
    **load_queries("stats"),
    **load_queries("explain", QUERIES),
}


@dataclass(frozen=True, slots=True)
class Measured:
    viewer: str
    statement: str
    query: str  # the named SQL block
    ms: float  # execution time
    rows: int  # rows returned
    buffers: int  # shared buffers hit + read, whole statement
    shape: tuple[str, ...]  # the plan, one line per node, indented
    flags: tuple[str, ...]


@dataclass(slots=True)
class _Run:
    conn: asyncpg.Connection[Any]
    threshold: int
    results: list[Measured] = field(default_factory=list)

    async def measure(
        self, viewer: str, statement: str, query: str, *args: Any
    ) -> list[asyncpg.Record]:
        """Runs the named block with `args` (for the rows the next statements start from),
        then EXPLAINs it; returns the rows."""
        rows = await self.conn.fetch(_Q[query], *args)
        text = await self.conn.fetchval(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {_Q[query]}", *args
        )
        plan = json.loads(text)[0]
        top = plan["Plan"]
        buffers = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
        flags = [f"sequential scan on {name}" for name in sorted(_seq_scans(top))]
        if buffers > self.threshold:
            flags.append(f"{buffers:,} buffers > {self.threshold:,}")
        self.results.append(
            Measured(
                viewer=viewer,
                statement=statement,
                query=query,
                ms=float(plan["Execution Time"]),
                rows=int(top["Actual Rows"]),
                buffers=int(buffers),
                shape=tuple(_shape(top)),
                flags=tuple(flags),
            )
        )
        return rows


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _seq_scans(node: dict[str, Any]) -> set[str]:
    return {
        n["Relation Name"]
        for n in _nodes(node)
        if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in WATCHED
    }


def _shape(node: dict[str, Any], depth: int = 0) -> Iterator[str]:
    label = node["Node Type"]
    if "Index Name" in node:
        label += f" using {node['Index Name']}"
    if "Relation Name" in node:
        label += f" on {node['Relation Name']}"
    rows, loops = node.get("Actual Rows", 0), node.get("Actual Loops", 0)
    yield f"{'  ' * depth}{label}  (rows {rows:g}, loops {loops:g})"
    for child in node.get("Plans", ()):
        yield from _shape(child, depth + 1)


# The projects page as the front end's cards ask for it: with their figures and owners.
_CARDS = (True, True)


def _bounds(limit: int, after: Position | None = None) -> tuple[Any, ...]:
    keyset = Keyset(forward=True, limit=limit, after=after)
    return (*keyset.bounds(), keyset.limit)


async def _viewers(conn: asyncpg.Connection[Any]) -> list[tuple[str, uuid.UUID]]:
    found: dict[uuid.UUID, str] = {}
    for label, query in (
        ("heavy owner", "explain_heavy_owner"),
        ("heavy member", "explain_heavy_member"),
        ("outsider", "explain_outsider"),
        ("largest project's owner", "explain_largest_project_owner"),
    ):
        profile = await conn.fetchval(_Q[query])
        if profile is not None and profile not in found:
            found[profile] = label
    return [(label, profile) for profile, label in found.items()]


async def _explain_viewer(run: _Run, label: str, viewer: uuid.UUID) -> None:
    files, statuses = [t.value for t in FileType], [s.value for s in LISTED_STATUSES]
    first = await run.measure(
        label, "projects: first page", "projects_page_forward",
        viewer, "ALL", *_bounds(PAGE + 1), *_CARDS,
    )  # fmt: skip
    walk = await run.conn.fetch(
        _Q["projects_page_forward"], viewer, "ALL", *_bounds(DEEP + PAGE + 1), False, False
    )
    depth = min(DEEP, len(walk) - PAGE - 1)  # a full page after it, when there is one
    if depth < 1:
        depth = len(walk) // 2
    if depth >= 1:
        after = Position(walk[depth - 1]["updated_at"], walk[depth - 1]["id"])
        await run.measure(
            label, "projects: deep page", "projects_page_forward",
            viewer, "ALL", *_bounds(PAGE + 1, after), *_CARDS,
        )  # fmt: skip

    page = [row["id"] for row in first[:PAGE]]
    owners = list(dict.fromkeys(row["owner_id"] for row in first[:PAGE]))
    await run.measure(label, "page: projects by id", "projects_by_ids", viewer, page)
    await run.measure(label, "page: owners", "profiles_by_ids", owners)
    await run.measure(label, "page: members", "members_by_projects", viewer, page)
    await run.measure(label, "page: card figures", "stored_stats_by_projects", viewer, page)
    await run.measure(label, "page: card figures, live", "live_stats_by_projects", viewer, page)
    await run.measure(
        label, f"page: sessions(first: {NESTED}) each", "sessions_page_forward",
        viewer, page, None, *_bounds(NESTED + 1),
    )  # fmt: skip
    await run.measure(
        label, "page: outputs(first: 3) each", "gallery_page_forward",
        viewer, page, files, *_bounds(4),
    )  # fmt: skip

    project = await run.conn.fetchval(_Q["explain_largest_project"], viewer)
    if project is None:
        return
    largest = [project]
    await run.measure(
        label, "largest project: card figures", "stored_stats_by_projects", viewer, largest
    )
    await run.measure(
        label, "largest project: card figures, live", "live_stats_by_projects", viewer, largest
    )
    sessions = await run.measure(
        label, "largest project: sessions page", "sessions_page_forward",
        viewer, largest, None, *_bounds(PAGE + 1),
    )  # fmt: skip
    await run.measure(
        label, "largest project: sessions by id", "sessions_by_ids",
        viewer, [row["id"] for row in sessions],
    )  # fmt: skip
    gallery = await run.measure(
        label, f"largest project: gallery page of {GALLERY}", "gallery_page_forward",
        viewer, largest, files, *_bounds(GALLERY + 1),
    )  # fmt: skip
    await run.measure(
        label, "largest project: outputs by id", "outputs_by_ids",
        viewer, [row["id"] for row in gallery],
    )  # fmt: skip

    session = await run.conn.fetchval(_Q["explain_largest_session"], viewer, project)
    if session is None:
        return
    generations = await run.measure(
        label, "largest session: generations page", "generations_page_forward",
        viewer, [session], statuses, *_bounds(PAGE + 1),
    )  # fmt: skip
    ids = [row["id"] for row in generations]
    await run.measure(
        label, "largest session: generations by id", "generations_by_ids", viewer, ids
    )
    await run.measure(
        label, "largest session: their outputs", "outputs_by_generations", viewer, ids
    )


async def explain(
    conn: asyncpg.Connection[Any], *, threshold: int = DEFAULT_THRESHOLD
) -> list[Measured]:
    """Every hot statement for every representative viewer, measured (in a transaction
    that is rolled back: EXPLAIN ANALYZE executes the statements)."""
    run = _Run(conn, threshold)
    transaction = conn.transaction()
    await transaction.start()
    try:
        for label, viewer in await _viewers(conn):
            await _explain_viewer(run, label, viewer)
    finally:
        await transaction.rollback()
    return run.results


async def too_small(conn: asyncpg.Connection[Any]) -> int | None:
    """The number of generations when the database is too small to judge plans on."""
    count: int = await conn.fetchval(_Q["explain_generations"])
    return count if count < JUDGED_FROM else None


def report(results: list[Measured], *, label: str | None, shapes: bool) -> Iterator[str]:
    """Human-readable lines: a table per viewer, plan shapes when asked or flagged."""
    if label:
        yield f"# {label}"
    viewer = None
    for m in results:
        if m.viewer != viewer:
            viewer = m.viewer
            yield f"\n{viewer}"
            yield f"  {'statement':<42} {'ms':>9} {'buffers':>9}  flags"
        flags = "; ".join(m.flags)
        yield f"  {m.statement:<42} {m.ms:>9.3f} {m.buffers:>9,}  {flags}"
        if shapes or m.flags:
            yield f"    [{m.query}]"
            yield from (f"      {line}" for line in m.shape)
    flagged = sum(1 for m in results if m.flags)
    yield f"\n{len(results)} statements, {flagged} flagged"
