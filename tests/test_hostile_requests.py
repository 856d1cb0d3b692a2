"""Hostile and unlucky requests get a coded answer in bounded time: strict JSON bodies,
one operation per request, nosniff on every response, and a deadline for each request
whatever the database does (server.py, db/pool.py, db/ops/readiness.py)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.graphql import codes, gql, post, token

ME = uuid.uuid4()
BEARER = token(ME, email="hostile@example.com")
JSON_BODY = {"Content-Type": "application/json", "Authorization": f"Bearer {BEARER}"}
GRAPHQL_RESPONSE = "application/graphql-response+json"
CREATE = "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }"


async def _raw(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await client.post("/graphql", content=body, headers=JSON_BODY)


def _nested(depth: int) -> bytes:
    return b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * depth + b"]" * depth + b"}}"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (_nested(50_000), "nested deeper than 32 levels"),
        (_nested(40), "nested deeper than 32 levels"),
        (b'{"query": "{ __typename }", "variables": {"a": NaN}}', "NaN is not a JSON number"),
        (b'{"query": "{ __typename }", "variables": {"a": -Infinity}}', "-Infinity is not"),
        (b'{"query": "{ __typename }", "variables": {"a": 1e999}}', "too large a number"),
        (b'{"query": "{ __typename }", "variables": {"a": 9223372036854775808}}', "64 bits"),
        (b'{"query": "{ __typename }", "variables": {"a": 1' + b"0" * 5000 + b"}}", "64 bits"),
        (b'{"query": "{ __typename }", "variables": {"a": "x\\ud800y"}}', "lone surrogate"),
        (b'{"query": "{ __typename }", "variables": {"\\udfff": 1}}', "lone surrogate"),
        (b'{"query": "{ __typename }", "variables": {"a": "\xff"}}', "cannot be decoded"),
    ],
)
async def test_json_the_api_does_not_take_is_400_bad_user_input(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any], body: bytes, why: str
) -> None:
    response = await _raw(client, body)
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_USER_INPUT"]
    assert why in response.json()["errors"][0]["message"]


async def test_json_within_the_limits_is_taken(client: httpx.AsyncClient) -> None:
    body = (
        b'{"query": "{ __typename }", "variables": {"v": '
        + b"[" * 30
        + b"]" * 30
        + b', "big": 9223372036854775807, "pair": "\\ud83d\\ude00"}}'
    )
    response = await _raw(client, body)
    assert response.json()["data"] == {"__typename": "Query"}


async def test_strict_json_holds_for_get_variables_too(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": "{ __typename }", "variables": '{"a": NaN}'}
    )
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_refused_json_writes_nothing(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    await gql(client, "{ viewer { id } }", bearer=BEARER)
    for value in (b'"x\\ud800"', b"1e999", b"NaN"):
        body = (
            b'{"query": "' + CREATE.encode() + b'", "variables": {"i": {"name": ' + value + b"}}}"
        )
        assert (await _raw(client, body)).status_code == 400
    assert await conn.fetchval("SELECT count(*) FROM projects") == 0


@pytest.mark.parametrize("media", ["application/json", GRAPHQL_RESPONSE])
async def test_several_operations_need_an_operation_name(
    client: httpx.AsyncClient, media: str
) -> None:
    document = "query A { __typename } query B { viewer { id } }"
    response = await client.post(
        "/graphql",
        json={"query": document},
        headers={"Accept": media, "Authorization": f"Bearer {BEARER}"},
    )
    assert response.status_code == (400 if media == GRAPHQL_RESPONSE else 200)
    body = response.json()
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "data" not in body
    named = await client.post(
        "/graphql",
        json={"query": document, "operationName": "B"},
        headers={"Authorization": f"Bearer {BEARER}"},
    )
    assert "viewer" in named.json()["data"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("POST", "/graphql"),
     ("GET", "/graphql"), ("GET", "/nowhere")],
)  # fmt: skip
async def test_every_response_says_nosniff(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={"query": "{ __typename }"})
    assert response.headers["x-content-type-options"] == "nosniff"


# --- bounded in time whatever the database does -----------------------------------------


# One pooled connection, a request deadline well below the statement timeout: a request
# stuck on a lock holds the pool, and the others wait for it.
DEADLINE = {"pool_max_size": 1, "statement_timeout_ms": 4000, "request_timeout_ms": 800}


@pytest.mark.parametrize("settings", [DEADLINE], indirect=True)
async def test_every_request_ends_at_its_deadline_when_the_database_does_not_answer(
    client: httpx.AsyncClient, db_url: str
) -> None:
    await gql(client, "{ viewer { id } }", bearer=BEARER)
    locker = await asyncpg.connect(db_url)
    try:
        async with locker.transaction():
            await locker.execute("LOCK TABLE profiles IN ACCESS EXCLUSIVE MODE")
            started = time.perf_counter()
            *requests, ready = await asyncio.gather(
                post(client, "{ viewer { id } }", bearer=BEARER),
                post(client, "{ viewer { id } }", bearer=BEARER),
                client.post(
                    "/graphql",
                    json={"query": "{ viewer { id } }"},
                    headers={"Accept": GRAPHQL_RESPONSE, "Authorization": f"Bearer {BEARER}"},
                ),
                client.get("/readyz"),
            )
            seconds = time.perf_counter() - started
    finally:
        await locker.close()
    for response in requests:
        assert codes(response.json()) == ["INTERNAL_SERVER_ERROR"], response.text
        assert "did not answer in time" in response.json()["errors"][0]["message"]
    assert [r.status_code for r in requests] == [200, 200, 503]
    assert requests[2].headers["retry-after"] == "1"
    assert ready.status_code == 200  # a busy pool is no reason to leave service
    assert seconds < 2.5, seconds  # 0.8 s deadline, not the 4 s statement timeout
    await gql(client, "{ viewer { id } }", bearer=BEARER)  # and it serves again at once
