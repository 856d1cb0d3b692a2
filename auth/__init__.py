"""Bearer token -> Viewer. Knows nothing of GraphQL."""
