"""Benchmark tooling: the data seeder (and, later, EXPLAIN checks and the load benchmark)."""
