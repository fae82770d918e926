"""The event store in memory: the reference's (`banli report --history`, banli.history), run
through the same repository and handling loop as production; and an adapter the contract suite
holds to the port beside SQLite and Kafka.

Lists and dicts under one lock: the global log (positions 1, 2, ...), each stream's events, the
commands' outcomes by (sender, command id), and the directory (banli.domain.proposal's
MemoryDirectory, from banli.domain.directory's entries), which decisions read. A batch holds the
lock from start to end, so no other writer appends meanwhile, and undoes its appends when it
fails, as a transaction would."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Iterator, Sequence

from ..domain.directory import (Enrolled, Entry, Keyed, Merged, Registered, Stated,
                               directory_entries)
from ..domain.events import Event
from ..domain.proposal import MemoryDirectory, State
from ..domain.rejections import Rejection
from . import Appended, CommandRecord, ConcurrencyError, Durable, Outcome, Stored

_NOTHING = object()  # a directory entry that was not there before


@dataclass
class _Undo:
    """What a batch changed, to take back if it fails."""

    log: int
    streams: dict[str, int] = field(default_factory=dict)  # stream -> its length before
    outcomes: list[tuple[str, str]] = field(default_factory=list)
    directory: list[tuple[dict[str, Any], str, object]] = field(default_factory=list)


class MemoryEventStore:
    """Thread-safe. Also the directory decisions read (`directory`), changed with the events."""

    sole_writer = False  # several repositories may share one store
    arbitrated = False  # one writer at a time: the lock settles any race

    def __init__(self) -> None:
        self.log: list[Stored] = []
        self.streams: dict[str, list[Event]] = {}
        self.outcomes: dict[tuple[str, str], Outcome] = {}
        self.directory = MemoryDirectory()
        self._lock = threading.RLock()
        self._undo: _Undo | None = None  # the open batch's (the lock's holder's)

    # --- writing ---------------------------------------------------------------------------------
    def append(self, record: CommandRecord, expected_version: int,
               events: Sequence[Event]) -> Appended:
        with self._lock:
            stream = self.streams.get(record.stream, [])
            if len(stream) != expected_version or stream and stream[-1].seq != expected_version:
                raise ConcurrencyError(f"{record.stream} is at {len(stream)}, "
                                       f"not {expected_version}")
            if (record.sender, record.command_id) in self.outcomes:
                raise ConcurrencyError(f"{record.command_id} of {record.sender} is decided")
            positions = self._add(events)
            self._keep(Outcome(record.command_id, events=[
                Stored(p, ev) for p, ev in zip(positions, events)],
                sender=record.sender, fingerprint=record.fingerprint))
            return Appended(positions, events)

    def refuse(self, record: CommandRecord, rejection: Rejection) -> None:
        with self._lock:
            if (record.sender, record.command_id) not in self.outcomes:
                self._keep(Outcome(record.command_id, rejection=rejection, sender=record.sender,
                                   fingerprint=record.fingerprint))

    def restore(self, events: Iterable[Event]) -> None:
        """Take events as they are (a store that holds them), without their commands'
        outcomes: a ledger of given streams (the reports' tests, the benchmark's reference)."""
        with self._lock:
            self._add(list(events))

    def _add(self, events: Sequence[Event]) -> list[int]:
        positions = []
        for event in events:
            stream = self.streams.setdefault(event.proposal_id, [])
            if self._undo is not None:
                self._undo.streams.setdefault(event.proposal_id, len(stream))
            stream.append(event)
            self.log.append(Stored(len(self.log) + 1, event))
            positions.append(len(self.log))
            for entry in directory_entries(event):
                self._mark(entry)
                self.directory.apply(entry)
        return positions

    def _keep(self, outcome: Outcome) -> None:
        key = (outcome.sender or "", outcome.command_id)
        self.outcomes[key] = outcome
        if self._undo is not None:
            self._undo.outcomes.append(key)

    def _mark(self, entry: Entry) -> None:
        """Note what the entry replaces, to put it back if the batch fails."""
        if self._undo is None:
            return
        directory = self.directory
        table: dict[str, Any]
        match entry:
            case Registered():
                table, key = directory.bureaus, entry.bureau
            case Enrolled():
                table, key = directory.filers, entry.filer
            case Keyed():
                table, key = directory.keys, entry.natural_key
            case Stated():
                table, key = directory.statuses, entry.proposal_id
            case Merged():
                table, key = directory.merged, entry.bureau
        self._undo.directory.append((table, key, table.get(key, _NOTHING)))

    @contextmanager
    def batch(self, keys: Sequence[tuple[str, str]] = ()) -> Iterator[Durable]:
        """The lock, held until the batch ends; what it appended taken back if it fails."""
        with self._lock:
            if self._undo is not None:  # inside another batch: part of it
                yield Durable()
                return
            undo = self._undo = _Undo(len(self.log))
            try:
                yield Durable()
            except BaseException:
                self._take_back(undo)
                raise
            finally:
                self._undo = None

    def _take_back(self, undo: _Undo) -> None:
        del self.log[undo.log:]
        for stream, length in undo.streams.items():
            if length:
                del self.streams[stream][length:]
            else:
                del self.streams[stream]
        for key in undo.outcomes:
            del self.outcomes[key]
        for table, key, before in reversed(undo.directory):
            if before is _NOTHING:
                del table[key]
            else:
                table[key] = before

    # --- reading ---------------------------------------------------------------------------------
    def load(self, stream: str, after_seq: int = 0) -> list[Event]:
        with self._lock:
            events = self.streams.get(stream, [])
            if not events or events[-1].seq == len(events):  # seq i at index i - 1
                return events[after_seq:]
            return [ev for ev in events if ev.seq > after_seq]

    def snapshot(self, stream: str) -> State:
        return None  # folding in memory is all it takes

    def outcome(self, sender: str, command_id: str, stream: str | None = None
                ) -> Outcome | None:
        with self._lock:
            return self.outcomes.get((sender, command_id))

    def read(self, after: int = -1, limit: int = 10_000) -> list[Stored]:
        with self._lock:
            start = max(after, 0)  # position p is at index p - 1
            return self.log[start:start + limit]

    def head(self) -> int:
        return len(self.log)

    # --- the directory (banli.handling.Directory): written with the events ------------------------
    def has_bureau(self, bureau: str) -> bool:
        return self.directory.has_bureau(bureau)

    def bureau_name(self, bureau: str) -> tuple[str, str] | None:
        return self.directory.bureau_name(bureau)

    def owner_of(self, natural_key: str) -> str | None:
        return self.directory.owner_of(natural_key)

    def merged_into(self, bureau: str) -> tuple[str, datetime] | None:
        return self.directory.merged_into(bureau)

    def proposal_status(self, proposal_id: str) -> str | None:
        return self.directory.proposal_status(proposal_id)

    def filer_name(self, filer: str) -> str | None:
        return self.directory.filer_name(filer)

    def filers_named(self, name: str, affiliation: str) -> list[str]:
        return self.directory.filers_named(name, affiliation)

    def filer_of_account(self, account: str) -> str | None:
        return self.directory.filer_of_account(account)

    def reserve(self, claims: Sequence[tuple[str, str, str]]) -> None:
        pass

    def observe(self, event: Event) -> None:
        pass

    def settle(self, events: Sequence[Event], durable: bool) -> None:
        pass
