"""Named SQL blocks (aiosql style) read from `<folder>/<name>.sql` (the request path's are in
`db/queries/`; tooling keeps its own folders beside its code).

A file is a sequence of blocks, each opened by a `-- name: <identifier>` line. The comment
lines right after the header document the block and are dropped, as are comment lines
after the statement (they head what follows); the rest is the statement. Parsing is
strict so that a typo fails at import time, not at the first request: an unknown header,
a duplicate name, an empty block or SQL outside any block is a ValueError.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent / "queries"

_HEADER = re.compile(r"^--\s*name\s*:(?P<name>.*)$")


def _is_comment_or_blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("--")


def _statement(name: str, lines: list[str], source: str) -> str:
    body = list(lines)
    while body and _is_comment_or_blank(body[0]):  # the block's description
        body.pop(0)
    while body and _is_comment_or_blank(body[-1]):  # a heading of what follows
        body.pop()
    sql = "\n".join(body).strip()
    if not sql:
        raise ValueError(f"{source}: block {name!r} has no SQL")
    return sql


def parse_queries(text: str, *, source: str = "<string>") -> dict[str, str]:
    """Split `text` into `{name: sql}` in file order.

    Raises:
        ValueError: a malformed or duplicate name, an empty block, SQL before the first
            `-- name:` line, or no block at all. The message names `source` and the line.
    """
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line.strip())
        if header is None:
            if current is None:
                if not _is_comment_or_blank(line):
                    raise ValueError(f"{source}:{number}: SQL outside a `-- name:` block")
                continue
            current.append(line)
            continue
        name = header["name"].strip()
        if not name.isidentifier():
            raise ValueError(f"{source}:{number}: {name!r} is not a valid query name")
        if name in blocks:
            raise ValueError(f"{source}:{number}: duplicate query name {name!r}")
        current = blocks[name] = []
    if not blocks:
        raise ValueError(f"{source}: no `-- name:` blocks")
    return {name: _statement(name, lines, source) for name, lines in blocks.items()}


@functools.cache
def load_queries(name: str, folder: Path = QUERIES_DIR) -> dict[str, str]:
    """The named blocks of `<folder>/<name>.sql` (`db/queries/` by default), parsed once per
    process.

    The returned dict is shared between callers (cached): treat it as read-only.

    Raises:
        ValueError: `name` is not a plain file stem, or the file is malformed.
        FileNotFoundError: there is no such file.
    """
    if not name.isidentifier():
        raise ValueError(f"{name!r} is not a query file name")
    path = folder / f"{name}.sql"
    return parse_queries(path.read_text(encoding="utf-8"), source=str(path))


@functools.cache
def named_blocks() -> dict[str, str]:
    """Every request-path block's statement -> its `file.block` name (read-only, cached)."""
    return {
        sql: f"{path.stem}.{name}"
        for path in sorted(QUERIES_DIR.glob("*.sql"))
        for name, sql in load_queries(path.stem).items()
    }


def block_name(sql: str) -> str | None:
    """`file.block` of the named block whose statement is exactly `sql`, else None."""
    return named_blocks().get(sql)
