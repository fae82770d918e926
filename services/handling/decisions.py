"""handling's core in the distributed mode: one command against one stream's state. Pure."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from banli.domain import commands as c
from banli.domain.deadlines import Profile
from banli.domain.events import AnyEvent
from banli.domain.decide import decide
from banli.domain.proposal import Context, Directory, State, fold
from banli.domain.rejections import Rejection
from banli.domain.workdays import Calendar


@dataclass(frozen=True)
class Decided:
    events: list[AnyEvent]
    rejection: Rejection | None
    state: State  # the stream's state after the decision


def decide_on(state: State, command: c.Command, recorded_at: datetime, profile: Profile,
              directory: Directory, calendar: Calendar, clerk_backdate_days: int = 30
              ) -> Decided:
    ctx = Context(recorded_at=recorded_at, profile=profile, directory=directory,
                  calendar=calendar, clerk_backdate_days=clerk_backdate_days)
    decision = decide(state, command, ctx)
    if isinstance(decision, Rejection):
        return Decided([], decision, state)
    return Decided(decision, None, fold(decision, state))
