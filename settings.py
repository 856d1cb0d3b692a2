"""Configuration: one frozen Settings read from the environment (names per API.md)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEV_JWT_SECRET = "vesper-development-secret-change-me-0123456789"
DEADLINE_MARGIN_MS = 1000  # how much longer than the statement timeout the server waits
# An origin as a browser sends it: scheme, host, optional port; no path, no wildcard.
_ORIGIN = re.compile(
    r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)


class ConfigError(Exception):
    """The environment does not describe a runnable server."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of at least 1 (a purge step of 0 generations, say, would leave the
    whole project to the cascades of its last step, in one transaction)."""
    value = _int(env, name, default)
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {env[name]!r}")
    return value


def asyncpg_url(url: str) -> str:
    """The URL asyncpg accepts: yoyo's `postgresql+psycopg://` scheme is not one of them."""
    for prefix in ("postgresql+psycopg://", "postgres+psycopg://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def yoyo_url(url: str) -> str:
    """The URL yoyo needs to pick its psycopg 3 backend (plain `postgresql://` means psycopg2)."""
    plain = asyncpg_url(url)
    for prefix in ("postgresql://", "postgres://"):
        if plain.startswith(prefix):
            return "postgresql+psycopg://" + plain[len(prefix) :]
    raise ConfigError("DATABASE_URL must start with postgresql://")


EXECUTIONS = ("compiled", "reference", "differential")


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = None
    env: str = "development"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_audience: str = "authenticated"
    query_stats: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = ROOT / ".pgdata"
    pool_min_size: int = 1
    pool_max_size: int = 10
    statement_timeout_ms: int = 5000
    request_timeout_ms: int | None = None  # a whole request; None: statement timeout + 2 s
    max_depth: int = 10
    max_aliases: int = 30
    max_fragment_spreads: int = 1000  # fragment spreads once fragments are spread in
    max_field_comparisons: int = 5000  # to prove that same-named fields merge
    max_json_depth: int = 32  # nesting of the request's JSON (variables included)
    max_tokens: int = 2000
    max_body_bytes: int = 100 * 1024
    max_page_size: int = 100
    max_node_ids: int = 100
    stats_source: str = "read_model"  # card figures: "read_model" (project_stats) or "live"
    log_format: str = "text"  # or "json": one JSON object per line
    log_level: str = "INFO"
    slow_statement_ms: float = 200.0  # statements at least this slow are logged
    # Deployment (API.md "Deployment: poolers, replicas, consistency")
    pool_mode: str = "session"  # or "transaction": behind PgBouncer / Supabase's pooler
    database_direct_url: str | None = None  # a real session, for migrations
    replica_urls: tuple[str, ...] = ()
    replica_max_lag_ms: int = 1000
    replica_check_ms: int = 250  # how often each replica's health and position are read
    # The front end's side (API.md "Cost limit", "Subscriptions", "CORS")
    max_nodes: int = 10_000  # estimated result size (connections multiply their page size)
    max_subscriptions_per_connection: int = 20
    max_subscriptions: int = 10_000  # per process
    cors_origins: tuple[str, ...] = ()  # exact origins a browser may call the API from
    # API.md "Persisted documents"
    trusted_documents: str | None = None  # the manifest's path
    only_trusted: bool = False  # refuse every document not in the manifest
    # How queries run: "compiled" (plans, schema/plans.py; the reference path for what they
    # do not cover), "reference" (graphql-core only), "differential" (both, compared: tests)
    execution: str = "compiled"
    # The job queue (jobs/): a worker in this process (`vesper serve`), rows per step (a
    # purge's generations, a settling session's published outputs), how long a running job
    # may go without a heartbeat before another worker takes it, and how often a failing job
    # is tried
    worker: bool = True
    job_batch: int = 1000
    job_heartbeat_s: float = 30.0
    job_attempts: int = 5  # a failing job's tries (backoff from 1 s) before it is held

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def transaction_pooled(self) -> bool:
        """Behind a transaction pooler: no session state, no statement reused."""
        return self.pool_mode == "transaction"

    @property
    def database_deadline(self) -> float:
        """Seconds the server waits for the database on its side, for one statement, one
        connection or one pooled connection: a little longer than the statement timeout,
        so that the database's own timeout normally answers first."""
        return (self.statement_timeout_ms + DEADLINE_MARGIN_MS) / 1000

    @property
    def request_deadline(self) -> float:
        """Seconds a GraphQL request may take in all before it is answered with an error."""
        if self.request_timeout_ms is not None:
            return self.request_timeout_ms / 1000
        return (self.statement_timeout_ms + 2 * DEADLINE_MARGIN_MS) / 1000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        mode = env.get("VESPER_ENV", "development") or "development"
        if mode not in {"development", "production"}:
            raise ConfigError(f"VESPER_ENV must be 'development' or 'production', got {mode!r}")
        secret = env.get("VESPER_JWT_SECRET") or ""
        if not secret:
            if mode == "production":
                raise ConfigError("VESPER_JWT_SECRET is required when VESPER_ENV=production")
            secret = DEV_JWT_SECRET
        stats_source = env.get("VESPER_STATS_SOURCE") or "read_model"
        if stats_source not in {"read_model", "live"}:
            raise ConfigError(
                f"VESPER_STATS_SOURCE must be 'read_model' or 'live', got {stats_source!r}"
            )
        log_format = env.get("VESPER_LOG_FORMAT") or "text"
        if log_format not in {"text", "json"}:
            raise ConfigError(f"VESPER_LOG_FORMAT must be 'text' or 'json', got {log_format!r}")
        log_level = (env.get("VESPER_LOG_LEVEL") or "INFO").upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(
                f"VESPER_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}"
            )
        pool_mode = env.get("VESPER_POOL_MODE") or "session"
        if pool_mode not in {"session", "transaction"}:
            raise ConfigError(
                f"VESPER_POOL_MODE must be 'session' or 'transaction', got {pool_mode!r}"
            )
        database_url = env.get("DATABASE_URL") or None
        direct_url = env.get("DATABASE_DIRECT_URL") or None
        replica_urls = tuple(
            url.strip()
            for url in (env.get("DATABASE_REPLICA_URLS") or "").split(",")
            if url.strip()
        )
        for url in (database_url, direct_url, *replica_urls):
            if url is not None:
                yoyo_url(url)  # validates the scheme early, with a clear message
        cors_origins = tuple(
            origin.strip()
            for origin in (env.get("VESPER_CORS_ORIGINS") or "").split(",")
            if origin.strip()
        )
        for origin in cors_origins:
            if not _ORIGIN.fullmatch(origin):
                raise ConfigError(
                    f"VESPER_CORS_ORIGINS takes exact origins such as https://app.example.com, "
                    f"got {origin!r}"
                )
        trusted_documents = env.get("VESPER_TRUSTED_DOCUMENTS") or None
        only_trusted = _flag(env.get("VESPER_ONLY_TRUSTED"), default=False)
        if only_trusted and trusted_documents is None:
            raise ConfigError("VESPER_ONLY_TRUSTED=1 needs VESPER_TRUSTED_DOCUMENTS (the manifest)")
        execution = env.get("VESPER_EXECUTION") or "compiled"
        if execution not in EXECUTIONS:
            raise ConfigError(
                f"VESPER_EXECUTION must be one of {', '.join(EXECUTIONS)}, got {execution!r}"
            )
        if replica_urls and database_url is None:
            raise ConfigError("DATABASE_REPLICA_URLS needs DATABASE_URL (the primary)")
        if database_url is None and mode == "production":
            raise ConfigError(
                "DATABASE_URL is required when VESPER_ENV=production "
                "(the embedded PostgreSQL is for development only)"
            )
        return cls(
            database_url=database_url,
            env=mode,
            jwt_secret=secret,
            jwt_audience=env.get("VESPER_JWT_AUDIENCE") or "authenticated",
            query_stats=_flag(env.get("VESPER_QUERY_STATS"), default=mode == "development"),
            host=env.get("VESPER_HOST") or "127.0.0.1",
            port=_int(env, "VESPER_PORT", 8000),
            data_dir=Path(env.get("VESPER_DATA_DIR") or ROOT / ".pgdata"),
            pool_min_size=_int(env, "VESPER_POOL_MIN", 1),
            pool_max_size=_int(env, "VESPER_POOL_MAX", 10),
            statement_timeout_ms=_int(env, "VESPER_STATEMENT_TIMEOUT_MS", 5000),
            request_timeout_ms=_int(env, "VESPER_REQUEST_TIMEOUT_MS", 0) or None,
            max_depth=_int(env, "VESPER_MAX_DEPTH", 10),
            max_aliases=_int(env, "VESPER_MAX_ALIASES", 30),
            max_fragment_spreads=_int(env, "VESPER_MAX_FRAGMENT_SPREADS", 1000),
            max_field_comparisons=_int(env, "VESPER_MAX_FIELD_COMPARISONS", 5000),
            max_json_depth=_int(env, "VESPER_MAX_JSON_DEPTH", 32),
            max_tokens=_int(env, "VESPER_MAX_TOKENS", 2000),
            max_body_bytes=_int(env, "VESPER_MAX_BODY_BYTES", 100 * 1024),
            stats_source=stats_source,
            log_format=log_format,
            log_level=log_level,
            slow_statement_ms=_int(env, "VESPER_SLOW_STATEMENT_MS", 200),
            pool_mode=pool_mode,
            database_direct_url=direct_url,
            replica_urls=replica_urls,
            replica_max_lag_ms=_int(env, "VESPER_REPLICA_MAX_LAG_MS", 1000),
            replica_check_ms=_int(env, "VESPER_REPLICA_CHECK_MS", 250),
            max_nodes=_int(env, "VESPER_MAX_NODES", 10_000),
            max_subscriptions_per_connection=_int(
                env, "VESPER_MAX_SUBSCRIPTIONS_PER_CONNECTION", 20
            ),
            max_subscriptions=_int(env, "VESPER_MAX_SUBSCRIPTIONS", 10_000),
            cors_origins=cors_origins,
            trusted_documents=trusted_documents,
            only_trusted=only_trusted,
            execution=execution,
            worker=_flag(env.get("VESPER_WORKER"), default=True),
            job_batch=_positive(env, "VESPER_JOB_BATCH", 1000),
            job_heartbeat_s=_positive(env, "VESPER_JOB_HEARTBEAT_S", 30),
            job_attempts=_positive(env, "VESPER_JOB_ATTEMPTS", 5),
        )


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at database `name` (query parameters such as host kept)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))
