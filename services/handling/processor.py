"""The embedded processor: load → decide → append → evolve, one proposal at a time.

Commands on one stream are serialised by a lock (striped by stream); the append is at the
expected version, so a writer in another process (`banli import` beside `banli serve`) is
caught by the store and the command is decided again on the fresh state."""
from __future__ import annotations

import sqlite3
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

from banli.clock import Clock, system_clock
from banli.domain import commands as c
from banli.domain.deadlines import Profile
from banli.domain.decide import decide
from banli.domain.proposal import Context, State, fold
from banli.domain.rejections import Rejection
from banli.eventlog import ConcurrencyError, Outcome, Stored
from banli.eventlog.sqlite import SqliteEventStore
from banli.workcalendar import CalendarBook



@dataclass
class BatchView:
    """What a batch knows about the log without asking it again. A batch is one transaction
    that holds SQLite's write lock from its start, so no other writer can record a command or
    move a stream meanwhile: what was read once in it stays true, but for the batch's own
    writes, which are noted here. Saves two queries per command of a bulk import."""

    maybe_recorded: set[str]  # command ids that may have an outcome on record; others have none
    current: set[str] = field(default_factory=set)  # streams whose cached state is the log's

    def may_be_recorded(self, command_id: str) -> bool:
        return command_id in self.maybe_recorded

    def handled(self, command: c.Command) -> None:
        self.maybe_recorded.add(command.command_id)


class Processor:
    def __init__(self, log: SqliteEventStore, profile: Profile, clock: Clock = system_clock,
                 on_append: Callable[[int], None] | None = None, cache_size: int = 10_000,
                 calendars: CalendarBook | None = None, clerk_backdate_days: int = 30):
        self.log = log
        self.profile = profile
        self.clerk_backdate_days = clerk_backdate_days
        self.calendars = calendars or CalendarBook()
        self.clock = clock
        self.on_append = on_append or (lambda position: None)
        self._locks = [threading.Lock() for _ in range(64)]
        self._cache: OrderedDict[str, State] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.cache_size = cache_size

    def _lock(self, stream: str) -> threading.Lock:
        return self._locks[zlib.crc32(stream.encode()) % len(self._locks)]

    def state(self, stream: str, batch: BatchView | None = None) -> State:
        """The stream's current state: the cached one, brought up to the log's version (which
        a batch need not ask again once it has)."""
        with self._cache_lock:
            state = self._cache.get(stream)
        if batch is not None and state is not None and stream in batch.current:
            return state
        version = state.version if state is not None else 0
        if self.log.version(stream) != version:
            state = fold(self.log.load(stream, version), state)
            self._remember(stream, state)
        if batch is not None:
            batch.current.add(stream)
        return state

    def _remember(self, stream: str, state: State) -> None:
        with self._cache_lock:
            self._cache[stream] = state
            self._cache.move_to_end(stream)
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def handle(self, command: c.Command) -> Outcome:
        """Decide and record one command. Events are committed before this returns."""
        assert command.command_id, "the adapter gives every command an id"
        with self._lock(command.stream):
            return self._handle(command)  # which answers a command decided before

    def handle_batch(self, commands: list[c.Command]) -> list[Outcome]:
        """Decide and record many commands in order, in one transaction (bulk imports): their
        events are committed together before this returns, or none of them are."""
        for lock in self._locks:
            lock.acquire()
        try:
            with self.log.batch():
                batch = BatchView(self.log.recorded_among([c.command_id for c in commands]))
                outcomes = []
                for command in commands:
                    outcomes.append(self._handle(command, batch))
                    batch.handled(command)
        except BaseException:
            with self._cache_lock:
                self._cache.clear()  # it may hold states of the rolled-back appends
            raise
        finally:
            for lock in self._locks:
                lock.release()
        if any(o.events and not o.replayed for o in outcomes):
            self.on_append(max(o.position for o in outcomes))
        return outcomes

    def _handle(self, command: c.Command, batch: BatchView | None = None) -> Outcome:
        """Under the stream's lock (or the batch's): decide, append, remember."""
        if batch is None or batch.may_be_recorded(command.command_id):
            if (prior := self.log.outcome(command.command_id)) is not None:
                return prior.replay(command)  # or a conflict: the id is someone else's
        for _ in range(10):
            state = self.state(command.stream, batch)
            ctx = Context(recorded_at=self.clock(), profile=self.profile, directory=self.log,
                          calendar=self.calendars.current(),
                          clerk_backdate_days=self.clerk_backdate_days)
            decision = decide(state, command, ctx)
            if isinstance(decision, Rejection):
                self.log.record_rejection(command, decision)
                return Outcome(command.command_id, rejection=decision,
                               sender=c.sender_of(command), fingerprint=c.fingerprint(command))
            try:
                positions = self.log.append(command, state.version if state else 0, decision)
            except ConcurrencyError:
                if batch is not None:
                    batch.current.discard(command.stream)
                continue  # another process wrote this stream: decide again on fresh state
            except sqlite3.IntegrityError:
                if (prior := self.log.outcome(command.command_id)) is not None:
                    return prior.replay(command)  # decided by another process just now
                # another stream claimed the same natural key meanwhile (the directory's unique
                # key): decide again, now seeing it
                if batch is not None:
                    batch.current.discard(command.stream)
                continue
            self._remember(command.stream, fold(decision, state))
            if batch is None:  # a batch's appends are seen once it commits: it tells then
                self.on_append(positions[-1])
            return Outcome(command.command_id,
                           events=[Stored(p, ev) for p, ev in zip(positions, decision)],
                           sender=c.sender_of(command), fingerprint=c.fingerprint(command))
        raise ConcurrencyError(f"{command.stream}: too much contention")

    def recorded(self, command_id: str) -> Outcome | None:
        """The outcome of a command decided before, from the log's record (with its sender:
        whoever asks for it must be the one who sent it)."""
        return self.log.outcome(command_id)
