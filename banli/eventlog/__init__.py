"""The event log port: where decided events are appended and read back in order.

Adapters: `sqlite.SqliteEventStore` (embedded mode) and the Kafka topics of the distributed
mode (services/handling, services/reporting)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..domain.commands import Command, fingerprint, sender_of
from ..domain.events import AnyEvent
from ..domain.rejections import Rejection


class ConcurrencyError(Exception):
    """Another writer appended to the stream first: reload and decide again."""


@dataclass(frozen=True)
class Stored:
    """An event with its global position in the log."""

    position: int
    event: AnyEvent


@dataclass(frozen=True)
class Outcome:
    """What a command came to: its events (with positions) or its rejection. `replayed` when it
    had been decided before under the same command id and is answered from that record.
    `sender` is whose command id it is (banli.domain.commands.sender_of), `fingerprint` what
    was asked (commands.fingerprint): a used id is answered only to the same sender asking the
    same, anyone else gets `command_id_conflict` (`conflict`)."""

    command_id: str
    events: list[Stored] = field(default_factory=list)
    rejection: Rejection | None = None
    replayed: bool = False
    sender: str | None = None
    fingerprint: str | None = None

    def answers(self, command: Command) -> bool:
        """Whether this recorded outcome answers `command`: the same sender asking the same
        (records from before fingerprints were kept compare the sender only)."""
        return self.sender == sender_of(command) and self.fingerprint in (None,
                                                                         fingerprint(command))

    def replay(self, command: Command) -> "Outcome":
        """The answer to `command` carrying this outcome's id: the record itself for the same
        sender asking the same; a refusal that reveals nothing of it for anyone else."""
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
    """A command carrying an id its sender may not use (another sender's, or its own for another
    command): refused, nothing decided, nothing of the first revealed."""
    return Outcome(command.command_id or "", rejection=Rejection.of("command_id_conflict"),
                   sender=sender_of(command), fingerprint=fingerprint(command))
