"""Following the log: fold each proposal's state alongside the events and insert their rows.

The same `Projection` serves the embedded projector (reading SQLite), the Kafka reporting
worker and replay; only where it reads a stream's earlier events from differs."""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Callable, Iterable

from banli.domain import events as e
from banli.domain.proposal import State, fold
from banli.eventlog import Stored

from .projector import Rows, project
from .store import ReportingStore

# Earlier events of a stream, up to (excluding) a seq: for a state not in the cache.
LoadStream = Callable[[str, int], list[e.AnyEvent]]
# Told of each batch once its rows are in: the rows and the states they lead to.
Listener = Callable[[Rows, dict[str, State]], None]

log = logging.getLogger("banli.reporting")


class Projection:
    def __init__(self, store: ReportingStore, load_stream: LoadStream, db: str | None = None,
                 cache_size: int = 20_000):
        self.store = store
        self.load_stream = load_stream
        self.db = db
        self.cache: OrderedDict[str, State] = OrderedDict()
        self.cache_size = cache_size
        self.listeners: list[Listener] = []  # e.g. the live feed (services/reporting/live.py)

    def _before(self, event: e.Event, pending: dict[str, State]) -> State:
        state = pending.get(event.proposal_id, self.cache.get(event.proposal_id))
        version = state.version if state is not None else 0
        if version < event.seq - 1:  # not cached (or a gap): fold what was projected before
            state = fold(self.load_stream(event.proposal_id, event.seq))
        return state

    def rows_for(self, batch: Iterable[Stored]) -> tuple[Rows, dict[str, State]]:
        """Rows for the events not projected yet, and the states they lead to. An event at or
        below its stream's projected seq is a redelivery and adds nothing."""
        rows = Rows()
        pending: dict[str, State] = {}
        for stored in batch:
            event = stored.event
            state = self._before(event, pending)
            if state is not None and state.version >= event.seq:
                continue
            pending[event.proposal_id] = project(state, event, stored.position, rows)
        return rows, pending

    def remember(self, states: dict[str, State]) -> None:
        for stream, state in states.items():
            self.cache[stream] = state
            self.cache.move_to_end(stream)
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)

    def apply(self, batch: Iterable[Stored]) -> int:
        """Insert the batch's rows; the cache moves on only once they are in."""
        rows, states = self.rows_for(batch)
        if rows.history:
            self.store.insert(rows, self.db)
        self.remember(states)
        if rows.history:
            for listener in self.listeners:
                try:
                    listener(rows, states)
                except Exception:  # a listener's trouble never holds the projections up
                    log.exception("a projection listener failed")
        return len(rows)


class EmbeddedProjector:
    """A thread that keeps the projections caught up with the embedded event store: woken after
    each append, and polling every half second for writers in other processes (`banli import`)."""

    def __init__(self, log, store: ReportingStore, batch: int = 2000, linger: float = 0.05,
                 bulk_linger: float = 1.0):
        self.log = log
        self.projection = Projection(store, lambda stream, seq: log.load_before(stream, seq))
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
            with self.pause:
                self.projection.apply(chunk)
            with self._moved:
                self.position = chunk[-1].position
                self._moved.notify_all()
        return self.position

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
        """Block until `position` is projected (or the timeout passes)."""
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
