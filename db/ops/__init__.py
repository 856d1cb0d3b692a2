"""Database tooling, never on a request's path: migrations and adoption, the catalog diff,
the embedded server, the demo dataset, the statement report of `vesper db top`, and the
deployment parts the suite and the benchmark start (PgBouncer, a PostgreSQL of one's own,
streaming replicas: parts.py)."""

from pathlib import Path

QUERIES = Path(__file__).resolve().parent / "queries"  # the tooling's named SQL blocks
