"""The handling loop: load → decide → append → answer, the same everywhere: the embedded mode
(SQLite), the distributed mode (Kafka) and the reference (in memory), through the one
repository (banli.eventlog.repository) over any event store (banli.eventlog.EventStore).

Commands on one stream are serialised by a lock (striped by stream); a batch (a bulk import, a
Kafka poll) takes them all and is one unit of durability: its events are durable together, and
only then are the answers given. A batch may be decided while the one before it is on its way
to durability (`start_batch`, the Kafka worker's pipeline): it is decided on the states the
earlier one leaves, and answered after it. A command decided before is answered from its record
(its own sender asking the same; that sender asking something else under it:
`command_id_conflict`; another sender's command under the same id is another command, decided
on its own). A command without a business time happens at the clock's reading under its
stream's lock, unless the caller gives the time it was recorded (Kafka: the command message's
broker time)."""
from __future__ import annotations

import gc
import threading
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterator, Protocol, Sequence

from .clock import Clock, system_clock
from .domain import commands as c
from .domain import proposal
from .domain.timing.deadlines import Profile
from .domain.decide import decide
from .domain.events import Event
from .domain.proposal import Context
from .domain.rejections import Rejection
from .domain.timing.workdays import Calendar
from .eventlog import Appending, CommandRecord, ConcurrencyError, Durability, Outcome
from .eventlog.repository import Repository
from .workcalendar import china_calendar


class Directory(proposal.Directory, Protocol):
    """The directory a decision reads (registered bureaus, natural keys, proposals' status), with
    what the loop tells it: the natural keys a batch's submits are about to take (`reserve`:
    where decisions run in several places at once, the log arbitrates), each decided event
    before it is durable (`observe`: later decisions see it), and whether the events it was
    shown became durable (`settle`; when not, nothing observed since is to be trusted)."""

    arbitrated: bool  # whether decisions elsewhere may race this one's (then: reserve keys)

    def reserve(self, claims: Sequence[tuple[str, str, str]]) -> None: ...

    def observe(self, event: Event) -> None: ...

    def settle(self, events: Sequence[Event], durable: bool) -> None: ...


class Calendars(Protocol):
    """The working-day calendar in force (banli.workcalendar.CalendarBook: the notices loaded)."""

    def current(self) -> Calendar: ...


@dataclass(frozen=True)
class FixedCalendar:
    """One calendar, always (the reference's)."""

    calendar: Calendar

    def current(self) -> Calendar:
        return self.calendar


Item = tuple[c.Command, datetime | None]  # a command, and when it was recorded (None: now)


@dataclass
class _Answer:
    """A decided command whose answer waits for its batch to be durable. `again`: it repeats a
    command of a batch that was not durable yet when this one was decided; the log has its
    record once this batch is durable."""

    command: c.Command
    outcome: Outcome
    appending: Appending | None = None
    again: bool = False

    def final(self, repository: Repository) -> Outcome:
        if self.again:
            prior = repository.prior(self.command)
            assert prior is not None and not prior.in_flight, "batches land in order"
            return prior
        if self.appending is None:
            return self.outcome
        return Outcome(self.outcome.command_id, events=self.appending.stored(),
                       replayed=self.outcome.replayed, sender=self.outcome.sender,
                       fingerprint=self.outcome.fingerprint)


class Decided:
    """A batch decided and handed to the log (Handling.start_batch): its answers, once its
    events are durable."""

    def __init__(self, handling: "Handling", answers: list[_Answer], durability: Durability,
                 observed: list[Event]):
        self.handling, self.answers = handling, answers
        self.durability, self.observed = durability, observed
        self._outcomes: list[Outcome] | None = None

    def outcomes(self) -> list[Outcome]:
        """The outcomes, in the order of the commands, once the batch is durable (this waits
        for it). Raises when it may not be: then the states of every batch decided after it
        are not to be trusted either, and whoever runs the loop loads the log again."""
        if self._outcomes is None:
            handling = self.handling
            try:
                self.durability.wait()
            except BaseException:
                handling.directory.settle(self.observed, False)
                handling.repository.forget()  # states may hold what did not become durable
                raise
            handling.directory.settle(self.observed, True)
            self._outcomes = [answer.final(handling.repository) for answer in self.answers]
            if any(o.events and not o.replayed for o in self._outcomes):
                handling.on_durable(self._outcomes)
        return self._outcomes


class Handling:
    def __init__(self, repository: Repository, directory: Directory, profile: Profile,
                 calendars: Calendars | None = None, clock: Clock = system_clock,
                 clerk_backdate_days: int = 30,
                 on_durable: Callable[[list[Outcome]], None] | None = None):
        """`calendars` gives the working-day calendar in force (default: the statutory holidays
        and the notices published with the chinese-calendar package). `on_durable` is told of
        every batch's outcomes once they are durable (the embedded projector wakes up)."""
        self.repository, self.directory, self.profile = repository, directory, profile
        self.calendars = calendars or FixedCalendar(china_calendar())
        self.clock, self.clerk_backdate_days = clock, clerk_backdate_days
        self.on_durable = on_durable or (lambda outcomes: None)
        self._locks = [threading.Lock() for _ in range(64)]

    def _lock(self, stream: str) -> threading.Lock:
        return self._locks[zlib.crc32(stream.encode()) % len(self._locks)]

    def handle(self, command: c.Command, recorded_at: datetime | None = None) -> Outcome:
        """Decide and record one command; its events are durable when this returns."""
        assert command.command_id, "the adapter gives every command an id"
        with self._lock(command.stream):
            return self._start([(command, recorded_at)]).outcomes()[0]

    def handle_batch(self, commands: Sequence[c.Command],
                     recorded_at: Sequence[datetime | None] | None = None) -> list[Outcome]:
        """Decide and record many commands in order as one unit: their events are durable
        together when this returns (or none of them, on an error). `recorded_at` gives when
        each was recorded (default: now, at its decision)."""
        return self.start_batch(commands, recorded_at).outcomes()

    def start_batch(self, commands: Sequence[c.Command],
                    recorded_at: Sequence[datetime | None] | None = None) -> Decided:
        """Decide many commands in order as one unit and hand their events to the log, without
        waiting for them to be durable: the next batch may be decided meanwhile, on the states
        this one leaves. `Decided.outcomes()` waits and answers (in the order batches were
        started)."""
        for lock in self._locks:
            lock.acquire()
        try:
            with _collector_paused():
                return self._start(list(zip(commands, recorded_at or [None] * len(commands))))
        finally:
            for lock in self._locks:
                lock.release()

    def _start(self, items: Sequence[Item]) -> Decided:
        self._reserve_keys(items)
        answers: list[_Answer] = []
        observed: list[Event] = []
        try:
            with self.repository.batch([command for command, _ in items]) as durability:
                for command, recorded_at in items:
                    answers.append(self._decide(command, recorded_at, observed))
        except BaseException:
            self.directory.settle(observed, False)
            raise
        return Decided(self, answers, durability, observed)

    def _context(self, recorded_at: datetime | None) -> Context:
        return Context(recorded_at=recorded_at or self.clock(), profile=self.profile,
                       directory=self.directory, calendar=self.calendars.current(),
                       clerk_backdate_days=self.clerk_backdate_days)

    def _decide(self, command: c.Command, recorded_at: datetime | None,
                observed: list[Event]) -> _Answer:
        repository, record = self.repository, CommandRecord.of(command)
        for _ in range(10):
            prior = repository.prior(command, record)
            if prior is not None and not prior.unfinished:
                if prior.in_flight:
                    return _Answer(command, prior, again=True)
                return _Answer(command, prior)  # its record, or a conflict: another command
            state = repository.state(command.stream)
            decision = decide(state, command, self._context(recorded_at))
            if isinstance(decision, Rejection):
                return _Answer(command, repository.refuse(record, decision))
            try:
                appending = repository.append(record, state.version if state else 0, decision)
            except ConcurrencyError:
                continue  # another writer moved the stream (or took the key): decide again
            for event in decision:
                self.directory.observe(event)
            observed.extend(decision)
            return _Answer(command, Outcome(record.command_id, replayed=prior is not None,
                                            sender=record.sender,
                                            fingerprint=record.fingerprint), appending)
        raise ConcurrencyError(f"{command.stream}: too much contention")

    def _reserve_keys(self, items: Sequence[Item]) -> None:
        """Before a batch is decided: the natural keys its submits would take, as a dry run
        decides them, reserved with the directory (which, where decisions run in several places
        at once, lets the log say whose each key is)."""
        if not self.directory.arbitrated:
            return
        claims = []
        for command, recorded_at in items:
            if not isinstance(command, c.Submit) or command.command_id is None:
                continue
            if self.repository.prior(command) is not None:
                continue
            state = self.repository.state(command.stream)
            if not isinstance(decide(state, command, self._context(recorded_at)), Rejection):
                claims.append((command.natural_key, command.stream, command.command_id))
        self.directory.reserve(claims)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector does not start by itself while a batch is decided. A
    command allocates some twenty objects (the command, its events, states, rows) and frees
    nearly all of them by reference counting, yet the collector's automatic passes, the full
    ones over every cached state above all, took some 15% of a bulk import's time. Once the
    batch is decided it starts again, and its first pass looks at what the batch left. A batch
    holds every stream's lock (start_batch), so batches of one Handling never overlap; the
    switch is process-wide, and only the one who found it on turns it back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
