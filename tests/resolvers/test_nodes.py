"""`node` / `nodes` (resolvers/nodes.py): every node type, order, repeats, limits."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from domain.vocabulary import NodeType
from resolvers.ids import encode
from tests.support.graphql import codes, gql, post, token

BOTH_PATHS = True  # each test straight to PostgreSQL and through the pooler (conftest)

PROFILE_NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Profile { username } } }"


PROFILE_NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Profile { username } } }"


async def _profile(client: httpx.AsyncClient, name: str) -> tuple[str, str]:
    """A profile created by its first request; returns (bearer, global id)."""
    sub = uuid.uuid4()
    bearer = token(sub, email=f"{name}@example.com")
    await gql(client, "{ viewer { id } }", bearer=bearer)
    return bearer, encode(NodeType.PROFILE, sub)


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


async def test_any_viewer_reads_another_profile_by_node(client: httpx.AsyncClient) -> None:
    _, other = await _profile(client, "owner")
    me, _ = await _profile(client, "reader")
    body = await gql(client, PROFILE_NODE, {"id": other}, bearer=me)
    assert body["data"]["node"] == {"__typename": "Profile", "id": other, "username": "owner"}


async def test_unknown_profile_is_null(client: httpx.AsyncClient) -> None:
    me, _ = await _profile(client, "reader")
    body = await gql(
        client, PROFILE_NODE, {"id": encode(NodeType.PROFILE, uuid.uuid4())}, bearer=me
    )
    assert body["data"]["node"] is None


async def test_nodes_answers_in_order_with_repeats_and_nulls(client: httpx.AsyncClient) -> None:
    me, mine = await _profile(client, "me")
    _, other = await _profile(client, "other")
    missing = encode(NodeType.PROFILE, uuid.uuid4())
    body = await gql(client, PROFILE_NODES, {"ids": [other, missing, mine, other]}, bearer=me)
    assert body["data"]["nodes"] == [
        {"id": other, "username": "other"},
        None,
        {"id": mine, "username": "me"},
        {"id": other, "username": "other"},
    ]
    assert body["extensions"]["queries"]["count"] == 2  # role read + one batched load


async def test_nodes_over_100_ids_is_bad_user_input(client: httpx.AsyncClient) -> None:
    me, mine = await _profile(client, "me")
    response = await post(client, PROFILE_NODES, {"ids": [mine] * 101}, bearer=me)
    assert codes(response.json()) == ["BAD_USER_INPUT"]
    await gql(client, PROFILE_NODES, {"ids": [mine] * 100}, bearer=me)


async def test_one_malformed_id_fails_nodes_before_any_read(client: httpx.AsyncClient) -> None:
    me, mine = await _profile(client, "me")
    response = await post(client, PROFILE_NODES, {"ids": [mine, "garbage"]}, bearer=me)
    body = response.json()
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["extensions"]["queries"]["count"] == 1  # only the viewer's role
