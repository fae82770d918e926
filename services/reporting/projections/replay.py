"""Replay: rebuild every projection from the log into fresh tables, then swap them in.

The rebuild reads the log up to where it ended when the replay began, while the live worker
keeps projecting into the live tables; then, with the live inserts paused for a moment, it reads
what came in meanwhile and exchanges each table with its rebuilt twin (EXCHANGE TABLES is
atomic per table). Reads go on throughout."""
from __future__ import annotations

import gc
import logging
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Callable, Generic, Iterable, Iterator, TypeVar

from banli.eventlog import Stored, stored_of

from .projection import Projection
from .projector import Rows
from .store import ReportingStore

# A source reads the log: `batches(until)` yields batches up to a mark, `mark()` says where the
# log ends now, and `total(until)` how many events that is.
BatchSource = Callable[[object], Iterator[list[Stored]]]

log = logging.getLogger("banli.reporting")


@dataclass
class ReplayProgress:
    state: str = "idle"  # idle, starting, running, swapping, done, failed
    read: int = 0
    total: int = 0
    projected: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict:
        with self._lock:
            data = {f.name: getattr(self, f.name) for f in fields(self)
                    if not f.name.startswith("_")}
        elapsed = (self.finished_at or time.time()) - self.started_at if self.started_at else 0
        data["events_per_s"] = round(self.read / elapsed) if elapsed else None
        return data


Mark = TypeVar("Mark")


class LogSource(Generic[Mark]):
    """What replay needs of a log: where it ends now, and its events up to such a mark (a
    position in the embedded log, offsets by partition in Kafka)."""

    def mark(self) -> Mark:
        raise NotImplementedError

    def count(self, start: Mark, until: Mark) -> int:
        raise NotImplementedError

    def batches(self, start: Mark, until: Mark) -> Iterator[list[Stored]]:
        raise NotImplementedError

    def origin(self) -> Mark:
        raise NotImplementedError


class SqliteSource(LogSource[int]):
    def __init__(self, log, batch: int = 5000):
        self.log, self.batch = log, batch

    def origin(self) -> int:
        return 0

    def mark(self) -> int:
        return self.log.head()

    def count(self, start: int, until: int) -> int:
        return self.log.db.execute("SELECT count(*) FROM events WHERE position > ? AND "
                                   "position <= ?", (start, until)).fetchone()[0]

    def batches(self, start: int, until: int) -> Iterator[list[Stored]]:
        for chunk in self.log.read_all(start, self.batch):
            if chunk[-1].position > until:  # in log order: only the last chunk goes past it
                chunk = [s for s in chunk if s.position <= until]
            if chunk:
                yield chunk
            if chunk and chunk[-1].position >= until or not chunk:
                return


def replay(store: ReportingStore, source: LogSource, pause: threading.Lock,
           progress: ReplayProgress, loader_for: Callable[[str], Callable],
           cache_size: int = 50_000) -> None:
    """Rebuild into `<db>_replay` and swap in. `pause` is held by the live projector while it
    inserts; holding it here stops the live inserts for the final catch-up and the swap."""
    target = f"{store.db}_replay"
    progress.state, progress.started_at, progress.error = "running", time.time(), None
    progress.read = progress.projected = 0
    try:
        with _collector_paused(), ThreadPoolExecutor(1, "replay-insert") as inserter:
            store.drop(target)
            made = inserter.submit(store.ensure_schema, target, True)
            projection = Projection(store, _after(made, loader_for(target)), db=target,
                                    cache_size=cache_size, fresh=True)
            start, until = source.origin(), source.mark()
            progress.total = source.count(start, until)
            _project(projection, source.batches(start, until), progress, inserter, made)
            with pause:  # live inserts wait; reads go on
                progress.state = "swapping"
                final = source.mark()
                progress.total += source.count(until, final)
                _project(projection, source.batches(until, final), progress, inserter, made)
                made.result()  # (a log with no events inserts nothing)
                store.exchange(target)
        store.drop(target)
        progress.state = "done"
    except Exception as exc:
        progress.state, progress.error = "failed", repr(exc)
        raise
    finally:
        progress.finished_at = time.time()


def _after(made: Future[None], load_stream: Callable) -> Callable:
    """The projection's loader of earlier events, for the rebuilt tables (Kafka's reads them):
    it waits until they are made. The inserter makes them while the first batch is built (a
    few chDB statements, 30 to 300 ms on a busy machine), and nearly every replay needs no
    earlier events before then (each stream's events begin at the log's origin)."""
    def load(stream: str, seq: int):
        made.result()
        return load_stream(stream, seq)

    return load


def _project(projection: Projection, batches: Iterable[list[Stored]],
             progress: ReplayProgress, inserter: ThreadPoolExecutor, made: Future[None]
             ) -> None:
    """Build each batch's rows while the batches before are being inserted: chDB releases the
    GIL while it works, so on two cores building and inserting overlap. One insert at a time, in
    log order, in the inserter's one thread, after the tables are `made` there; up to
    INSERTS_AHEAD batches wait for it, so that an insert slower than the next batch's building
    (the first, or one when the machine is busy) holds the building up less often. A failed
    insert fails the replay (whose tables are dropped when it runs again), so the states may
    move on before their rows are in."""
    inserting: deque[Future[tuple[int, int]]] = deque()
    for batch in batches:
        rows, states = projection.rows_for(batch)
        projection.remember(states)
        if len(inserting) == INSERTS_AHEAD:
            _inserted(inserting.popleft().result(), progress)
        inserting.append(inserter.submit(_insert, projection, rows, len(batch), made))
    while inserting:
        _inserted(inserting.popleft().result(), progress)


INSERTS_AHEAD = 2  # batches built and waiting for the inserter, at most


def _insert(projection: Projection, rows: Rows, read: int, made: Future[None]
            ) -> tuple[int, int]:
    made.result()  # done (the same thread made them): raises if the tables could not be made
    if rows.history:
        projection.insert(rows)
    return read, len(rows)


def _inserted(counts: tuple[int, int], progress: ReplayProgress) -> None:
    read, projected = counts
    with progress._lock:
        progress.read += read
        progress.projected += projected


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Replay allocates some ten objects an event (the event, states, rows) and frees nearly all
    of them by reference counting, yet the cyclic collector's automatic passes, the full ones
    over every state in the cache above all, took a third of replay's time. So while a replay
    runs the collector does not run at all. Its passes over the young objects alone, once a
    batch, still cost a tenth of replay (they go over every state and row the batch made), and
    free nothing large: the one cycle a batch makes, clickhouse-connect's insert context, no
    longer holds the batch's rows once the insert is done (ReportingStore._insert). At the end
    what the replay kept (the cached states) is moved to the oldest generation without a pass
    over it (freeze, then unfreeze), so turning the collector on again does not start with one.
    The switch is process-wide, as the collector is: other threads' cycles are freed once the
    replay is over."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


class KafkaSource(LogSource[dict]):
    """`banli.events` from its beginning (assign + seek, no consumer group), up to a mark: the
    end offsets of every partition at a moment."""

    def __init__(self, bootstrap: str, topic: str, batch: int = 5000):
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            from kafka import KafkaConsumer

        from banli.eventlog.kafka import partitions_of
        self.batch = batch
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                      enable_auto_commit=False, max_poll_records=batch,
                                      client_id="banli-replay")
        self.tps = partitions_of(self.consumer, topic)
        self.consumer.assign(self.tps)

    def origin(self) -> dict:
        return dict(self.consumer.beginning_offsets(self.tps))

    def mark(self) -> dict:
        return dict(self.consumer.end_offsets(self.tps))

    def count(self, start: dict, until: dict) -> int:
        return sum(max(0, until[tp] - start[tp]) for tp in self.tps)

    def batches(self, start: dict, until: dict) -> Iterator[list[Stored]]:
        """The events up to the mark, read as the embedded log reads them (stored_of: the
        history row takes each event's JSON as the topic holds it). An event that does not
        decode is left out, as the live worker leaves it out (it sends it to the dead letter
        topic), and said so in the log."""
        from banli.eventlog.kafka import position_of

        for tp in self.tps:
            self.consumer.seek(tp, start[tp])
        open_tps = {tp for tp in self.tps if start[tp] < until[tp]}
        batch: list[Stored] = []
        while open_tps:
            for tp, records in self.consumer.poll(timeout_ms=1000).items():
                for record in records:
                    if record.offset >= until[tp]:
                        break
                    try:
                        batch.append(stored_of(position_of(tp.partition, record.offset),
                                               record.value))
                    except Exception as exc:  # not JSON, not an event: whatever decoding says
                        log.warning("replay leaves out the undecodable event at %s offset %d "
                                    "(the live worker sent it to the dead letter topic): %s",
                                    tp, record.offset, exc)
            for tp in list(open_tps):
                if self.consumer.position(tp) >= until[tp]:
                    open_tps.discard(tp)
            # A poll brings what some partitions' fetches had ready, often a few hundred
            # events: gather whole batches, as chDB wants few, large inserts.
            if len(batch) >= self.batch or (batch and not open_tps):
                yield batch
                batch = []

    def close(self) -> None:
        self.consumer.close()


class Replayer:
    """One replay at a time, in a background thread, its progress readable meanwhile."""

    def __init__(self, store: ReportingStore, source_factory: Callable[[], LogSource],
                 pause: threading.Lock, loader_for: Callable[[str], Callable]):
        self.store, self.source_factory = store, source_factory
        self.pause, self.loader_for = pause, loader_for
        self.progress = ReplayProgress()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        if self._thread is not None and self._thread.is_alive():
            return False
        self.progress = ReplayProgress(state="starting")
        self._thread = threading.Thread(target=self.run, name="replay", daemon=True)
        self._thread.start()
        return True

    def run(self) -> ReplayProgress:
        source = self.source_factory()
        try:
            replay(self.store, source, self.pause, self.progress, self.loader_for)
        except Exception:
            pass  # recorded in progress
        finally:
            close = getattr(source, "close", None)
            if close:
                close()
        return self.progress

    def wait(self, timeout: float | None = None) -> ReplayProgress:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.progress
