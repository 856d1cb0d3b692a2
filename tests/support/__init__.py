"""What the tests share: factories on the db/ functions, GraphQL over HTTP, the mutation
world, the drift check."""
