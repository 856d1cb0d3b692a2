"""The read API beyond visibility: connection arguments, filters, node types, parameters,
and the number of SQL statements each hot operation costs (API.md, issue acceptance)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from domain.vocabulary import NodeType
from resolvers.ids import encode

from . import factories as f
from .graphql import codes, gql, post, token

T0 = datetime(2026, 5, 1, 9, 0, 0)

CARDS = """
query($first: Int) {
  projects(first: $first) {
    edges { node { id name viewerRole owner { username displayName } sessionCount thumbnailUrl } }
  }
}
"""
CARDS_WITH_SESSIONS = """
query($first: Int) {
  projects(first: $first) {
    edges { node { id name viewerRole owner { username } sessionCount thumbnailUrl
      sessions(first: 5) { edges { node { id name type isPrivate updatedAt } } } } }
  }
}
"""
CARDS_WITH_GALLERY = """
query($first: Int) {
  projects(first: $first) {
    edges { node { id name viewerRole owner { username } sessionCount thumbnailUrl
      outputs(first: 3) { edges { node { id fileUrl fileType width height } } } } }
  }
}
"""
SESSIONS = """
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $type: SessionType) {
  project(id: $id) {
    sessions(first: $first, after: $after, last: $last, before: $before, type: $type) {
      edges { cursor node { name } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""
PAGE = """
query($first: Int, $after: String, $last: Int, $before: String) {
  projects(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def _count(body: dict[str, Any]) -> int:
    count: int = body["extensions"]["queries"]["count"]
    return count


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


@pytest.mark.parametrize("first", [5, 100])
async def test_projects_page_costs_four_statements_whatever_its_size(
    client: httpx.AsyncClient, busy: str, first: int
) -> None:
    body = await gql(client, CARDS, {"first": first}, bearer=busy)
    assert len(body["data"]["projects"]["edges"]) == first
    # role read + page + owners + stats
    assert _count(body) == 4


CARDS_BY_FRAGMENTS = """
query($first: Int) {
  projects(first: $first) {
    edges { node { ...Card ... on Project { sessionCount } } }
    ... on ProjectConnection { edges { node { figures: thumbnailUrl } } }
  }
}
fragment Card on Project { id name viewerRole boss: owner { username displayName } }
"""


async def test_cards_selected_through_fragments_and_aliases_are_loaded_ahead_too(
    client: httpx.AsyncClient, busy: str
) -> None:
    plain = await gql(client, CARDS, {"first": 20}, bearer=busy)
    spread = await gql(client, CARDS_BY_FRAGMENTS, {"first": 20}, bearer=busy)
    assert _count(spread) == _count(plain) == 4
    for a, b in zip(
        plain["data"]["projects"]["edges"], spread["data"]["projects"]["edges"], strict=True
    ):
        card, other = a["node"], b["node"]
        assert (other["id"], other["boss"], other["sessionCount"], other["figures"]) == (
            card["id"],
            card["owner"],
            card["sessionCount"],
            card["thumbnailUrl"],
        )


async def test_a_page_without_card_fields_loads_no_card_figures(
    client: httpx.AsyncClient, busy: str
) -> None:
    body = await gql(client, PAGE, {"first": 20}, bearer=busy)
    assert _count(body) == 2  # role read + page


@pytest.mark.parametrize("first", [5, 100])
async def test_sessions_of_every_project_cost_one_more_statement(
    client: httpx.AsyncClient, busy: str, first: int
) -> None:
    body = await gql(client, CARDS_WITH_SESSIONS, {"first": first}, bearer=busy)
    edges = body["data"]["projects"]["edges"]
    assert all(e["node"]["sessions"]["edges"] for e in edges)
    assert _count(body) == 5


@pytest.mark.parametrize("first", [5, 100])
async def test_gallery_of_every_project_costs_one_more_statement(
    client: httpx.AsyncClient, busy: str, first: int
) -> None:
    body = await gql(client, CARDS_WITH_GALLERY, {"first": first}, bearer=busy)
    edges = body["data"]["projects"]["edges"]
    assert all(len(e["node"]["outputs"]["edges"]) == 3 for e in edges)
    assert _count(body) == 5


async def test_galleries_loaded_ahead_with_their_generations_batch_across_projects(
    client: httpx.AsyncClient, busy: str
) -> None:
    query = """{ projects(first: 20) { edges { node { id
      outputs(first: 3) { edges { node { id generation { prompt user { username } } } } } } } } }"""
    body = await gql(client, query, bearer=busy)
    outputs = [o for e in body["data"]["projects"]["edges"] for o in e["node"]["outputs"]["edges"]]
    assert len(outputs) == 60
    assert all(o["node"]["generation"]["user"]["username"] == "me" for o in outputs)
    # role read + page + galleries + their generations + those generations' users
    assert _count(body) == 5


async def test_nested_generations_and_their_outputs_cost_one_statement_per_level(
    client: httpx.AsyncClient, busy: str
) -> None:
    query = """{ projects(first: 20) { edges { node { sessions(first: 3) { edges { node {
      generations(first: 2) { edges { node { prompt user { username } outputs { fileUrl } } } }
    } } } } } } }"""
    body = await gql(client, query, bearer=busy)
    # role read + page + sessions + generations + (users, outputs)
    assert _count(body) == 6


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


async def _sessions(client: httpx.AsyncClient, studio: dict[str, Any], **args: Any) -> Any:
    variables = {"id": encode(NodeType.PROJECT, studio["project"]), **args}
    body = await gql(client, SESSIONS, variables, bearer=studio["bearer"])
    return body["data"]["project"]["sessions"]


async def test_sessions_walk_forward_and_backward_with_page_info(
    client: httpx.AsyncClient, studio: dict[str, Any]
) -> None:
    page = await _sessions(client, studio, first=2)
    assert [e["node"]["name"] for e in page["edges"]] == ["s4", "s3"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    page = await _sessions(client, studio, first=2, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["name"] for e in page["edges"]] == ["s2", "s1"]
    assert page["pageInfo"]["hasPreviousPage"] is True
    page = await _sessions(client, studio, last=2)
    assert [e["node"]["name"] for e in page["edges"]] == ["s1", "s0"]
    assert (page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"]) == (True, False)
    page = await _sessions(client, studio, last=3, before=page["pageInfo"]["startCursor"])
    assert [e["node"]["name"] for e in page["edges"]] == ["s4", "s3", "s2"]
    assert (page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"]) == (False, True)


async def test_sessions_type_filter_and_first_zero(
    client: httpx.AsyncClient, studio: dict[str, Any]
) -> None:
    page = await _sessions(client, studio, type="VIDEO")
    assert [e["node"]["name"] for e in page["edges"]] == ["s3", "s1"]
    page = await _sessions(client, studio, first=0)
    assert page["edges"] == []
    assert page["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


async def test_a_cursor_is_a_position_valid_under_another_parent(
    client: httpx.AsyncClient, studio: dict[str, Any]
) -> None:
    page = await _sessions(client, studio, first=2)  # s4, s3: the cursor sits at s3
    variables = {
        "id": encode(NodeType.PROJECT, studio["other"]),
        "after": page["edges"][1]["cursor"],
    }
    body = await gql(client, SESSIONS, variables, bearer=studio["bearer"])
    assert [e["node"]["name"] for e in body["data"]["project"]["sessions"]["edges"]] == ["o0"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 101}, "`first` must be between 0 and 100"),
        ({"last": 101}, "`last` must be between 0 and 100"),
        ({"first": -1}, "`first` must be between 0 and 100"),
        ({"first": 1, "last": 1}, "not both"),
        ({"after": "not a cursor"}, "`after` is not a valid cursor"),
        ({"before": "UXVlcnkucHJvamVjdHN8"}, "`before` is not a valid cursor"),
    ],
)
async def test_bad_page_arguments_are_bad_user_input(
    client: httpx.AsyncClient, studio: dict[str, Any], variables: dict[str, Any], message: str
) -> None:
    response = await post(client, PAGE, variables, bearer=studio["bearer"])
    body = response.json()
    assert codes(body) == ["BAD_USER_INPUT"]
    assert message in body["errors"][0]["message"]


async def test_a_cursor_of_one_connection_is_refused_by_another(
    client: httpx.AsyncClient, studio: dict[str, Any]
) -> None:
    sessions_cursor = (await _sessions(client, studio, first=1))["pageInfo"]["endCursor"]
    response = await post(client, PAGE, {"after": sessions_cursor}, bearer=studio["bearer"])
    body = response.json()
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "cursor of Project.sessions, not of Query.projects" in body["errors"][0]["message"]
    body = await gql(client, PAGE, {"first": 1}, bearer=studio["bearer"])
    variables = {
        "id": encode(NodeType.PROJECT, studio["project"]),
        "before": body["data"]["projects"]["pageInfo"]["endCursor"],
    }
    response = await post(client, SESSIONS, variables, bearer=studio["bearer"])
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_nested_page_size_over_the_limit_is_bad_user_input(
    client: httpx.AsyncClient, studio: dict[str, Any]
) -> None:
    response = await post(
        client,
        SESSIONS,
        {"id": encode(NodeType.PROJECT, studio["project"]), "first": 500},
        bearer=studio["bearer"],
    )
    assert codes(response.json()) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "gid", ["garbage", encode(NodeType.SESSION, uuid.UUID(int=1)), "UHJvamVjdDpub3QtYS11dWlk"]
)
async def test_project_with_a_malformed_or_foreign_id_is_bad_user_input(
    client: httpx.AsyncClient, studio: dict[str, Any], gid: str
) -> None:
    query = "query($id: ID!) { project(id: $id) { id } }"
    response = await post(client, query, {"id": gid}, bearer=studio["bearer"])
    assert codes(response.json()) == ["BAD_USER_INPUT"]


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


GENERATIONS = """
query($id: ID!, $status: GenerationStatus) {
  node(id: $id) { ... on Session { generations(status: $status) { edges { node { status } } } } }
}
"""


async def test_generations_hide_dismissed_unless_asked(
    client: httpx.AsyncClient, session_world: dict[str, Any]
) -> None:
    variables = {"id": encode(NodeType.SESSION, session_world["session"])}
    bearer = session_world["bearer"]["val"]
    body = await gql(client, GENERATIONS, variables, bearer=bearer)
    statuses = [e["node"]["status"] for e in body["data"]["node"]["generations"]["edges"]]
    assert statuses == ["CANCELLED", "FAILED", "QUEUED", "PROCESSING", "COMPLETED"]
    body = await gql(client, GENERATIONS, {**variables, "status": "DISMISSED"}, bearer=bearer)
    statuses = [e["node"]["status"] for e in body["data"]["node"]["generations"]["edges"]]
    assert statuses == ["DISMISSED"]


PARAMETERS = "query($id: ID!) { node(id: $id) { ... on Generation { parameters cost } } }"


@pytest.mark.parametrize(("who", "full"), [("olga", True), ("ed", True), ("val", False)])
async def test_parameters_are_whole_for_creator_and_owner_and_allow_listed_for_others(
    client: httpx.AsyncClient, session_world: dict[str, Any], who: str, full: bool
) -> None:
    gid = encode(NodeType.GENERATION, session_world["generations"]["completed"])
    body = await gql(client, PARAMETERS, {"id": gid}, bearer=session_world["bearer"][who])
    shown = body["data"]["node"]["parameters"]
    public = {"aspectRatio": "16:9", "numOutputs": 4}
    assert shown == ({**public, "debugLog": "trace", "seed": 7} if full else public)
    assert Decimal(body["data"]["node"]["cost"]) == Decimal("0.04")


async def test_parameters_keep_integers_beyond_64_bits(
    client: httpx.AsyncClient, session_world: dict[str, Any], conn: f.Conn
) -> None:
    generation = session_world["generations"]["completed"]
    huge = 2**70 + 1
    await conn.execute(
        "UPDATE generations SET parameters = $2::jsonb WHERE id = $1",
        generation,
        f'{{"seed": {huge}}}',
    )
    gid = encode(NodeType.GENERATION, generation)
    body = await gql(client, PARAMETERS, {"id": gid}, bearer=session_world["bearer"]["olga"])
    assert body["data"]["node"]["parameters"] == {"seed": huge}


async def test_generation_outputs_tie_on_created_at_and_order_by_id(
    client: httpx.AsyncClient, session_world: dict[str, Any]
) -> None:
    query = "query($id: ID!) { node(id: $id) { ... on Generation { outputs { id } } } }"
    gid = encode(NodeType.GENERATION, session_world["generations"]["completed"])
    body = await gql(client, query, {"id": gid}, bearer=session_world["bearer"]["val"])
    expected = [{"id": encode(NodeType.OUTPUT, o)} for o in session_world["outputs"]]
    assert body["data"]["node"]["outputs"] == expected


async def test_thumbnail_and_gallery_break_output_ties_by_id_and_skip_unpublished(
    client: httpx.AsyncClient, session_world: dict[str, Any]
) -> None:
    query = """query($id: ID!) { project(id: $id) {
      thumbnailUrl lastActivityAt outputs { edges { node { id } } } } }"""
    variables = {"id": encode(NodeType.PROJECT, session_world["project"])}
    body = await gql(client, query, variables, bearer=session_world["bearer"]["val"])
    project = body["data"]["project"]
    newest = session_world["outputs"][-1]  # the highest id among outputs tied on created_at
    assert project["thumbnailUrl"] == f"https://cdn.example/{newest}.png"
    assert project["lastActivityAt"] == "2026-05-01T10:00:00.000+00:00"
    gallery = [e["node"]["id"] for e in project["outputs"]["edges"]]
    assert gallery == [encode(NodeType.OUTPUT, o) for o in reversed(session_world["outputs"])]


async def test_node_resolves_every_type_and_nodes_keeps_order(
    client: httpx.AsyncClient, session_world: dict[str, Any]
) -> None:
    ids = [
        encode(NodeType.OUTPUT, session_world["outputs"][0]),
        encode(NodeType.PROJECT, session_world["project"]),
        encode(NodeType.GENERATION, session_world["generations"]["failed"]),
        encode(NodeType.SESSION, session_world["session"]),
        encode(NodeType.OUTPUT, session_world["outputs"][0]),
    ]
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
      ... on Output { generation { session { project { name members { role } } } } } } }"""
    body = await gql(client, query, {"ids": ids}, bearer=session_world["bearer"]["val"])
    nodes = body["data"]["nodes"]
    assert [n["__typename"] for n in nodes] == [
        "Output",
        "Project",
        "Generation",
        "Session",
        "Output",
    ]
    assert [n["id"] for n in nodes] == ids
    project = nodes[0]["generation"]["session"]["project"]
    assert project == {"name": "Studio", "members": [{"role": "EDITOR"}, {"role": "VIEWER"}]}


async def test_differently_paged_aliases_of_one_field_batch_per_argument_set(
    client: httpx.AsyncClient, busy: str
) -> None:
    query = """{ projects(first: 30) { edges { node {
      newest: sessions(first: 1) { edges { node { name } } }
      two: sessions(first: 2) { edges { node { name } } }
      again: sessions(first: 1) { edges { node { name } } } } } } }"""
    body = await gql(client, query, bearer=busy)
    for edge in body["data"]["projects"]["edges"]:
        node = edge["node"]
        assert node["newest"] == node["again"]
        assert node["two"]["edges"][:1] == node["newest"]["edges"]
    # role read + page + one statement per distinct argument set
    assert _count(body) == 4
