"""Reorganisations (机构改革): a merged bureau's open duties go to its successor, as events on
each proposal (DutyHandedOver), so that the duty row, the reference fold and the projections see
who held each duty as of any date.

A merger is decided on the merged bureau's own stream (BureauMerged); its handovers are recorded
on each proposal it had an open duty on: at once by whoever records the merger's consequences
(the reference ledger; the reporting service's reconciler, from the projections, with
`handover_command`), and in any case before anything else is decided on such a proposal
(`pending_handovers`, which `decide` runs first). Either way the same facts land, dated alike:
the decision on a proposal never depends on whether the reconciler got there first.

A duty is handed over at the merger's business time, or after its own latest record where that
came later (the predecessor's records dated after the merger, entered before the merger was
recorded: a transition). A successor merged in its turn hands the duty on. Pure."""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Iterable, Iterator

from . import commands as c
from . import events as e
from .envelope import event_id
from .proposal import Context, Proposal, evolve
from .types import Actor


def pending_handovers(state: Proposal, ctx: Context, command: c.Command
                      ) -> tuple[list[e.Event], Proposal]:
    """The handovers the proposal still owes to the mergers the directory knows (each active
    duty of a merged bureau, to its successor), as the first events of `command`'s decision
    (its ids and envelope; the business time each handover's own), and the state after them.
    None owed: ([], state)."""
    events: list[e.Event] = []
    assert command.command_id is not None and command.actor is not None
    while (owed := _owed(state, ctx)) is not None:
        source, target, at = owed
        duty = state.assignments[source]
        held = state.assignments.get(target)
        clocks = [at, duty.last_at, *([held.last_at] if held is not None and held.active else [])]
        index = len(events)
        event = e.DutyHandedOver(
            event_id=event_id(c.sender_of(command), command.command_id, index),
            proposal_id=state.id,
            seq=state.version + 1, occurred_at=max(clocks), recorded_at=ctx.recorded_at,
            actor=command.actor, recorded_by=command.recorded_by,
            command_id=command.command_id, from_bureau=source, to_bureau=target, merged=True)
        events.append(event)
        after = evolve(state, event)
        assert isinstance(after, Proposal)
        state = after
    return events, state


def _owed(state: Proposal, ctx: Context) -> tuple[str, str, datetime] | None:
    """The first active duty (by bureau) of a merged bureau: (bureau, successor, merger)."""
    for bureau in sorted(state.assignments):
        if state.assignments[bureau].active and (merged := ctx.directory.merged_into(bureau)):
            return bureau, *merged
    return None


def answers(command: c.Command, handed: Iterable[e.Event]) -> bool:
    """Whether `command` is a merger's handover that `handed` (pending_handovers) records."""
    return isinstance(command, c.HandOver) and any(
        isinstance(ev, e.DutyHandedOver) and ev.from_bureau == command.bureau for ev in handed)


def handover_command(merger: e.Event, proposal_id: str) -> c.HandOver:
    """The command that records `merger`'s handover on a proposal: the merger's actor and
    business time, an id derived from the merger's event and the proposal (sent again, it is
    answered from its record)."""
    assert isinstance(merger, e.BureauMerged)
    return handover_of(merger.event_id, merger.bureau, merger.into, merger.occurred_at,
                       merger.actor, proposal_id)


def handover_of(merger_id: str, bureau: str, into: str, at: datetime, actor: Actor,
                proposal_id: str) -> c.HandOver:
    """`handover_command` from the merger's parts (as the projections keep them)."""
    digest = hashlib.sha256(f"{merger_id}/{proposal_id}".encode()).hexdigest()[:40]
    return c.HandOver(command_id=f"handover-{digest}", at=at, actor=actor,
                      proposal=proposal_id, bureau=bureau, to=into)


def owing(proposals: Iterable[Proposal], bureau: str) -> Iterator[str]:
    """The open proposals on which `bureau` holds an active duty."""
    for p in proposals:
        if p.status == "open" and (duty := p.assignments.get(bureau)) is not None and duty.active:
            yield p.id
