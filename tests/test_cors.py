"""CORS for a browser front end on another origin (API.md "CORS"): only the listed exact
origins get CORS headers; the API's own headers are allowed and exposed."""

from __future__ import annotations

import httpx
import pytest

from settings import ConfigError, Settings

APP = "https://app.example.com"
LISTED = pytest.mark.parametrize(
    "settings", [{"cors_origins": (APP, "http://localhost:5173")}], indirect=True
)


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-vesper-consistency",
    }


@LISTED
async def test_preflight_from_a_listed_origin_allows_the_api_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options("/graphql", headers=preflight(APP))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP
    assert response.headers["access-control-allow-credentials"] == "true"
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "content-type", "x-request-id", "x-vesper-consistency"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]


@LISTED
async def test_response_to_a_listed_origin_exposes_request_id_and_consistency(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP
    assert response.headers["vary"].lower().count("origin") == 1
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert exposed == {"x-request-id", "x-vesper-consistency"}


@LISTED
@pytest.mark.parametrize("origin", ["https://evil.example.com", "https://app.example.com.evil.io"])
async def test_an_unlisted_origin_gets_no_cors_headers(
    client: httpx.AsyncClient, origin: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": origin}
    )
    assert not [h for h in response.headers if h.startswith("access-control-")]
    refused = await client.options("/graphql", headers=preflight(origin))
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


async def test_no_origin_is_allowed_by_default(client: httpx.AsyncClient) -> None:
    response = await client.options("/graphql", headers=preflight(APP))
    assert "access-control-allow-origin" not in response.headers
    posted = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP}
    )
    assert not [h for h in posted.headers if h.startswith("access-control-")]


@pytest.mark.parametrize("value", ["*", "https://app.example.com/", "app.example.com"])
def test_cors_origins_must_be_exact_origins(value: str) -> None:
    with pytest.raises(ConfigError, match="VESPER_CORS_ORIGINS"):
        Settings.from_env({"VESPER_CORS_ORIGINS": value})


def test_cors_origins_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"VESPER_CORS_ORIGINS": f" {APP} , http://localhost:5173"})
    assert settings.cors_origins == (APP, "http://localhost:5173")
