"""What a request runs: the pool, transactions, named SQL blocks and one thin function per
block, typed rows (domain/) out. Knows nothing of GraphQL; tooling lives in db/ops/."""
