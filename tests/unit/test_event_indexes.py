"""The embedded log keeps on `events` only the indexes some read needs (issue 24): every read
the store makes of `events` is planned on the primary key or an index (none scans the table
but `count`, which SQLite answers from the smallest index), and every index on it serves one
of them. The plans are those banli/eventlog/sqlite.py states beside its schema."""
from __future__ import annotations

import json
import sqlite3

from banli.demo.generate import generate_history, to_jsonl
from banli.eventlog.sqlite import SqliteEventStore
from banli.history import run_history
from tests.event_rows import write_events


def test_every_read_of_events_uses_an_index_and_every_index_a_read(tmp_path):
    ledger, _ = run_history([to_jsonl(line) for line in generate_history(5, seed=3)])
    events = [event for outcome in ledger.decided.values() if isinstance(outcome, list)
              for event in outcome]
    path = tmp_path / "events.sqlite3"
    log = SqliteEventStore(path)
    write_events(log, enumerate(events, 1))
    with log.db:
        log.db.execute("INSERT INTO commands (sender, command_id, stream, accepted, outcome)"
                       " VALUES ('', ?, ?, 1, ?)", (events[0].command_id, events[0].proposal_id,
                                                    json.dumps([events[0].event_id])))
    statements: list[str] = []
    log.db.set_trace_callback(statements.append)
    stream = events[0].proposal_id
    log.load(stream)
    log.load_before(stream, 3)
    log.version(stream)
    log.outcome("", events[0].command_id)
    list(log.read_all(0, 10))
    log.head()
    log.count()
    log.db.set_trace_callback(None)

    reads = [sql for sql in statements if "FROM events" in sql]
    plans = {sql: [row[3] for row in log.db.execute(f"EXPLAIN QUERY PLAN {sql}")]
             for sql in reads}
    assert len(plans) >= 7, plans  # read_all reads a chunk at a time
    for sql, plan in plans.items():
        assert any(step.startswith("SEARCH events") or "COVERING INDEX" in step
                   for step in plan), (sql, plan)
    with sqlite3.connect(path) as db:
        indexes = {name for (name,) in db.execute(
            "SELECT name FROM pragma_index_list('events')")}
    used = {name for plan in plans.values() for step in plan for name in indexes
            if f"INDEX {name} " in f"{step} "}
    assert indexes and used == indexes, (indexes, plans)
