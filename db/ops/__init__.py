"""Database tooling, never on a request's path: migrations and adoption, the catalog diff,
the embedded server, the demo dataset and the statement report of `vesper db top`."""

from pathlib import Path

QUERIES = Path(__file__).resolve().parent / "queries"  # the tooling's named SQL blocks
