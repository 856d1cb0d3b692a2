"""Benchmark tooling: the data seeder, the EXPLAIN check and the load benchmark."""

from pathlib import Path

QUERIES = Path(__file__).resolve().parent / "queries"  # seed, benchmark and EXPLAIN blocks
