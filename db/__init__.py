"""All SQL lives here: the pool, named queries and typed wrappers. Knows nothing of GraphQL."""
