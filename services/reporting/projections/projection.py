"""Following the log: fold each proposal's state alongside the events and insert their rows.

The same `Projection` serves the embedded projector (reading SQLite), the Kafka reporting
worker and replay; only where it reads a stream's earlier events from differs.

Exactly once. The versioned tables dedupe by key, so writing an event's rows twice is harmless;
report_intervals adds its rows up, so each batch's changes must land exactly once. They are
written last, in one insert (one part: atomic) together with the batch's marks: in each
partition of the log, the position after the batch's last. What the marks cover is in every
table; what is after them is written again: on a restart the embedded projector starts after them (the store's
checkpoint), and the Kafka worker skips what it is sent again up to them. After an insert that
failed, the marks are read back, since a failure may come after the insert landed."""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict
from typing import Callable, Iterable

from banli.domain import events as e
from banli.domain.proposal import Proposal, State
from banli.eventlog import Stored, partition_of

from .intervals import Lines, add_changes, advance, follow, head_of
from .projector import Rows, project
from .store import ReportingStore

# Earlier events of a stream, up to (excluding) a seq: for a state not in the cache.
LoadStream = Callable[[str, int], list[e.Event]]
# Told of each batch once its rows are in: the rows and the states they lead to.
Listener = Callable[[Rows, dict[str, State]], None]
# A stream as projected: its state and its lines (intervals.Lines).
Followed = tuple[State, Lines | None]

log = logging.getLogger("banli.reporting")


class Projection:
    def __init__(self, store: ReportingStore, load_stream: LoadStream, db: str | None = None,
                 cache_size: int = 20_000, fresh: bool = False):
        """`fresh`: the tables are being made (ReportingStore.ensure_schema(db, fresh=True)), so
        the projection starts from their first mark without reading it (replay's)."""
        self.store = store
        self.load_stream = load_stream
        self.db = db
        self.cache: OrderedDict[str, Followed] = OrderedDict()
        self.cache_size = cache_size
        self.listeners: list[Listener] = []  # e.g. the live feed (services/reporting/http/live.py)
        if fresh:
            self.marks, self.intervals, self.exchanges = {0: 0}, True, store.exchanges
        else:
            self._read_marks()

    def _read_marks(self) -> None:
        """What report_intervals holds already (per log partition), and whether it follows the
        log at all (a store made before it did not: ReportingStore.intervals_complete)."""
        self.marks = self.store.marks(self.db)
        self.intervals = self.store.intervals_complete(self.db)
        self.exchanges = self.store.exchanges

    def _before(self, event: e.Event, pending: dict[str, Followed]) -> Followed:
        followed = pending.get(event.proposal_id) or self.cache.get(event.proposal_id)
        version = followed[0].version if followed is not None and followed[0] else 0
        if version < event.seq - 1:  # not cached (or a gap): follow what was projected before
            followed = follow(self.load_stream(event.proposal_id, event.seq))
        return followed or (None, None)

    def _history(self, event: e.Event, batch: dict[str, list[e.Event]]) -> list[e.Event]:
        """The stream's events before `event`: the log's, then this batch's (which the
        projected history loader cannot see yet)."""
        earlier = batch.get(event.proposal_id, [])
        return [*self.load_stream(event.proposal_id, earlier[0].seq if earlier else event.seq),
                *earlier]

    def rows_for(self, batch: Iterable[Stored], through: int | None = None
                 ) -> tuple[Rows, dict[str, Followed]]:
        """Rows for the events not projected yet, and what their streams lead to. An event the
        marks cover, or at or below its stream's projected seq, is a redelivery and adds
        nothing. `through`: the position of the log's batch's last event, when `batch` is one
        share of it (a replay worker's streams, replay._build): the marks cover the whole of
        it, as they do in every share."""
        if self.store.exchanges != self.exchanges:  # replay swapped the tables in
            self._read_marks()
        rows = Rows()
        pending: dict[str, Followed] = {}
        first: dict[str, Lines | None] = {}  # each stream's lines before the batch
        seen: dict[str, list[e.Event]] = {}
        marks = self.marks
        ends = rows.marks
        for stored in batch:
            event = stored.event
            position = stored.position
            part = partition_of(position)
            if position < marks.get(part, 0):
                continue
            state, lines = self._before(event, pending)
            if state is not None and state.version >= event.seq:
                continue
            stream = event.proposal_id
            if stream not in first:
                first[stream] = lines
            after, changed = project(state, event, position, rows, stored.json)
            lines = advance(lines, state, after, event, changed,
                            lambda: self._history(event, seen))
            pending[stream] = (after, lines)
            if stream in seen:
                seen[stream].append(event)
            else:
                seen[stream] = [event]
            if position >= ends.get(part, 0):
                ends[part] = position + 1
        if through is not None and through >= ends.get(partition_of(through), 0):
            ends[partition_of(through)] = through + 1
        if not self.intervals:
            rows.marks.clear()  # a table that never followed the log gets nothing
            return rows, pending
        for stream, before in first.items():
            after, lines = pending[stream]
            if isinstance(after, Proposal):
                add_changes(before, lines, head_of(after), rows.intervals)
        rows.intervals = Counter({key: n for key, n in rows.intervals.items() if n})
        rows.retired = {part: self.marks[part] for part in rows.marks if part in self.marks}
        self.marks = {**self.marks, **rows.marks}  # read back should the insert fail
        return rows, pending

    def remember(self, states: dict[str, Followed]) -> None:
        for stream, followed in states.items():
            self.cache[stream] = followed
            self.cache.move_to_end(stream)
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)

    def insert(self, rows: Rows) -> None:
        """Insert a batch's rows (in order: those of the batch before are in); after a failure,
        read back how far the marks got."""
        try:
            self.store.insert(rows, self.db)
        except Exception:
            self._read_marks()
            raise

    def apply(self, batch: Iterable[Stored]) -> int:
        """Insert the batch's rows; the cache moves on only once they are in."""
        rows, states = self.rows_for(batch)
        if rows.history:
            self.insert(rows)
        self.remember(states)
        if rows.history:
            self.tell(rows, {stream: state for stream, (state, _) in states.items()})
        return len(rows)

    def tell(self, rows: Rows, states: dict[str, State]) -> None:
        """Hand a batch whose rows are in to the listeners."""
        for listener in self.listeners:
            try:
                listener(rows, states)
            except Exception:  # a listener's trouble never holds the projections up
                log.exception("a projection listener failed")


class KnownMarks:
    """What a Projection reads of its store, known beforehand: for a process that builds rows
    without the chDB engine (one process per path: services/reporting/projections/process.py),
    given the marks and checkpoint the engine's process read."""

    exchanges = 0  # the tables are never swapped under it: its process is started again

    def __init__(self, marks: dict[int, int], intervals: bool, position: int):
        self._marks, self._intervals, self._position = dict(marks), intervals, position

    def marks(self, db: str | None = None) -> dict[int, int]:
        return dict(self._marks)

    def intervals_complete(self, db: str | None = None) -> bool:
        return self._intervals

    def checkpoint(self, db: str | None = None) -> int:
        return self._position


class EmbeddedProjector:
    """A thread that keeps the projections caught up with the embedded event store: woken after
    each append, and polling every half second for writers in other processes (`banli import`)."""

    def __init__(self, log, store: ReportingStore | KnownMarks, batch: int = 2000,
                 linger: float = 0.05, bulk_linger: float = 1.0):
        self.log = log
        self.store = store
        self.projection = Projection(store,  # type: ignore[arg-type]  # KnownMarks: what it reads
                                     lambda stream, seq: log.load_before(stream, seq))
        self.batch = batch
        self.linger = linger
        self.bulk_linger = bulk_linger
        self._bulk = False  # the last catch-up found a bulk import's worth of events
        self._hurry = threading.Event()  # someone waits for a position: no lingering
        self.pause = threading.Lock()  # held while inserting; replay holds it to swap tables
        self.position = store.checkpoint()
        self._wake = threading.Event()
        self._moved = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def catch_up(self) -> int:
        """Project everything appended so far; returns the position reached."""
        for chunk in self.log.read_all(self.position, self.batch):
            self._project(chunk)
            with self._moved:
                self.position = chunk[-1].position
                self._moved.notify_all()
        return self.position

    def _project(self, chunk: list[Stored]) -> None:
        with self.pause:
            self.projection.apply(chunk)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "EmbeddedProjector":
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="projector", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._gather()
                before = self.position
                self.catch_up()
                self._bulk = self.position - before >= self.batch // 10
                self.error = None
            except Exception as exc:  # the store may be down for a while: keep trying
                self.error = exc
                self._stop.wait(1.0)
            self._wake.wait(0.5)
            self._wake.clear()

    def _gather(self) -> None:
        """Let what arrives within a moment go into one insert: chDB pays some 70 ms an insert
        whatever its size, so a bulk import projected commit by commit (500 commands each) spent
        three times as long inserting as in full batches. After a catch-up that found a bulk
        import's worth, wait until a full batch is waiting (or `bulk_linger` has passed); after
        one that found a few events, the moment is `linger`, so a single command is projected
        as soon as before."""
        self._stop.wait(self.linger)
        if not self._bulk:
            return
        until = time.monotonic() + self.bulk_linger
        while (self.log.head() - self.position < self.batch and time.monotonic() < until
               and not self._hurry.is_set() and not self._stop.wait(self.linger)):
            pass
        self._hurry.clear()

    def notify(self) -> None:
        self._wake.set()

    def wait_for(self, position: int, timeout: float = 10.0) -> bool:
        """Block until `position` is projected (or the timeout passes). A position projected
        already wakes nobody: every report asks first."""
        with self._moved:
            if self.position >= position:
                return True
        self._hurry.set()
        self.notify()
        with self._moved:
            return self._moved.wait_for(lambda: self.position >= position, timeout)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
