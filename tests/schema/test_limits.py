"""Query limits (schema/limits.py): depth, aliases and fragment spreads are measured with
each fragment once, so no small document can make validation slow; the counts equal those
of expanding every spread."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from schema.limits import Measure, Size
from tests.support.graphql import codes, gql, post, token

BEARER = token(uuid.uuid4(), email="limits@example.com")


def fan_out(levels: int) -> str:
    """Each fragment spreads the one below it twice: 2**levels fields once spread in."""
    lines = [f"query Q {{ ...F{levels} }}", "fragment F0 on Query { __typename }"]
    lines += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    return "\n".join(lines)


@pytest.mark.parametrize("levels", [18, 30, 100])
async def test_a_fragment_fan_out_is_refused_without_expanding_it(
    client: httpx.AsyncClient, levels: int
) -> None:
    started = time.perf_counter()
    body = (await post(client, fan_out(levels), bearer=BEARER)).json()
    seconds = time.perf_counter() - started
    assert set(codes(body)) == {"QUERY_TOO_COMPLEX"}
    messages = [error["message"] for error in body["errors"]]
    assert any(
        "fragment spreads once fragments are spread in. Allowed: 1000" in m for m in messages
    )
    # Expanding the spreads would take minutes at 30 levels; measured cost is milliseconds
    # (see the README). The bound only separates linear from exponential.
    assert seconds < 2, seconds


async def test_liveness_stays_fast_while_fan_outs_arrive(client: httpx.AsyncClient) -> None:
    document, sent = fan_out(100), 0

    async def attacker() -> None:
        nonlocal sent
        while sent < 40:
            sent += 1
            await post(client, document, bearer=BEARER)

    attackers = asyncio.gather(*(attacker() for _ in range(4)))
    latencies = []
    while not attackers.done():
        started = time.perf_counter()
        await asyncio.sleep(0)  # the attackers run until they wait: a slow step shows here
        assert (await client.get("/healthz")).status_code == 200
        latencies.append(time.perf_counter() - started)
    await attackers
    assert latencies
    assert max(latencies) < 1, max(latencies)


async def test_fragments_used_within_the_limits_run(client: httpx.AsyncClient) -> None:
    document = "\n".join(
        [
            "query Q { ...F3 }",
            "fragment F0 on Query { viewer { username } }",
            *(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 4)),
        ]
    )
    body = await gql(client, document, bearer=BEARER)
    assert body["data"] == {"viewer": {"username": "limits"}}


async def test_aliases_are_counted_through_every_spread(client: httpx.AsyncClient) -> None:
    # 4 aliases in a fragment spread 8 times: 32 > 30, though the text holds 4.
    document = "\n".join(
        [
            "query Q { ...F3 }",
            "fragment F0 on Query { a: viewer { id } b: viewer { id } c: viewer { id } "
            "d: viewer { id } }",
            *(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 4)),
        ]
    )
    body = (await post(client, document, bearer=BEARER)).json()
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["message"] == "32 aliases found. Allowed: 30"


@pytest.mark.parametrize("settings", [{"max_depth": 2}], indirect=True)
async def test_depth_is_measured_through_fragments(client: httpx.AsyncClient) -> None:
    deep = """query Deep { projects { ...Edges } }
    fragment Edges on ProjectConnection { edges { node { owner { id } } } }"""
    body = (await post(client, deep, bearer=BEARER)).json()
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["message"] == "'Deep' exceeds maximum operation depth of 2"
    shallow = (
        "query { projects { ...Edges } } fragment Edges on ProjectConnection { edges { cursor } }"
    )
    await gql(client, shallow, bearer=BEARER)


async def test_a_fragment_cycle_is_a_validation_error_not_a_hang(
    client: httpx.AsyncClient,
) -> None:
    document = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    body = (await post(client, document, bearer=BEARER)).json()
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Cannot spread fragment" in body["errors"][0]["message"]


async def test_many_copies_of_one_field_are_refused_before_they_are_compared(
    client: httpx.AsyncClient,
) -> None:
    # graphql-core proves that same-named fields merge by comparing them pair by pair,
    # each pair with what lies below: 400 copies take about a second and a half.
    started = time.perf_counter()
    body = (await post(client, "{ " + "viewer { id } " * 400 + "}", bearer=BEARER)).json()
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["message"] == (
        "239,400 field comparisons to merge fields that share a name. Allowed: 5000"
    )
    assert time.perf_counter() - started < 1


async def test_colocated_fragments_repeating_their_fields_run(client: httpx.AsyncClient) -> None:
    # Relay-style: fifteen components' fragments on one type, each with `id` and `username`.
    spreads = " ".join(f"...C{i}" for i in range(15))
    fragments = " ".join(f"fragment C{i} on Profile {{ id username }}" for i in range(15))
    body = await gql(client, f"{{ viewer {{ {spreads} }} }} {fragments}", bearer=BEARER)
    assert body["data"]["viewer"]["username"] == "limits"


HOSTILE_SHAPES = {
    "many directives": "{ __typename " + "@skip(if: false) " * 300 + "}",
    "many variables": "query(" + " ".join(f"$v{i}: Int" for i in range(600)) + ") { __typename }",
    "nested input lists": "{ projects(first: "
    + "[" * 400
    + "1"
    + "]" * 400
    + ") { edges { cursor } } }",
    "nested input objects": "{ projects(first: "
    + "{a: " * 300
    + "1"
    + "}" * 300
    + ") { edges { cursor } } }",
    "a huge integer": "{ projects(first: " + "9" * 5000 + ") { edges { cursor } } }",
    "a huge float": "{ projects(first: 1e999) { edges { cursor } } }",
    "many aliases of one field": "{ " + " ".join(f"a{i}: __typename" for i in range(600)) + " }",
}


@pytest.mark.parametrize("shape", HOSTILE_SHAPES)
async def test_other_hostile_shapes_get_a_coded_answer_at_once(
    client: httpx.AsyncClient, shape: str
) -> None:
    started = time.perf_counter()
    response = await post(client, HOSTILE_SHAPES[shape], bearer=BEARER)
    seconds = time.perf_counter() - started
    assert response.status_code == 200
    found = codes(response.json())
    assert found, response.text
    assert set(found) <= {"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "QUERY_TOO_COMPLEX"}
    assert seconds < 2, seconds


# --- the measure equals the expansion -------------------------------------------------------


def _flattened(node: Any, fragments: dict[str, FragmentDefinitionNode]) -> tuple[list[Any], int]:
    """The fields of a selection set with every fragment spread in, and the spreads met."""
    fields, spreads = [], 0
    for selection in node.selections if node else ():
        if isinstance(selection, FieldNode):
            fields.append(selection)
        else:
            if isinstance(selection, FragmentSpreadNode):
                spreads += 1
                inner = fragments[selection.name.value].selection_set
            else:
                inner = selection.selection_set
            more, deeper = _flattened(inner, fragments)
            fields, spreads = fields + more, spreads + deeper
    return fields, spreads


def _expanded(node: Any, fragments: dict[str, FragmentDefinitionNode]) -> Size:
    """The size found by spreading every fragment where it is used (exponential; small
    documents only): the reference the one-pass measure must equal."""
    fields, spreads = _flattened(node, fragments)
    total = Size(0, 0, spreads)
    groups, below = Counter[str](), Counter[str]()
    for field in fields:
        name = (field.alias or field.name).value
        alias = 1 if field.alias else 0
        if field.selection_set is None or field.name.value.startswith("__"):
            size = Size(0, alias, 0, 1)
        else:
            inner = _expanded(field.selection_set, fragments)
            size = Size(inner.depth + 1, inner.aliases + alias, inner.spreads, inner.fields + 1,
                        inner.comparisons)  # fmt: skip
        total += size
        groups[name] += 1
        below[name] += size.fields - 1
    compared = sum(n * (n - 1) // 2 + (n - 1) * below[name] for name, n in groups.items())
    return total + Size(0, 0, 0, 0, compared)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Random acyclic fragment graphs: fragment i spreads only fragments below i."""
    count = draw(st.integers(1, 6))
    bodies = []
    for i in range(count):
        parts = []
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(["field", "alias", "nested", "spread", "inline"]))
            if kind == "spread" and i > 0:
                parts.append(f"...F{draw(st.integers(0, i - 1))}")
            elif kind == "alias":
                parts.append(f"a{draw(st.integers(0, 9))}: id")
            elif kind == "nested":
                parts.append(f"n{draw(st.integers(0, 9))}: owner {{ id x: id }}")
            elif kind == "inline":
                parts.append("... on Project { name }")
            else:
                parts.append("name")
        bodies.append(f"fragment F{i} on Project {{ {' '.join(parts)} }}")
    operation = f"query {{ project(id: 1) {{ ...F{count - 1} }} }}"
    return "\n".join([operation, *bodies])


@given(documents())
@examples(max_examples=60, deadline=None)
def test_the_one_pass_measure_equals_expanding_every_spread(document: str) -> None:
    parsed = parse(document)
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    assert isinstance(operation.selection_set, SelectionSetNode)
    measured = Measure(fragments).selection_set(operation.selection_set)
    assert measured == _expanded(operation.selection_set, fragments)
