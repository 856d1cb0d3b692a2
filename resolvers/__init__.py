"""Root-field behaviour: validation, permissions, transactions, error mapping."""
