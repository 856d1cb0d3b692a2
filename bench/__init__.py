"""Benchmark tooling: the data seeder, the EXPLAIN check and the load benchmark."""
