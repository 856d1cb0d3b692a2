"""Persisted documents (API.md "Persisted documents"): documentId, Apollo's automatic
persisted queries, the trusted manifest and the trusted-only mode, over HTTP and WebSocket."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from schema.persisted import load_manifest
from server import create_app
from settings import ConfigError, Settings
from tests.support.graphql import codes, token
from tests.support.live import serving, ws_client

VIEWER = "query Me { viewer { id } }"
OTHER = "query Other { viewer { username } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({sha(VIEWER): VIEWER}))
    return path


Client = Callable[..., Any]


@pytest.fixture
def client_with(settings: Settings) -> Callable[..., Any]:
    @asynccontextmanager
    async def open_client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(dataclasses.replace(settings, **overrides))
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            headers = {"Authorization": f"Bearer {token('9d8f4d6e-1b2c-4c3d-8e9f-0a1b2c3d4e5f')}"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test", headers=headers
            ) as c:
                yield c

    return open_client


def apq(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_document_id_runs_a_trusted_document(client_with: Client, manifest: Path) -> None:
    async with client_with(trusted_documents=str(manifest)) as client:
        body = (await client.post("/graphql", json={"documentId": f"sha256:{sha(VIEWER)}"})).json()
        assert "errors" not in body, body
        assert body["data"]["viewer"]["id"]
        got = await client.get("/graphql", params={"documentId": f"sha256:{sha(VIEWER)}"})
        assert got.status_code == 200
        assert got.json()["data"] == body["data"]


async def test_unknown_document_id_is_persisted_query_not_found(
    client_with: Client, manifest: Path
) -> None:
    async with client_with(trusted_documents=str(manifest)) as client:
        response = await client.post(
            "/graphql",
            json={"documentId": f"sha256:{sha(OTHER)}"},
            headers={"Accept": GRAPHQL_RESPONSE},
        )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert codes(response.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert "data" not in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"documentId": "md5:abc"},
        {"documentId": "sha256:xyz"},
        {"documentId": 7},
        {"documentId": "sha256:" + "0" * 64, "query": VIEWER},
        {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "nope"}}},
    ],
)
async def test_malformed_persisted_requests_are_bad_user_input(
    client_with: Client, body: dict[str, Any]
) -> None:
    async with client_with() as client:
        response = await client.post("/graphql", json=body)
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_automatic_persisted_query_registers_then_runs_by_hash(client_with: Client) -> None:
    async with client_with() as client:
        first = await client.post("/graphql", json={"extensions": apq(sha(OTHER))})
        assert codes(first.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
        registered = await client.post(
            "/graphql", json={"query": OTHER, "extensions": apq(sha(OTHER))}
        )
        assert "errors" not in registered.json()
        by_hash = await client.post("/graphql", json={"extensions": apq(sha(OTHER))})
        assert by_hash.json()["data"] == registered.json()["data"]
        over_get = await client.get("/graphql", params={"extensions": json.dumps(apq(sha(OTHER)))})
        assert over_get.json()["data"] == registered.json()["data"]
        by_id = await client.post("/graphql", json={"documentId": f"sha256:{sha(OTHER)}"})
        assert by_id.json()["data"] == registered.json()["data"]


async def test_a_query_that_is_not_its_hash_is_persisted_query_mismatch(
    client_with: Client,
) -> None:
    async with client_with() as client:
        response = await client.post(
            "/graphql", json={"query": OTHER, "extensions": apq(sha(VIEWER))}
        )
        assert response.status_code == 400
        assert codes(response.json()) == ["PERSISTED_QUERY_MISMATCH"]
        never = await client.post("/graphql", json={"extensions": apq(sha(VIEWER))})
        assert codes(never.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_only_trusted_refuses_every_other_document(
    client_with: Client, manifest: Path
) -> None:
    async with client_with(trusted_documents=str(manifest), only_trusted=True) as client:
        for body in (
            {"query": OTHER},
            {"query": OTHER, "extensions": apq(sha(OTHER))},
        ):
            response = await client.post(
                "/graphql", json=body, headers={"Accept": GRAPHQL_RESPONSE}
            )
            assert response.status_code == 400
            assert codes(response.json()) == ["DOCUMENT_NOT_TRUSTED"]
        not_found = await client.post("/graphql", json={"extensions": apq(sha(OTHER))})
        assert codes(not_found.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert "register" not in not_found.json()["errors"][0]["message"]
        trusted: list[dict[str, Any]] = [
            {"query": VIEWER},
            {"documentId": f"sha256:{sha(VIEWER)}"},
            {"extensions": apq(sha(VIEWER))},
            {"query": VIEWER, "extensions": apq(sha(VIEWER))},
        ]
        for named in trusted:
            ok = (await client.post("/graphql", json=named)).json()
            assert "errors" not in ok, (named, ok)


async def test_only_trusted_refuses_an_ad_hoc_subscription(
    settings: Settings, manifest: Path
) -> None:
    trusted = dataclasses.replace(settings, trusted_documents=str(manifest), only_trusted=True)
    async with (
        serving(trusted) as url,
        ws_client(url, token("9d8f4d6e-1b2c-4c3d-8e9f-0a1b2c3d4e5f")) as client,
    ):
        op = await client.subscribe('subscription { generationUpdated(sessionId: "x") { id } }')
        refused = await client.next_of(op)
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("[]", "JSON object"),
        ("{", "cannot be read"),
        (json.dumps({"abc": VIEWER}), "not a SHA-256 hash"),
        (json.dumps({"0" * 64: VIEWER}), "not the SHA-256 of its document"),
        (json.dumps({sha("query {"): "query {"}), "does not parse"),
    ],
)
def test_a_bad_manifest_stops_the_server_from_starting(
    tmp_path: Path, content: str, why: str
) -> None:
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=why):
        load_manifest(str(path))


def test_manifest_keys_may_carry_the_sha256_prefix(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({f"sha256:{sha(VIEWER)}": VIEWER}))
    assert load_manifest(str(path)) == {sha(VIEWER): VIEWER}


def test_only_trusted_needs_a_manifest() -> None:
    with pytest.raises(ConfigError, match="VESPER_TRUSTED_DOCUMENTS"):
        Settings.from_env({"VESPER_ONLY_TRUSTED": "1"})
