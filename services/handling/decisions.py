"""handling's core in the distributed mode: one command against one stream's record. Pure.

A stream's record is its current state and the
outcome of every command decided on it, so a redelivered command is answered from its record
and never decided twice."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from banli.domain import commands as c
from banli.domain.deadlines import Profile
from banli.domain.events import AnyEvent
from banli.domain.proposal import Bureau, Context, Directory, Proposal, State, decide, fold
from banli.domain.rejections import Rejection


@dataclass(frozen=True)
class Record:
    state: State
    decided: dict[str, Any]  # command id -> the outcome sent for it (the results message)

    def to_json(self) -> dict[str, Any]:
        kind = "proposal" if isinstance(self.state, Proposal) else (
            "bureau" if isinstance(self.state, Bureau) else None)
        return {"kind": kind,
                "state": self.state.model_dump(mode="json") if self.state is not None else None,
                "decided": self.decided}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "Record":
        if not data:
            return cls(None, {})
        model = {"proposal": Proposal, "bureau": Bureau}.get(data.get("kind"))
        state = model.model_validate(data["state"]) if model else None
        return cls(state, dict(data.get("decided") or {}))


@dataclass(frozen=True)
class Decided:
    events: list[AnyEvent]
    rejection: Rejection | None
    record: Record  # the record after the decision (without the outcome, added once sent)


def decide_on(record: Record, command: c.AnyCommand, recorded_at: datetime, profile: Profile,
              directory: Directory) -> Decided:
    ctx = Context(recorded_at=recorded_at, profile=profile, directory=directory)
    decision = decide(record.state, command, ctx)
    if isinstance(decision, Rejection):
        return Decided([], decision, record)
    return Decided(decision, None, Record(fold(decision, record.state), record.decided))
