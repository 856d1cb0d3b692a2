"""The printed schema is the contract: changes must be deliberate (`make schema`)."""

from __future__ import annotations

from schema import build_schema
from settings import ROOT, Settings

SNAPSHOT = ROOT / "tests" / "snapshots" / "schema.graphql"


def test_printed_schema_matches_snapshot() -> None:
    printed = build_schema(Settings()).as_str() + "\n"
    assert printed == SNAPSHOT.read_text(), "schema changed: review it, then run `make schema`"


def test_production_schema_prints_the_same_types() -> None:
    assert build_schema(Settings(env="production")).as_str() == build_schema(Settings()).as_str()
