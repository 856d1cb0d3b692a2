"""Behaviour by noun (projects, members, sessions, generations, outputs, nodes): reads
through the loaders, writes in one transaction each, validation, permissions, errors."""
