"""The printed schema is the contract, published for clients as docs/schema.graphql: it
must equal the server's, and changes must be deliberate (`make schema`)."""

from __future__ import annotations

from graphql import GraphQLScalarType

from schema import build_schema
from settings import ROOT, Settings

PUBLISHED = ROOT / "docs" / "schema.graphql"


def test_the_published_schema_is_the_servers() -> None:
    printed = build_schema(Settings()).as_str() + "\n"
    assert printed == PUBLISHED.read_text(), "schema changed: review it, then run `make schema`"


def test_every_scalar_says_what_it_holds() -> None:
    schema = build_schema(Settings())._schema
    for name in ("DateTime", "JSON"):
        scalar = schema.get_type(name)
        assert isinstance(scalar, GraphQLScalarType)
        assert scalar.description, name
        assert scalar.specified_by_url, name


def test_production_schema_prints_the_same_types() -> None:
    assert build_schema(Settings(env="production")).as_str() == build_schema(Settings()).as_str()
