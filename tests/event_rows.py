"""Events written straight into an embedded store's `events` table, with nothing decided and no
command recorded: for tests that need a log as it is on disk (a replay's source, the reads
whose query plans are checked), not the handling loop's way there."""
from __future__ import annotations

from typing import Iterable

from banli.domain.events import Event
from banli.eventlog.sqlite import SqliteEventStore


def write_events(log: SqliteEventStore, events: Iterable[tuple[int, Event]]) -> None:
    """Each (position, event) as the store's row, in one transaction."""
    with log.db:
        log.db.executemany(
            "INSERT INTO events (position, stream, seq, event_id, type, command_id, occurred_at,"
            " recorded_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(position, e.proposal_id, e.seq, e.event_id, e.type, e.command_id,
              e.occurred_at.isoformat(), e.recorded_at.isoformat(), e.model_dump_json())
             for position, e in events])
