"""A bounded fuzz run: random documents built from the printed schema (fields, aliases,
fragments, directives, arguments and variables of every type, right and wrong), mangled
documents and random bytes — never an INTERNAL_SERVER_ERROR, never a 5xx.

The run is seeded (`FUZZ_SEED`, else random and printed on failure) and bounded in time.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

import httpx
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)

from schema import build_schema
from settings import Settings
from tests.support import writes as w
from tests.support.factories import Conn
from tests.support.graphql import codes

SECONDS = 4.0
WEIRD_STRINGS = [
    "",
    " ",
    "x" * 300,
    "\\u0000",
    "\\\\",
    "\\ud83d\\ude00",
    "é😀",
    "<script>",
    "'; DROP TABLE projects; --",
    "https://cdn.example/a.png",
    "0.039",
    "-1",
    "1e2",
    "null",
]
WEIRD_NUMBERS = ["0", "-1", "1", "20", "100", "101", "2147483648", "-2147483649", "1.5", "1e3",
                 "99999999999999999999999", "1e999"]  # fmt: skip


class Fuzzer:
    def __init__(self, rng: random.Random, schema: GraphQLSchema, ids: list[str]) -> None:
        self.rng, self.schema, self.ids = rng, schema, ids
        self.variables: dict[str, tuple[str, Any]] = {}

    def literal(self, type_: Any, depth: int = 0) -> str:
        rng = self.rng
        if rng.random() < 0.02:  # the wrong kind of value
            return rng.choice(["null", "1", '"x"', "[1]", "{a: 1}", "TRUE", "true"])
        if isinstance(type_, GraphQLNonNull):
            return self.literal(type_.of_type, depth)
        if isinstance(type_, GraphQLList):
            items = [self.literal(type_.of_type, depth + 1) for _ in range(rng.randint(0, 3))]
            return "[" + ", ".join(items) + "]"
        if isinstance(type_, GraphQLEnumType):
            values: list[str] = [*type_.values, *type_.values, "NOPE"]
            return rng.choice(values)
        if isinstance(type_, GraphQLInputObjectType):
            if depth > 3:
                return "{}"
            fields = [
                f"{name}: {self.literal(field.type, depth + 1)}"
                for name, field in type_.fields.items()
                if isinstance(field.type, GraphQLNonNull) or rng.random() < 0.6
            ]
            return "{" + ", ".join(fields) + "}"
        name = type_.name if isinstance(type_, GraphQLScalarType) else ""
        if name == "ID":
            return json.dumps(rng.choice(self.ids))
        if name in ("Int", "Float"):
            return rng.choice(WEIRD_NUMBERS) if rng.random() < 0.2 else str(rng.randint(0, 30))
        if name == "Boolean":
            return rng.choice(["true", "false"])
        if name == "JSON":
            return rng.choice(["{}", '{a: "b"}', "{a: [1, 2.5, null]}", "{a: 1e999}", '"s"'])
        return '"' + rng.choice(WEIRD_STRINGS) + '"'

    def argument(self, name: str, type_: Any) -> str:
        if self.rng.random() < 0.3:  # through a variable, sometimes of the wrong type
            var = f"v{len(self.variables)}"
            declared = str(type_) if self.rng.random() < 0.95 else "String"
            self.variables[var] = (declared, self.json_value(type_))
            return f"{name}: ${var}"
        return f"{name}: {self.literal(type_)}"

    def json_value(self, type_: Any, depth: int = 0) -> Any:
        rng = self.rng
        named = get_named_type(type_)
        if rng.random() < 0.02 or depth > 3:
            return rng.choice([None, 1, "x", [], {}, True, 2**63 - 1])
        if isinstance(type_, GraphQLNonNull):
            return self.json_value(type_.of_type, depth)
        if isinstance(type_, GraphQLList):
            return [self.json_value(type_.of_type, depth + 1) for _ in range(rng.randint(0, 3))]
        if isinstance(named, GraphQLEnumType):
            return rng.choice([*named.values, "NOPE"])
        if isinstance(named, GraphQLInputObjectType):
            return {k: self.json_value(f.type, depth + 1) for k, f in named.fields.items()}
        if named.name == "ID":
            return rng.choice(self.ids)
        if named.name in ("Int", "Float"):
            return rng.choice([0, -1, 5, 101, 2**31, -(2**31) - 1, 1.5, 1e300])
        if named.name == "Boolean":
            return rng.choice([True, False])
        if named.name == "JSON":
            return rng.choice([{}, {"a": [1, "\u0000"]}, "s", [1], {"k": {"n": None}}])
        return rng.choice(["", "x" * 300, "a\u0000b", "é😀", "https://cdn.example/a.png"])

    def selection(self, type_: Any, depth: int) -> str:
        rng = self.rng
        named = get_named_type(type_)
        if isinstance(named, GraphQLUnionType | GraphQLInterfaceType):
            possible = self.schema.get_possible_types(named)
            parts = ["__typename"]
            for concrete in rng.sample(list(possible), k=min(2, len(possible))):
                parts.append(f"... on {concrete.name} {{ {self.selection(concrete, depth + 1)} }}")
            return " ".join(parts)
        if not isinstance(named, GraphQLObjectType):
            return ""
        names = list(named.fields)
        chosen = rng.sample(names, k=rng.randint(1, min(4, len(names))))
        parts = []
        for name in chosen:
            field = named.fields[name]
            alias = f"a{len(parts)}: " if rng.random() < 0.2 else ""
            args = [
                self.argument(arg, spec.type)
                for arg, spec in field.args.items()
                if isinstance(spec.type, GraphQLNonNull) or rng.random() < 0.5
            ]
            call = f"{name}({', '.join(args)})" if args else name
            directive = rng.choice(["", "", "", " @skip(if: false)", " @include(if: true)"])
            inner = get_named_type(field.type)
            if isinstance(inner, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
                if depth > 4:
                    continue
                parts.append(f"{alias}{call}{directive} {{ {self.selection(inner, depth + 1)} }}")
            else:
                parts.append(f"{alias}{call}{directive}")
        return " ".join(parts) or "__typename"

    def request(self) -> dict[str, Any]:
        self.variables = {}
        rng = self.rng
        mutation = rng.random() < 0.3
        root = self.schema.mutation_type if mutation else self.schema.query_type
        assert root is not None
        body = self.selection(root, 0)
        declared = ", ".join(f"${name}: {kind}" for name, (kind, _) in self.variables.items())
        head = ("mutation" if mutation else "query") + (f"({declared})" if declared else "")
        document = f"{head} {{ {body} }}"
        variables = {name: value for name, (_, value) in self.variables.items()}
        if rng.random() < 0.1:  # mangled: cut, doubled or with a character replaced
            cut = rng.randrange(len(document))
            document = rng.choice(
                [document[:cut], document + document, document[:cut] + "}{$@!" + document[cut:]]
            )
        return {"query": document, "variables": variables}


def _random_bytes(rng: random.Random) -> bytes:
    return rng.choice(
        [
            bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200))),
            b'{"query": ' + bytes(rng.getrandbits(8) for _ in range(40)) + b"}",
            b'{"query": "{ __typename }", "variables": ' + rng.choice([b"[]", b"1", b'"x"']) + b"}",
            b'{"query": 1, "operationName": {}}',
            b"[]",
        ]
    )


async def test_random_requests_never_meet_an_internal_error(
    client: httpx.AsyncClient, conn: Conn
) -> None:
    seed = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    world = await w.build_world(conn)
    ids = [*world.public.ids().values(), world.project_id, "garbage", "UHJvamVjdDp4"]
    fuzzer = Fuzzer(rng, build_schema(Settings())._schema, ids)
    bearers = [*world.bearer.values(), "not.a.token", None]
    sent, failures = 0, []
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        bearer = rng.choice(bearers)
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        if rng.random() < 0.1:
            headers["Content-Type"] = "application/json"
            request: Any = _random_bytes(rng)
            response = await client.post("/graphql", content=request, headers=headers)
        else:
            request = fuzzer.request()
            response = await client.post("/graphql", json=request, headers=headers)
        sent += 1
        found = codes(response.json()) if response.status_code < 500 else ["HTTP 5xx"]
        if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in found:
            failures.append((request, response.status_code, response.text[:300]))
    assert sent > 50, sent
    assert not failures, f"FUZZ_SEED={seed}: {len(failures)} of {sent}, first: {failures[0]}"
