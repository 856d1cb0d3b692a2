"""Visibility (API.md "Visibility"): each rule against every kind of viewer.

One world: Olga owns "Studio" (not shared; Adam is an ADMIN member, Edna an EDITOR, Vic a
VIEWER) and "Showcase" (shared with everyone, no members). Both projects have a public and
a private session; the private one holds the newest image, so its owner's card differs
from everyone else's. Oscar is an outsider: he sees Showcase only because it is shared and
Studio not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from db import profiles, projects, stats
from db.keyset import Keyset
from domain.vocabulary import NodeType, ProjectScope
from resolvers.ids import encode
from tests.support import factories as f
from tests.support.graphql import codes, gql, post, token

BOTH_PATHS = True  # each test straight to PostgreSQL and through the pooler (conftest)

T0 = datetime(2026, 3, 1, 12, 0, 0)

CARD = """
query($id: ID!) {
  project(id: $id) {
    name viewerRole sessionCount thumbnailUrl lastActivityAt
    sessions { edges { node { name isPrivate } } }
    outputs { edges { node { fileUrl } } }
  }
}
"""
PROJECTS = """
query($scope: ProjectScope) {
  projects(scope: $scope) { edges { node { name viewerRole } } }
}
"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
GENERATION_OUTPUTS = """
query($id: ID!) { node(id: $id) { ... on Generation { outputs { fileUrl } } } }
"""


@dataclass
class World:
    people: dict[str, uuid.UUID]
    bearer: dict[str, str]  # viewer name -> token
    studio: uuid.UUID
    showcase: uuid.UUID
    private: dict[str, uuid.UUID]  # "session", "generation", "output" of Studio's private session
    public: dict[str, uuid.UUID]  # the same for Studio's public session


async def _sessions(
    conn: f.Conn, project: uuid.UUID, owner: uuid.UUID, tag: str
) -> tuple[dict[str, uuid.UUID], dict[str, uuid.UUID]]:
    """A public session with an older image and a private one with the newest image."""
    made: list[dict[str, uuid.UUID]] = []
    for private, minutes in ((False, 1), (True, 2)):
        at = T0 + timedelta(minutes=minutes)
        name = f"{tag} {'private' if private else 'public'}"
        sid = await f.session(conn, project, name, private=private, updated_at=at)
        gid = await f.generation(conn, sid, owner, created_at=at)
        oid = await f.output(conn, gid, url=f"https://cdn.example/{name}.png", created_at=at)
        made.append({"session": sid, "generation": gid, "output": oid})
    return made[0], made[1]


@pytest.fixture
async def world(conn: f.Conn) -> World:
    people = {n: await f.profile(conn, n) for n in ("olga", "adam", "edna", "vic", "oscar")}
    studio = await f.project(conn, people["olga"], "Studio", updated_at=T0)
    showcase = await f.project(
        conn, people["olga"], "Showcase", shared=True, updated_at=T0 - timedelta(days=1)
    )
    for name, role in (("adam", "admin"), ("edna", "editor"), ("vic", "viewer")):
        await f.member(conn, studio, people[name], role)
    public, private = await _sessions(conn, studio, people["olga"], "Studio")
    await _sessions(conn, showcase, people["olga"], "Showcase")
    return World(
        people=people,
        bearer={name: token(pid) for name, pid in people.items()},
        studio=studio,
        showcase=showcase,
        private=private,
        public=public,
    )


async def _card(client: httpx.AsyncClient, world: World, who: str, project: uuid.UUID) -> Any:
    body = await gql(
        client, CARD, {"id": encode(NodeType.PROJECT, project)}, bearer=world.bearer[who]
    )
    return body["data"]["project"]


def _names(connection: dict[str, Any], key: str) -> list[Any]:
    return [edge["node"][key] for edge in connection["edges"]]


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds") + "+00:00"


OWNER_VIEW = {
    "viewerRole": "OWNER",
    "sessionCount": 2,
    "thumbnailUrl": "https://cdn.example/Studio private.png",
    "lastActivityAt": _iso(T0 + timedelta(minutes=2)),
}


# The card rules hold through both sources of the card figures (the read model, live).
BOTH_STATS_SOURCES = pytest.mark.parametrize(
    "settings", [{"stats_source": "read_model"}, {"stats_source": "live"}], indirect=True
)


@BOTH_STATS_SOURCES
@pytest.mark.parametrize(
    ("who", "role"), [("adam", "ADMIN"), ("edna", "EDITOR"), ("vic", "VIEWER")]
)
async def test_member_of_any_role_sees_only_public_sessions_in_the_card(
    client: httpx.AsyncClient, world: World, who: str, role: str
) -> None:
    card = await _card(client, world, who, world.studio)
    assert card["viewerRole"] == role
    assert card["sessionCount"] == 1
    assert card["thumbnailUrl"] == "https://cdn.example/Studio public.png"
    assert card["lastActivityAt"] == _iso(T0 + timedelta(minutes=1))
    assert _names(card["sessions"], "name") == ["Studio public"]
    assert _names(card["outputs"], "fileUrl") == ["https://cdn.example/Studio public.png"]


@BOTH_STATS_SOURCES
async def test_owner_sees_private_sessions_and_their_newest_image(
    client: httpx.AsyncClient, world: World
) -> None:
    card = await _card(client, world, "olga", world.studio)
    assert {k: card[k] for k in OWNER_VIEW} == OWNER_VIEW
    assert _names(card["sessions"], "name") == ["Studio private", "Studio public"]
    assert _names(card["outputs"], "fileUrl") == [
        "https://cdn.example/Studio private.png",
        "https://cdn.example/Studio public.png",
    ]


@BOTH_STATS_SOURCES
async def test_shared_project_outsider_sees_public_sessions_without_a_role(
    client: httpx.AsyncClient, world: World
) -> None:
    card = await _card(client, world, "oscar", world.showcase)
    assert card["viewerRole"] is None
    assert card["sessionCount"] == 1
    assert card["thumbnailUrl"] == "https://cdn.example/Showcase public.png"
    assert _names(card["sessions"], "isPrivate") == [False]
    assert _names(card["outputs"], "fileUrl") == ["https://cdn.example/Showcase public.png"]


@BOTH_STATS_SOURCES
async def test_unrelated_user_cannot_see_a_project_that_is_not_shared(
    client: httpx.AsyncClient, world: World
) -> None:
    assert await _card(client, world, "oscar", world.studio) is None
    node = await gql(
        client, NODE, {"id": encode(NodeType.PROJECT, world.studio)}, bearer=world.bearer["oscar"]
    )
    assert node["data"]["node"] is None


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("olga", [("Studio", "OWNER"), ("Showcase", "OWNER")]),
        ("adam", [("Studio", "ADMIN"), ("Showcase", None)]),
        ("vic", [("Studio", "VIEWER"), ("Showcase", None)]),
        ("oscar", [("Showcase", None)]),
    ],
)
async def test_projects_lists_what_each_viewer_sees_with_their_role(
    client: httpx.AsyncClient, world: World, who: str, expected: list[tuple[str, str | None]]
) -> None:
    body = await gql(client, PROJECTS, bearer=world.bearer[who])
    edges = body["data"]["projects"]["edges"]
    assert [(e["node"]["name"], e["node"]["viewerRole"]) for e in edges] == expected


@pytest.mark.parametrize(
    ("who", "scope", "expected"),
    [
        ("olga", "OWNED", ["Studio", "Showcase"]),
        ("olga", "MEMBER", []),
        ("olga", "SHARED", []),
        ("edna", "OWNED", []),
        ("edna", "MEMBER", ["Studio"]),
        ("edna", "SHARED", ["Showcase"]),
        ("edna", "ALL", ["Studio", "Showcase"]),
        ("oscar", "MEMBER", []),
        ("oscar", "SHARED", ["Showcase"]),
    ],
)
async def test_scope_filters_owned_member_and_shared_projects(
    client: httpx.AsyncClient, world: World, who: str, scope: str, expected: list[str]
) -> None:
    body = await gql(client, PROJECTS, {"scope": scope}, bearer=world.bearer[who])
    assert _names(body["data"]["projects"], "name") == expected


@pytest.mark.parametrize("who", ["adam", "edna", "vic", "oscar"])
@pytest.mark.parametrize("kind", ["session", "generation", "output"])
async def test_private_session_data_is_null_by_id_for_everyone_but_the_owner(
    client: httpx.AsyncClient, world: World, who: str, kind: str
) -> None:
    hidden = encode(NodeType(kind.title()), world.private[kind])
    body = await gql(client, NODES, {"ids": [hidden]}, bearer=world.bearer[who])
    assert body["data"]["nodes"] == [None]
    body = await gql(client, NODES, {"ids": [hidden]}, bearer=world.bearer["olga"])
    assert body["data"]["nodes"] == [{"id": hidden}]


@pytest.mark.parametrize("who", ["adam", "edna", "vic"])
async def test_members_read_public_generation_outputs_but_not_private_ones(
    client: httpx.AsyncClient, world: World, who: str
) -> None:
    public = encode(NodeType.GENERATION, world.public["generation"])
    body = await gql(client, GENERATION_OUTPUTS, {"id": public}, bearer=world.bearer[who])
    assert body["data"]["node"]["outputs"] == [{"fileUrl": "https://cdn.example/Studio public.png"}]
    private = encode(NodeType.GENERATION, world.private["generation"])
    body = await gql(client, GENERATION_OUTPUTS, {"id": private}, bearer=world.bearer[who])
    assert body["data"]["node"] is None


@pytest.mark.parametrize("who", ["oscar"])
async def test_outsider_reads_nothing_of_an_unshared_project_by_id(
    client: httpx.AsyncClient, world: World, who: str
) -> None:
    ids = [
        encode(NodeType(kind.title()), world.public[kind])
        for kind in ("session", "generation", "output")
    ]
    body = await gql(client, NODES, {"ids": ids}, bearer=world.bearer[who])
    assert body["data"]["nodes"] == [None, None, None]


@pytest.mark.parametrize(
    "query",
    [
        "{ projects { edges { node { id } } } }",
        "query($id: ID!) { project(id: $id) { id } }",
        "query($id: ID!) { node(id: $id) { id } }",
    ],
)
async def test_anonymous_requests_are_unauthenticated_even_for_shared_projects(
    client: httpx.AsyncClient, world: World, query: str
) -> None:
    response = await post(client, query, {"id": encode(NodeType.PROJECT, world.showcase)})
    body = response.json()
    assert codes(body) == ["UNAUTHENTICATED"]
    assert not any((body["data"] or {}).values())


async def test_owner_membership_row_neither_duplicates_the_project_nor_lists_the_owner(
    client: httpx.AsyncClient, conn: f.Conn, world: World
) -> None:
    olga = await conn.fetchval("SELECT owner_id FROM projects WHERE id = $1", world.studio)
    await f.member(conn, world.studio, olga, "viewer")
    body = await gql(client, PROJECTS, {"scope": "ALL"}, bearer=world.bearer["olga"])
    assert _names(body["data"]["projects"], "viewerRole") == ["OWNER", "OWNER"]
    query = "query($id: ID!) { project(id: $id) { members { user { username } role } } }"
    body = await gql(
        client, query, {"id": encode(NodeType.PROJECT, world.studio)}, bearer=world.bearer["olga"]
    )
    assert body["data"]["project"]["members"] == [
        {"user": {"username": "adam"}, "role": "ADMIN"},
        {"user": {"username": "edna"}, "role": "EDITOR"},
        {"user": {"username": "vic"}, "role": "VIEWER"},
    ]


async def test_unknown_member_role_reads_as_viewer(
    client: httpx.AsyncClient, conn: f.Conn, world: World
) -> None:
    await conn.execute("UPDATE project_members SET role = 'Contributor' WHERE role = 'editor'")
    card = await _card(client, world, "edna", world.studio)
    assert card["viewerRole"] == "VIEWER"


ACCESS = """
SELECT p.id, a.scope FROM projects p CROSS JOIN vesper_project_access($1, p.id) a
ORDER BY p.updated_at DESC, p.id DESC
"""


@pytest.mark.parametrize("who", ["olga", "adam", "oscar"])
async def test_projects_page_branches_agree_with_the_access_function(
    conn: f.Conn, world: World, who: str
) -> None:
    """The page spells the visibility rule out per scope; it must match the function."""
    for owner in ("adam", "oscar"):  # more owners, a stray owner row, a shared one
        mine = await f.project(conn, world.people[owner], f"{owner}'s", shared=owner == "oscar")
        await f.member(conn, mine, world.people[owner], "admin")
        await f.member(conn, mine, world.people["olga"], "viewer")
    expected = [(r["id"], r["scope"]) for r in await conn.fetch(ACCESS, world.people[who])]
    everything = Keyset(forward=True, limit=1000)
    for scope in ("OWNED", "MEMBER", "SHARED", "ALL"):
        cards = await projects.projects_page(
            conn, viewer=world.people[who], scope=ProjectScope(scope), keyset=everything
        )
        wanted = [pid for pid, kind in expected if scope in ("ALL", kind)]
        assert [row.id for row in cards.rows] == wanted, scope
        assert (cards.figures, cards.owners) == ([], [])  # not asked for


@pytest.mark.parametrize("who", ["olga", "adam", "edna", "vic", "oscar", "stranger"])
async def test_the_projects_page_reads_the_cards_as_their_own_statements_do(
    conn: f.Conn, world: World, who: str
) -> None:
    """Card figures and owners read with the page are what stored_stats_by_projects and
    profiles_by_ids answer, for every kind of viewer (Studio without its project_stats
    row: computed live by both)."""
    viewer = world.people.get(who) or await f.profile(conn, who)
    await conn.execute("DELETE FROM project_stats WHERE project_id = $1", world.studio)
    cards = await projects.projects_page(
        conn,
        viewer=viewer,
        scope=ProjectScope.ALL,
        keyset=Keyset(forward=True, limit=1000),
        figures=True,
        owners=True,
    )
    ids = [row.id for row in cards.rows]
    assert ids, "every viewer sees Showcase"
    assert [row.project_id for row in cards.figures] == ids
    alone = await stats.stored_stats(conn, viewer=viewer, project_ids=ids)
    assert {r.project_id: r for r in cards.figures} == {r.project_id: r for r in alone}
    owners = await profiles.profiles_by_ids(conn, ids=[row.owner_id for row in cards.rows])
    assert {o.id: o for o in cards.owners} == {o.id: o for o in owners}
    assert len(cards.owners) == len(cards.rows)
