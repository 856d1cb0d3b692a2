"""Production mode: no GraphiQL, no introspection, no field suggestions, no debug extensions."""

from __future__ import annotations

import uuid

import httpx
import pytest

from settings import ConfigError, Settings
from tests.support.graphql import codes, post, token
from web import graphiql

SECRET = "a-production-secret-that-is-long-enough"
PRODUCTION = {"env": "production", "jwt_secret": SECRET, "query_stats": False}


def test_production_refuses_to_start_without_jwt_secret() -> None:
    with pytest.raises(ConfigError, match="VESPER_JWT_SECRET"):
        Settings.from_env({"VESPER_ENV": "production", "DATABASE_URL": "postgresql://db/x"})


def test_production_refuses_to_start_without_a_database_url() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL is required when VESPER_ENV=production"):
        Settings.from_env({"VESPER_ENV": "production", "VESPER_JWT_SECRET": SECRET})


def test_environment_is_read_with_api_names() -> None:
    settings = Settings.from_env(
        {
            "VESPER_ENV": "production",
            "VESPER_JWT_SECRET": SECRET,
            "VESPER_JWT_AUDIENCE": "studio",
            "VESPER_PORT": "9001",
            "DATABASE_URL": "postgresql+psycopg://u@db/x",
        }
    )
    assert (settings.production, settings.jwt_audience, settings.port) == (True, "studio", 9001)
    assert settings.query_stats is False
    assert Settings.from_env(
        {"VESPER_QUERY_STATS": "1", "VESPER_ENV": "production", "VESPER_JWT_SECRET": SECRET,
         "DATABASE_URL": "postgresql://db/x"}
    ).query_stats  # fmt: skip


def test_deployment_variables_are_read_with_api_names() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgres://u@pooler:6543/x",
            "DATABASE_DIRECT_URL": "postgresql://u@db:5432/x",
            "DATABASE_REPLICA_URLS": " postgresql://u@r1/x, postgresql+psycopg://u@r2/x ,",
            "VESPER_POOL_MODE": "transaction",
            "VESPER_REPLICA_MAX_LAG_MS": "250",
        }
    )
    assert settings.transaction_pooled
    assert settings.database_direct_url == "postgresql://u@db:5432/x"
    assert settings.replica_urls == ("postgresql://u@r1/x", "postgresql+psycopg://u@r2/x")
    assert settings.replica_max_lag_ms == 250
    assert Settings.from_env({}).pool_mode == "session"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VESPER_POOL_MODE": "statement"}, "VESPER_POOL_MODE must be"),
        ({"DATABASE_REPLICA_URLS": "postgresql://r/x"}, "needs DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://db/x", "DATABASE_REPLICA_URLS": "mysql://r/x"}, "must"),
        ({"VESPER_JOB_BATCH": "0"}, "VESPER_JOB_BATCH must be at least 1, got '0'"),
        ({"VESPER_JOB_HEARTBEAT_S": "-5"}, "VESPER_JOB_HEARTBEAT_S must be at least 1"),
        ({"VESPER_JOB_ATTEMPTS": "0"}, "VESPER_JOB_ATTEMPTS must be at least 1"),
        ({"VESPER_JOB_ATTEMPTS": "many"}, "VESPER_JOB_ATTEMPTS must be a whole number"),
    ],
)
def test_bad_deployment_variables_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="VESPER_ENV"):
        Settings.from_env({"VESPER_ENV": "staging"})


@pytest.mark.parametrize("settings", [PRODUCTION], indirect=True)
async def test_graphiql_is_off_in_production(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 404


@pytest.mark.parametrize("settings", [PRODUCTION], indirect=True)
async def test_graphiql_assets_are_not_served_in_production(client: httpx.AsyncClient) -> None:
    for path in graphiql.manifest():
        assert (await client.get(f"/graphiql/{path}")).status_code == 404, path


@pytest.mark.parametrize("settings", [PRODUCTION], indirect=True)
async def test_introspection_is_off_in_production(client: httpx.AsyncClient) -> None:
    bearer = token(uuid.uuid4(), secret=SECRET)
    body = (await post(client, "{ __schema { types { name } } }", bearer=bearer)).json()
    assert set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "data" not in body


# Each document misspells a schema name; graphql-core would suggest the right one.
MISSPELLED = {
    "field": ("{ viewer { usernam } }", None, "username"),
    "argument": ("{ projects(frist: 1) { edges { cursor } } }", None, "first"),
    "enum value": ("{ projects(scope: OWNE) { edges { cursor } } }", None, "OWNED"),
    "type": (
        "query($s: ProjectScop) { projects(scope: $s) { edges { cursor } } }",
        None,
        "'ProjectScope'",
    ),
    "input field": (
        'mutation { createProject(input: {name: "P", isShare: true}) { project { id } } }',
        None,
        "isShared",
    ),
    "enum value in a variable": (
        "query($s: ProjectScope) { projects(scope: $s) { edges { cursor } } }",
        {"s": "OWNE"},
        "OWNED",
    ),
    "input field in a variable": (
        "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }",
        {"i": {"name": "P", "isShare": True}},
        "isShared",
    ),
}


@pytest.mark.parametrize("settings", [PRODUCTION], indirect=True)
@pytest.mark.parametrize("kind", list(MISSPELLED))
async def test_no_suggestion_reveals_a_schema_name_in_production(
    client: httpx.AsyncClient, kind: str
) -> None:
    document, variables, name = MISSPELLED[kind]
    bearer = token(uuid.uuid4(), secret=SECRET)
    body = (await post(client, document, variables, bearer=bearer)).json()
    assert codes(body), body
    for error in body["errors"]:
        assert "Did you mean" not in error["message"]
        assert name not in error["message"], error["message"]


@pytest.mark.parametrize("kind", list(MISSPELLED))
async def test_development_keeps_the_suggestions(client: httpx.AsyncClient, kind: str) -> None:
    document, variables, name = MISSPELLED[kind]
    body = (await post(client, document, variables, bearer=token(uuid.uuid4()))).json()
    assert any(name in error["message"] for error in body["errors"]), body


@pytest.mark.parametrize("settings", [PRODUCTION], indirect=True)
async def test_no_debug_extensions_in_production(client: httpx.AsyncClient) -> None:
    bearer = token(uuid.uuid4(), secret=SECRET)
    body = (await post(client, "{ viewer { id } }", bearer=bearer)).json()
    assert "extensions" not in body
    assert "errors" not in body


@pytest.mark.parametrize("settings", [PRODUCTION], indirect=True)
async def test_development_secret_is_rejected_in_production(client: httpx.AsyncClient) -> None:
    body = (await post(client, "{ viewer { id } }", bearer=token(uuid.uuid4()))).json()
    assert codes(body) == ["UNAUTHENTICATED"]
