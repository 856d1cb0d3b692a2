"""Database failures a caller can act on, raised in place of the driver's exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

# What a failure to reach the database looks like: it refused or dropped the connection,
# shut down or restarted, ran out of connections, cancelled the statement (timeout), or
# did not answer within the client-side deadline. (asyncpg's InternalClientError: a
# connection the server dropped while the pool handed it out, caught mid-state.)
UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
)


# The connection itself is gone (the server shut down, restarted or crashed, the network
# dropped): the pool's other idle connections are likely gone too. Not a statement the
# database cancelled (the timeout), after which the connection is fine.
CONNECTION_LOST = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
)


class ReferenceGone(Exception):
    """A write referred to a row that does not exist (or was deleted meanwhile)."""


@contextmanager
def reference_gone() -> Iterator[None]:
    """Turns a foreign-key violation of the statements inside into `ReferenceGone`."""
    try:
        yield
    except asyncpg.ForeignKeyViolationError as exc:
        raise ReferenceGone(exc.table_name or "row") from None
