"""Replay's fast path builds exactly the rows the plain path builds. Replay reads the log through
`stored_of`, which keeps an event's stored JSON for its history row instead of encoding the
event again, and reports' cells are coded with a lookup table rather than rates.cell_code's
search; over generated histories, every table's rows (and the intervals' changes, and the
marks) come out the same, batch by batch, as from events handed over without their JSON. And
JSON that encoding would not give back (an older version, a field missing) is not kept, while
JSON that is not an event fails rather than being passed over."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import fields

import pytest
from pydantic import ValidationError

from banli.demo.generate import generate_history, to_jsonl
from banli.domain import events as ev
from banli.domain.proposal import Proposal, evolve
from banli.domain.registry import load_event
from banli.domain.rates import cell_code, cell_of, due_after, item_of
from banli.eventlog import Stored, stored_of
from banli.eventlog.sqlite import SqliteEventStore
from banli.history import MemoryLedger, run_history
from services.reporting.projections.intervals import NO_DATE, cell_and_due
from services.reporting.projections.projection import Projection
from services.reporting.projections.projector import Rows


class NoStore:
    """What a Projection asks of its store, for a store that follows the log from its start
    and holds nothing yet."""

    exchanges = 0

    def marks(self, db: str | None = None) -> dict[int, int]:
        return {0: 0}

    def intervals_complete(self, db: str | None = None) -> bool:
        return True


def decided(ledger: MemoryLedger) -> list[ev.Event]:
    return [event for outcome in ledger.decided.values() if isinstance(outcome, list)
            for event in outcome]


@pytest.fixture(scope="module", params=[(150, 2020, 0.0), (120, 1508, 0.05)])
def events(request) -> list[ev.Event]:
    proposals, seed, noise = request.param
    ledger, _ = run_history([to_jsonl(line) for line in generate_history(proposals, seed,
                                                                         noise=noise)])
    return decided(ledger)


def built(log: list[Stored], events: list[ev.Event], batch: int) -> list[Rows]:
    """Every batch's rows, from a projection that loads streams from `events`."""
    streams: dict[str, list[ev.Event]] = {}
    for event in events:
        streams.setdefault(event.proposal_id, []).append(event)
    projection = Projection(NoStore(), lambda stream, seq: streams[stream][:seq - 1],
                            cache_size=200)
    out = []
    for start in range(0, len(log), batch):
        rows, states = projection.rows_for(log[start:start + batch])
        projection.remember(states)
        out.append(rows)
    return out


def test_the_fast_path_builds_the_plain_path_s_rows(events):
    plain = [Stored(i, event) for i, event in enumerate(events, start=1)]
    fast = [stored_of(i, event.model_dump_json()) for i, event in enumerate(events, start=1)]
    assert all(s.json is not None for s in fast)
    assert [s.event for s in fast] == events
    # A small cache: streams fall out of it and are followed again from their events.
    for batch in (997, 5000):
        for mine, theirs in zip(built(fast, events, batch), built(plain, events, batch),
                                strict=True):
            for column in fields(Rows):
                assert getattr(mine, column.name) == getattr(theirs, column.name), column.name
            assert [type(row[-1]) for row in mine.history] == [str] * len(mine.history)


def test_the_embedded_store_reads_each_event_with_its_json(tmp_path, events):
    """SqliteEventStore.read gives every event its stored JSON, which is what encoding gives."""
    log = SqliteEventStore(tmp_path / "events.sqlite3")
    with sqlite3.connect(tmp_path / "events.sqlite3") as db:
        db.executemany(
            "INSERT INTO events (stream, seq, event_id, type, command_id, occurred_at,"
            " recorded_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(e.proposal_id, e.seq, e.event_id, e.type, e.command_id, e.occurred_at.isoformat(),
              e.recorded_at.isoformat(), e.model_dump_json()) for e in events])
    read = [stored for chunk in log.read_all(0, 1000) for stored in chunk]
    assert [s.event for s in read] == events
    assert [s.json for s in read] == [e.model_dump_json() for e in events]


def test_cells_are_coded_as_rates_codes_them(events):
    states: dict = {}
    duties = 0
    for event in events:
        state = states[event.proposal_id] = evolve(states.get(event.proposal_id), event)
        if isinstance(state, Proposal):
            for duty in state.assignments.values():
                item = item_of(state, duty)
                assert cell_and_due(state, duty) == (cell_code(cell_of(item)),
                                                     due_after(item) or NO_DATE)
                duties += 1
    assert duties > 1000


def test_json_that_encoding_would_not_give_back_is_not_kept(events):
    reply = next(e for e in events if e.type == "ReplyIssued")
    older = {**json.loads(reply.model_dump_json()), "schema_version": 1, "result": "A"}
    older.pop("signed_by")
    stored = stored_of(7, json.dumps(older))
    assert stored.json is None and stored.event == load_event(json.dumps(older))
    assert stored.event.result == "solved"

    submitted = next(e for e in events if e.type == "ProposalSubmitted")
    without = json.loads(submitted.model_dump_json())
    without.pop("affiliation")  # written before the field was added: its default fills it in
    stored = stored_of(8, json.dumps(without, ensure_ascii=False).encode())
    assert stored.json is None and stored.event == load_event(json.dumps(without))

    stored = stored_of(9, submitted.model_dump_json().encode())
    assert stored.json == submitted.model_dump_json() and stored.event == submitted


def test_json_that_is_not_an_event_fails():
    with pytest.raises(ValidationError):
        stored_of(1, '{"type": "ProposalSubmitted", "seq": 1}')
    with pytest.raises(ValueError):
        stored_of(2, "not json")
