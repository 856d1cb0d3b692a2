"""What every GraphQL request leaves behind: one log line and its metrics."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .metrics import ERRORS, REQUEST_SECONDS, REQUEST_STATEMENTS, observe_pool, operation_label
from .querystats import QueryStats

log = logging.getLogger("vesper.request")


def finish(
    stats: QueryStats,
    *,
    operation: str | None,
    codes: Sequence[str],
    status: int,
    seconds: float,
    pool: Any,
) -> None:
    """Records a finished request. `operation` is the name the client sent, used when
    execution never learned one (a request refused before parsing); `codes` are the
    `extensions.code` of every error in the response."""
    name = operation_label(stats.operation or operation)
    outcome = "error" if codes else "ok"
    REQUEST_SECONDS.labels(name, outcome).observe(seconds)
    REQUEST_STATEMENTS.labels(name).observe(stats.count)
    for code in codes:
        ERRORS.labels(code).inc()
    observe_pool(pool)
    if log.isEnabledFor(logging.INFO):
        ms, sql_ms = round(seconds * 1000, 3), round(stats.seconds * 1000, 3)
        log.info(
            "%s %s %d in %.1f ms, %d statements (%.1f ms SQL) [request %s]",
            name,
            outcome,
            status,
            ms,
            stats.count,
            sql_ms,
            stats.request_id,
            extra={
                "request_id": stats.request_id,
                "operation": name,
                "outcome": outcome,
                "status": status,
                "ms": ms,
                "statements": stats.count,
                "sql_ms": sql_ms,
                "codes": list(codes),
            },
        )
