"""Property tests of the read API over random data (API.md "Visibility", "Published outputs,
thumbnail, last activity", "Ordering and pagination").

Each example writes a random world with tests/support/factories.py, reads it through the real HTTP
app, and compares with a reference computed here in Python from what was written.
Timestamps come from a tiny set so that ties are frequent and the id tiebreak decides.
Python orders `uuid.UUID`s by their 128-bit value, as PostgreSQL orders `uuid`s (bytes).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

import asyncpg
import httpx
import hypothesis
from hypothesis import HealthCheck, event, example, given
from hypothesis import strategies as st

from domain.vocabulary import NodeType
from resolvers.ids import encode
from tests.support import factories
from tests.support.graphql import gql, token

BOTH_PATHS = True  # each test straight to PostgreSQL and through the pooler (conftest)

Conn: TypeAlias = "asyncpg.Connection[Any]"
Connection: TypeAlias = dict[str, Any]
Fetch: TypeAlias = Callable[[dict[str, Any]], Awaitable[Connection]]
Key: TypeAlias = tuple[datetime, uuid.UUID]  # a row's position: (ordering timestamp, id)

_BASE = datetime(2026, 3, 1, 12)
# Three instants: ties are common; one has a fractional second, as cursors must carry it.
TIMES = (_BASE, _BASE + timedelta(milliseconds=250), _BASE + timedelta(seconds=1))
# Later than every instant of TIMES (rows inserted or touched during a walk).
NEWER = _BASE + timedelta(minutes=5)

STATUSES = ("queued", "processing", "completed", "failed", "cancelled", "dismissed")
ROLES = ("admin", "editor", "viewer")

PROPERTY = hypothesis.settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

TABLES = "profiles, projects, project_members, sessions, generations, generation_jobs, outputs"

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"

PROJECTS_PAGE = f"""
query($first: Int, $after: String, $last: Int, $before: String, $scope: ProjectScope) {{
  projects(first: $first, after: $after, last: $last, before: $before, scope: $scope) {{
    edges {{ cursor node {{ id }} }}
    {PAGE_INFO}
  }}
}}
"""

SESSIONS_PAGE = f"""
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String,
      $type: SessionType) {{
  project(id: $id) {{
    sessions(first: $first, after: $after, last: $last, before: $before, type: $type) {{
      edges {{ cursor node {{ id }} }}
      {PAGE_INFO}
    }}
  }}
}}
"""

GALLERY_PAGE = f"""
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String,
      $fileType: FileType) {{
  project(id: $id) {{
    outputs(first: $first, after: $after, last: $last, before: $before,
            fileType: $fileType) {{
      edges {{ cursor node {{ id }} }}
      {PAGE_INFO}
    }}
  }}
}}
"""

# The same connection field under every visible project, one cursor for all.
ALL_SESSIONS = """
query($first: Int, $after: String, $type: SessionType) {
  projects(first: 100) {
    edges { node { id sessions(first: $first, after: $after, type: $type) {
      edges { cursor node { id } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    } } }
  }
}
"""

ALL_GALLERIES = """
query($first: Int, $after: String, $fileType: FileType) {
  projects(first: 100) {
    edges { node { id outputs(first: $first, after: $after, fileType: $fileType) {
      edges { cursor node { id } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    } } }
  }
}
"""

PROJECT_CARDS = """
query {
  projects(first: 100) {
    edges { node { id sessionCount thumbnailUrl lastActivityAt } }
    pageInfo { hasNextPage }
  }
}
"""


async def reset(conn: Conn) -> None:
    """Hypothesis runs every example on the test's one database: start each from empty."""
    await conn.execute(f"TRUNCATE {TABLES} CASCADE")


def newest_first(rows: Sequence[Key]) -> list[uuid.UUID]:
    """The ids of (timestamp, id) keys in the API's order: both descending."""
    return [key for _, key in sorted(rows, reverse=True)]


def gids(type_name: str, ids: Sequence[uuid.UUID]) -> list[str]:
    return [encode(NodeType(type_name), key) for key in ids]


# --- walking a connection -------------------------------------------------------------------


def read_page(conn: Connection, size: int) -> tuple[list[str], list[str]]:
    """The node ids and cursors of one page, after checking the page's own invariants."""
    edges = conn["edges"]
    info = conn["pageInfo"]
    assert len(edges) <= size
    ids = [edge["node"]["id"] for edge in edges]
    cursors = [edge["cursor"] for edge in edges]
    assert all(isinstance(cursor, str) and cursor for cursor in cursors)
    assert len(set(cursors)) == len(cursors)
    assert info["startCursor"] == (cursors[0] if cursors else None)
    assert info["endCursor"] == (cursors[-1] if cursors else None)
    return ids, cursors


async def walk_forward(fetch: Fetch, size: int, bound: int) -> tuple[list[str], list[str]]:
    """Every node id and cursor met walking `first: size` pages from the start; `bound`
    caps the number of pages (a walk that does not end fails)."""
    ids: list[str] = []
    cursors: list[str] = []
    after: str | None = None
    for _ in range(bound):
        args: dict[str, Any] = {"first": size}
        if after is not None:
            args["after"] = after
        conn = await fetch(args)
        page_ids, page_cursors = read_page(conn, size)
        info = conn["pageInfo"]
        if after is None:
            assert info["hasPreviousPage"] is False
        else:  # the previous page promised more rows
            assert page_ids
        ids += page_ids
        cursors += page_cursors
        if not info["hasNextPage"]:
            return ids, cursors
        assert len(page_ids) == size
        after = info["endCursor"]
    raise AssertionError(f"the walk did not end within {bound} pages: {ids}")


async def walk_backward(fetch: Fetch, size: int, bound: int) -> list[str]:
    """Every node id met walking `last: size` pages from the end, in list order."""
    pages: list[list[str]] = []
    before: str | None = None
    for _ in range(bound):
        args: dict[str, Any] = {"last": size}
        if before is not None:
            args["before"] = before
        conn = await fetch(args)
        page_ids, _ = read_page(conn, size)
        info = conn["pageInfo"]
        if before is None:
            assert info["hasNextPage"] is False
        else:
            assert page_ids
        pages.append(page_ids)
        if not info["hasPreviousPage"]:
            return [node for page in reversed(pages) for node in page]
        assert len(page_ids) == size
        before = info["startCursor"]
    raise AssertionError(f"the backward walk did not end within {bound} pages: {pages}")


async def check_walks(
    fetch: Fetch, reference: list[str], size: int, data: st.DataObject
) -> list[str]:
    """Forward and backward walks both yield `reference`; a page after, before, or between
    cursors picked at random is the slice of `reference` there (Relay's cursor rules).
    Returns the cursors of the rows of `reference`."""
    bound = len(reference) + 2
    forward, cursors = await walk_forward(fetch, size, bound)
    assert forward == reference
    assert await walk_backward(fetch, size, bound) == reference
    if not reference:
        return cursors
    n = len(reference)
    i = data.draw(st.integers(0, n - 1), label="cursor index")
    page = await fetch({"first": size, "after": cursors[i]})
    assert read_page(page, size)[0] == reference[i + 1 : i + 1 + size]
    assert page["pageInfo"]["hasNextPage"] is (n - (i + 1) > size)
    page = await fetch({"last": size, "before": cursors[i]})
    assert read_page(page, size)[0] == reference[max(0, i - size) : i]
    assert page["pageInfo"]["hasPreviousPage"] is (i > size)
    # The other pairings: the end of what follows a cursor, the start of what precedes it.
    page = await fetch({"last": size, "after": cursors[i]})
    assert read_page(page, size)[0] == reference[max(i + 1, n - size) :]
    assert page["pageInfo"]["hasPreviousPage"] is (n - (i + 1) > size)
    page = await fetch({"first": size, "before": cursors[i]})
    assert read_page(page, size)[0] == reference[: min(size, i)]
    assert page["pageInfo"]["hasNextPage"] is (i > size)
    # Both bounds: the rows strictly between the two cursors, nearest `after` for
    # `first`, nearest `before` for `last`.
    j = data.draw(st.integers(i, n - 1), label="second cursor index")
    window = {"after": cursors[i], "before": cursors[j]}
    between = max(0, j - i - 1)
    page = await fetch({"first": size, **window})
    assert read_page(page, size)[0] == reference[i + 1 : i + 1 + min(size, between)]
    assert page["pageInfo"]["hasNextPage"] is (between > size)
    page = await fetch({"last": size, **window})
    assert read_page(page, size)[0] == reference[max(i + 1, j - size) : j]
    assert page["pageInfo"]["hasPreviousPage"] is (between > size)
    return cursors


def project_fetchers(
    client: httpx.AsyncClient,
    bearer: str,
    project: uuid.UUID,
    filters: dict[str, Any],
    one: str,
    every: str,
    field: str,
) -> tuple[Fetch, Callable[[dict[str, Any]], Awaitable[dict[str, Connection]]]]:
    """Page readers of connection `field`: under `project` (query `one`), and under every
    visible project at once, by project global id (query `every`)."""

    async def fetch(args: dict[str, Any]) -> Connection:
        variables = {"id": encode(NodeType.PROJECT, project), **filters, **args}
        body = await gql(client, one, variables, bearer=bearer)
        page: Connection = body["data"]["project"][field]
        return page

    async def fetch_all(args: dict[str, Any]) -> dict[str, Connection]:
        body = await gql(client, every, {**filters, **args}, bearer=bearer)
        edges = body["data"]["projects"]["edges"]
        return {edge["node"]["id"]: edge["node"][field] for edge in edges}

    return fetch, fetch_all


async def check_cursor_across_parents(
    fetch_all: Callable[[dict[str, Any]], Awaitable[dict[str, Connection]]],
    references: dict[str, list[Key]],
    type_name: str,
    cursor: str,
    position: Key,
    size: int,
) -> None:
    """A cursor is a position in its field's order, valid under every parent: the same
    `after` given to that field under every visible project (one batched statement)
    pages each project's own rows below that position."""
    pages = await fetch_all({"first": size, "after": cursor})
    assert set(pages) == set(references)
    for parent, rows in references.items():
        below = newest_first([row for row in rows if row < position])
        assert read_page(pages[parent], size)[0] == gids(type_name, below[:size]), parent
        assert pages[parent]["pageInfo"]["hasNextPage"] is (len(below) > size)


# --- 1. projects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectSpec:
    owner: int
    shared: bool
    updated: datetime
    members: dict[int, str]  # user index -> role; the owner's index is a stray row


def project_specs(users: int) -> st.SearchStrategy[ProjectSpec]:
    return st.builds(
        ProjectSpec,
        owner=st.integers(0, users - 1),
        shared=st.booleans(),
        updated=st.sampled_from(TIMES),
        members=st.dictionaries(st.integers(0, users - 1), st.sampled_from(ROLES), max_size=2),
    )


@st.composite
def project_worlds(draw: st.DrawFn) -> tuple[int, list[ProjectSpec]]:
    users = draw(st.integers(2, 4), label="users")
    return users, draw(st.lists(project_specs(users), max_size=12), label="projects")


def project_scope(spec: ProjectSpec, viewer: int) -> str | None:
    """How `viewer` sees the project (API.md `ProjectScope`), None when not at all. The
    owner's own membership row is a stray: the project stays OWNED."""
    if spec.owner == viewer:
        return "OWNED"
    if viewer in spec.members:
        return "MEMBER"
    return "SHARED" if spec.shared else None


def sees_project(spec: ProjectSpec, viewer: int) -> bool:
    return project_scope(spec, viewer) is not None


async def insert_projects(
    conn: Conn, users: list[uuid.UUID], specs: Sequence[ProjectSpec]
) -> list[uuid.UUID]:
    ids = []
    for spec in specs:
        pid = await factories.project(
            conn, users[spec.owner], shared=spec.shared, updated_at=spec.updated
        )
        for user, role in spec.members.items():
            await factories.member(conn, pid, users[user], role)
        ids.append(pid)
    return ids


@PROPERTY
@given(
    world=project_worlds(),
    scope=st.sampled_from((None, "ALL", "OWNED", "MEMBER", "SHARED")),
    size=st.integers(1, 5),
    data=st.data(),
)
async def test_projects_walks_visit_every_visible_project_once_in_order(
    conn: Conn,
    client: httpx.AsyncClient,
    world: tuple[int, list[ProjectSpec]],
    scope: str | None,
    size: int,
    data: st.DataObject,
) -> None:
    await reset(conn)
    count, specs = world
    # The last index is a stranger: owns nothing, member of nothing.
    users = [await factories.profile(conn) for _ in range(count + 1)]
    ids = await insert_projects(conn, users, specs)
    viewer = data.draw(st.integers(0, count), label="viewer")
    event("viewer is a stranger" if viewer == count else "viewer has projects")
    bearer = token(users[viewer])

    scoped = {} if scope is None else {"scope": scope}

    async def fetch(args: dict[str, Any]) -> Connection:
        body = await gql(client, PROJECTS_PAGE, {**args, **scoped}, bearer=bearer)
        projects: Connection = body["data"]["projects"]
        return projects

    wanted = {"OWNED", "MEMBER", "SHARED"} if scope in (None, "ALL") else {scope}
    visible = [
        (spec.updated, pid)
        for spec, pid in zip(specs, ids, strict=True)
        if project_scope(spec, viewer) in wanted
    ]
    await check_walks(fetch, gids("Project", newest_first(visible)), size, data)


# --- 2. sessions and the gallery --------------------------------------------------------------


@dataclass(frozen=True)
class SessionSpec:
    in_decoy: bool  # in another project of the same owner, not in the one walked
    private: bool
    type: str
    updated: datetime


session_specs = st.builds(
    SessionSpec,
    in_decoy=st.sampled_from((False, False, True)),
    private=st.booleans(),
    type=st.sampled_from(("image", "video")),
    updated=st.sampled_from(TIMES),
)

VIEWER_KINDS = ("owner", "member", "outsider")


@dataclass
class Cast:
    """Three people around one project: its owner, a member, and an outsider."""

    owner: uuid.UUID
    member: uuid.UUID
    outsider: uuid.UUID

    def __getitem__(self, kind: str) -> uuid.UUID:
        found: uuid.UUID = getattr(self, kind)
        return found


async def cast(conn: Conn) -> Cast:
    return Cast(
        await factories.profile(conn), await factories.profile(conn), await factories.profile(conn)
    )


@PROPERTY
@given(
    shared=st.booleans(),
    role=st.sampled_from(ROLES),
    specs=st.lists(session_specs, max_size=12),
    kind=st.sampled_from(VIEWER_KINDS),
    type_filter=st.sampled_from((None, "IMAGE", "VIDEO")),
    size=st.integers(1, 5),
    data=st.data(),
)
async def test_session_walks_visit_every_visible_session_once_in_order(
    conn: Conn,
    client: httpx.AsyncClient,
    shared: bool,
    role: str,
    specs: list[SessionSpec],
    kind: str,
    type_filter: str | None,
    size: int,
    data: st.DataObject,
) -> None:
    await reset(conn)
    people = await cast(conn)
    project = await factories.project(conn, people.owner, shared=shared)
    decoy = await factories.project(conn, people.owner, shared=True)
    await factories.member(conn, project, people.member, role)
    await factories.member(conn, decoy, people.member, role)
    # The sessions this viewer sees under each project it sees, as (updated_at, id).
    visible: dict[str, list[Key]] = {
        encode(NodeType.PROJECT, decoy): [],
        encode(NodeType.PROJECT, project): [],
    }
    if kind == "outsider" and not shared:
        del visible[encode(NodeType.PROJECT, project)]
    for spec in specs:
        parent = decoy if spec.in_decoy else project
        sid = await factories.session(
            conn, parent, private=spec.private, type=spec.type, updated_at=spec.updated
        )
        if (
            encode(NodeType.PROJECT, parent) in visible
            and (kind == "owner" or not spec.private)
            and (type_filter is None or spec.type == type_filter.lower())
        ):
            visible[encode(NodeType.PROJECT, parent)].append((spec.updated, sid))
    filters = {} if type_filter is None else {"type": type_filter}
    bearer = token(people[kind])

    fetch, fetch_all = project_fetchers(
        client, bearer, project, filters, SESSIONS_PAGE, ALL_SESSIONS, "sessions"
    )

    mine = visible.get(encode(NodeType.PROJECT, project))
    if mine is None:  # not visible: as if it did not exist
        variables = {"id": encode(NodeType.PROJECT, project), "first": size}
        body = await gql(client, SESSIONS_PAGE, variables, bearer=bearer)
        assert body["data"]["project"] is None
        return
    reference = newest_first(mine)
    cursors = await check_walks(fetch, gids("Session", reference), size, data)
    if cursors:
        i = data.draw(st.integers(0, len(cursors) - 1), label="shared cursor index")
        position = next(row for row in mine if row[1] == reference[i])
        await check_cursor_across_parents(fetch_all, visible, "Session", cursors[i], position, size)


@dataclass(frozen=True)
class GenerationSpec:
    session: int
    status: str
    created: datetime
    outputs_created: datetime  # every output of one generation shares it
    file_types: list[str]


def generation_specs(sessions: int) -> st.SearchStrategy[GenerationSpec]:
    return st.builds(
        GenerationSpec,
        session=st.integers(0, sessions - 1),
        status=st.sampled_from(STATUSES) | st.just("completed"),
        created=st.sampled_from(TIMES),
        outputs_created=st.sampled_from(TIMES),
        file_types=st.lists(st.sampled_from(("image", "video")), max_size=3),
    )


@st.composite
def gallery_worlds(draw: st.DrawFn) -> tuple[list[tuple[bool, bool]], list[GenerationSpec]]:
    """Sessions as (in decoy project, private), and generations in them."""
    sessions = draw(
        st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=4), label="sessions"
    )
    return sessions, draw(st.lists(generation_specs(len(sessions)), max_size=8), label="gens")


@PROPERTY
@given(
    world=gallery_worlds(),
    kind=st.sampled_from(VIEWER_KINDS),
    type_filter=st.sampled_from((None, "IMAGE", "VIDEO")),
    size=st.integers(1, 5),
    data=st.data(),
)
async def test_gallery_walks_visit_every_visible_published_output_once_in_order(
    conn: Conn,
    client: httpx.AsyncClient,
    world: tuple[list[tuple[bool, bool]], list[GenerationSpec]],
    kind: str,
    type_filter: str | None,
    size: int,
    data: st.DataObject,
) -> None:
    await reset(conn)
    session_flags, gen_specs = world
    people = await cast(conn)
    # Both shared, so that the outsider sees them too (the other tests cover not seeing
    # a project).
    project = await factories.project(conn, people.owner, shared=True)
    decoy = await factories.project(conn, people.owner, shared=True)
    await factories.member(conn, project, people.member, data.draw(st.sampled_from(ROLES)))
    parents = [decoy if in_decoy else project for in_decoy, _ in session_flags]
    sessions = [
        await factories.session(conn, parent, private=private)
        for parent, (_, private) in zip(parents, session_flags, strict=True)
    ]
    # The published outputs this viewer sees under each project, as (created_at, id).
    visible: dict[str, list[Key]] = {
        encode(NodeType.PROJECT, project): [],
        encode(NodeType.PROJECT, decoy): [],
    }
    for spec in gen_specs:
        gid = await factories.generation(
            conn, sessions[spec.session], people.owner, status=spec.status, created_at=spec.created
        )
        _, private = session_flags[spec.session]
        for file_type in spec.file_types:
            oid = await factories.output(
                conn, gid, file_type=file_type, created_at=spec.outputs_created
            )
            if (
                (kind == "owner" or not private)
                and spec.status == "completed"
                and (type_filter is None or file_type == type_filter.lower())
            ):
                visible[encode(NodeType.PROJECT, parents[spec.session])].append(
                    (spec.outputs_created, oid)
                )
    filters = {} if type_filter is None else {"fileType": type_filter}
    bearer = token(people[kind])

    fetch, fetch_all = project_fetchers(
        client, bearer, project, filters, GALLERY_PAGE, ALL_GALLERIES, "outputs"
    )

    mine = visible[encode(NodeType.PROJECT, project)]
    reference = newest_first(mine)
    cursors = await check_walks(fetch, gids("Output", reference), size, data)
    if cursors:
        i = data.draw(st.integers(0, len(cursors) - 1), label="shared cursor index")
        position = next(row for row in mine if row[1] == reference[i])
        await check_cursor_across_parents(fetch_all, visible, "Output", cursors[i], position, size)


# --- 3. a walk under concurrent writes ----------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """What happens between two pages: new projects (at an old instant, or newer than the
    walk's start when None; the viewer's own or someone else's shared one), and maybe one
    project of the start moving to the top."""

    inserts: list[tuple[datetime | None, bool]]
    move: int | None  # index into the projects of the start, modulo their number


steps = st.builds(
    Step,
    inserts=st.lists(st.tuples(st.sampled_from((*TIMES, None)), st.booleans()), max_size=2),
    move=st.one_of(st.none(), st.integers(0, 100)),
)


@PROPERTY
@given(
    specs=st.lists(project_specs(2), min_size=4, max_size=10),
    size=st.integers(1, 3),
    plan=st.lists(steps, min_size=1, max_size=12),
)
async def test_forward_walk_under_concurrent_inserts_keeps_every_unmoved_project_once_in_order(
    conn: Conn,
    client: httpx.AsyncClient,
    specs: list[ProjectSpec],
    size: int,
    plan: list[Step],
) -> None:
    # The plan is drawn up front: how long the walk lasts depends on where random ids fall,
    # and hypothesis needs the same draws on every replay. Its steps happen between the
    # first pages, then the data stays still: repeating them would let inserts ahead of
    # the cursor outrun a walk of one row per page for ever.
    await reset(conn)
    users = [await factories.profile(conn) for _ in range(2)]
    viewer, other = users
    ids = await insert_projects(conn, users, specs)
    # (updated_at, id) of every project the viewer sees, as it is now, by global id.
    current = {
        encode(NodeType.PROJECT, pid): (spec.updated, pid)
        for spec, pid in zip(specs, ids, strict=True)
        if sees_project(spec, 0)
    }
    at_start = dict(current)
    bearer = token(viewer)
    moved: set[str] = set()
    later = (NEWER + timedelta(seconds=n) for n in itertools.count())
    upcoming = iter(plan)
    walked: list[Key] = []  # keys of the rows met, when they were met
    after: str | None = None
    # Every page but the last holds at least one row never met before.
    for _ in range(len(specs) + 2 * len(plan) + 2):
        args: dict[str, Any] = {"first": size}
        if after is not None:
            args["after"] = after
        body = await gql(client, PROJECTS_PAGE, args, bearer=bearer)
        page = body["data"]["projects"]
        walked += [current[node] for node in read_page(page, size)[0]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        # Between two pages: new visible projects, newer than the walk's start or at old
        # instants (behind or ahead of the cursor, as the random id falls); maybe one of
        # the projects of the start moves to the top (a rename).
        step = next(upcoming, Step(inserts=[], move=None))
        for when, mine in step.inserts:
            updated = when or next(later)
            pid = await factories.project(
                conn, viewer if mine else other, shared=not mine, updated_at=updated
            )
            current[encode(NodeType.PROJECT, pid)] = (updated, pid)
            if when is None:
                event("inserted newer than the walk's start")
            else:
                event(f"inserted {'ahead of' if (when, pid) < walked[-1] else 'behind'} the cursor")
        if step.move is not None and at_start:
            node = sorted(at_start)[step.move % len(at_start)]
            updated = next(later)
            await conn.execute(
                "UPDATE projects SET updated_at = $2 WHERE id = $1", at_start[node][1], updated
            )
            current[node] = (updated, at_start[node][1])
            moved.add(node)
    else:
        raise AssertionError(f"the walk did not end: {walked}")

    met = [encode(NodeType.PROJECT, key) for _, key in walked]
    assert len(met) == len(set(met)), met
    # Always forward: each row below the one before, as it stood when met.
    assert all(a > b for a, b in itertools.pairwise(walked)), walked
    ordered = gids("Project", newest_first(list(at_start.values())))
    stable = [node for node in ordered if node not in moved]
    assert [node for node in met if node in set(stable)] == stable


# --- 4. project card figures ------------------------------------------------------------------


@dataclass(frozen=True)
class OutputSpec:
    file_type: str
    delay: timedelta  # after its generation's created_at


@dataclass(frozen=True)
class CardGenerationSpec:
    status: str
    created: datetime
    outputs: list[OutputSpec]


@dataclass(frozen=True)
class CardSessionSpec:
    private: bool
    generations: list[CardGenerationSpec]


@dataclass(frozen=True)
class CardProjectSpec:
    shared: bool
    member: bool  # the member of the cast has a membership row
    sessions: list[CardSessionSpec]


# Generations at two instants and outputs at three delays after them: ties on
# generation.created_at and on output.created_at are the rule, and an older generation's
# output is often newer than a newer generation's.
CARD_TIMES = TIMES[:2]
DELAYS = (timedelta(0), timedelta(milliseconds=250), timedelta(milliseconds=500))

card_projects = st.builds(
    CardProjectSpec,
    shared=st.booleans(),
    member=st.booleans(),
    sessions=st.lists(
        st.builds(
            CardSessionSpec,
            private=st.booleans(),
            generations=st.lists(
                st.builds(
                    CardGenerationSpec,
                    status=st.sampled_from(STATUSES) | st.just("completed"),
                    created=st.sampled_from(CARD_TIMES),
                    outputs=st.lists(
                        st.builds(
                            OutputSpec,
                            file_type=st.sampled_from(("image", "video")),
                            delay=st.sampled_from(DELAYS),
                        ),
                        max_size=3,
                    ),
                ),
                max_size=3,
            ),
        ),
        max_size=3,
    ),
)


@dataclass(frozen=True)
class Card:
    session_count: int
    thumbnail_url: str | None
    last_activity_at: datetime | None


@dataclass(frozen=True, order=True)
class WrittenOutput:
    """An output as written, ordered as the thumbnail rule orders outputs."""

    generation_created: datetime
    created: datetime
    id: uuid.UUID
    url: str
    file_type: str
    published: bool


def expected_card(sessions: list[tuple[bool, list[WrittenOutput]]], owner: bool) -> Card:
    seen = [outs for private, outs in sessions if owner or not private]
    published = [out for outs in seen for out in outs if out.published]
    images = [out for out in published if out.file_type == "image"]
    last = max((out.created for out in published), default=None)
    return Card(
        len(seen),
        max(images).url if images else None,
        None if last is None else last.replace(tzinfo=UTC),
    )


def note_card_cases(sessions: list[tuple[bool, list[WrittenOutput]]]) -> None:
    """Record which tricky cases a project exercises (--hypothesis-show-statistics)."""
    every = [out for _, outs in sessions for out in outs]
    published = [out for out in every if out.published]
    images = sorted((out for out in published if out.file_type == "image"), reverse=True)
    public = [o for private, outs in sessions if not private for o in outs if o in images]
    if images and (not public or max(public) != images[0]):
        event("a private session holds the newest published image")
    if len(images) > 1 and images[0].generation_created == images[1].generation_created:
        if images[0].created == images[1].created:
            event("the output id breaks a tie for the thumbnail")
        else:
            event("the output time breaks a tie on the generation time")
    if images and images[0].created < max(out.created for out in images):
        event("the generation time outranks a newer output time")
    newest = max((out.created for out in published), default=None)
    newest_image = max((out.created for out in images), default=None)
    if newest is not None and (newest_image is None or newest > newest_image):
        event("a video is newer than every image")
    if any(not out.published and (not images or out > images[0]) for out in every):
        event("an unpublished output is newer than the thumbnail")


def as_card(node: dict[str, Any]) -> Card:
    last = node["lastActivityAt"]
    if last is None:
        return Card(node["sessionCount"], node["thumbnailUrl"], None)
    assert last.endswith("+00:00"), last
    return Card(node["sessionCount"], node["thumbnailUrl"], datetime.fromisoformat(last))


def _gen(status: str, at: int, *outputs: tuple[str, int]) -> CardGenerationSpec:
    """A generation at TIMES[at] with outputs (file type, index in DELAYS)."""
    return CardGenerationSpec(
        status, TIMES[at], [OutputSpec(kind, DELAYS[delay]) for kind, delay in outputs]
    )


# Every tricky case at once, so that no run can miss one: in the public session, two
# images tie on both times (the id decides) and outrank a newer image of an older
# generation; a video is newer than every image; failed and dismissed generations' images
# are newer still. The private session holds the owner's thumbnail. A second project is only the
# owner's; a third is shared and empty.
ALL_CASES = [
    CardProjectSpec(
        shared=True,
        member=True,
        sessions=[
            CardSessionSpec(
                private=False,
                generations=[
                    _gen("completed", 1, ("image", 0), ("image", 0)),
                    _gen("completed", 0, ("image", 2)),
                    _gen("completed", 1, ("video", 2)),
                    _gen("failed", 2, ("image", 0)),
                    _gen("dismissed", 2, ("image", 1)),
                ],
            ),
            CardSessionSpec(private=True, generations=[_gen("completed", 1, ("image", 1))]),
        ],
    ),
    CardProjectSpec(
        shared=False,
        member=False,
        sessions=[CardSessionSpec(private=True, generations=[_gen("completed", 0, ("image", 0))])],
    ),
    CardProjectSpec(shared=True, member=False, sessions=[]),
]


@PROPERTY
@given(specs=st.lists(card_projects, min_size=1, max_size=4))
@example(specs=ALL_CASES)
async def test_card_figures_match_a_reference_for_every_viewer_kind(
    conn: Conn, client: httpx.AsyncClient, specs: list[CardProjectSpec]
) -> None:
    await reset(conn)
    people = await cast(conn)
    urls = itertools.count()
    # Per project: its spec, id, and per session (private, outputs as written).
    written = []
    for spec in specs:
        pid = await factories.project(conn, people.owner, shared=spec.shared)
        if spec.member:
            await factories.member(conn, pid, people.member, "editor")
        sessions = []
        for session_spec in spec.sessions:
            sid = await factories.session(conn, pid, private=session_spec.private)
            outputs = []
            for gen in session_spec.generations:
                gid = await factories.generation(
                    conn, sid, people.owner, status=gen.status, created_at=gen.created
                )
                for out in gen.outputs:
                    url = f"https://cdn.example/{next(urls)}"
                    created = gen.created + out.delay
                    oid = await factories.output(
                        conn, gid, file_type=out.file_type, url=url, created_at=created
                    )
                    outputs.append(
                        WrittenOutput(
                            gen.created,
                            created,
                            oid,
                            url,
                            out.file_type,
                            gen.status == "completed",
                        )
                    )
            sessions.append((session_spec.private, outputs))
        note_card_cases(sessions)
        written.append((spec, pid, sessions))

    for kind in VIEWER_KINDS:
        expected = {
            encode(NodeType.PROJECT, pid): expected_card(sessions, owner=kind == "owner")
            for spec, pid, sessions in written
            if kind == "owner" or (kind == "member" and spec.member) or spec.shared
        }
        body = await gql(client, PROJECT_CARDS, bearer=token(people[kind]))
        assert body["data"]["projects"]["pageInfo"]["hasNextPage"] is False
        edges = body["data"]["projects"]["edges"]
        got = {edge["node"]["id"]: as_card(edge["node"]) for edge in edges}
        assert got == expected, kind
