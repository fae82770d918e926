"""report_intervals adds its rows up, so the projection must write each batch's changes exactly
once. Against the real chDB engine, compared with the reference fold: a batch delivered twice
(to the same projection, and after a restart), a crash between any two writes of a batch (the
intervals' changes, closing a duty's interval and opening the next, are one insert with the
batch's marks), an insert that landed although the caller saw it fail, two partitions delivered
again from older offsets, records landing in the middle of a duty's timeline, and replay
rebuilding what the incremental projection wrote."""
from __future__ import annotations

import random
import threading
import uuid
from datetime import date, timedelta

import pytest

from banli.demo.generate import generate_history, to_jsonl, typed_in_by_bureau
from banli.domain.timing.deadlines import DEFAULT_PROFILE
from banli.domain.views.rates import Scope
from banli.domain.types import business_date
from banli.eventlog import Stored, partition_of, position_of
from banli.history import MemoryLedger, reference_report, run_history
from services.reporting.projections.projection import Projection
from services.reporting.projections.replay import LogSource, ReplayProgress, replay
from services.reporting.projections.store import ReportingStore
from services.reporting.projections.worker import history_loader

from tests.unit.test_intervals import _events, _ledger, _recorded_in, shuffled

SCOPES = [(None, (2018, 2020)), ("sh-ipa", (2018, 2020)), ("sh-hrss", (2019, 2019))]


@pytest.fixture
def store(chdb_dsn):
    store = ReportingStore(chdb_dsn, f"x_{uuid.uuid4().hex[:12]}")
    yield store
    store.drop()


def the_log(ledger: MemoryLedger) -> list[Stored]:
    """The ledger's events in the order they were decided, at positions 1, 2, ..."""
    events = [event for outcome in ledger.decided.values() if isinstance(outcome, list)
              for event in outcome]
    return [Stored(i, event) for i, event in enumerate(events, start=1)]


def loader(ledger: MemoryLedger):
    return lambda stream, seq: ledger.streams[stream][:seq - 1]


def batches(log: list[Stored], size: int) -> list[list[Stored]]:
    return [log[i:i + size] for i in range(0, len(log), size)]


def days_of(ledger: MemoryLedger, step: int = 9) -> list[date]:
    days = sorted({business_date(e.occurred_at) for s in ledger.streams.values() for e in s})
    return days[::step] + [days[-1] - timedelta(days=1), days[-1], date(2099, 1, 1)]


def assert_reports(store: ReportingStore, ledger: MemoryLedger, days, scopes=SCOPES) -> None:
    assert store.intervals_complete()
    for day in days:
        for bureau, years in scopes:
            scope = Scope(bureau=bureau, years=years, as_of=day)
            assert store.report(scope, DEFAULT_PROFILE) == reference_report(ledger, scope), scope
    scope = Scope(bureau=None, years=(2018, 2020), as_of=days[len(days) // 2])
    for bureau, report in store.league(scope, DEFAULT_PROFILE).items():
        assert report == reference_report(ledger, scope.model_copy(update={"bureau": bureau}))


def net_rows(store: ReportingStore, db: str | None = None) -> list[tuple]:
    """What report_intervals adds up to, row by row (the marks left out)."""
    keys = ("valid_to, bureau, valid_from, what, year, level, kind, cell, due_after, "
            "occurred_on, recorded_on, imported")
    return sorted(tuple(r.values()) for r in store.query(
        f"SELECT {keys}, sum(n) AS n FROM {db or store.db}.report_intervals WHERE what != 'mark' "
        f"GROUP BY {keys} HAVING n != 0 ORDER BY {keys}"))


@pytest.fixture(scope="module")
def history() -> MemoryLedger:
    ledger, _ = run_history([to_jsonl(line) for line in generate_history(70, seed=1508,
                                                                         noise=0.03)])
    return ledger


def test_a_batch_delivered_twice_is_counted_once(store, history):
    log = the_log(history)
    projection = Projection(store, loader(history))
    chunks = batches(log, 150)
    for i, chunk in enumerate(chunks):
        projection.apply(chunk)
        if i % 3 == 0:
            projection.apply(chunk)  # redelivered to the same process: its seqs are projected
        if i % 4 == 1:  # a restart (nothing cached), then the batch, and more, delivered again
            projection = Projection(store, loader(history))
            projection.apply([s for c in chunks[max(0, i - 2):i + 1] for s in c])
    assert_reports(store, history, days_of(history))
    store.command(f"OPTIMIZE TABLE {store.db}.report_intervals FINAL")
    assert store.query("SELECT position, n FROM {db}.report_intervals WHERE what = 'mark'") == [
        {"position": log[-1].position + 1, "n": 1}]  # each batch's mark took the last one back
    clean = ReportingStore(store.dsn, f"{store.db}_clean")
    try:
        Projection(clean, loader(history)).apply(log)
        assert net_rows(store) == net_rows(clean)
    finally:
        clean.drop()


class Crash(Exception):
    """The process died here."""


class FailingClient:
    """The store's writing ClickHouse client, failing the `nth` insert from now: before it lands, or
    after (the insert is in, but its caller sees an error, as when an answer is lost)."""

    def __init__(self, client, nth: int, landed: bool):
        self.client, self.nth, self.landed = client, nth, landed

    def insert(self, table, *args, **kwargs):
        self.nth -= 1
        if self.nth == 0 and not self.landed:
            raise Crash(table.split(".")[-1])
        result = self.client.insert(table, *args, **kwargs)
        if self.nth == 0:
            raise Crash(table.split(".")[-1])
        return result

    def __getattr__(self, name):
        return getattr(self.client, name)


@pytest.mark.parametrize("landed", [False, True], ids=["before", "after"])
def test_a_crash_between_the_writes_of_a_batch_loses_and_doubles_nothing(store, history,
                                                                        landed):
    """Each batch writes up to six inserts (the versions, the duties' heads, the proposals, the
    bureaus, the history, then the intervals with the marks), on the store's writing client. Crash at every one of them, before or after it
    lands, and go on: in the same process (the batch again), or after a restart."""
    log = the_log(history)
    rng = random.Random(17)
    real = store._writer
    projection = Projection(store, loader(history))
    crashed: list[str] = []
    for chunk in batches(log, 25):
        nth = rng.randint(1, 5)
        store._writer = FailingClient(real, nth, landed)
        try:
            projection.apply(chunk)
        except Crash as crash:
            crashed.append(str(crash))
            store._writer = real
            if rng.random() < 0.5:  # the process died: start again after the marks
                projection = Projection(store, loader(history))
                after = store.checkpoint()
                chunk = [s for s in log if s.position > after and s.position <= chunk[-1].position]
            projection.apply(chunk)
        finally:
            store._writer = real
    assert {"assignment_versions", "event_history", "report_intervals"} <= set(crashed)
    assert store.checkpoint() == log[-1].position
    assert_reports(store, history, days_of(history))


def test_partitions_delivered_again_from_older_offsets(store, history):
    """The Kafka worker's case: the log in two partitions, the state of a stream not cached read
    back from the projected history, and after each restart every partition delivered again from
    an older offset (what was committed before the crash)."""
    streams = sorted(history.streams)
    parts: list[list] = [[], []]
    for stored in the_log(history):
        parts[streams.index(stored.event.proposal_id) % 2].append(stored.event)
    log = [Stored(position_of(p, offset), event)
           for p, events in enumerate(parts) for offset, event in enumerate(events)]
    by_partition = [[s for s in log if partition_of(s.position) == p] for p in (0, 1)]
    rng = random.Random(5)
    offsets = [0, 0]
    restarts = 0
    while any(offsets[p] < len(parts[p]) for p in (0, 1)):
        projection = Projection(store, history_loader(store))  # a (re)started worker
        restarts += 1
        for _ in range(rng.randint(1, 4)):
            polled = []
            for p in (0, 1):
                take = rng.randint(0, 90)
                polled.append(by_partition[p][offsets[p]:offsets[p] + take])
                offsets[p] = min(len(parts[p]), offsets[p] + take)
            projection.apply(interleaved(polled, rng))
        offsets = [max(0, o - rng.randint(0, 60)) for o in offsets]  # committed a while ago
    assert restarts > 5
    assert_reports(store, history, days_of(history))


def interleaved(queues: list[list], rng: random.Random) -> list:
    """The queues merged in a random order, each keeping its own."""
    queues = [list(q) for q in queues if q]
    merged = []
    while queues:
        queue = rng.choice(queues)
        merged.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    return merged


def test_records_in_the_middle_of_a_duty_s_timeline_are_counted_as_of_each_date(store):
    """Recorded against the rule of time (an older log): a lead's contact after its later
    reply, and every bureau record of generated proposals moved anywhere after its assignment.
    ClickHouse counts them as the fold as of each date does."""
    events = _events()
    contact = next(e for e in events if e.type == "ContactLogged")
    streams = {"p-1": _recorded_in([e for e in events if e is not contact] + [contact])}
    ledger, _ = run_history(map(to_jsonl, generate_history(12, seed=44, split=0.5)))
    rng = random.Random(44)
    streams.update({pid: shuffled(evs, rng) for pid, evs in ledger.streams.items()
                    if pid.startswith("20")})
    shuffled_ledger = _ledger(streams)
    log, position = [], 0
    for stream in streams.values():
        for event in stream:
            position += 1
            log.append(Stored(position, event))
    Projection(store, loader(shuffled_ledger)).apply(log)
    days = sorted({business_date(e.occurred_at) for s in streams.values() for e in s})
    assert_reports(store, shuffled_ledger, days,
                   scopes=[(None, (2018, 2020)), ("sh-ipa", (2018, 2020)),
                           ("b-lead", (2019, 2019))])


def test_replay_rebuilds_what_the_projection_wrote(store):
    """Typed in bureau by bureau and projected as it came, a few events at a time; replay then
    rebuilds every table from the log, and the intervals add up to the same rows."""
    lines = generate_history(60, seed=2604, split=0.4)
    ledger, problems = run_history(map(to_jsonl, typed_in_by_bureau(lines, seed=2604)))
    assert problems == []
    log = the_log(ledger)
    projection = Projection(store, loader(ledger), cache_size=15)  # evicting as it goes
    for chunk in batches(log, 40):
        projection.apply(chunk)
    before = net_rows(store)

    class Source(LogSource):
        def origin(self): return 0
        def mark(self): return log[-1].position
        def count(self, start, until): return sum(start < s.position <= until for s in log)
        def batches(self, start, until):
            yield from batches([s for s in log if start < s.position <= until], 500)

    progress = ReplayProgress()
    replay(store, Source(), threading.Lock(), progress, lambda db: loader(ledger))
    assert progress.state == "done"
    assert net_rows(store) == before
    assert_reports(store, ledger, days_of(ledger))


@pytest.mark.parametrize("builders", [1, 2])
def test_replay_in_worker_processes_writes_what_one_process_writes(store, tmp_path, builders):
    """The embedded store replayed with its rows built in `builders` worker processes (each a
    share of the streams, merged batch by batch) gives the rows and marks that building them in
    replay's own process gives."""
    from banli.eventlog.sqlite import SqliteEventStore
    from services.reporting.projections.replay import SqliteSource
    from tests.event_rows import write_events

    lines = generate_history(60, seed=2604, split=0.4)
    ledger, problems = run_history(map(to_jsonl, typed_in_by_bureau(lines, seed=2604)))
    assert problems == []
    path = tmp_path / "events.sqlite3"
    log = SqliteEventStore(path)
    write_events(log, ((s.position, s.event) for s in the_log(ledger)))

    def replayed(workers: int) -> tuple[list, dict, list, list]:
        progress = ReplayProgress()
        replay(store, SqliteSource(log, batch=97), threading.Lock(), progress,
               lambda db: log.load_before, builders=workers)
        assert (progress.state, progress.error) == ("done", None)
        history = store.query(f"SELECT position, data FROM {store.db}.event_history "
                              "ORDER BY position")
        versions = [store.query(f"SELECT count() AS n FROM {store.db}.{table}")[0]["n"]
                    for table in ("proposal_versions", "assignment_versions",
                                  "proposal_filers", "bureaus")]
        return net_rows(store), store.marks(), history, versions

    here = replayed(0)
    assert replayed(builders) == here
    assert here[1] == {0: len(the_log(ledger)) + 1}
    assert_reports(store, ledger, days_of(ledger))
