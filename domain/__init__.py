"""The studio's vocabulary and records, below every layer: no SQL, no GraphQL, no I/O."""
