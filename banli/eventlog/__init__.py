"""The event log port: where decided events are appended and read back in order.

Adapters: `sqlite.SqliteEventStore` (embedded mode) and the Kafka topics of the distributed
mode (services/handling, services/reporting)."""
from __future__ import annotations

from dataclasses import dataclass, field

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
    had been decided before under the same command id and is answered from that record."""

    command_id: str
    events: list[Stored] = field(default_factory=list)
    rejection: Rejection | None = None
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.rejection is None

    @property
    def position(self) -> int:
        return self.events[-1].position if self.events else 0
