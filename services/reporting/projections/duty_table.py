"""The duty's versions as a ClickHouse table, from the kernel's declaration of the duty row
(banli.domain.views.duty_row): its columns and each version's row, the table's DDL and the
migration of an existing store, the latest-value selection the queries read, the items read
back from it, and the format the projections are made in.

The kernel declares what each fact of a duty is (its kind of value: an id, a choice, a count, a
day ...) and how it is read from the state; this module says how each kind is stored (STORAGE:
its ClickHouse type, and the empty value that stands for None in a non-nullable column). Nothing
here names a field of the duty: a field added to the declaration is a column, in the DDL, added
to an existing store, selected and read back, with no edit here.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any, Callable, Iterable

from banli.domain.views.duty_row import (CELL_FIELDS, DUTY_FIELDS, FIELDS, DutyField, ValueKind,
                                         reader)
from banli.domain.proposal import Assignment, Proposal

from .intervals import INTERVAL_COLUMNS, NO_DATE

TABLE = "assignment_versions"

# Each kind of value: its ClickHouse type, its empty value (None in a non-nullable column), and
# how a value read back from ClickHouse is made the kernel's.
STORAGE: dict[ValueKind, tuple[str, Any, Callable[[Any], Any]]] = {
    "id": ("String", "", str),
    "text": ("String", "", str),
    "choice": ("LowCardinality(String)", "", str),
    "year": ("UInt16", 0, int),
    "count": ("UInt32", 0, int),
    "flag": ("Bool", False, bool),
    "day": ("Date32", NO_DATE, lambda value: value),
    "ids": ("Array(String)", [], tuple),
}
# Where each version stands in the log and in time (the event's: Rows' stamp), and what the
# reports read of it (intervals.cell_and_due: its cell code and the day after which it is due).
STAMP: tuple[tuple[str, str], ...] = (
    ("seq", "UInt32"), ("position", "UInt64"), ("occurred_on", "Date32"),
    ("recorded_at", "DateTime64(3, 'UTC')"))
REPORTED: tuple[tuple[str, str], ...] = (("cell", "UInt32"), ("due_after", "Date32"))
KEY = ("proposal_id", "bureau", "seq")  # a version: one duty's, after one event

# the stored fields, in the order one call reads them from the state (duty_row.reader)
STORED, _read_stored = reader([f for f in DUTY_FIELDS if f.stored])
COLUMNS: tuple[tuple[str, str], ...] = (
    *((f.name, STORAGE[f.kind][0]) for f in STORED), *STAMP, *REPORTED)
ASSIGNMENT_COLUMNS: tuple[str, ...] = tuple(name for name, _ in COLUMNS)

# The format the projections are made in: their columns and what a cell code means (the cells'
# fields and values, the intervals' columns), and FORMAT_VERSION, bumped by hand when what the
# projector computes changes otherwise. Stored with the projections
# (ReportingStore.ensure_schema); projections of another format are rebuilt by a replay on
# start, as are those without intervals.
FORMAT_VERSION = 1
FORMAT = f"{FORMAT_VERSION}-" + hashlib.sha256(json.dumps(
    {"columns": COLUMNS, "cells": CELL_FIELDS, "intervals": INTERVAL_COLUMNS},
    sort_keys=True).encode()).hexdigest()[:16]


# --- writing -------------------------------------------------------------------------------------
_EMPTIES = tuple(STORAGE[f.kind][1] for f in STORED)


def row_of(p: Proposal, a: Assignment, stamp: tuple, cell: tuple[int, date]) -> tuple:
    """The version of duty `a` of `p` after an event: its ASSIGNMENT_COLUMNS, in order (a value
    the state does not have yet as its kind's empty value)."""
    return (*[empty if value is None else value
              for value, empty in zip(_read_stored(p, a), _EMPTIES)], *stamp, *cell)


# --- the table ----------------------------------------------------------------------------------
def create_table(db: str) -> str:
    """The table's DDL (made when missing)."""
    return _ddl(db, TABLE, f"ReplacingMergeTree ORDER BY ({', '.join(KEY)})")


# Each duty's latest version, by bureau: the same rows as TABLE's (Rows.assignments, inserted into
# both), kept by (bureau, proposal_id), the latest seq winning when parts merge (a reader takes
# argMax by seq, merged or not). A bureau's work list reads its duties there, by the key's first
# column, and not every version of every duty the bureau ever held.
HEADS = "duty_heads"
HEADS_KEY = ("bureau", "proposal_id")


def create_heads(db: str) -> str:
    """duty_heads' DDL (made when missing; filled from the versions by FILL_HEADS)."""
    return _ddl(db, HEADS, f"ReplacingMergeTree(seq) ORDER BY ({', '.join(HEADS_KEY)})")


# A store made before duty_heads: its duties' latest versions, from all their versions.
FILL_HEADS = (f"INSERT INTO {{db}}.{HEADS} ({', '.join(ASSIGNMENT_COLUMNS)}) "
              f"SELECT {', '.join(ASSIGNMENT_COLUMNS)} FROM {{db}}.{TABLE}")


def _ddl(db: str, table: str, engine: str) -> str:
    columns = ",\n".join(f"    {name} {kind}" for name, kind in COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS {db}.{table} (\n{columns}\n) ENGINE = {engine}"


def migration(db: str, existing: Iterable[str], table: str = TABLE) -> list[str]:
    """What brings a duty table of an existing store up to the declaration: the columns it
    lacks (empty in its old rows: the replay that a new format calls for fills them)."""
    have = set(existing)
    return [f"ALTER TABLE {db}.{table} ADD COLUMN IF NOT EXISTS {name} {kind}"
            for name, kind in COLUMNS if name not in have]


# --- reading --------------------------------------------------------------------------------------
def _sql_empty(f: DutyField) -> str:
    empty = STORAGE[f.kind][1]
    return f"toDate32('{empty.isoformat()}')" if isinstance(empty, date) else repr(empty)


def latest(*names: str) -> str:
    """The SQL selecting each named column's latest value among a duty's versions (those the
    query's WHERE keeps): `argMax(name, seq) AS name`. Raises on a name that is not a column,
    so that a query cannot name one the declaration does not have."""
    unknown = [name for name in names if name not in ASSIGNMENT_COLUMNS]
    if unknown:
        raise KeyError(f"not a column of {TABLE}: {unknown}")
    return ", ".join(f"argMax({name}, seq) AS {name}" for name in names)


# The item fields, as the items carry them: the duty's own (those of every version, latest or
# first) and the proposal's (its number and title, joined from its own versions by the query).
_ITEM_FIELDS = tuple(f for f in DUTY_FIELDS if f.item)
_KEYS = {"proposal_id", "bureau"}


def first_sources() -> str:
    """The inner query's extra columns that ITEM_SELECTION's firsts read (a column read first
    under another name, since the outer query names its latest value as the column itself)."""
    return "".join(f", {f.first_of} AS _{f.name}" for f in _ITEM_FIELDS if f.first_of)


def item_selection() -> str:
    """The SQL selecting a duty's item fields from its versions, each under its item key: the
    latest value of each column, and for a `first_of` field the first non-empty value of its
    column (the inner query adds first_sources())."""
    parts = []
    for f in _ITEM_FIELDS:
        if f.first_of is not None:
            source = f"_{f.name}"
            parts.append(f"argMinIf({source}, seq, {source} != {_sql_empty(FIELDS[f.first_of])})"
                         f" AS {f.key}")
        elif f.stored and f.name not in _KEYS:
            parts.append(f"argMax({f.name}, seq) AS {f.key}")
    return ",\n       ".join(parts)


_READ_BACK = tuple((f.key, f.optional, *STORAGE[f.kind][1:]) for f in _ITEM_FIELDS)


def item_of_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the items' query as the item the reference builds (views.duty_row.item_of):
    each field in the kernel's type, an empty value of an optional field as None."""
    item = {}
    for key, optional, empty, back in _READ_BACK:
        value = row[key]
        item[key] = None if optional and value == empty else back(value)
    return item
