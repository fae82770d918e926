"""The handling loop: load → decide → append → answer, the same in both modes, over either event
log (banli.eventlog.EventLog: SQLite embedded, Kafka distributed).

Commands on one stream are serialised by a lock (striped by stream); a batch (a bulk import, a
Kafka poll) takes them all and is one unit of durability: its events are durable together when
the log's batch ends, and only then are the answers given. A command decided before is answered
from its record (its own sender asking the same; anyone else: `command_id_conflict`). A command
without a business time happens at the clock's reading under its stream's lock, unless the
caller gives the time it was recorded (Kafka: the command message's broker time)."""
from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol, Sequence

from .clock import Clock, system_clock
from .domain import commands as c
from .domain import proposal
from .domain.deadlines import Profile
from .domain.decide import decide
from .domain.events import Event
from .domain.proposal import Context
from .domain.rejections import Rejection
from .eventlog import Appending, ConcurrencyError, EventLog, Outcome
from .workcalendar import CalendarBook


class Directory(proposal.Directory, Protocol):
    """The directory a decision reads (registered bureaus, natural keys, proposals' status), with
    what the loop tells it: the natural keys a batch's submits are about to take (`reserve`:
    where decisions run in several places at once, the log arbitrates), each decided event
    before it is durable (`observe`), and whether the batch became durable (`settle`)."""

    arbitrated: bool  # whether decisions elsewhere may race this one's (then: reserve keys)

    def reserve(self, claims: Sequence[tuple[str, str, str]]) -> None: ...

    def observe(self, event: Event) -> None: ...

    def settle(self, durable: bool) -> None: ...


Item = tuple[c.Command, datetime | None]  # a command, and when it was recorded (None: now)


@dataclass
class _Answer:
    """A decided command whose answer waits for its batch to be durable."""

    command: c.Command
    outcome: Outcome
    appending: Appending | None = None

    def final(self) -> Outcome:
        if self.appending is None:
            return self.outcome
        return Outcome(self.outcome.command_id, events=self.appending.stored(),
                       replayed=self.outcome.replayed, sender=self.outcome.sender,
                       fingerprint=self.outcome.fingerprint)


class Handling:
    def __init__(self, log: EventLog, directory: Directory, profile: Profile,
                 calendars: CalendarBook | None = None, clock: Clock = system_clock,
                 clerk_backdate_days: int = 30,
                 on_durable: Callable[[list[Outcome]], None] | None = None):
        """`on_durable` is told of every batch's outcomes once they are durable (the embedded
        projector wakes up)."""
        self.log, self.directory, self.profile = log, directory, profile
        self.calendars = calendars or CalendarBook()
        self.clock, self.clerk_backdate_days = clock, clerk_backdate_days
        self.on_durable = on_durable or (lambda outcomes: None)
        self._locks = [threading.Lock() for _ in range(64)]

    def _lock(self, stream: str) -> threading.Lock:
        return self._locks[zlib.crc32(stream.encode()) % len(self._locks)]

    def handle(self, command: c.Command, recorded_at: datetime | None = None) -> Outcome:
        """Decide and record one command; its events are durable when this returns."""
        assert command.command_id, "the adapter gives every command an id"
        with self._lock(command.stream):
            return self._batch([(command, recorded_at)])[0]

    def handle_batch(self, commands: Sequence[c.Command],
                     recorded_at: Sequence[datetime | None] | None = None) -> list[Outcome]:
        """Decide and record many commands in order as one unit: their events are durable
        together when this returns (or none of them, on an error). `recorded_at` gives when
        each was recorded (default: now, at its decision)."""
        for lock in self._locks:
            lock.acquire()
        try:
            return self._batch(list(zip(commands, recorded_at or [None] * len(commands))))
        finally:
            for lock in self._locks:
                lock.release()

    def _batch(self, items: Sequence[Item]) -> list[Outcome]:
        self._reserve_keys(items)
        answers: list[_Answer] = []
        try:
            with self.log.batch([command.command_id or "" for command, _ in items]):
                for command, recorded_at in items:
                    answers.append(self._decide(command, recorded_at))
        except BaseException:
            self.directory.settle(False)
            raise
        self.directory.settle(True)
        outcomes = [answer.final() for answer in answers]
        if any(o.events and not o.replayed for o in outcomes):
            self.on_durable(outcomes)
        return outcomes

    def _context(self, recorded_at: datetime | None) -> Context:
        return Context(recorded_at=recorded_at or self.clock(), profile=self.profile,
                       directory=self.directory, calendar=self.calendars.current(),
                       clerk_backdate_days=self.clerk_backdate_days)

    def _decide(self, command: c.Command, recorded_at: datetime | None) -> _Answer:
        sender, fingerprint = c.sender_of(command), c.fingerprint(command)
        for _ in range(10):
            prior = self.log.outcome(command.command_id or "")
            if prior is not None and not (prior.unfinished and prior.answers(command)):
                return _Answer(command, prior.replay(command))  # or a conflict: not its id
            state = self.log.state(command.stream)
            decision = decide(state, command, self._context(recorded_at))
            if isinstance(decision, Rejection):
                self.log.record_rejection(command, decision)
                return _Answer(command, Outcome(command.command_id or "", rejection=decision,
                                                sender=sender, fingerprint=fingerprint))
            try:
                appending = self.log.append(command, state.version if state else 0, decision)
            except ConcurrencyError:
                continue  # another writer moved the stream (or took the key): decide again
            for event in decision:
                self.directory.observe(event)
            return _Answer(command, Outcome(command.command_id or "", replayed=prior is not None,
                                            sender=sender, fingerprint=fingerprint), appending)
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
            if self.log.outcome(command.command_id) is not None:
                continue
            state = self.log.state(command.stream)
            if not isinstance(decide(state, command, self._context(recorded_at)), Rejection):
                claims.append((command.natural_key, command.stream, command.command_id))
        self.directory.reserve(claims)
