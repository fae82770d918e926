"""Replay: rebuild every projection from the log into fresh tables, then swap them in.

The rebuild reads the log up to where it ended when the replay began, while the live worker
keeps projecting into the live tables; then, with the live inserts paused for a moment, it reads
what came in meanwhile and exchanges each table with its rebuilt twin (EXCHANGE TABLES is
atomic per table). Reads go on throughout.

A log that another process can open (the embedded store: LogSource.opener), of WORKERS_FROM
events or more, has its rows built in worker processes, one per spare core, each folding the
streams of its share (by a hash of the stream) of every batch and sending it encoded
(native.py). Replay's own process merges each batch's shares and inserts them in log order,
with the same marks as one process would write. With one worker that is a pipeline: the worker
builds a batch while the batch before is inserted, and the GIL of one process no longer holds
both up. chDB is opened by replay's process only (one process per path)."""
from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import partial
from multiprocessing.connection import Connection
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

from banli.eventlog import Stored, stored_of

from . import native
from .native import Encoded, Shapes
from .projection import KnownMarks, Projection
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

    def opener(self) -> Callable[[], "LogSource[Mark]"] | None:
        """How another process opens this same log (picklable), to build rows there; None for
        a log only this process reads (the rows are built here)."""
        return None

    def load_before(self, stream: str, seq: int) -> list:
        """A stream's events below `seq`, for a worker's projection (of an opened source)."""
        raise NotImplementedError

    def shares(self, start: Mark, until: Mark, worker: int, workers: int
               ) -> Iterator[tuple[list[Stored], int, int]]:
        """Worker `worker`'s share of each batch up to the mark (the events of its streams:
        shard_of), with the position of the batch's last event and how many the batch read.
        Every worker's batches end at the same events."""
        for batch in self.batches(start, until):
            mine = batch if workers == 1 else [
                stored for stored in batch
                if shard_of(stored.event.proposal_id, workers) == worker]
            yield mine, batch[-1].position, len(batch)


class SqliteSource(LogSource[int]):
    def __init__(self, log, batch: int = 5000):
        self.log, self.batch = log, batch

    def opener(self) -> Callable[[], LogSource[int]] | None:
        path = getattr(self.log, "path", None)
        return partial(_open_sqlite, str(path), self.batch) if path is not None else None

    def load_before(self, stream: str, seq: int) -> list:
        return self.log.load_before(stream, seq)

    def shares(self, start: int, until: int, worker: int, workers: int
               ) -> Iterator[tuple[list[Stored], int, int]]:
        """As LogSource's, decoding only the share's events (decoding is a third of building)."""
        if workers == 1:
            yield from super().shares(start, until, worker, workers)
            return
        after = start
        while rows := self.log.db.execute(
                "SELECT position, stream, data FROM events WHERE position > ? AND position <= ?"
                " ORDER BY position LIMIT ?", (after, until, self.batch)).fetchall():
            yield ([stored_of(position, data) for position, stream, data in rows
                    if shard_of(stream, workers) == worker], rows[-1][0], len(rows))
            after = rows[-1][0]

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


def _open_sqlite(path: str, batch: int) -> SqliteSource:
    from banli.eventlog.sqlite import SqliteEventStore

    return SqliteSource(SqliteEventStore(path), batch)


def spare_cores() -> int:
    """Replay's row builders: one per core but the one replay's own process inserts on."""
    return max(1, (os.cpu_count() or 2) - 1)


# A replay of fewer events builds its rows in its own process: a worker takes about a second
# to start (spawned, it imports the kernel) before its first batch, and then builds some
# 14,000 events a second where replay's own process, building and inserting, reaches about
# 11,000 (2 cores, bench/README.md): it gains that second back at about 50,000 events.
WORKERS_FROM = 50_000


def replay(store: ReportingStore, source: LogSource, pause: threading.Lock,
           progress: ReplayProgress, loader_for: Callable[[str], Callable],
           cache_size: int = 50_000, builders: int | None = None) -> None:
    """Rebuild into `<db>_replay` and swap in. `pause` is held by the live projector while it
    inserts; holding it here stops the live inserts for the final catch-up and the swap.
    `builders`: the processes that build rows, for a source another process can open
    (default: spare_cores() for a log of WORKERS_FROM events or more; 0: built in this
    process)."""
    target = f"{store.db}_replay"
    progress.state, progress.started_at, progress.error = "running", time.time(), None
    progress.read = progress.projected = 0
    opener = source.opener()
    try:
        start, until = source.origin(), source.mark()
        progress.total = source.count(start, until)
        workers = builders if builders is not None else (
            spare_cores() if progress.total >= WORKERS_FROM else 0)
        with _collector_paused(), ThreadPoolExecutor(1, "replay-insert") as inserter, \
                Builders(opener if workers else None, workers, cache_size) as built:
            store.drop(target)
            made = inserter.submit(store.ensure_schema, target, True)
            projection = Projection(store, _after(made, loader_for(target)), db=target,
                                    cache_size=cache_size, fresh=True)

            shapes: list[Shapes] = []

            def shapes_of() -> tuple[Shapes, Any]:
                """What the workers encode for: the tables being made."""
                made.result()
                shapes.append(store.shapes(target))
                return shapes[0], store.client.server_tz

            def rows_of(start, until) -> Iterable[tuple[Rows | Encoded, int]]:
                if not built.running:
                    return _built_here(projection, source.batches(start, until))
                return built.rows(start, until, shapes_of)

            def insert(rows: Rows | Encoded) -> None:
                if isinstance(rows, Encoded):
                    store.insert_encoded(rows, shapes[0], target)
                else:
                    projection.insert(rows)

            _insert_in_order(insert, rows_of(start, until), progress, inserter, made)
            with pause:  # live inserts wait; reads go on
                progress.state = "swapping"
                final = source.mark()
                progress.total += source.count(until, final)
                _insert_in_order(insert, rows_of(until, final), progress, inserter, made)
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


def _built_here(projection: Projection, batches: Iterable[list[Stored]]
                ) -> Iterator[tuple[Rows, int]]:
    """Each batch's rows, built in this process (a log no other process can read), and how
    many events the batch read."""
    for batch in batches:
        rows, states = projection.rows_for(batch)
        projection.remember(states)
        yield rows, len(batch)


def _insert_in_order(insert: Callable[[Any], None], built: Iterable[tuple[Rows | Encoded, int]],
                     progress: ReplayProgress, inserter: ThreadPoolExecutor, made: Future[None]
                     ) -> None:
    """Insert each batch's rows while the next ones are built (in worker processes, or here:
    chDB releases the GIL while it works, so on two cores building and inserting overlap). One
    insert at a time, in log order, in the inserter's one thread, after the tables are `made`
    there; up to INSERTS_AHEAD batches wait for it, so that an insert slower than the next
    batch's building (the first, or one when the machine is busy) holds the building up less
    often. A failed insert fails the replay (whose tables are dropped when it runs again), so
    the states may move on before their rows are in."""
    inserting: deque[Future[tuple[int, int]]] = deque()
    for rows, read in built:
        if len(inserting) == INSERTS_AHEAD:
            _inserted(inserting.popleft().result(), progress)
        inserting.append(inserter.submit(_insert, insert, rows, read, made))
    while inserting:
        _inserted(inserting.popleft().result(), progress)


INSERTS_AHEAD = 2  # batches built and waiting for the inserter, at most


def _insert(insert: Callable[[Any], None], rows: Rows | Encoded, read: int,
            made: Future[None]) -> tuple[int, int]:
    made.result()  # done (the same thread made them): raises if the tables could not be made
    if len(rows):
        insert(rows)
    return read, len(rows)


def _inserted(counts: tuple[int, int], progress: ReplayProgress) -> None:
    read, projected = counts
    with progress._lock:
        progress.read += read
        progress.projected += projected


SPAWN = multiprocessing.get_context("spawn")  # no fork of a process with chDB's threads in it


class Builders:
    """Worker processes that build replay's rows from a source they open themselves (`opener`;
    none: no workers, `running` is false). Worker i of n folds the streams whose hash is i
    modulo n, over every batch of the log, so each batch comes back in n shares, merged here in
    the batch's order. Each worker starts as soon as the replay does (their imports overlap
    making the tables)."""

    def __init__(self, opener: Callable[[], LogSource] | None, workers: int, cache_size: int):
        self.processes: list[Any] = []
        self.orders: list[Connection] = []
        self.results: list[Connection] = []
        self.shaped = False  # the workers know the tables' shapes
        if opener is None or workers < 1:
            return
        for worker in range(workers):
            heard, order = SPAWN.Pipe(duplex=False)
            result, sent = SPAWN.Pipe(duplex=False)
            process = SPAWN.Process(target=build_shares, daemon=True,
                                    name=f"banli-replay-{worker}",
                                    args=(opener, worker, workers, cache_size, heard, sent))
            process.start()
            heard.close()
            sent.close()  # the worker's ends only: its death is then an EOF here
            self.processes.append(process)
            self.orders.append(order)
            self.results.append(result)

    @property
    def running(self) -> bool:
        return bool(self.processes)

    def rows(self, start: object, until: object, shapes: Callable[[], tuple[Shapes, Any]]
             ) -> Iterator[tuple[Encoded, int]]:
        """The rows of the log's batches from `start` up to `until`, in order, encoded for the
        tables' `shapes` (with the engine's time zone), and how many events each read. The
        shapes are asked once the workers have their first order: they build their first
        batch while the tables are made. A worker that died fails the replay."""
        for order in self.orders:
            order.send(("range", start, until))
        if not self.shaped:
            shaped = shapes()
            for order in self.orders:
                order.send(("shapes", *shaped))
            self.shaped = True
        while True:
            try:
                shares = [result.recv() for result in self.results]
            except EOFError:
                codes = [process.exitcode for process in self.processes]
                raise RuntimeError(f"a replay worker ended (exit codes {codes})") from None
            if shares[0] is None:
                return
            yield native.merged([rows for rows, _ in shares]), shares[0][1]

    def __enter__(self) -> "Builders":
        return self

    def __exit__(self, *exc: object) -> None:
        for connection in (*self.results, *self.orders):
            connection.close()  # the workers' stop, sending or waiting for an order
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)


def shard_of(stream: str, workers: int) -> int:
    return zlib.crc32(stream.encode()) % workers


def build_shares(opener: Callable[[], LogSource], worker: int, workers: int, cache_size: int,
                 orders: Connection, out: Connection) -> None:
    """A replay worker (spawned): for each order (a range of the log, the tables' shapes), the
    rows of its share of every batch, encoded (native.encode), then None. The marks cover each
    whole batch (Projection.rows_for's `through`), the same in every share."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is replay's process's to handle
    gc.disable()  # as replay's own process: _collector_paused
    source = opener()
    # KnownMarks is all a projection that only builds rows reads of its store
    projection = Projection(KnownMarks({}, True, 0),  # type: ignore[arg-type]  # see above
                            source.load_before, cache_size=cache_size, fresh=True)
    shapes: Shapes | None = None
    server_tz: Any = None
    try:
        while True:
            try:
                order = orders.recv()
            except EOFError:
                return  # the replay is over
            if order[0] == "shapes":
                _, shapes, server_tz = order
                continue
            _, start, until = order
            for mine, last, read in source.shares(start, until, worker, workers):
                rows, states = projection.rows_for(mine, through=last)
                projection.remember(states)
                if shapes is None:  # sent right after the first order
                    _, shapes, server_tz = orders.recv()
                out.send((native.encode(rows, shapes, server_tz), read))
            out.send(None)
    except (BrokenPipeError, EOFError):
        pass  # the replay failed or ended: its process closed the pipes
    finally:
        out.close()


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
