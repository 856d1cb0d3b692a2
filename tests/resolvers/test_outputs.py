"""Outputs (resolvers/outputs.py): the gallery, the thumbnail, and the output mutations."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from domain.vocabulary import NodeType
from resolvers.ids import encode
from tests.support import writes as w
from tests.support.graphql import gql, statements

from .shared import do_as, ok, project_as

CARDS_WITH_GALLERY = """
query($first: Int) {
  projects(first: $first) {
    edges { node { id name viewerRole owner { username } sessionCount thumbnailUrl
      outputs(first: 3) { edges { node { id fileUrl fileType width height } } } } }
  }
}
"""


@pytest.mark.parametrize("first", [5, 100])
async def test_gallery_of_every_project_costs_one_more_statement(
    client: httpx.AsyncClient, busy: str, first: int
) -> None:
    body = await gql(client, CARDS_WITH_GALLERY, {"first": first}, bearer=busy)
    edges = body["data"]["projects"]["edges"]
    assert all(len(e["node"]["outputs"]["edges"]) == 3 for e in edges)
    assert statements(body) == 3  # role read + page with its cards + the galleries


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
    assert statements(body) == 5


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


async def test_update_output_sets_only_the_given_flags(
    client: httpx.AsyncClient, world: w.World
) -> None:
    oid = world.public.ids()["output"]
    first = ok(await do_as(client, world, "editor", w.UPDATE_OUTPUT, id=oid, isStarred=True),
               "updateOutput")  # fmt: skip
    second = ok(await do_as(client, world, "editor", w.UPDATE_OUTPUT, id=oid, isApproved=True),
                "updateOutput")  # fmt: skip
    assert first["output"] == {"id": oid, "isStarred": True, "isApproved": False}
    assert second["output"] == {"id": oid, "isStarred": True, "isApproved": True}


async def test_deleting_the_thumbnail_output_recomputes_it(
    client: httpx.AsyncClient, world: w.World
) -> None:
    body = await do_as(client, world, "owner", w.DELETE_OUTPUT, id=world.public.ids()["output"])
    assert ok(body, "deleteOutput") == {"deletedId": world.public.ids()["output"]}
    member = await project_as(client, world, "viewer")
    assert (member["thumbnailUrl"], member["lastActivityAt"], member["outputs"]["edges"]) == (
        None,
        None,
        [],
    )
    assert (await project_as(client, world, "owner"))["thumbnailUrl"] is not None
