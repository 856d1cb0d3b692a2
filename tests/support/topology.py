"""Real topology parts for tests: the tooling's (db/ops/parts.py) — a PgBouncer in front of a
server, a PostgreSQL of a test module's own (a primary) and streaming replicas of it — with
what is the suite's own: a missing pgbouncer fails the test in one line, saying how CI gets it.

    with OwnPrimary() as primary, Replica(primary, apply_delay_ms=2000) as replica: ...
    with PgBouncer(server_url) as pooler: asyncpg.connect(pooler.url(name), statement_cache_size=0)
"""

from __future__ import annotations

from typing import Any

import pytest

from db.ops import parts
from db.ops.parts import OwnPrimary, Replica, TopologyError, free_port, through_pooler

__all__ = ["OwnPrimary", "PgBouncer", "Replica", "TopologyError", "free_port", "through_pooler"]


class PgBouncer(parts.PgBouncer):
    """`db.ops.parts.PgBouncer`; when pgbouncer is not installed, the test fails in one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except parts.PgBouncerMissing as exc:
            pytest.fail(f"{exc}; .ci/run installs it", pytrace=False)
