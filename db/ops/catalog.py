"""The schema catalog of the baseline objects, and how two catalogs differ.

Used to prove the baseline migration reproduces production and to check, before adopting an
existing database, that it really has the schema the baseline would create and nothing in
the way of the indexes the later migrations build. Names of the described schema are
stripped from every definition so catalogs of two schemas compare.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import asyncpg

BASELINE_TABLES = (
    "profiles",
    "projects",
    "project_members",
    "sessions",
    "generations",
    "generation_jobs",
    "outputs",
)

# Columns in physical order; a table with no columns still yields one row (column NULL).
_COLUMNS = """
SELECT c.relname AS table_name,
       a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS column_type,
       a.attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS default_expr
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute AS a
       ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relname = any($2::text[]) AND c.relkind IN ('r', 'p')
ORDER BY c.relname, a.attnum
"""

# contype 'n' (NOT NULL as a constraint, PostgreSQL 18+) is left out: columns carry it.
_CONSTRAINTS = """
SELECT c.relname AS table_name,
       con.conname AS constraint_name,
       con.contype::text AS constraint_type,
       pg_get_constraintdef(con.oid) AS definition
FROM pg_catalog.pg_constraint AS con
JOIN pg_catalog.pg_class AS c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = any($2::text[]) AND con.contype <> 'n'
ORDER BY c.relname, con.conname
"""

_INDEXES = """
SELECT c.relname AS table_name,
       i.relname AS index_name,
       pg_get_indexdef(x.indexrelid) AS definition,
       x.indisvalid AS valid
FROM pg_catalog.pg_index AS x
JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class AS c ON c.oid = x.indrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = any($2::text[])
ORDER BY c.relname, i.relname
"""

# Enum types of the schema that the described tables use.
_ENUMS = """
SELECT t.typname AS type_name,
       array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
FROM pg_catalog.pg_type AS t
JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_enum AS e ON e.enumtypid = t.oid
WHERE n.nspname = $1
  AND t.oid IN (
      SELECT a.atttypid
      FROM pg_catalog.pg_attribute AS a
      JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
      WHERE c.relnamespace = n.oid AND c.relname = any($2::text[])
        AND a.attnum > 0 AND NOT a.attisdropped
  )
GROUP BY t.typname
ORDER BY t.typname
"""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None


@dataclass(frozen=True, slots=True)
class Constraint:
    name: str
    type: str  # pg_constraint.contype: p, f, u, c, x, t
    definition: str


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    definition: str
    valid: bool  # false: a failed (or running) concurrent build; the index serves nothing


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    constraints: tuple[Constraint, ...]
    indexes: tuple[Index, ...]


@dataclass(frozen=True, slots=True)
class EnumType:
    name: str
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Catalog:
    tables: tuple[Table, ...]
    enums: tuple[EnumType, ...]


@dataclass(frozen=True, slots=True)
class Build:
    """An index a migration after the baseline builds on a baseline table (CONCURRENTLY,
    behind a guard that keeps the same index, refuses another and replaces a leftover)."""

    migration: str
    index: Index


@dataclass(frozen=True, slots=True)
class Difference:
    """One line of a catalog comparison; `blocking` unless it is an extra object we keep."""

    text: str
    blocking: bool

    def __str__(self) -> str:
        return self.text


async def describe(
    conn: asyncpg.Connection[Any],
    schema: str = "public",
    tables: Iterable[str] = BASELINE_TABLES,
) -> Catalog:
    """The catalog of `tables` (those that exist) in `schema`, with `schema.` stripped."""
    names = list(tables)
    quoted = await conn.fetchval("SELECT quote_ident($1)", schema)
    prefix = re.compile(r'(?<![\w"$])' + re.escape(f"{quoted}."))

    def strip(text: str) -> str:
        return prefix.sub("", text)

    columns: dict[str, list[Column]] = {}
    for row in await conn.fetch(_COLUMNS, schema, names):
        found = columns.setdefault(row["table_name"], [])
        if row["column_name"] is not None:
            default = row["default_expr"]
            found.append(
                Column(
                    name=row["column_name"],
                    type=strip(row["column_type"]),
                    not_null=row["not_null"],
                    default=None if default is None else strip(default),
                )
            )
    constraints: dict[str, list[Constraint]] = {}
    for row in await conn.fetch(_CONSTRAINTS, schema, names):
        constraints.setdefault(row["table_name"], []).append(
            Constraint(row["constraint_name"], row["constraint_type"], strip(row["definition"]))
        )
    indexes: dict[str, list[Index]] = {}
    for row in await conn.fetch(_INDEXES, schema, names):
        indexes.setdefault(row["table_name"], []).append(
            Index(row["index_name"], strip(row["definition"]), row["valid"])
        )
    enums = tuple(
        EnumType(row["type_name"], tuple(row["labels"]))
        for row in await conn.fetch(_ENUMS, schema, names)
    )
    return Catalog(
        tables=tuple(
            Table(
                name=name,
                columns=tuple(columns[name]),
                constraints=tuple(constraints.get(name, ())),
                indexes=tuple(indexes.get(name, ())),
            )
            for name in names
            if name in columns
        ),
        enums=enums,
    )


def _kept(what: str, why: str = "not part of the baseline; kept") -> Difference:
    return Difference(f"extra {what} ({why})", blocking=False)


def _columns(table: str, expected: Table, actual: Table) -> list[Difference]:
    found = {column.name: column for column in actual.columns}
    out: list[Difference] = []
    for want in expected.columns:
        have = found.pop(want.name, None)
        where = f"column {table}.{want.name}"
        if have is None:
            out.append(Difference(f"missing {where}", blocking=True))
            continue
        if have.type != want.type:
            out.append(
                Difference(f"{where}: type {want.type} expected, found {have.type}", blocking=True)
            )
        if have.not_null != want.not_null:
            null = {True: "NOT NULL", False: "nullable"}
            text = f"{where}: {null[want.not_null]} expected, found {null[have.not_null]}"
            out.append(Difference(text, blocking=True))
        if have.default != want.default:
            want_default, have_default = want.default or "none", have.default or "none"
            text = f"{where}: default {want_default} expected, found {have_default}"
            out.append(Difference(text, blocking=True))
    for extra in found.values():
        if extra.not_null and extra.default is None:
            # Our INSERTs do not know this column: every one of them would fail.
            text = f"extra column {table}.{extra.name} is NOT NULL without a default"
            out.append(Difference(text, blocking=True))
        else:
            out.append(_kept(f"column {table}.{extra.name}"))
    return out


def _named(
    kind: str,
    expected: Iterable[Constraint | Index],
    actual: Iterable[Constraint | Index],
    extra: Callable[[str], Difference],
) -> list[Difference]:
    """Missing and different objects of `kind`, then `extra(name)` of each one in addition."""
    wanted = {item.name: item.definition for item in expected}
    found = {item.name: item.definition for item in actual}
    out: list[Difference] = []
    for name, want in wanted.items():
        have = found.get(name)
        if have is None:
            out.append(Difference(f"missing {kind} {name}", blocking=True))
        elif have != want:
            out.append(Difference(f"{kind} {name}: {want} expected, found {have}", blocking=True))
    out.extend(extra(name) for name in sorted(found.keys() - wanted.keys()))
    return out


def _extra_index(table: Table, builds: Mapping[str, Build], name: str) -> Difference:
    """An index beyond the baseline's: kept, unless a later migration builds one of its name.
    Then the migration's guard decides, and this says in advance what it will do."""
    build = builds.get(name)
    if build is None:
        return _kept(f"index {name}")
    have = next(index for index in table.indexes if index.name == name)
    if not have.valid:
        what = f"a failed build's leftover; {build.migration} drops and rebuilds it"
        return Difference(f"index {name} is INVALID ({what})", blocking=False)
    if have.definition == build.index.definition:
        return _kept(f"index {name}", f"the one {build.migration} builds; kept as is")
    text = (
        f"index {name} conflicts with {build.migration}: {build.index.definition} expected,"
        f" found {have.definition} (rename or drop it yourself, then adopt again)"
    )
    return Difference(text, blocking=True)


def differences(
    expected: Catalog, actual: Catalog, builds: Iterable[Build] = ()
) -> list[Difference]:
    """What `actual` lacks or has differently (blocking), and what it has in addition; an
    index in the way of one of `builds` (a valid one of the same name but another
    definition) blocks."""
    by_name = {build.index.name: build for build in builds}
    out: list[Difference] = []
    tables = {table.name: table for table in actual.tables}
    for want in expected.tables:
        have = tables.get(want.name)
        if have is None:
            out.append(Difference(f"missing table {want.name}", blocking=True))
            continue
        out.extend(_columns(want.name, want, have))
        out.extend(
            _named(
                "constraint",
                want.constraints,
                have.constraints,
                lambda name: _kept(f"constraint {name}"),
            )
        )
        out.extend(
            _named("index", want.indexes, have.indexes, partial(_extra_index, have, by_name))
        )
    enums = {enum.name: enum.labels for enum in actual.enums}
    for enum in expected.enums:
        labels = enums.pop(enum.name, None)
        if labels is None:
            out.append(Difference(f'missing enum type "{enum.name}"', blocking=True))
        elif labels != enum.labels:
            want_labels, have_labels = ", ".join(enum.labels), ", ".join(labels)
            text = f'enum type "{enum.name}": labels {want_labels} expected, found {have_labels}'
            out.append(Difference(text, blocking=True))
    out.extend(_kept(f'enum type "{name}"') for name in enums)
    return out
