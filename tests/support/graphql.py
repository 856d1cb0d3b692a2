"""Helpers for tests that speak GraphQL over HTTP to the app."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from auth import tokens
from settings import DEV_JWT_SECRET


def token(
    subject: uuid.UUID | str,
    *,
    email: str | None = None,
    full_name: str | None = None,
    secret: str = DEV_JWT_SECRET,
    **kwargs: Any,
) -> str:
    return tokens.issue(
        uuid.UUID(str(subject)), secret=secret, email=email, full_name=full_name, **kwargs
    )


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    bearer: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    all_headers = dict(headers or {})
    if bearer is not None:
        all_headers["Authorization"] = f"Bearer {bearer}"
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return await client.post("/graphql", json=body, headers=all_headers)


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    bearer: str | None = None,
) -> dict[str, Any]:
    """The response body of a query that must succeed (no errors)."""
    response = await post(client, query, variables, bearer=bearer)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def statements(body: dict[str, Any]) -> int:
    """How many SQL statements the request ran (`extensions.queries.count`)."""
    count: int = body["extensions"]["queries"]["count"]
    return count
