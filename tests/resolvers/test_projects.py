"""Projects (resolvers/projects.py): the projects page and its arguments, one project by id,
the statements a page of cards costs, and what each project mutation does (API.md)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from domain.vocabulary import NodeType
from resolvers.ids import decode, decode_node, encode
from settings import Settings
from tests.support import factories as f
from tests.support import writes as w
from tests.support.graphql import codes, gql, post, statements
from tests.support.jobs import drain

from .shared import NODE, SESSIONS, do_as, ok, sessions_page

CARDS = """
query($first: Int) {
  projects(first: $first) {
    edges { node { id name viewerRole owner { username displayName } sessionCount thumbnailUrl } }
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


CARDS_BY_FRAGMENTS = """
query($first: Int) {
  projects(first: $first) {
    edges { node { ...Card ... on Project { sessionCount } } }
    ... on ProjectConnection { edges { node { figures: thumbnailUrl } } }
  }
}
fragment Card on Project { id name viewerRole boss: owner { username displayName } }
"""


@pytest.mark.parametrize("first", [5, 100])
async def test_projects_page_costs_two_statements_whatever_its_size(
    client: httpx.AsyncClient, busy: str, first: int
) -> None:
    body = await gql(client, CARDS, {"first": first}, bearer=busy)
    assert len(body["data"]["projects"]["edges"]) == first
    # role read + the page, which reads its cards' owners and figures too
    assert statements(body) == 2


@pytest.mark.parametrize("settings", [{"stats_source": "live"}], indirect=True)
async def test_live_card_figures_cost_one_statement_more(
    client: httpx.AsyncClient, busy: str
) -> None:
    body = await gql(client, CARDS, {"first": 20}, bearer=busy)
    assert statements(body) == 3  # role read + page with owners + the figures computed live


async def test_cards_selected_through_fragments_and_aliases_are_loaded_ahead_too(
    client: httpx.AsyncClient, busy: str
) -> None:
    plain = await gql(client, CARDS, {"first": 20}, bearer=busy)
    spread = await gql(client, CARDS_BY_FRAGMENTS, {"first": 20}, bearer=busy)
    assert statements(spread) == statements(plain) == 2
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
    assert statements(body) == 2  # role read + page


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
    sessions_cursor = (await sessions_page(client, studio, first=1))["pageInfo"]["endCursor"]
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


@pytest.mark.parametrize(
    "gid", ["garbage", encode(NodeType.SESSION, uuid.UUID(int=1)), "UHJvamVjdDpub3QtYS11dWlk"]
)
async def test_project_with_a_malformed_or_foreign_id_is_bad_user_input(
    client: httpx.AsyncClient, studio: dict[str, Any], gid: str
) -> None:
    query = "query($id: ID!) { project(id: $id) { id } }"
    response = await post(client, query, {"id": gid}, bearer=studio["bearer"])
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_create_project_makes_the_viewer_owner_with_server_made_id_and_times(
    client: httpx.AsyncClient, world: w.World, conn: f.Conn
) -> None:
    body = await do_as(client, world, "outsider", w.CREATE_PROJECT, name="Mine")
    project = ok(body, "createProject")["project"]
    assert decode(project["id"], NodeType.PROJECT)
    assert project["viewerRole"] == "OWNER"
    assert (project["isShared"], project["description"], project["sessionCount"]) == (
        False,
        None,
        0,
    )
    assert project["createdAt"] == project["updatedAt"]
    _, key = decode_node(project["id"])
    assert await conn.fetchval("SELECT count(*) FROM project_stats WHERE project_id = $1", key)
    # BEGIN, insert, COMMIT, the commit's position (the consistency token); then the
    # payload: the project and its stats.
    assert statements(body) == 1 + 4 + 2


async def test_update_project_keeps_left_out_fields_and_moves_updated_at_on_change(
    client: httpx.AsyncClient, world: w.World
) -> None:
    set_up = await do_as(
        client, world, "admin", w.UPDATE_PROJECT, id=world.project_id,
        description="About", coverImageUrl="https://cdn.example/cover.png",
    )  # fmt: skip
    first = ok(set_up, "updateProject")["project"]
    assert (first["name"], first["description"], first["coverImageUrl"], first["isShared"]) == (
        "Studio",
        "About",
        "https://cdn.example/cover.png",
        True,
    )
    same = ok(
        await do_as(client, world, "owner", w.UPDATE_PROJECT, id=world.project_id, name="Studio"),
        "updateProject",
    )["project"]
    assert same["updatedAt"] == first["updatedAt"]  # nothing changed
    cleared = ok(
        await do_as(
            client, world, "owner", w.UPDATE_PROJECT, id=world.project_id,
            description=None, isShared=False,
        ),
        "updateProject",
    )["project"]  # fmt: skip
    assert (cleared["description"], cleared["isShared"], cleared["coverImageUrl"]) == (
        None,
        False,
        "https://cdn.example/cover.png",
    )
    assert cleared["updatedAt"] > first["updatedAt"]


async def test_a_renamed_project_comes_first_in_the_projects_list(
    client: httpx.AsyncClient, world: w.World, conn: f.Conn
) -> None:
    other = await f.project(conn, world.people["owner"], "Other")
    await do_as(
        client, world, "owner", w.UPDATE_PROJECT, id=encode(NodeType.PROJECT, other), name="X"
    )
    listed = await gql(
        client, "{ projects { edges { node { name } } } }", bearer=world.bearer["owner"]
    )
    assert listed["data"]["projects"]["edges"][0]["node"]["name"] == "X"


NAMES = "{ projects { edges { node { name } } } }"


async def test_delete_project_hides_it_at_once_and_the_queue_purges_it(
    client: httpx.AsyncClient, world: w.World, conn: f.Conn, settings: Settings
) -> None:
    other = await f.project(conn, world.people["owner"], "Other")
    await f.output(
        conn, await f.generation(conn, await f.session(conn, other), world.people["owner"])
    )
    body = await do_as(client, world, "owner", w.DELETE_PROJECT, id=world.project_id)
    assert ok(body, "deleteProject") == {"deletedId": world.project_id}
    # role; BEGIN, lock and check, record the deletion, enqueue its purge, COMMIT, position
    assert statements(body) == 1 + 6
    # Gone for everyone at once, although its rows are still there.
    for kind in w.KINDS:
        for node in (world.project_id, *world.public.ids().values(), *world.private.ids().values()):
            seen = await gql(client, NODE, {"id": node}, bearer=world.bearer[kind])
            assert seen["data"]["node"] is None, (kind, node)
        listed = await gql(
            client, "{ projects { edges { node { name } } } }", bearer=world.bearer[kind]
        )
        assert "Studio" not in [e["node"]["name"] for e in listed["data"]["projects"]["edges"]], (
            kind
        )
    assert (
        await conn.fetchval("SELECT count(*) FROM sessions WHERE project_id = $1", world.project)
        == 2
    )
    again = await do_as(client, world, "owner", w.DELETE_PROJECT, id=world.project_id)
    assert codes(again) == ["NOT_FOUND"]

    await drain(settings)

    for table in ("sessions", "generations", "outputs", "published_outputs", "project_stats"):
        assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 1, table  # Other's
    assert await conn.fetchval("SELECT count(*) FROM projects WHERE id = $1", world.project) == 0
    for table in ("project_members", "member_projects", "vesper_project_deletions"):
        assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table
    assert await conn.fetchval("SELECT count(*) FROM pgqueuer") == 0


async def test_mutations_of_one_request_run_in_order_and_each_sees_the_last(
    client: httpx.AsyncClient, world: w.World
) -> None:
    document = """
    mutation($id: ID!, $project: ID!) {
      a: updateProject(input: {id: $id, name: "One"}) { project { name } }
      b: updateProject(input: {id: $id, name: "Two"}) { project { name } }
      c: createSession(input: {projectId: $project, name: "S", type: IMAGE}) {
        session { project { sessionCount } }
      }
    }"""
    body = await w.mutate(
        client, document, {"id": world.project_id, "project": world.project_id},
        world.bearer["owner"],
    )  # fmt: skip
    assert "errors" not in body, body
    assert body["data"]["a"]["project"]["name"] == "One"
    assert body["data"]["b"]["project"]["name"] == "Two"
    assert body["data"]["c"]["session"]["project"]["sessionCount"] == 3


async def test_an_error_that_nulls_a_project_leaves_fields_sharing_its_loads_answered(
    client: httpx.AsyncClient, world: w.World
) -> None:
    # `a.sessions` fails (page too large) and nulls `a`, whose pending `owner` load is
    # cancelled; `b.owner` awaits the same loaded profile and must still get it.
    query = """query($id: ID!) {
      a: project(id: $id) { owner { id } sessions(first: 1000) { edges { cursor } } }
      b: project(id: $id) { owner { username } }
    }"""
    response = await post(client, query, {"id": world.project_id}, bearer=world.bearer["owner"])
    body = response.json()
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] == {"a": None, "b": {"owner": {"username": "owner"}}}
