"""Identity (API.md): bearer JWTs, UNAUTHENTICATED for everything else, profiles on first sight."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

import asyncpg
import httpx
import jwt
import pytest

from domain.vocabulary import NodeType
from resolvers.ids import encode
from settings import DEV_JWT_SECRET
from tests.support.graphql import codes, gql, post, token

VIEWER = "{ viewer { id username displayName } }"


async def test_first_request_creates_profile_from_claims(client: httpx.AsyncClient) -> None:
    sub = uuid.uuid4()
    body = await gql(
        client, VIEWER, bearer=token(sub, email="mira@example.com", full_name="Mira Lind")
    )
    assert body["data"]["viewer"] == {
        "id": encode(NodeType.PROFILE, sub),
        "username": "mira",
        "displayName": "Mira Lind",
    }


async def test_display_name_falls_back_to_email(client: httpx.AsyncClient) -> None:
    body = await gql(client, VIEWER, bearer=token(uuid.uuid4(), email="kai@example.com"))
    assert body["data"]["viewer"]["displayName"] == "kai@example.com"


async def test_existing_profile_is_not_rewritten(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    sub = uuid.uuid4()
    await gql(client, VIEWER, bearer=token(sub, email="ana@example.com", full_name="Ana"))
    body = await gql(client, VIEWER, bearer=token(sub, email="other@example.com", full_name="X"))
    assert body["data"]["viewer"]["displayName"] == "Ana"
    assert await conn.fetchval("select count(*) from profiles where id = $1", sub) == 1


async def test_taken_username_gets_a_suffix(client: httpx.AsyncClient) -> None:
    await gql(client, VIEWER, bearer=token(uuid.uuid4(), email="sam@one.example"))
    other = uuid.uuid4()
    body = await gql(client, VIEWER, bearer=token(other, email="sam@two.example"))
    assert body["data"]["viewer"]["username"] == f"sam-{other.hex[:8]}"


async def test_twenty_concurrent_first_requests_create_one_profile(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    sub = uuid.uuid4()
    bearer = token(sub, email="rush@example.com")
    responses = await asyncio.gather(*(post(client, VIEWER, bearer=bearer) for _ in range(20)))
    assert all(r.status_code == 200 and "errors" not in r.json() for r in responses)
    assert await conn.fetchval("select count(*) from profiles where id = $1", sub) == 1
    assert await conn.fetchval("select username from profiles where id = $1", sub) == "rush"


def _forge(payload: dict[str, Any], secret: str = DEV_JWT_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(payload, secret, algorithm=alg)


def _unsigned(payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def _valid_claims(**extra: Any) -> dict[str, Any]:
    return {"sub": str(uuid.uuid4()), "exp": int(time.time()) + 600, **extra}


BAD_TOKENS = {
    "malformed": "not-a-jwt",
    "expired": _forge(_valid_claims(exp=int(time.time()) - 10)),
    "badly_signed": _forge(_valid_claims(), secret="another-secret-of-sufficient-length!!"),
    "alg_none": _unsigned(_valid_claims()),
    "sub_not_uuid": _forge(_valid_claims(sub="user-42")),
    "no_exp": _forge({"sub": str(uuid.uuid4())}),
    "wrong_audience": _forge(_valid_claims(aud="anon-service")),
}


@pytest.mark.parametrize("bad", sorted(BAD_TOKENS))
async def test_bad_token_is_unauthenticated(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any], bad: str
) -> None:
    response = await post(client, VIEWER, bearer=BAD_TOKENS[bad])
    body = response.json()
    assert response.status_code == 200
    assert codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None
    assert await conn.fetchval("select count(*) from profiles") == 0


async def test_missing_token_fails_every_root_field(client: httpx.AsyncClient) -> None:
    query = f'{{ viewer {{ id }} node(id: "{encode(NodeType.PROFILE, uuid.uuid4())}") {{ id }} }}'
    body = (await post(client, query)).json()
    assert codes(body) == ["UNAUTHENTICATED", "UNAUTHENTICATED"]
    assert {tuple(e["path"]) for e in body["errors"]} == {("viewer",), ("node",)}


async def test_non_bearer_authorization_header_is_unauthenticated(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, VIEWER, headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert codes(response.json()) == ["UNAUTHENTICATED"]


async def test_matching_audience_is_accepted(client: httpx.AsyncClient) -> None:
    claims = _valid_claims(aud="authenticated", email="aud@example.com")
    body = await gql(client, VIEWER, bearer=_forge(claims))
    assert body["data"]["viewer"]["username"] == "aud"


async def test_typename_and_introspection_work_without_token(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ __typename __schema { queryType { name } } }")
    assert body["data"] == {"__typename": "Query", "__schema": {"queryType": {"name": "Query"}}}
