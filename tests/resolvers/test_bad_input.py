"""Bad input (API.md "Input limits"): the right error code, and not one row written.

Every case is sent by the project's owner, who may do everything, so that the input alone
is what is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from domain.vocabulary import NodeType
from resolvers import inputs
from resolvers.errors import BadUserInput
from resolvers.ids import encode
from tests.support import factories as f
from tests.support import writes as w
from tests.support.graphql import codes, post

BAD = "BAD_USER_INPUT"
Input = Callable[[w.World], dict[str, Any]]


def _project(**fields: Any) -> Input:
    return lambda x: {"id": x.project_id, **fields}


def _session(**fields: Any) -> Input:
    return lambda x: {"projectId": x.project_id, "name": "S", "type": "IMAGE", **fields}


def _generation(**fields: Any) -> Input:
    return lambda x: {
        "sessionId": x.public.ids()["session"], "modelId": "m", "prompt": "p", **fields
    }  # fmt: skip


def _completion(cost: Any = None, **output: Any) -> Input:
    def make(x: w.World) -> dict[str, Any]:
        made: dict[str, Any] = {"id": x.public.ids()["processing"], "outputs": [w.IMAGE | output]}
        if cost is not None:
            made["cost"] = cost
        return made

    return make


CASES: dict[str, tuple[str, Input, str]] = {
    "blank project name": (w.CREATE_PROJECT, lambda _: {"name": "  \t"}, BAD),
    "empty project name": (w.CREATE_PROJECT, lambda _: {"name": ""}, BAD),
    "201-character project name": (w.CREATE_PROJECT, lambda _: {"name": "x" * 201}, BAD),
    "NUL in a project name": (w.CREATE_PROJECT, lambda _: {"name": "a\x00b"}, BAD),
    "5,001-character description": (
        w.CREATE_PROJECT,
        lambda _: {"name": "P", "description": "d" * 5001},
        BAD,
    ),
    "null name on update": (w.UPDATE_PROJECT, _project(name=None), BAD),
    "null isShared on update": (w.UPDATE_PROJECT, _project(isShared=None), BAD),
    "ftp cover URL": (w.UPDATE_PROJECT, _project(coverImageUrl="ftp://cdn.example/c.png"), BAD),
    "relative cover URL": (w.UPDATE_PROJECT, _project(coverImageUrl="/c.png"), BAD),
    "javascript cover URL": (w.UPDATE_PROJECT, _project(coverImageUrl="javascript:alert(1)"), BAD),
    "2,049-character cover URL": (
        w.UPDATE_PROJECT,
        _project(coverImageUrl="https://cdn.example/" + "c" * 2029),
        BAD,
    ),
    "cover URL with a space": (
        w.UPDATE_PROJECT,
        _project(coverImageUrl="https://cdn.example/a b.png"),
        BAD,
    ),
    "malformed project id": (w.UPDATE_PROJECT, lambda _: {"id": "not-an-id", "name": "N"}, BAD),
    "a session id where a project id belongs": (
        w.DELETE_PROJECT,
        lambda x: {"id": x.public.ids()["session"]},
        BAD,
    ),
    "an integer id": (w.DELETE_PROJECT, lambda _: {"id": 12}, BAD),
    "an unknown project id": (
        w.DELETE_PROJECT,
        lambda _: {"id": encode(NodeType.PROJECT, uuid.uuid4())},
        "NOT_FOUND",
    ),
    "unknown member role": (
        w.ADD_MEMBER,
        lambda x: {"projectId": x.project_id, "userId": x.profile_id("outsider"), "role": "GOD"},
        BAD,
    ),
    "a project id where a profile id belongs": (
        w.ADD_MEMBER,
        lambda x: {"projectId": x.project_id, "userId": x.project_id, "role": "VIEWER"},
        BAD,
    ),
    "unknown session type": (w.CREATE_SESSION, _session(type="AUDIO"), BAD),
    "missing session type": (
        w.CREATE_SESSION,
        lambda x: {"projectId": x.project_id, "name": "S"},
        BAD,
    ),
    "blank session name": (w.CREATE_SESSION, _session(name=" "), BAD),
    "string for isPrivate": (w.CREATE_SESSION, _session(isPrivate="yes"), BAD),
    "10,001-character prompt": (w.CREATE_GENERATION, _generation(prompt="p" * 10_001), BAD),
    "10,001-character negative prompt": (
        w.CREATE_GENERATION,
        _generation(negativePrompt="n" * 10_001),
        BAD,
    ),
    "blank model id": (w.CREATE_GENERATION, _generation(modelId=""), BAD),
    "parameters that are a list": (w.CREATE_GENERATION, _generation(parameters=[1, 2]), BAD),
    "parameters that are a string": (w.CREATE_GENERATION, _generation(parameters="{}"), BAD),
    "parameters over 64 KB": (
        w.CREATE_GENERATION,
        _generation(parameters={"log": "x" * 65_536}),
        BAD,
    ),
    "NUL inside parameters": (w.CREATE_GENERATION, _generation(parameters={"a": "\x00"}), BAD),
    "NUL in a parameters key": (w.CREATE_GENERATION, _generation(parameters={"\x00": 1}), BAD),
    "NUL in a description": (
        w.CREATE_PROJECT,
        lambda _: {"name": "P", "description": "a\x00"},
        BAD,
    ),
    "NUL in a session name": (w.CREATE_SESSION, _session(name="S\x00"), BAD),
    "NUL in a prompt": (w.CREATE_GENERATION, _generation(prompt="p\x00"), BAD),
    "NUL in a negative prompt": (w.CREATE_GENERATION, _generation(negativePrompt="\x00"), BAD),
    "NUL in a model id": (w.CREATE_GENERATION, _generation(modelId="m\x00"), BAD),
    "NUL in an output URL": (
        w.COMPLETE_GENERATION,
        _completion(fileUrl="https://cdn.example/a\x00.png"),
        BAD,
    ),
    "NUL in a cost": (w.COMPLETE_GENERATION, _completion(cost="0.1\x00"), BAD),
    "a generation id where a session id belongs": (
        w.CREATE_GENERATION,
        lambda x: {"sessionId": x.public.ids()["processing"], "modelId": "m", "prompt": "p"},
        BAD,
    ),
    "width 0": (w.COMPLETE_GENERATION, _completion(width=0), BAD),
    "height 16,385": (w.COMPLETE_GENERATION, _completion(height=16_385), BAD),
    "width beyond Int": (w.COMPLETE_GENERATION, _completion(width=2**40), BAD),
    "negative duration": (w.COMPLETE_GENERATION, _completion(duration=-0.5), BAD),
    "unknown file type": (w.COMPLETE_GENERATION, _completion(fileType="GIF"), BAD),
    "output URL without a host": (w.COMPLETE_GENERATION, _completion(fileUrl="https:///x"), BAD),
    "negative cost": (w.COMPLETE_GENERATION, _completion(cost="-0.01"), BAD),
    "cost with 7 decimals": (w.COMPLETE_GENERATION, _completion(cost="0.0000001"), BAD),
    "cost of 10,000": (w.COMPLETE_GENERATION, _completion(cost="10000"), BAD),
    "cost that is not a number": (w.COMPLETE_GENERATION, _completion(cost="cheap"), BAD),
    "cost as exponent": (w.COMPLETE_GENERATION, _completion(cost="1e2"), BAD),
    "101 outputs": (
        w.COMPLETE_GENERATION,
        lambda x: {"id": x.public.ids()["processing"], "outputs": [w.IMAGE] * 101},
        BAD,
    ),
    "completing a completed generation": (
        w.COMPLETE_GENERATION,
        lambda x: {"id": x.public.ids()["completed"], "outputs": [w.IMAGE]},
        BAD,
    ),
    "failing a completed generation": (
        w.FAIL_GENERATION,
        lambda x: {"id": x.public.ids()["completed"]},
        BAD,
    ),
    "null isStarred": (
        w.UPDATE_OUTPUT,
        lambda x: {"id": x.public.ids()["output"], "isStarred": None},
        BAD,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_bad_input_is_refused_and_writes_nothing(
    name: str, client: httpx.AsyncClient, conn: f.Conn
) -> None:
    document, make, code = CASES[name]
    world = await w.build_world(conn)
    before = await w.digest(conn)
    body = await w.mutate(client, document, {"input": make(world)}, world.bearer["owner"])
    assert codes(body) == [code], body
    assert await w.digest(conn) == before


async def test_a_one_megabyte_string_is_refused_before_execution(
    client: httpx.AsyncClient, conn: f.Conn
) -> None:
    world = await w.build_world(conn)
    before = await w.digest(conn)
    response = await post(
        client, w.CREATE_PROJECT, {"input": {"name": "x" * 1_000_000}},
        bearer=world.bearer["owner"],
    )  # fmt: skip
    assert response.status_code == 413
    assert codes(response.json()) == [BAD]
    assert await w.digest(conn) == before


async def test_an_unknown_enum_literal_in_the_document_fails_validation(
    client: httpx.AsyncClient, conn: f.Conn
) -> None:
    world = await w.build_world(conn)
    document = """
    mutation($p: ID!) { createSession(input: {projectId: $p, name: "S", type: AUDIO}) {
      session { id } } }"""
    response = await post(client, document, {"p": world.project_id}, bearer=world.bearer["owner"])
    assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize(
    ("literal", "why"),
    [
        ("{a: 1e999}", "numbers must be finite"),
        ("{a: -1e999}", "numbers must be finite"),
        ("{a: [1, {b: " + "9" * 400 + "}]}", "integers must fit in 64 bits"),
        ("{a: " + "9" * 5000 + "}", "numbers must be finite"),  # too long for an int: a float
        ("{seed: 1180591620717411303424}", "integers must fit in 64 bits"),  # 2**70
    ],
)
async def test_parameters_in_the_document_must_be_finite_and_fit_64_bits(
    client: httpx.AsyncClient, conn: f.Conn, literal: str, why: str
) -> None:
    world = await w.build_world(conn)
    before = await w.digest(conn)
    document = f"""mutation($s: ID!) {{ createGeneration(input: {{sessionId: $s, modelId: "m",
      prompt: "p", parameters: {literal}}}) {{ generation {{ id }} }} }}"""
    session = world.public.ids()["session"]
    body = (await post(client, document, {"s": session}, bearer=world.bearer["owner"])).json()
    assert codes(body) == [BAD]
    assert why in body["errors"][0]["message"]
    assert await w.digest(conn) == before


@pytest.mark.parametrize("value", ["x\ud800y", "\udfff", "a\x00b"])
def test_text_that_postgresql_cannot_store_is_refused_before_the_database(value: str) -> None:
    # Lone surrogates cannot arrive through JSON or a document literal (both are refused
    # earlier); every text input is checked anyway, whatever transport brings it.
    with pytest.raises(BadUserInput, match="NUL characters or lone surrogates"):
        inputs.text("name", value, limit=100)
    with pytest.raises(BadUserInput, match="NUL characters or lone surrogates"):
        inputs.parameters("parameters", {"k": [value]})


async def test_mutations_need_a_token(client: httpx.AsyncClient, conn: f.Conn) -> None:
    before = await w.digest(conn)
    response = await post(client, w.CREATE_PROJECT, {"input": {"name": "P"}})
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    assert await w.digest(conn) == before
