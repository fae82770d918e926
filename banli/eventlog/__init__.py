"""The event log's storage port and what passes through it.

`EventStore` is the port: it stores and reads events (streams in `seq` order, one global order
of positions) and decided commands' outcomes, keyed by their sender and command id. Its
adapters are thin: `memory.MemoryEventStore` (the reference, `banli report --history`),
`sqlite.SqliteEventStore` (the embedded mode) and `kafka_log.KafkaLog` (the distributed mode:
`banli.events`, for the partitions a handling worker owns). Folding, the state cache, reading
snapshots and the idempotency check by sender and fingerprint are written once, above them, in
`repository.Repository`, which the one handling loop (banli.handling) uses. One contract suite
holds every adapter to the port (tests/integration/test_eventlog_contract.py)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ContextManager, NamedTuple, Protocol, Sequence

from pydantic import ValidationError

from ..domain.commands import Command, fingerprint, fingerprint_before, sender_of
from ..domain.events import UPCASTERS, Event
from ..domain.registry import EVENT_ADAPTER, load_event
from ..domain.proposal import State
from ..domain.rejections import Rejection


class ConcurrencyError(Exception):
    """Another writer got there first (the stream moved on, or a natural key was taken): decide
    again on the fresh state."""


@dataclass(frozen=True)
class Stored:
    """An event with its global position in the log, and the event as the log holds it (its
    JSON) when that is at hand: whoever passes the event on sends those bytes instead of
    encoding it again."""

    position: int
    event: Event
    raw: bytes | None = field(default=None, compare=False, repr=False)
    # The event's JSON when the log holds exactly what `event.model_dump_json()` gives (read by
    # `stored_of`): the history row takes it instead of encoding the event again. `raw` may be
    # an older version's JSON (upcast on reading), so it cannot stand in for that.
    json: str | None = field(default=None, compare=False, repr=False)


def stored_of(position: int, data: str | bytes) -> Stored:
    """An event read from the log (its JSON, as `model_dump_json` wrote it), with that JSON
    kept when encoding the event again would give the very same text: when it is of the current
    version (no upcasting; `load_event` would give this same event) and names every field (none
    filled in from a default, as it would be in JSON written before the field was added). Any
    other event takes `load_event`'s way, which raises on JSON that is not an event."""
    try:
        event = EVENT_ADAPTER.validator.validate_json(data)
    except ValidationError:
        return Stored(position, load_event(data))
    kind = type(event)
    fields = _FIELD_COUNTS.get(kind) or _FIELD_COUNTS.setdefault(kind, len(kind.model_fields))
    given = event.__pydantic_fields_set__
    # `recorded_by` is left out of the JSON when there is none: its absence is what encoding
    # gives, not a default filled in
    if (len(given) + ("recorded_by" not in given) == fields
            and (event.type, event.schema_version) not in UPCASTERS):
        return Stored(position, event, json=data if isinstance(data, str) else data.decode())
    return Stored(position, load_event(data))


_FIELD_COUNTS: dict[type, int] = {}  # by event class, how many fields it has


# Positions in the distributed log: (partition, offset) folded into one orderable number. The
# embedded log's positions are small: all in partition 0.
OFFSET_BITS = 40


def position_of(partition: int, offset: int) -> int:
    return (partition << OFFSET_BITS) | offset


def partition_of(position: int) -> int:
    return position >> OFFSET_BITS


@dataclass(frozen=True)
class Outcome:
    """What a command came to: its events (with positions) or its rejection. `replayed` when it
    had been decided before under the same sender and command id and is answered from that
    record. `sender` is whose command id it is (banli.domain.commands.sender_of): ids are
    scoped to their sender, so another sender's command under the same id is another command.
    `fingerprint` is what was asked (commands.fingerprint): the same sender asking something
    else under a used id gets `command_id_conflict`. `unfinished`: some of its events are in
    the log but a writer stopped before the rest (Kafka; the handling loop decides it again and
    appends what is missing). `in_flight`: decided in a batch the log does not hold durably yet
    (its events and their positions are known once it does: ask again then)."""

    command_id: str
    events: list[Stored] = field(default_factory=list)
    rejection: Rejection | None = None
    replayed: bool = False
    sender: str | None = None
    fingerprint: str | None = None
    unfinished: bool = False
    in_flight: bool = False

    def answers(self, command: Command) -> bool:
        """Whether this recorded outcome answers `command`: the same sender asking the same
        (records from before fingerprints were kept compare the sender only; a record from
        before letters and filer ids were fields, the fingerprint it was given then). The one
        idempotency check: the repository and the Kafka bus ask it."""
        return self.sender == sender_of(command) and (
            self.fingerprint in (None, fingerprint(command))
            or self.fingerprint == fingerprint_before(command))

    def replay(self, command: Command) -> "Outcome":
        """The answer to `command` carrying this outcome's id: the record itself for the same
        sender asking the same; for that sender asking something else, a refusal that reveals
        nothing of the first."""
        if self.answers(command):
            return replace(self, replayed=True)
        return conflict(command)

    @property
    def accepted(self) -> bool:
        return self.rejection is None

    @property
    def position(self) -> int:
        return self.events[-1].position if self.events else 0


def conflict(command: Command) -> Outcome:
    """A command under an id its sender used for another command: refused, nothing decided,
    nothing of the first revealed."""
    return Outcome(command.command_id or "", rejection=Rejection.of("command_id_conflict"),
                   sender=sender_of(command), fingerprint=fingerprint(command))


class Durability(Protocol):
    """A batch handed to the log (EventStore.batch): `wait` returns once its appends are durable,
    and raises when they may not be (then no state the log gave since is to be trusted: load
    it again)."""

    def wait(self) -> None: ...


class Durable:
    """A batch that was durable when it was handed over (a transaction committed)."""

    def wait(self) -> None:
        pass


class Appending(Protocol):
    """An append on its way: the command's events as the log holds them (`events`: what the
    stream's state moves on with), and with their positions once they are durable (after the
    batch)."""

    @property
    def events(self) -> Sequence[Event]: ...

    def stored(self) -> list[Stored]: ...


@dataclass(frozen=True)
class Appended:
    """An append whose positions are known at once."""

    positions: list[int]
    events: Sequence[Event]

    def stored(self) -> list[Stored]:
        return [Stored(position, event) for position, event in zip(self.positions, self.events)]


class CommandRecord(NamedTuple):
    """A decided command as the log keeps it: whose id it is and the id (the key: ids are
    scoped to their sender), its stream, and what was asked (its fingerprint)."""

    sender: str
    command_id: str
    stream: str
    fingerprint: str

    @classmethod
    def of(cls, command: Command) -> "CommandRecord":
        return cls(sender_of(command), command.command_id or "", command.stream,
                   fingerprint(command))


class EventStore(Protocol):
    """Storage only: streams of events (one per proposal or bureau), each in `seq` order, all in
    one global order of positions; and every decided command's outcome, by (sender, command
    id). No folding, no caching of states, no idempotency rules: the Repository's."""

    # Whether this store's streams move only through its own appends while it holds them (a
    # Kafka worker owns its partitions): a state read from it once stays current (until the
    # repository is told to forget it). Otherwise other writers may append at any time but
    # inside a `batch` (SQLite: another process; memory: another repository).
    sole_writer: bool

    def load(self, stream: str, after_seq: int = 0) -> list[Event]:
        """The stream's events after `after_seq`, in seq order (those a batch appended
        included)."""
        ...

    def snapshot(self, stream: str) -> State:
        """The stream's latest usable snapshot (its version is the state's), or None."""
        ...

    def append(self, record: CommandRecord, expected_version: int,
               events: Sequence[Event]) -> Appending:
        """Append a command's events after `expected_version` of its stream, with its outcome.
        Raises ConcurrencyError when the stream moved on (or a natural key, or the command's
        key, was taken meanwhile)."""
        ...

    def refuse(self, record: CommandRecord, rejection: Rejection) -> None:
        """Keep a refused command's outcome, so that it is answered again, not decided again."""
        ...

    def outcome(self, sender: str, command_id: str, stream: str | None = None
                ) -> Outcome | None:
        """What `sender`'s command `command_id` came to, as recorded; None when that sender
        never had it decided. `stream` is the stream the asking command is about: an adapter
        that keeps commands by stream (Kafka) looks there, and without it only among those it
        has at hand."""
        ...

    def read(self, after: int = -1, limit: int = 10_000) -> list[Stored]:
        """At most `limit` events after a position (positions are 0 or more), in log order:
        pages follow on from the last position of the one before."""
        ...

    def batch(self, keys: Sequence[tuple[str, str]] = ()) -> ContextManager[Durability]:
        """Appends inside are one unit, handed to the log when it exits (none of them, on an
        error): from then on the log's reads include them, so the next batch may be decided
        at once, and they are durable together when the Durability it gives says so (an
        adapter may make them durable before it exits). No other writer appends to this
        store's streams while it is open. `keys` are the (sender, command id) of the commands
        the batch will decide (an adapter may look them up at once)."""
        ...
