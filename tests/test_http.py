"""GraphQL over HTTP: limits, error codes, masking, media types, health and readiness."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from domain.vocabulary import NodeType
from resolvers.ids import encode
from server import CONSISTENCY
from tests.support.graphql import codes, gql, post, token

ME = uuid.uuid4()


def bearer() -> str:
    return token(ME, email="tester@example.com")


async def test_healthz_is_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_migrations_are_current(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_refuses_while_a_migration_is_pending(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    await conn.execute("delete from _yoyo_migration where migration_id = '0001_baseline'")
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "migrations pending", "pending": ["0001_baseline"]}


async def test_request_id_is_echoed_and_generated(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    assert len(generated.headers["x-request-id"]) == 32


async def test_parse_error_is_graphql_parse_failed(client: httpx.AsyncClient) -> None:
    response = await post(client, "{ viewer { id ", bearer=bearer())
    assert response.status_code == 200
    assert codes(response.json()) == ["GRAPHQL_PARSE_FAILED"]
    assert "data" not in response.json()


async def test_graphql_response_media_type_gets_400_for_request_errors(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Accept": "application/graphql-response+json"}
    response = await post(client, "{ nope }", bearer=bearer(), headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_unknown_field_is_validation_failed_with_suggestions_in_development(
    client: httpx.AsyncClient,
) -> None:
    body = (await post(client, "{ viewer { usernam } }", bearer=bearer())).json()
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean" in body["errors"][0]["message"]


async def test_bad_variable_is_bad_user_input(client: httpx.AsyncClient) -> None:
    query = "query($id: ID!) { node(id: $id) { id } }"
    response = await post(client, query, {"id": {"not": "an id"}}, bearer=bearer())
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_malformed_global_id_is_bad_user_input(client: httpx.AsyncClient) -> None:
    for bad in ["%%%", "UHJvZmlsZTpub3QtYS11dWlk", encode(NodeType.PROFILE, ME) + "=="]:
        body = (await post(client, f'{{ node(id: "{bad}") {{ id }} }}', bearer=bearer())).json()
        assert codes(body) == ["BAD_USER_INPUT"], bad


@pytest.mark.parametrize("settings", [{"max_depth": 0}], indirect=True)
async def test_depth_over_limit_is_query_too_complex(client: httpx.AsyncClient) -> None:
    response = await post(client, "{ viewer { id } }", bearer=bearer())
    assert codes(response.json()) == ["QUERY_TOO_COMPLEX"]
    await gql(client, "{ __typename }", bearer=bearer())
    # Introspection is exempt: GraphiQL's own query is deeper than any sensible limit.
    await gql(client, "{ __schema { types { fields { type { name } } } } }", bearer=bearer())


async def test_too_many_aliases_is_query_too_complex(client: httpx.AsyncClient) -> None:
    query = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(31)) + " }"
    assert codes((await post(client, query, bearer=bearer())).json()) == ["QUERY_TOO_COMPLEX"]
    ok = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(30)) + " }"
    await gql(client, ok, bearer=bearer())


async def test_too_many_tokens_is_query_too_complex(client: httpx.AsyncClient) -> None:
    query = "{ " + " ".join("__typename" for _ in range(2100)) + " }"
    assert codes((await post(client, query, bearer=bearer())).json()) == ["QUERY_TOO_COMPLEX"]


async def test_body_over_100kb_is_413_with_graphql_error(client: httpx.AsyncClient) -> None:
    query = "{ viewer { id } }" + " " * (100 * 1024)
    response = await post(client, query, bearer=bearer())
    assert response.status_code == 413
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_invalid_json_body_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_mutation_over_get_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.status_code == 405


async def test_query_over_get_works(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "{ viewer { username } }"},
        headers={"Authorization": f"Bearer {bearer()}"},
    )
    assert response.json()["data"] == {"viewer": {"username": "tester"}}


async def test_graphiql_is_served_in_development(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_query_stats_extension_counts_statements(client: httpx.AsyncClient) -> None:
    first = await gql(client, "{ viewer { id } }", bearer=bearer())
    # first sight: read role, insert profile, read role again; then the profile loader
    assert first["extensions"]["queries"]["count"] == 4
    again = await gql(client, "{ viewer { id } a: viewer { username } }", bearer=bearer())
    assert again["extensions"]["queries"]["count"] == 2  # role read + one batched load
    assert again["extensions"]["queries"]["ms"] > 0


async def test_internal_error_is_masked_with_request_id(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any]
) -> None:
    await gql(client, "{ viewer { id } }", bearer=bearer())
    await conn.execute("alter table profiles rename column avatar_url to avatar")
    response = await post(client, "{ viewer { avatarUrl } }", bearer=bearer())
    body = response.json()
    assert codes(body) == ["INTERNAL_SERVER_ERROR"]
    error = body["errors"][0]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "avatar_url" not in response.text
    assert "select" not in response.text.lower()


@pytest.mark.parametrize("settings", [{"statement_timeout_ms": 300}], indirect=True)
async def test_statement_timeout_is_internal_error(
    client: httpx.AsyncClient, conn: asyncpg.Connection[Any], db_url: str
) -> None:
    await gql(client, "{ viewer { id } }", bearer=bearer())
    locker = await asyncpg.connect(db_url)
    try:
        async with locker.transaction():
            await locker.execute("lock table profiles in access exclusive mode")
            task = asyncio.create_task(post(client, "{ viewer { id } }", bearer=bearer()))
            response = await asyncio.wait_for(task, timeout=30)
    finally:
        await locker.close()
    assert codes(response.json()) == ["INTERNAL_SERVER_ERROR"]
    assert "cancel" not in response.text.lower()


async def test_a_mutation_answers_with_its_consistency_token_and_a_bad_token_is_refused(
    client: httpx.AsyncClient,
) -> None:
    create = 'mutation { createProject(input: {name: "P"}) { project { id } } }'
    response = await post(client, create, bearer=bearer())
    token = response.headers["X-Vesper-Consistency"]
    assert response.json()["extensions"]["consistency"] == token
    # no replica here: the primary serves a token; a query answers with none
    read = await post(client, "{ viewer { id } }", bearer=bearer(), headers={CONSISTENCY: token})
    assert "errors" not in read.json()
    assert "X-Vesper-Consistency" not in read.headers
    assert "consistency" not in read.json()["extensions"]
    for bad in ("", "x", "0/0/0", "0/1FFFFFFFF"):
        refused = await post(
            client, "{ viewer { id } }", bearer=bearer(), headers={CONSISTENCY: bad}
        )
        assert refused.status_code in (200, 400)
        assert codes(refused.json()) == ["BAD_USER_INPUT"], bad
