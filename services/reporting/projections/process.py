"""The embedded projector in a process of its own, a child of the server's.

chDB opens a path in one process only (ARCHITECTURE.md), and the server reads the projections
all the time, so the child cannot insert. It does the work that holds the GIL instead: it
follows the SQLite event store (WAL: another process reads it while the server writes), decodes
each batch, folds the states and builds the rows (Projection.rows_for), and sends the rows and
the states they lead to over a pipe. The server inserts them, in order, with the marks
(projection.py: exactly once), and tells the listeners (the live feed, the reconciler).

So a crash of either side loses nothing. The child starts from the server's marks: what it
built and the server did not insert is built again. The server watches the child and starts it
again when it dies (after `restart_delay`), and also when a replay swapped the tables in, whose
marks the child does not know. When the server dies, the pipe it wakes the child through closes
and the child ends.

Shipping a batch's rows (pickled) costs the server a fraction of building them: bench/README.md
has the figures."""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from functools import partial
from multiprocessing.connection import Connection
from typing import Any, Callable

from banli.eventlog import Stored
from banli.eventlog.sqlite import SqliteEventStore

from .projection import EmbeddedProjector, KnownMarks
from .store import ReportingStore

log = logging.getLogger("banli.reporting")

SPAWN = multiprocessing.get_context("spawn")  # no fork of a process with chDB's threads in it


class ChildDied(RuntimeError):
    pass


class RowBuilder(EmbeddedProjector):
    """The child's side: the projector's loop (gather, read, build), sending each batch's rows
    to the parent instead of inserting them. The parent wakes it through a pipe of its own, a
    byte a wake (WAKE, or HURRY for someone waiting): not multiprocessing's events, whose
    `set` waits for every waiter to wake, and so forever for one killed while it waited."""

    def __init__(self, log, known: KnownMarks, batch: int, linger: float, bulk_linger: float,
                 out: Connection, wakes: Connection):
        super().__init__(log, known, batch, linger, bulk_linger)
        self.out = out
        self.wakes = wakes

    def _project(self, chunk: list[Stored]) -> None:
        rows, states = self.projection.rows_for(chunk)
        self.out.send((rows, {stream: state for stream, (state, _) in states.items()}
                       if rows.history else {}, chunk[-1].position))
        self.projection.remember(states)

    def _listen(self) -> None:
        """Turn the parent's bytes into wakes; its end closed (stopped, or dead) stops the
        child."""
        while True:
            try:
                got = os.read(self.wakes.fileno(), 256)
            except OSError:
                got = b""
            if not got:
                self._stop.set()
                self._wake.set()
                return
            if HURRY in got:
                self._hurry.set()
            self._wake.set()

    def _run(self) -> None:
        """Until stopped. A failure ends the child: the parent records it and starts another."""
        threading.Thread(target=self._listen, name="wakes", daemon=True).start()
        while not self._stop.is_set():
            self._gather()
            before = self.position
            self.catch_up()
            self._bulk = self.position - before >= self.batch // 10
            self._wake.wait(0.5)
            self._wake.clear()


WAKE, HURRY = b"w", b"h"


def build_rows(open_log: Callable[[], Any], position: int, marks: dict[int, int],
               intervals: bool, batch: int, linger: float, bulk_linger: float,
               out: Connection, wakes: Connection) -> None:
    """The child's entry point (spawned): follow the log from `position`, projected as far as
    `marks` say, and send what it builds to `out` until `wakes` closes. Ctrl-C in a terminal
    reaches the whole process group: the server stops its child itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    builder = RowBuilder(open_log(), KnownMarks(marks, intervals, position), batch, linger,
                         bulk_linger, out, wakes)
    try:
        builder._run()
    except (BrokenPipeError, EOFError):
        pass  # the parent is gone or started another child
    except BaseException as exc:
        try:
            out.send(("failed", repr(exc)))
        except OSError:
            pass
        raise
    finally:
        out.close()


class ProjectorProcess(EmbeddedProjector):
    """The server's side: the same interface as the projector thread (position, wait_for,
    notify, error, pause, the projection's listeners), the rows built in a child process and
    inserted here. `open_log` opens the event store in the child (picklable: a class and a
    path). Before `start`, `catch_up` projects in this process, as the thread's does."""

    def __init__(self, log, store: ReportingStore, open_log: Callable[[], Any],
                 batch: int = 2000, linger: float = 0.05, bulk_linger: float = 1.0,
                 restart_delay: float = 0.5):
        super().__init__(log, store, batch, linger, bulk_linger)
        self.open_log = open_log
        self.restart_delay = restart_delay
        self.restarts = 0  # children started after the first: crashes and replays' swaps
        self.child: Any = None  # the running child (a multiprocessing Process)
        self._wakes: int | None = None  # the descriptor the child's wakes are written to
        self._wakes_conn: Connection | None = None
        self._wakes_lock = threading.Lock()  # a closed descriptor's number is soon another's

    def catch_up(self) -> int:
        if not self.running:
            return super().catch_up()
        while not self.wait_for(self.log.head(), timeout=5.0):
            if not self.running:
                raise RuntimeError("the projector stopped")
        return self.position

    def _run(self) -> None:
        """The projector thread (EmbeddedProjector.start, .stop): start a child, insert what it
        sends; when it dies (or the tables were swapped), start another from the marks."""
        first = True
        while not self._stop.is_set():
            if not first:
                self.restarts += 1
            first = False
            try:
                reader = self._spawn()
            except Exception as exc:
                self.error = exc
                self._stop.wait(1.0)
                continue
            try:
                self._receive(reader)
            except Exception as exc:
                if not self._stop.is_set():
                    log.warning("the projector process: %r; starting it again", exc)
                    self.error = exc
                    self._stop.wait(self.restart_delay)
            finally:
                reader.close()
                self._end_child()

    def _spawn(self) -> Connection:
        with self.pause:  # no swap of the tables between the marks and the checkpoint
            self.projection._read_marks()
            position = self.store.checkpoint()
        with self._moved:
            self.position = position
        reader, writer = SPAWN.Pipe(duplex=False)
        heard, wakes = SPAWN.Pipe(duplex=False)
        child = SPAWN.Process(
            target=build_rows, name="banli-projector", daemon=True,
            args=(self.open_log, position, self.projection.marks, self.projection.intervals,
                  self.batch, self.linger, self.bulk_linger, writer, heard))
        child.start()
        writer.close()  # the child's ends only: its death is then the reader's EOF
        heard.close()
        # a wake never blocks the writer that sends it: when the pipe is full, wakes are
        # waiting already
        os.set_blocking(wakes.fileno(), False)
        with self._wakes_lock:
            self._wakes_conn, self._wakes = wakes, wakes.fileno()
        self.child = child
        return reader

    def _receive(self, reader: Connection) -> None:
        exchanges = self.store.exchanges
        while not self._stop.is_set():
            if not reader.poll(0.5):
                if not self.child.is_alive():
                    raise ChildDied(f"exit code {self.child.exitcode}")
                self.error = None  # a child is up, with nothing to send: caught up
                continue
            message = reader.recv()
            if message[0] == "failed":
                raise ChildDied(message[1])
            rows, states, position = message
            with self.pause:
                if self.store.exchanges != exchanges:
                    return  # replay swapped the tables in: a child that knows their marks
                if rows.history:
                    self.projection.insert(rows)
            if rows.history:
                self.projection.tell(rows, states)
            with self._moved:
                self.position = position
                self._moved.notify_all()
            self.error = None

    def _end_child(self) -> None:
        child = self.child
        if child is None:
            return
        with self._wakes_lock:
            if self._wakes_conn is not None:
                self._wakes_conn.close()  # the child's stop
            self._wakes_conn = self._wakes = None
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join(5)
        self.child = None

    def _send(self, byte: bytes) -> None:
        with self._wakes_lock:
            if self._wakes is not None:
                try:
                    os.write(self._wakes, byte)
                except OSError:  # full (wakes are waiting), or the child is gone
                    pass

    def notify(self) -> None:
        self._send(WAKE)

    def wait_for(self, position: int, timeout: float = 10.0) -> bool:
        with self._moved:
            if self.position >= position:
                return True
        self._send(HURRY)
        with self._moved:
            return self._moved.wait_for(lambda: self.position >= position, timeout)

    @property
    def pid(self) -> int | None:
        child = self.child
        return child.pid if child is not None else None


def embedded_projector(log, store: ReportingStore, store_path, batch: int,
                       in_child: bool) -> EmbeddedProjector:
    """The projector following the embedded store at `store_path` (open as `log`): its rows
    built in a child process (`in_child`: what `banli serve` runs, Settings.projector_process)
    or in a thread of this process."""
    if in_child:
        return ProjectorProcess(log, store, partial(SqliteEventStore, store_path), batch)
    return EmbeddedProjector(log, store, batch)
