"""Generations (resolvers/generations.py): a session's generations page, what viewers see of
parameters, a generation's outputs, creation and the status transitions."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest

from domain.vocabulary import NodeType
from resolvers.ids import decode_node, encode
from tests.support import factories as f
from tests.support import writes as w
from tests.support.graphql import codes, gql, statements

from .shared import do_as, ok, project_as

GENERATIONS = """
query($id: ID!, $status: GenerationStatus) {
  node(id: $id) { ... on Session { generations(status: $status) { edges { node { status } } } } }
}
"""


PARAMETERS = "query($id: ID!) { node(id: $id) { ... on Generation { parameters cost } } }"


async def test_nested_generations_and_their_outputs_cost_one_statement_per_level(
    client: httpx.AsyncClient, busy: str
) -> None:
    query = """{ projects(first: 20) { edges { node { sessions(first: 3) { edges { node {
      generations(first: 2) { edges { node { prompt user { username } outputs { fileUrl } } } }
    } } } } } } }"""
    body = await gql(client, query, bearer=busy)
    # role read + page + sessions + generations + (users, outputs)
    assert statements(body) == 6


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


async def test_create_generation_is_processing_run_by_the_viewer_and_moves_the_session(
    client: httpx.AsyncClient, world: w.World
) -> None:
    sid = world.public.ids()["session"]
    before = (await project_as(client, world, "owner"))["sessions"]["edges"]
    body = await do_as(
        client, world, "editor", w.CREATE_GENERATION, sessionId=sid,
        modelId="gemini-nano-banana-pro", prompt="a cat", negativePrompt="dogs",
        parameters={"aspectRatio": "1:1", "debug": {"trace": "x"}},
    )  # fmt: skip
    generation = ok(body, "createGeneration")["generation"]
    assert generation["status"] == "PROCESSING"
    assert generation["user"] == {"username": "editor"}
    assert generation["parameters"] == {"aspectRatio": "1:1", "debug": {"trace": "x"}}
    assert (generation["cost"], generation["outputs"]) == (None, [])
    assert generation["session"]["updatedAt"] > before[-1]["node"]["updatedAt"]
    # BEGIN, lock and check the session, insert (and touch the session), COMMIT, the
    # commit's position (the consistency token).
    assert statements(body) == 1 + 5 + 4  # + payload: generation, user, session, outputs
    default = ok(
        await do_as(client, world, "owner", w.CREATE_GENERATION, sessionId=sid, modelId="m",
                  prompt=""),
        "createGeneration",
    )["generation"]  # fmt: skip
    assert default["parameters"] == {}


async def test_complete_generation_inserts_outputs_and_publishes_them_once(
    client: httpx.AsyncClient, world: w.World
) -> None:
    created = await do_as(
        client, world, "editor", w.CREATE_GENERATION, sessionId=world.public.ids()["session"],
        modelId="m", prompt="p",
    )  # fmt: skip
    gid = ok(created, "createGeneration")["generation"]["id"]
    video = {"fileUrl": "http://cdn.example/v.mp4", "fileType": "VIDEO", "duration": 4.5}
    body = await do_as(
        client, world, "editor", w.COMPLETE_GENERATION, id=gid,
        outputs=[w.IMAGE, w.IMAGE, video], cost="0.039",
    )  # fmt: skip
    generation = ok(body, "completeGeneration")["generation"]
    assert (generation["status"], generation["cost"]) == ("COMPLETED", "0.039000")
    outputs = generation["outputs"]
    assert sorted(o["fileType"] for o in outputs) == ["IMAGE", "IMAGE", "VIDEO"]
    assert len({o["createdAt"] for o in outputs}) == 1
    assert next(o["duration"] for o in outputs if o["fileType"] == "VIDEO") == 4.5
    assert statements(body) == 1 + 6 + 2  # BEGIN, check, status, outputs, COMMIT, position
    card = await project_as(client, world, "viewer")
    assert card["thumbnailUrl"] == w.IMAGE["fileUrl"]
    assert card["lastActivityAt"] == outputs[0]["createdAt"]
    again = await do_as(client, world, "editor", w.COMPLETE_GENERATION, id=gid, outputs=[w.IMAGE])
    assert codes(again) == ["BAD_USER_INPUT"]
    assert len((await project_as(client, world, "owner"))["outputs"]["edges"]) == 5


@pytest.mark.parametrize(
    ("document", "field", "status"),
    [
        (w.FAIL_GENERATION, "failGeneration", "FAILED"),
        (w.CANCEL_GENERATION, "cancelGeneration", "CANCELLED"),
        (w.DISMISS_GENERATION, "dismissGeneration", "DISMISSED"),
    ],
)
async def test_unfinished_generations_can_fail_cancel_or_be_dismissed_once(
    client: httpx.AsyncClient, world: w.World, conn: f.Conn, document: str, field: str,
    status: str,
) -> None:  # fmt: skip
    gid = world.public.ids()["processing"]
    body = await do_as(client, world, "admin", document, id=gid)
    assert ok(body, field)["generation"] == {"id": gid, "status": status}
    before = await w.digest(conn)
    for later in (w.COMPLETE_GENERATION, w.FAIL_GENERATION, w.CANCEL_GENERATION):
        variables: dict[str, Any] = {"id": gid}
        if later is w.COMPLETE_GENERATION:
            variables["outputs"] = []
        assert codes(await do_as(client, world, "admin", later, **variables)) == ["BAD_USER_INPUT"]
    dismissed = await do_as(client, world, "admin", w.DISMISS_GENERATION, id=gid)
    assert codes(dismissed) == ([] if status != "DISMISSED" else ["BAD_USER_INPUT"])
    if status == "DISMISSED":
        assert await w.digest(conn) == before


async def test_dismissing_the_thumbnails_generation_picks_the_next_one(
    client: httpx.AsyncClient, world: w.World
) -> None:
    before = await project_as(client, world, "owner")
    assert before["thumbnailUrl"] is not None
    await do_as(client, world, "owner", w.DISMISS_GENERATION, id=world.private.ids()["completed"])
    after = await project_as(client, world, "owner")
    member = await project_as(client, world, "viewer")
    assert after["thumbnailUrl"] == member["thumbnailUrl"] != before["thumbnailUrl"]
    assert len(after["outputs"]["edges"]) == 1


async def test_racing_completions_of_one_generation_succeed_once(
    client: httpx.AsyncClient, world: w.World, conn: f.Conn
) -> None:
    gid = world.public.ids()["processing"]
    bodies = await asyncio.gather(
        *(
            do_as(client, world, kind, w.COMPLETE_GENERATION, id=gid, outputs=[w.IMAGE] * 4)
            for kind in ("owner", "admin", "editor", "owner", "admin", "editor")
        )
    )
    assert sorted(tuple(codes(b)) for b in bodies) == [()] + [("BAD_USER_INPUT",)] * 5
    _, key = decode_node(gid)
    assert await conn.fetchval("SELECT count(*) FROM outputs WHERE generation_id = $1", key) == 4
