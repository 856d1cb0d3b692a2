"""The server's logs: the `vesper.*` loggers, as text lines or one JSON object per line.

uvicorn configures only its own loggers, so `uvicorn server:app` would otherwise drop our
INFO lines (the request log). `configure` gives the `vesper` logger one handler on
standard error; calling it again (every app a process builds) replaces that handler.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

LOGGER = "vesper"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# JSON records carry these plus whatever `extra=` a call passed (request_id, operation, ...).
JSON_FIELDS = ("asctime", "levelname", "name", "message")


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours, so that `configure` can find and replace it."""


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            list(JSON_FIELDS),
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    return logging.Formatter(TEXT_FORMAT)


def configure(*, log_format: str, level: str) -> None:
    """Sends `vesper.*` records at `level` and above to standard error in `log_format`."""
    logger = logging.getLogger(LOGGER)
    for old in [h for h in logger.handlers if isinstance(h, _Handler)]:
        logger.removeHandler(old)
    handler = _Handler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
