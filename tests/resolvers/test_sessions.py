"""Sessions (resolvers/sessions.py): a project's sessions page, its arguments and cursors,
and what each session mutation does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from domain.vocabulary import NodeType
from resolvers.ids import encode
from tests.support import writes as w
from tests.support.graphql import codes, gql, post, statements

from .shared import SESSIONS, do_as, ok, project_as, sessions_page

CARDS_WITH_SESSIONS = """
query($first: Int) {
  projects(first: $first) {
    edges { node { id name viewerRole owner { username } sessionCount thumbnailUrl
      sessions(first: 5) { edges { node { id name type isPrivate updatedAt } } } } }
  }
}
"""


@pytest.mark.parametrize("first", [5, 100])
async def test_sessions_of_every_project_cost_one_more_statement(
    client: httpx.AsyncClient, busy: str, first: int
) -> None:
    body = await gql(client, CARDS_WITH_SESSIONS, {"first": first}, bearer=busy)
    edges = body["data"]["projects"]["edges"]
    assert all(e["node"]["sessions"]["edges"] for e in edges)
    assert statements(body) == 3  # role read + page with its cards + the sessions


async def test_sessions_walk_forward_and_backward_with_page_info(
    client: httpx.AsyncClient, studio: dict[str, Any]
) -> None:
    page = await sessions_page(client, studio, first=2)
    assert [e["node"]["name"] for e in page["edges"]] == ["s4", "s3"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    page = await sessions_page(client, studio, first=2, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["name"] for e in page["edges"]] == ["s2", "s1"]
    assert page["pageInfo"]["hasPreviousPage"] is True
    page = await sessions_page(client, studio, last=2)
    assert [e["node"]["name"] for e in page["edges"]] == ["s1", "s0"]
    assert (page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"]) == (True, False)
    page = await sessions_page(client, studio, last=3, before=page["pageInfo"]["startCursor"])
    assert [e["node"]["name"] for e in page["edges"]] == ["s4", "s3", "s2"]
    assert (page["pageInfo"]["hasPreviousPage"], page["pageInfo"]["hasNextPage"]) == (False, True)


async def test_sessions_type_filter_and_first_zero(
    client: httpx.AsyncClient, studio: dict[str, Any]
) -> None:
    page = await sessions_page(client, studio, type="VIDEO")
    assert [e["node"]["name"] for e in page["edges"]] == ["s3", "s1"]
    page = await sessions_page(client, studio, first=0)
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
    page = await sessions_page(client, studio, first=2)  # s4, s3: the cursor sits at s3
    variables = {
        "id": encode(NodeType.PROJECT, studio["other"]),
        "after": page["edges"][1]["cursor"],
    }
    body = await gql(client, SESSIONS, variables, bearer=studio["bearer"])
    assert [e["node"]["name"] for e in body["data"]["project"]["sessions"]["edges"]] == ["o0"]


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
    assert statements(body) == 4


async def test_new_sessions_are_private_for_the_owner_and_public_for_members(
    client: httpx.AsyncClient, world: w.World
) -> None:
    before = await project_as(client, world, "owner")
    mine = ok(
        await do_as(
            client, world, "owner", w.CREATE_SESSION, projectId=world.project_id,
            name="Mine", type="IMAGE",
        ),
        "createSession",
    )["session"]  # fmt: skip
    theirs = ok(
        await do_as(
            client, world, "editor", w.CREATE_SESSION, projectId=world.project_id,
            name="Theirs", type="VIDEO",
        ),
        "createSession",
    )["session"]  # fmt: skip
    assert (mine["isPrivate"], mine["type"], mine["project"]["sessionCount"]) == (
        True,
        "IMAGE",
        3,
    )
    assert (theirs["isPrivate"], theirs["type"], theirs["project"]["sessionCount"]) == (
        False,
        "VIDEO",
        2,  # the editor sees the public sessions only
    )
    assert theirs["createdAt"] == theirs["updatedAt"]
    after = await project_as(client, world, "owner")
    assert after["updatedAt"] == before["updatedAt"]  # sessions do not move the project
    assert after["sessions"]["edges"][0]["node"]["name"] == "Theirs"


async def test_update_session_moves_updated_at_on_rename_and_privacy_change_only(
    client: httpx.AsyncClient, world: w.World
) -> None:
    sid = world.public.ids()["session"]
    renamed = ok(
        await do_as(client, world, "editor", w.UPDATE_SESSION, id=sid, name="Renamed"),
        "updateSession",
    )["session"]
    unchanged = ok(
        await do_as(client, world, "editor", w.UPDATE_SESSION, id=sid, isPrivate=False),
        "updateSession",
    )["session"]
    assert unchanged == renamed
    hidden = ok(
        await do_as(client, world, "owner", w.UPDATE_SESSION, id=sid, isPrivate=True),
        "updateSession",
    )["session"]
    assert hidden["isPrivate"]
    assert hidden["updatedAt"] > renamed["updatedAt"]
    assert (await project_as(client, world, "editor"))["sessionCount"] == 0
    invisible = await do_as(client, world, "editor", w.UPDATE_SESSION, id=sid, name="Again")
    assert codes(invisible) == ["NOT_FOUND"]


async def test_delete_session_updates_every_viewers_card(
    client: httpx.AsyncClient, world: w.World
) -> None:
    body = await do_as(client, world, "owner", w.DELETE_SESSION, id=world.private.ids()["session"])
    assert ok(body, "deleteSession") == {"deletedId": world.private.ids()["session"]}
    owner, member = (
        await project_as(client, world, "owner"),
        await project_as(client, world, "viewer"),
    )
    assert (owner["sessionCount"], member["sessionCount"]) == (1, 1)
    assert owner["thumbnailUrl"] == member["thumbnailUrl"] is not None
