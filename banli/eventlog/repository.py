"""The one repository: streams' states and commands' outcomes above any event store (in the
manner of pyeventsourcing's `Repository` over its recorders). Written once for every adapter:

- **States.** A stream's state is folded from its events (`banli.domain.proposal.fold`), from
  the store's latest snapshot when it has one, and cached (the least recently used leave first;
  `cache_size=None` keeps every stream: the reference). A cached state is brought up to the
  store's version before a decision is made on it, once per batch (no other writer appends
  while a batch is open), or never, for a store that is its streams' only writer (a Kafka
  worker, which tells the repository to `forget` the streams it gives up).
- **Idempotency.** A command's key is its sender and id: `prior` finds what that sender's id
  came to; the same command is answered from that record, another command under it is refused
  `command_id_conflict`; another sender's command under the same id is another command. The
  sender is who entered the command (commands.sender_of). A store written before that kept a
  command entered on another's behalf (an import line naming its actor) under the actor it
  names: such a record, of that very command, answers it too (`_entered_before`), so that a
  file imported before is answered `replayed` when it is imported again.
- **Appends** go to the store at the version the decision was made on; the cached state moves
  on with them. A store that refuses (the stream moved on) makes the repository forget the
  stream, so the next decision reads it again.
- **Snapshots.** `state_at` gives a stream's state at a version, for the snapshot the store
  writes of it (Kafka: once the commands behind it are committed).

Thread-safe: the cache is shared, each thread has its own batch."""
from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import replace
from typing import Iterator, Sequence

from ..domain import commands as c
from ..domain.envelope import unscoped_event_id
from ..domain.events import Event
from ..domain.proposal import State, fold
from ..domain.rejections import Rejection
from . import Appending, CommandRecord, ConcurrencyError, Durability, EventStore, Outcome


class Repository:
    def __init__(self, store: EventStore, cache_size: int | None = 10_000):
        self.store = store
        self.cache_size = cache_size
        self._cache: OrderedDict[str, State] = OrderedDict()  # None: a stream without events
        self._lock = threading.Lock()
        self._local = threading.local()  # .current: the streams a thread's batch has read

    # --- states ----------------------------------------------------------------------------------
    def state(self, stream: str) -> State:
        """The stream's current state: everything appended to it so far, folded."""
        hit, state = self._cached(stream)
        current: set[str] | None = getattr(self._local, "current", None)
        if hit and (self.store.sole_writer or (current is not None and stream in current)):
            return state
        if not hit:
            state = self.store.snapshot(stream)
        events = self.store.load(stream, state.version if state is not None else 0)
        if events:
            state = fold(events, state)
        self._remember(stream, state)
        if current is not None:
            current.add(stream)
        return state

    def state_at(self, stream: str, version: int) -> State:
        """The stream's state at `version` (of a snapshot due at it): the cached one when it is
        at that version, else folded from the store's snapshot and events up to it."""
        hit, state = self._cached(stream)
        if hit and state is not None and state.version == version:
            return state
        state = self.store.snapshot(stream)
        if state is not None and state.version > version:
            state = None
        events = self.store.load(stream, state.version if state is not None else 0)
        state = fold((ev for ev in events if ev.seq <= version), state)
        assert (state.version if state is not None else 0) == version, f"{stream}@{version}"
        return state

    def _cached(self, stream: str) -> tuple[bool, State]:
        with self._lock:
            if stream not in self._cache:
                return False, None
            if self.cache_size is not None:
                self._cache.move_to_end(stream)
            return True, self._cache[stream]

    def _remember(self, stream: str, state: State) -> None:
        with self._lock:
            self._cache[stream] = state
            self._cache.move_to_end(stream)
            if self.cache_size is not None and len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def forget(self, streams: Sequence[str] | None = None) -> None:
        """Drop these streams' cached states (all of them: None): their next reading folds them
        from the store again (a Kafka worker gives up a partition, or cannot trust what it
        decided since a batch failed)."""
        with self._lock:
            if streams is None:
                self._cache.clear()
            else:
                for stream in streams:
                    self._cache.pop(stream, None)
        current: set[str] | None = getattr(self._local, "current", None)
        if current is not None and streams is None:
            current.clear()
        elif current is not None and streams is not None:
            current.difference_update(streams)

    # --- commands --------------------------------------------------------------------------------
    def prior(self, command: c.Command, record: CommandRecord | None = None) -> Outcome | None:
        """What the command's sender's id came to before: None when that sender never used it;
        the record, `replayed`, when the sender asks the same again; `command_id_conflict` when
        it asks something else. A record `unfinished` (the handling loop decides it again) or
        `in_flight` (answered once its batch is durable) is given as it is, when it answers.
        (`record`: the command's, when the caller has it already.)"""
        asked = record or CommandRecord.of(command)
        found = self.store.outcome(asked.sender, asked.command_id, asked.stream)
        if found is None:
            return self._entered_before(command, asked)
        if (found.unfinished or found.in_flight) and found.answers(command):
            return found
        return found.replay(command)  # its record, or the sender's conflict

    def _entered_before(self, command: c.Command, asked: CommandRecord) -> Outcome | None:
        """A command entered on another's behalf (`recorded_by`) as the code before ids were
        scoped to the one who entered them recorded it: under the actor it names and its id,
        with what that actor would have asked (no `recorded_by` then), its events under the
        ids of then (from the command id alone). Answered `replayed`, as the sender's own.
        Any other record under the actor's key (one whose events have ids of now, a refusal,
        another command) is the actor's own, another sender's: it answers nothing here, so
        that no one can make another's command fail by choosing its id."""
        if command.recorded_by is None or command.actor is None:
            return None
        named = c.actor_key(command.actor)
        if named == asked.sender:
            return None
        found = self.store.outcome(named, asked.command_id, asked.stream)
        if (found is None or found.unfinished or found.in_flight or not found.events
                or not found.answers(command.model_copy(update={"recorded_by": None}))
                or any(stored.event.event_id != unscoped_event_id(asked.command_id, index)
                       for index, stored in enumerate(found.events))):
            return None
        return replace(found, replayed=True, sender=asked.sender, fingerprint=asked.fingerprint)

    def refuse(self, record: CommandRecord, rejection: Rejection) -> Outcome:
        """Keep a refused command's outcome; gives it."""
        self.store.refuse(record, rejection)
        return Outcome(record.command_id, rejection=rejection, sender=record.sender,
                       fingerprint=record.fingerprint)

    def append(self, record: CommandRecord, expected_version: int,
               events: Sequence[Event]) -> Appending:
        """Append a command's decided events after `expected_version` (the version its decision
        read), with its outcome. Raises ConcurrencyError when the stream moved on meanwhile:
        decide again (its state is read from the store then)."""
        stream = record.stream
        try:
            appending = self.store.append(record, expected_version, events)
        except ConcurrencyError:
            self.forget([stream])
            raise
        hit, before = self._cached(stream)
        if hit and (before.version if before is not None else 0) == expected_version:
            self._remember(stream, fold(appending.events, before))  # as the log holds them
        else:
            self.forget([stream])  # the cache missed these events: fold it again when asked
        return appending

    @contextmanager
    def batch(self, commands: Sequence[c.Command] = ()) -> Iterator[Durability]:
        """The store's batch around many decisions (banli.eventlog.EventStore.batch): states
        read inside stay current until it ends (no other writer appends meanwhile). A batch that
        fails forgets the states it moved (they may hold appends the store rolled back)."""
        self._local.current = set()
        try:
            with self.store.batch([key for cmd in commands for key in _keys(cmd)]
                                  ) as durability:
                yield durability
        except BaseException:
            self.forget([cmd.stream for cmd in commands])
            raise
        finally:
            self._local.current = None


def _keys(command: c.Command) -> list[tuple[str, str]]:
    """The (sender, command id) keys a command's record may be under: its sender's, and for a
    command entered on another's behalf, the actor's it names (Repository._entered_before)."""
    keys = [(c.sender_of(command), command.command_id or "")]
    if command.recorded_by is not None and command.actor is not None:
        keys.append((c.actor_key(command.actor), command.command_id or ""))
    return keys
