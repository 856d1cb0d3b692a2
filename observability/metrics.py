"""Prometheus metrics: what `GET /metrics` exposes.

One uvicorn worker: the process's default registry. Several workers: set
`PROMETHEUS_MULTIPROC_DIR` to an empty directory before they start (prometheus-client's
multiprocess mode); every worker then writes its values there and a scrape, whichever
worker answers it, adds up all of them. The pool gauges are `livesum` (the sum over the
workers alive: a worker that stops cleanly removes its values).
"""

from __future__ import annotations

import os
import re
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Milliseconds matter here: a projects page is a few ms end to end, a statement well under 1.
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
_SQL_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5)

REQUEST_SECONDS = Histogram(
    "vesper_request_duration_seconds",
    "GraphQL request latency, from the first byte read to the response, by operation name "
    "and outcome (ok: no errors; error: the response carries errors).",
    ["operation", "outcome"],
    buckets=_REQUEST_BUCKETS,
)
REQUEST_STATEMENTS = Histogram(
    "vesper_request_statements",
    "SQL statements per GraphQL request (the same count as extensions.queries.count).",
    ["operation"],
    buckets=(1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50),
)
SQL_SECONDS = Histogram(
    "vesper_sql_statement_duration_seconds",
    "SQL statement latency by named SQL block (file.block; transaction control and "
    "unnamed statements are grouped).",
    ["block"],
    buckets=_SQL_BUCKETS,
)
LOADER_BATCH = Histogram(
    "vesper_dataloader_batch_size",
    "Keys per DataLoader batch (one SQL statement each), by loader.",
    ["loader"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
EXECUTIONS = Counter(
    "vesper_graphql_executions_total",
    "GraphQL requests executed, by path: a compiled plan, or graphql-core (what plans do "
    "not cover, and every mutation)",
    ["path"],
)
ERRORS = Counter(
    "vesper_graphql_errors",
    "GraphQL errors sent to clients, by extensions.code.",
    ["code"],
)
POOL_SIZE = Gauge(
    "vesper_db_pool_size",
    "Open connections in the database pool.",
    multiprocess_mode="livesum",
)
POOL_IN_USE = Gauge(
    "vesper_db_pool_in_use",
    "Pool connections checked out by a request.",
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS = Gauge(
    "vesper_subscriptions",
    "Subscriptions open on WebSocket connections.",
    multiprocess_mode="livesum",
)
EVENTS_DELIVERED = Counter(
    "vesper_subscription_events",
    "Events handed to subscriptions (one per subscription that may see the event).",
)
EVENTS_LISTENING = Gauge(
    "vesper_events_listening",
    "1 while the process's LISTEN connection is up (0: reconnecting, or subscriptions off).",
    multiprocess_mode="livesum",
)

# Operation names come from clients: a name is a label only when it looks like a GraphQL
# name, and only the first MAX_OPERATIONS distinct names of a process get their own series.
MAX_OPERATIONS = 200
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    if name is None or not _NAME.match(name):
        return "anonymous"
    if name not in _operations:
        if len(_operations) >= MAX_OPERATIONS:
            return "other"
        _operations.add(name)
    return name


def observe_pool(pool: Any) -> None:
    """Sets the pool gauges from an asyncpg pool."""
    size = pool.get_size()
    POOL_SIZE.set(size)
    POOL_IN_USE.set(size - pool.get_idle_size())


def observe_subscriptions(subscriptions: int, listening: bool) -> None:
    SUBSCRIPTIONS.set(subscriptions)
    EVENTS_LISTENING.set(1 if listening else 0)


class EventMetrics:
    """The subscription hub's reports as metrics (db.events.Watcher)."""

    def delivered(self, count: int) -> None:
        EVENTS_DELIVERED.inc(count)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus text format, with their content type."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def worker_stopped() -> None:
    """A worker that stops cleanly takes its live gauges out of the multiprocess sum."""
    if os.environ.get(MULTIPROCESS_ENV):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


DATABASE_REQUESTS = Counter(
    "vesper_database_requests",
    "GraphQL requests by the database that served them (primary or replica).",
    ["role"],
)
REPLICA_FALLBACKS = Counter(
    "vesper_replica_fallbacks",
    "Queries the primary served although replicas are configured, by why: unhealthy (no "
    "replica healthy), behind_token (none has replayed the client's consistency token), "
    "failed (the replica failed under the request).",
    ["reason"],
)
REPLICA_LAG = Gauge(
    "vesper_replica_lag_seconds",
    "Replay lag of each replica at the last health check (-1: unreachable or unknown).",
    ["replica"],
    multiprocess_mode="max",
)


class TopologyMetrics:
    """The topology's reports as metrics (db.topology.Watcher)."""

    def served(self, role: str) -> None:
        DATABASE_REQUESTS.labels(role).inc()

    def fell_back(self, reason: str) -> None:
        REPLICA_FALLBACKS.labels(reason).inc()

    def lag(self, replica: str, seconds: float | None) -> None:
        REPLICA_LAG.labels(replica).set(-1 if seconds is None else seconds)


# The job queue (jobs/, db/jobs.py): the depth and the oldest job's age are read from the
# queue's table when /metrics is scraped (every worker's jobs, wherever it runs); the steps
# are this process's worker's.
JOBS_WAITING = Gauge(
    "vesper_jobs_waiting",
    "Jobs of the job queue waiting or running (every worker's).",
    multiprocess_mode="max",
)
JOB_OLDEST = Gauge(
    "vesper_jobs_oldest_age_seconds",
    "Age of the oldest job waiting or running (0: none).",
    multiprocess_mode="max",
)
JOB_STEPS = Counter(
    "vesper_job_steps",
    "Bounded steps (each its own transaction) the worker of this process finished, by kind.",
    ["kind"],
)


def observe_jobs(waiting: int, oldest_s: float) -> None:
    JOBS_WAITING.set(waiting)
    JOB_OLDEST.set(oldest_s)
