"""A batch's rows in ClickHouse's Native format, encoded where they are built.

clickhouse-connect's insert turns the rows into columns and the columns into Native bytes in
Python, under the GIL (`write_column`: about a third of the engine's process's work in replay
when the rows came from a worker, bench/README.md); chDB only reads the bytes. So a process
without the engine (replay's workers: one process per chDB path) encodes its rows with the
column types the engine's process read (ReportingStore.shapes), and sends bytes, which cost
nothing to receive, where the pickled rows cost the receiver a third of building them. The
engine's process inserts them as they are (ReportingStore.insert_encoded)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Sequence

from clickhouse_connect.datatypes.registry import get_from_name
from clickhouse_connect.driver.insert import InsertContext
from clickhouse_connect.driver.transform import NativeTransform

from .duty_table import ASSIGNMENT_COLUMNS
from .intervals import INTERVAL_COLUMNS, NO_DATE
from .projector import (BUREAU_COLUMNS, FILER_COLUMNS, HISTORY_COLUMNS, PROPOSAL_COLUMNS,
                        PROPOSAL_FILER_COLUMNS, Rows)

# The tables a batch goes into, in the order it is inserted, each with its columns and the
# Rows field that holds its rows. report_intervals comes after them all, with the marks.
INSERTS = (("assignment_versions", ASSIGNMENT_COLUMNS, "assignments"),
           ("duty_heads", ASSIGNMENT_COLUMNS, "assignments"),  # each duty's latest, by bureau
           ("proposal_versions", PROPOSAL_COLUMNS, "proposals"),
           ("bureaus", BUREAU_COLUMNS, "bureaus"),
           ("filers", FILER_COLUMNS, "filers"),
           ("proposal_filers", PROPOSAL_FILER_COLUMNS, "proposal_filers"),
           ("event_history", HISTORY_COLUMNS, "history"))
INTERVALS = "report_intervals"

# Each table's column types, as the engine names them (in its columns' order above).
Shapes = dict[str, list[str]]


def interval_rows(intervals: Counter) -> list[tuple]:
    """report_intervals' rows for a batch's changes (key: every column but `n`)."""
    return [(*key, n) for key, n in intervals.items()]


def mark_rows(marks: dict[int, int], retired: dict[int, int]) -> list[tuple]:
    """report_intervals' rows for the batch's marks, taking back those they replace (so that
    merges keep one a partition)."""
    return [(NO_DATE, "", NO_DATE, "mark", 0, "", "", 0, NO_DATE, NO_DATE, NO_DATE, False,
             position, n) for n, positions in ((1, marks), (-1, retired))
            for position in positions.values()]


def native(columns: Sequence[str], types: Sequence[str], data: list[tuple],
           server_tz: tzinfo) -> bytes:
    """The rows as one Native payload (blocks of columns), as clickhouse-connect's insert
    would write them (without the INSERT statement it puts before them for HTTP)."""
    context = InsertContext("t", list(columns), [get_from_name(name) for name in types],
                            data=data, server_tz=server_tz)
    payload = b"".join(NativeTransform.build_insert(context))
    if context.insert_exception is not None:
        raise context.insert_exception
    return payload[payload.index(b"\n") + 1:] if payload.startswith(b"INSERT INTO ") else payload


@dataclass
class Encoded:
    """A batch's rows as Native payloads by table (the intervals' changes without the marks),
    and the marks to write with them. `events`: how many history rows it holds."""

    blocks: dict[str, list[bytes]] = field(default_factory=dict)
    marks: dict[int, int] = field(default_factory=dict)
    retired: dict[int, int] = field(default_factory=dict)
    events: int = 0

    def __len__(self) -> int:
        return self.events


def encode(rows: Rows, shapes: Shapes, server_tz: tzinfo) -> Encoded:
    encoded = Encoded(marks=rows.marks, retired=rows.retired, events=len(rows))
    for table, columns, name in INSERTS:
        data = getattr(rows, name)
        if data:
            encoded.blocks[table] = [native(columns, shapes[table], data, server_tz)]
    if rows.intervals:
        encoded.blocks[INTERVALS] = [native(INTERVAL_COLUMNS, shapes[INTERVALS],
                                            interval_rows(rows.intervals), server_tz)]
    return encoded


def merged(shares: list[Encoded]) -> Encoded:
    """One batch from its shares (each of other streams, with the same marks): a Native
    payload is a series of blocks, so a table's payloads are inserted one after another, in
    one insert."""
    if len(shares) == 1:
        return shares[0]
    batch = Encoded(marks=shares[0].marks, retired=shares[0].retired)
    for share in shares:
        batch.events += share.events
        for table, blocks in share.blocks.items():
            batch.blocks.setdefault(table, []).extend(blocks)
    return batch
