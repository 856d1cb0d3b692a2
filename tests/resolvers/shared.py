"""What the read and write tests of several nouns share: documents and small helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from domain.vocabulary import NodeType
from resolvers.ids import encode
from tests.support import writes as w
from tests.support.graphql import gql

T0 = datetime(2026, 5, 1, 9, 0, 0)

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
PROJECT = """
query($id: ID!) {
  project(id: $id) {
    name updatedAt sessionCount thumbnailUrl lastActivityAt
    members { user { username } role joinedAt }
    sessions { edges { node { name isPrivate updatedAt } } }
    outputs { edges { node { fileUrl } } }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { id } }"


def ok(body: dict[str, Any], field: str) -> Any:
    """`data.<field>` of a response that must have no errors."""
    assert "errors" not in body, body["errors"]
    return body["data"][field]


async def sessions_page(client: httpx.AsyncClient, studio: dict[str, Any], **args: Any) -> Any:
    """The studio project's sessions connection for `args`."""
    variables = {"id": encode(NodeType.PROJECT, studio["project"]), **args}
    body = await gql(client, SESSIONS, variables, bearer=studio["bearer"])
    return body["data"]["project"]["sessions"]


async def project_as(client: httpx.AsyncClient, world: w.World, kind: str) -> Any:
    """The world's project as a viewer of `kind` sees it."""
    body = await gql(client, PROJECT, {"id": world.project_id}, bearer=world.bearer[kind])
    return body["data"]["project"]


async def do_as(
    client: httpx.AsyncClient, world: w.World, kind: str, document: str, **input: Any
) -> dict[str, Any]:
    """The response to mutation `document` with `input`, sent by a viewer of `kind`."""
    return await w.mutate(client, document, {"input": input}, world.bearer[kind])
