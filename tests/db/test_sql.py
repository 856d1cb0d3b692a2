"""db/sql.py: named SQL blocks are parsed strictly, and every block prepares on the schema."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import asyncpg
import pytest

import bench
from db.ops import QUERIES as OPS_QUERIES
from db.sql import QUERIES_DIR, load_queries, parse_queries

# Every folder of named blocks: the request path's, the tooling's, the benchmark's.
FOLDERS = (QUERIES_DIR, OPS_QUERIES, bench.QUERIES)
QUERY_FILES = [(folder, path.stem) for folder in FOLDERS for path in sorted(folder.glob("*.sql"))]

TWO_BLOCKS = """\
-- A file header comment is allowed before the first block.

-- name: first_one
-- Describes the first block; dropped from the SQL.
-- (a description may span lines)
select 1
-- a comment inside the statement is kept
from profiles;

--name:second_one
select $1::int
"""


def test_blocks_are_split_in_file_order_without_their_description() -> None:
    queries = parse_queries(TWO_BLOCKS)

    assert list(queries) == ["first_one", "second_one"]
    assert queries["first_one"] == (
        "select 1\n-- a comment inside the statement is kept\nfrom profiles;"
    )
    assert queries["second_one"] == "select $1::int"


def test_comments_after_a_statement_head_what_follows_and_are_dropped() -> None:
    text = "-- name: one\nselect 1\n-- inside\nfrom t\n\n-- Writes.\n\n-- name: two\nselect 2\n"

    assert parse_queries(text)["one"] == "select 1\n-- inside\nfrom t"


def test_duplicate_name_is_rejected_with_its_line() -> None:
    text = "-- name: twice\nselect 1\n-- name: twice\nselect 2\n"

    with pytest.raises(ValueError, match=r"q\.sql:3: duplicate query name 'twice'"):
        parse_queries(text, source="q.sql")


def test_block_with_only_a_description_is_rejected() -> None:
    text = "-- name: empty\n-- nothing to run\n\n-- name: full\nselect 1\n"

    with pytest.raises(ValueError, match="block 'empty' has no SQL"):
        parse_queries(text)


def test_last_block_empty_is_rejected() -> None:
    with pytest.raises(ValueError, match="block 'tail' has no SQL"):
        parse_queries("-- name: head\nselect 1\n-- name: tail\n   \n")


def test_sql_before_the_first_block_is_rejected() -> None:
    with pytest.raises(ValueError, match=r":1: SQL outside a `-- name:` block"):
        parse_queries("select 1\n-- name: later\nselect 2\n")


@pytest.mark.parametrize(
    "header", ["-- name: get-user", "-- name: insert!", "-- name:", "-- name: a b"]
)
def test_name_must_be_an_identifier(header: str) -> None:
    with pytest.raises(ValueError, match="is not a valid query name"):
        parse_queries(f"{header}\nselect 1\n")


@pytest.mark.parametrize("text", ["", "-- only a comment\n\n"])
def test_file_without_blocks_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="no `-- name:` blocks"):
        parse_queries(text)


def test_load_queries_reads_the_file_once() -> None:
    assert load_queries("projects") is load_queries("projects")
    assert "insert_profiles" in load_queries("demo", OPS_QUERIES)


@pytest.mark.parametrize("name", ["../demo", "demo.sql", "queries/demo", ""])
def test_load_queries_accepts_only_a_plain_file_stem(name: str) -> None:
    with pytest.raises(ValueError, match="is not a query file name"):
        load_queries(name)


def test_load_queries_of_a_missing_file_fails() -> None:
    with pytest.raises(FileNotFoundError):
        load_queries("no_such_queries")


@pytest.mark.parametrize(("folder", "name"), QUERY_FILES, ids=[n for _, n in QUERY_FILES])
async def test_every_block_prepares_on_the_migrated_schema(
    conn: asyncpg.Connection[Any], folder: Path, name: str
) -> None:
    queries = load_queries(name, folder)
    if name == "observability":  # reads pg_stat_statements, which `vesper db top` requires
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    for block, sql in queries.items():
        try:
            await conn.prepare(sql)
        except asyncpg.PostgresError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{name}.sql block {block!r} does not prepare: {exc}")


# Every keyset page statement of the request path, as (file, page) for `<page>_forward`.
PAGES = sorted(
    (path.stem, name.removesuffix("_forward"))
    for path in QUERIES_DIR.glob("*.sql")
    for name in load_queries(path.stem)
    if name.endswith("_forward")
)


def test_every_page_statement_walks_both_ways() -> None:
    backward = sorted(
        (path.stem, name.removesuffix("_backward"))
        for path in QUERIES_DIR.glob("*.sql")
        for name in load_queries(path.stem)
        if name.endswith("_backward")
    )
    assert backward == PAGES != []


@pytest.mark.parametrize(("stem", "page"), PAGES, ids=[page for _, page in PAGES])
def test_a_backward_page_is_its_forward_twin_with_the_order_reversed(stem: str, page: str) -> None:
    """The backward statement may differ from the forward one only in its ORDER BY
    directions (the bounds stay the same: the caller reverses the rows)."""
    queries = load_queries(stem)
    forward, backward = queries[f"{page}_forward"], queries[f"{page}_backward"]
    assert re.search(r"\bDESC\b", forward)
    assert not re.search(r"\bDESC\b", backward)
    # A function called per direction is named after it (vesper_gallery_settling_*).
    reversed_ = re.sub(r"\s+DESC\b", "", forward).replace("_forward(", "_backward(")
    assert backward == reversed_
