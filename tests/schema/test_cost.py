"""The cost limit (schema/cost.py, API.md "Cost limit"): the estimated result size of a
query — connections multiply by their page size, `nodes(ids:)` by its ids — refused above
`VESPER_MAX_NODES` before any resolver runs, and reported as `extensions.cost` in
development."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from graphql import parse

from schema import build_schema
from schema.cost import estimate
from settings import Settings
from tests.support.graphql import codes, gql, post, statements, token

SCHEMA = build_schema(Settings())._schema
BEARER = token(uuid.uuid4(), email="cost@example.com")
GRAPHQL_RESPONSE = "application/graphql-response+json"

# API.md's example: 1 + 100 + 100 (projects) + 100 + 10^4 + 10^4 (sessions) + 10^4 + 10^6
# + 10^6 (generations) + 20 * 10^6 (their outputs, a list counted as 20).
EVERYTHING = """{ projects(first: 100) { edges { node {
  sessions(first: 100) { edges { node {
    generations(first: 100) { edges { node { outputs { id } } } }
  } } }
} } } }"""
EVERYTHING_NODES = 22_030_301
PAGE = "query Page($n: Int) { projects(first: $n) { edges { cursor } } }"  # 1 + n
TOO_DEEP = EVERYTHING.replace("outputs { id }", "outputs { generation { id } }")  # 11 deep


def cost(document: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    return estimate(SCHEMA, parse(document), variables, name)


# --- the estimate -----------------------------------------------------------------------


def test_a_connection_counts_itself_each_edge_each_node_and_its_page_info() -> None:
    document = "{ projects(first: 100) { edges { node { id } } pageInfo { hasNextPage } } }"
    assert cost(document) == 1 + 100 + 100 + 1


@pytest.mark.parametrize(
    ("arguments", "nodes"),
    [("", 1 + 20), ("(first: 7)", 1 + 7), ("(last: 5)", 1 + 5), ("(first: 0)", 1),
     ("(first: 3, last: 9)", 1 + 9), ("(first: -4)", 1), ("(first: null)", 1 + 20)],
)  # fmt: skip
def test_the_page_size_is_first_or_last_and_20_without_them(arguments: str, nodes: int) -> None:
    assert cost(f"{{ projects{arguments} {{ edges {{ cursor }} }} }}") == nodes


@pytest.mark.parametrize(
    ("variables", "nodes"),
    [({"n": 7}, 1 + 7), ({}, 1 + 20), ({"n": None}, 1 + 20), (None, 1 + 20),
     ({"n": "seven"}, 1 + 20), ({"n": 2**40}, 1 + 20), ({"n": 7.0}, 1 + 7)],
)  # fmt: skip
def test_page_sizes_in_variables_are_read_and_a_missing_one_is_the_default(
    variables: dict[str, Any] | None, nodes: int
) -> None:
    # A value that is not an Int counts as not given: variable coercion refuses it.
    assert cost(PAGE, variables) == nodes


def test_a_variable_left_out_takes_its_default_in_the_operation() -> None:
    document = "query($n: Int = 50) { projects(first: $n) { edges { cursor } } }"
    assert cost(document) == 1 + 50
    assert cost(document, {"n": 3}) == 1 + 3
    assert cost(document, {"n": None}) == 1 + 20  # an explicit null is null, not the default


def test_nested_connections_multiply() -> None:
    document = """{ projects(first: 10) { edges { node {
      sessions(first: 5) { edges { node { generations { edges { node { id } } } } } }
    } } } }"""
    # projects 1 + 10 + 10, sessions 10 + 50 + 50, generations 50 + 1000 + 1000
    assert cost(document) == 21 + 110 + 2050


def test_the_api_example_is_about_twenty_two_million_nodes() -> None:
    assert cost(EVERYTHING) == EVERYTHING_NODES


def test_nodes_counts_its_ids_literal_or_variable() -> None:
    document = "{ nodes(ids: [1, 2, 3]) { id ... on Project { owner { id } } } }"
    assert cost(document) == 3 * (1 + 1)
    by_variable = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert cost(by_variable, {"ids": ["a"] * 40}) == 40
    assert cost(by_variable, {"ids": "a"}) == 1  # one id is a list of one
    assert cost("{ node(id: 1) { id } }") == 1


def test_lists_that_are_not_connections_count_20() -> None:
    members = "{ project(id: 1) { members { user { id } } } }"
    assert cost(members) == 1 + 20 + 20
    outputs = "{ node(id: 1) { ... on Generation { outputs { id } } } }"
    assert cost(outputs) == 1 + 20


def test_an_aliased_copy_counts_again() -> None:
    one = "{ projects(first: 10) { edges { cursor } } }"
    two = "{ a: projects(first: 10) { edges { cursor } } b: " + one[2:]
    assert cost(two) == 2 * cost(one) == 22


def test_a_fragment_on_a_connection_counts_by_the_page_of_each_connection_it_is_in() -> None:
    document = """query { a: projects { ...Page } b: projects(last: 5) { ...Page } }
    fragment Page on ProjectConnection {
      edges { node { owner { id } } } pageInfo { endCursor }
    }"""
    assert cost(document) == (1 + 20 * 3 + 1) + (1 + 5 * 3 + 1)


def test_fragments_and_inline_fragments_count_as_if_written_in_place() -> None:
    spread = """{ projects(first: 4) { edges { node { ...Card } } } }
    fragment Card on Project { owner { id } ... on Project { sessions(first: 2) { ...S } } }
    fragment S on SessionConnection { edges { node { project { id } } } }"""
    inline = """{ projects(first: 4) { edges { node {
      owner { id } sessions(first: 2) { edges { node { project { id } } } }
    } } } }"""
    assert cost(spread) == cost(inline) == 1 + 4 + 4 + 4 + 4 * (1 + 2 + 2 + 2)


def test_variables_reach_inside_fragments() -> None:
    document = """query($n: Int) { projects(first: 2) { edges { node { ...Card } } } }
    fragment Card on Project { sessions(first: $n) { edges { cursor } } }"""
    assert cost(document, {"n": 10}) == 1 + 2 + 2 + 2 * (1 + 10)
    assert cost(document, {"n": 1}) == 1 + 2 + 2 + 2 * (1 + 1)


def test_a_fragment_fan_out_is_estimated_without_expanding_it() -> None:
    def fan_out(levels: int) -> str:
        lines = [f"query {{ ...F{levels} }}", "fragment F0 on Query { viewer { id } }"]
        lines += [
            f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)
        ]
        return "\n".join(lines)

    assert cost(fan_out(10)) == 2**10
    started = time.perf_counter()
    assert cost(fan_out(200)) == 10**9  # saturated
    assert time.perf_counter() - started < 0.5


def test_fields_left_out_by_skip_or_include_do_not_count() -> None:
    document = """query($with: Boolean!) {
      a: projects(first: 10) @include(if: $with) { edges { cursor } }
      b: projects(first: 10) @skip(if: true) { edges { cursor } }
      ... on Query @include(if: false) { c: projects(first: 10) { edges { cursor } } }
      viewer { id }
    }"""
    assert cost(document, {"with": True}) == 11 + 1
    assert cost(document, {"with": False}) == 1


def test_introspection_counts_nothing() -> None:
    assert cost("{ __schema { types { name fields { name type { name } } } } __typename }") == 0


def test_only_the_operation_that_runs_counts() -> None:
    document = "query A { viewer { id } } query B { projects { edges { cursor } } }"
    assert cost(document, None, "A") == 1
    assert cost(document, None, "B") == 21


def test_a_mutation_counts_what_its_payload_selects() -> None:
    document = """mutation { createProject(input: {name: "x"}) {
      project { sessions(first: 3) { edges { cursor } } } } }"""
    assert cost(document) == 1 + 1 + 1 + 3


def test_a_null_list_of_ids_counts_nothing() -> None:
    assert cost("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": None}) == 0


def test_a_document_validation_refuses_is_estimated_without_failing() -> None:
    # The estimate runs after validation; these only prove it does not trip over them.
    assert cost("{ nope { id } viewer @unknown { ...Missing } }") == 1
    assert cost("{ viewer { id { x { y } } } }") == 2  # as if `id` returned an object
    cycle = "query { ...A } fragment A on Query { ...B viewer { id } } fragment B on Query { ...A }"
    assert cost(cycle) == 1
    assert cost("query A { viewer { id } }", None, "B") == 0


async def test_a_request_without_the_server_context_is_estimated_and_refused() -> None:
    schema = build_schema(Settings(max_nodes=10))
    result = await schema.execute(EVERYTHING)
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "QUERY_TOO_COMPLEX"}
    assert result.data is None


# --- over HTTP ----------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [{"max_nodes": 100}], indirect=True)
async def test_a_query_at_the_limit_runs_and_one_node_more_is_refused(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(client, PAGE, {"n": 99}, bearer=BEARER)
    assert body["extensions"]["cost"] == 100
    refused = (await post(client, PAGE, {"n": 100}, bearer=BEARER)).json()
    assert codes(refused) == ["QUERY_TOO_COMPLEX"]
    assert refused["errors"][0]["message"] == (
        "the query may return about 101 nodes; the limit is 100"
    )
    assert "data" not in refused
    assert refused["extensions"]["cost"] == 101  # a refusal reports its estimate too


@pytest.mark.parametrize(("media", "status"), [("application/json", 200), (GRAPHQL_RESPONSE, 400)])
async def test_the_api_example_is_refused_like_any_request_over_a_limit(
    client: httpx.AsyncClient, media: str, status: int
) -> None:
    response = await post(client, EVERYTHING, bearer=BEARER, headers={"Accept": media})
    assert response.status_code == status
    body = response.json()
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["message"] == (
        "the query may return about 22,030,301 nodes; the limit is 10,000"
    )
    assert "data" not in body


async def test_a_refused_query_runs_no_more_sql_than_a_depth_refusal(
    client: httpx.AsyncClient,
) -> None:
    await gql(client, "{ viewer { id } }", bearer=BEARER)  # the profile exists from now on
    depth = (await post(client, TOO_DEEP, bearer=BEARER)).json()
    assert depth["errors"][0]["message"] == "'anonymous' exceeds maximum operation depth of 10"
    costly = (await post(client, EVERYTHING, bearer=BEARER)).json()
    assert codes(costly) == ["QUERY_TOO_COMPLEX"]
    # The viewer's role, read when the token is authenticated; no resolver ran.
    assert statements(costly) == statements(depth) == 1


@pytest.mark.parametrize("settings", [{"max_nodes": 1}], indirect=True)
async def test_introspection_is_not_refused_by_the_cost_limit(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ __schema { types { name fields { name } } } }")
    assert body["extensions"]["cost"] == 0


async def test_every_executed_response_reports_its_cost_in_development(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(client, "{ viewer { id } projects(first: 5) { edges { cursor } } }",
                     bearer=BEARER)  # fmt: skip
    assert body["extensions"]["cost"] == 1 + 6


PRODUCTION = {"env": "production", "query_stats": True}


@pytest.mark.parametrize("settings", [PRODUCTION], indirect=True)
async def test_production_refuses_over_the_limit_but_reports_no_cost(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(client, "{ viewer { id } }", bearer=BEARER)
    assert "cost" not in body["extensions"]
    assert "queries" in body["extensions"]  # the statistics are asked for; the cost is not
    refused = (await post(client, EVERYTHING, bearer=BEARER)).json()
    assert codes(refused) == ["QUERY_TOO_COMPLEX"]
    assert "cost" not in refused["extensions"]
