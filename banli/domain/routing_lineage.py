"""Routing lineage: how a proposal travelled between bureaus (assigned, returned, reassigned),
and the days lost to misrouting per bureau. The reference for the reporting SQL.

Misrouting, as counted here: an assignment that ended without being handled — returned by its
bureau (`return`, 退回, which the rules allow only before a reply or opinion) or taken away by
the coordinator (`reassign` with `remove`) before it gave a reply or an opinion. The days it
lost are the calendar days from that assignment's date to the business date it ended: the time
the proposal sat with a bureau that was not going to answer it. They are counted against the
bureau that held it, in the role it held, for proposals of the scope's years whatever became of
them later (a withdrawn proposal lost those days too), as of a business date (ends on or before
it). A bureau assigned, returned, and assigned again later counts each episode on its own.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable, Literal, Sequence

from pydantic import computed_field

from . import events as e
from .proposal import Proposal, State, evolve
from .types import Actor, Frozen, Role, business_date

Action = Literal["assigned", "returned", "reassigned"]
# The event each step is (what its readers are: banli.domain.permissions.event_for)
STEP_EVENTS: dict[Action, str] = {"assigned": "ProposalAssigned", "returned": "AssignmentReturned",
                                  "reassigned": "ProposalReassigned"}


class Started(Frozen):
    """A duty given by this step."""

    bureau: str
    role: Role
    due: date


class Ended(Frozen):
    """A duty ended by this step: returned, or removed (`handled` when it had already given an
    opinion: then it was not misrouted, only no longer needed)."""

    bureau: str
    role: Role
    how: Literal["returned", "removed"]
    assigned_on: date
    ended_on: date
    handled: bool = False

    @computed_field  # type: ignore[prop-decorator]  # pydantic's decorator over a property
    @property
    def days(self) -> int:
        return (self.ended_on - self.assigned_on).days


class RoutingStep(Frozen):
    """One routing event of a proposal, with both clocks and who did it."""

    seq: int
    action: Action
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    started: tuple[Started, ...] = ()
    ended: tuple[Ended, ...] = ()
    reason: str = ""


def routing_lineage(events: Iterable[e.Event]) -> list[RoutingStep]:
    """The routing steps of one proposal's events (in seq order), each ended duty with the date
    it had been assigned on."""
    steps: list[RoutingStep] = []
    state: State = None
    for event in events:
        step = _step(state, event)
        if step is not None:
            steps.append(step)
        state = evolve(state, event)
    return steps


def _step(before: State, event: e.Event) -> RoutingStep | None:
    envelope = dict(seq=event.seq, occurred_at=event.occurred_at,
                    recorded_at=event.recorded_at, actor=event.actor)
    day = business_date(event.occurred_at)
    match event:
        case e.ProposalAssigned(duties=duties):
            return RoutingStep(action="assigned", started=_started(duties), **envelope)
        case e.AssignmentReturned():
            return RoutingStep(action="returned", reason=event.reason,
                               ended=(_ended(before, event.bureau, "returned", day),),
                               **envelope)
        case e.ProposalReassigned():
            return RoutingStep(action="reassigned", started=_started(event.added),
                               ended=tuple(_ended(before, b, "removed", day)
                                           for b in event.removed),
                               **envelope)
    return None


def _started(duties: Sequence[e.Duty]) -> tuple[Started, ...]:
    return tuple(Started(bureau=d.bureau, role=d.role, due=d.due) for d in duties)


def _ended(before: State, bureau: str, how: Literal["returned", "removed"], day: date) -> Ended:
    assert isinstance(before, Proposal), "a routing change before the proposal was submitted"
    duty = before.assignments[bureau]
    return Ended(bureau=bureau, role=duty.role, how=how, assigned_on=duty.assigned_on,
                 ended_on=day, handled=bool(duty.replies or duty.opinions))


class Misrouted(Frozen):
    """Days lost to misrouting by one bureau (module docstring): how many of its assignments
    ended unhandled, returned or removed, by role, and the days they held the proposals."""

    bureau: str
    returned: int = 0
    removed: int = 0
    as_lead: int = 0
    as_co: int = 0
    days_lost: int = 0

    @computed_field  # type: ignore[prop-decorator]  # pydantic's decorator over a property
    @property
    def bounced(self) -> int:
        return self.returned + self.removed


def misrouting(streams: Iterable[Sequence[e.Event]], years: tuple[int, int], as_of: date,
               bureau: str | None = None) -> list[Misrouted]:
    """Per bureau (or just `bureau`), sorted by bureau: the misrouted assignments of the
    proposals of `years` that ended on or before `as_of`. Bureaus with none are left out."""
    totals: dict[str, dict[str, int]] = {}
    for events in streams:
        first = events[0] if events else None
        if not isinstance(first, e.ProposalSubmitted) or not years[0] <= first.year <= years[1]:
            continue
        known = [ev for ev in events if business_date(ev.occurred_at) <= as_of]
        for step in routing_lineage(known):
            for end in step.ended:
                if end.handled or bureau not in (None, end.bureau):
                    continue
                n = totals.setdefault(end.bureau, dict(returned=0, removed=0, as_lead=0,
                                                       as_co=0, days_lost=0))
                n[end.how] += 1
                n[f"as_{end.role}"] += 1
                n["days_lost"] += end.days
    return [Misrouted(bureau=b, **totals[b]) for b in sorted(totals)]
