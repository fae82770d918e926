"""`decide`: a command against the state of its stream, to the events it becomes or why not.

What every command goes through, in order: an actor; the permission table (who may send it, for
which bureau); a proposal the sender may know of (one its bureau has never had a duty on is, to
a clerk, as unknown as one that does not exist); a business time (now, when it has none) that
the rule of time allows; then its own decider, found in the registry by its class. The decider
builds typed events on envelopes that give each its identity and order (`Envelopes`). Pure: ids
and times come in with the command and the context, so the same command against the same state
always gives the same events.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from . import commands as c
from . import permissions
from .envelope import Decision, Envelopes
from .events import Event
from .proposal import Context, Proposal, State
from .registry import spec_of
from .reorganisation import answers, pending_handovers
from .rejections import Rejection
from .types import CHOICES, FIRST_DAY, Actor, business_date, replaced
from .wording import item_number


def decide(state: State, command: c.Command, ctx: Context) -> Decision:
    """Decide a command against the current state of its stream: the new events, or why not.
    A command without a business time happens now: at the context's `recorded_at`, or at the
    latest record it must follow if the clock reads earlier (two clocks, or a clock set back).
    A refusal names bureaus by their names (the directory's) and the proposal by its number."""
    decision = _decide(state, command, ctx)
    if isinstance(decision, Rejection):
        return _in_words(decision, state, command, ctx)
    return decision


def _in_words(rejection: Rejection, state: State, command: c.Command, ctx: Context
              ) -> Rejection:
    """The refusal naming what it names as people know it: bureaus by their names, the
    proposal by its number, the command by its name. A proposal refused as unknown keeps the
    words of an id never used (to a clerk it may be another bureau's: nothing of it shows)."""
    if rejection.code == "unknown_proposal":
        return rejection
    words = {command.type: spec_of(command).title}
    if isinstance(state, Proposal):
        words[state.id] = item_number(state.kind, state.level, state.year, state.number)
    return rejection.named(ctx.directory.bureau_name, words)


def _decide(state: State, command: c.Command, ctx: Context) -> Decision:
    if command.command_id is None:
        raise ValueError("the adapter must give every command a command_id before deciding")
    if command.actor is None:
        return Rejection.of("missing_actor")
    if (denied := authorize(command, command.actor)) is not None:
        return denied
    if command.recorded_by is not None and (
            denied := authorize_recorder(command.recorded_by, command.actor)) is not None:
        return denied
    if (merged := _merged_clerk(command.actor, ctx)) is not None:
        return merged
    spec = spec_of(command)
    version = state.version if state is not None else 0
    # a merged bureau's duties go to its successor before anything else is decided on them
    # (the successor's clerk knows the proposal from then on)
    handed: list[Event] = []
    if spec.on_proposal and isinstance(state, Proposal) and state.status == "open":
        handed, state = pending_handovers(state, ctx, command)
    if spec.on_proposal and _hidden(state, command, command.actor):
        return Rejection.of("unknown_proposal", proposal=command.stream)
    if command.at is None:
        follows = [at for _, at in _follows(state, command, ctx)]
        command = replaced(command, {"at": max([ctx.recorded_at, *follows])})
    answered = answers(command, handed)  # a merger's handover, dated as the merger says
    if (untimely := _untimely(state, command, ctx, follows=not answered)) is not None:
        return untimely
    if spec.on_proposal:
        if not isinstance(state, Proposal):
            return Rejection.of("unknown_proposal", proposal=command.stream)
        if state.status != "open":
            return Rejection.of("closed", proposal=state.id, status=_CLOSED_ZH[state.status],
                                status_en=state.status.replace("_", " "))
    if answered:
        return handed
    decision = spec.decider(state, command, ctx, Envelopes(command, ctx, version, len(handed)))
    return decision if isinstance(decision, Rejection) else [*handed, *decision]


def _merged_clerk(actor: Actor, ctx: Context) -> Rejection | None:
    """A clerk of a merged bureau records nothing more (its bureau's duties are its
    successor's): its token still reads the bureau's past, and its people act for the
    successor with the successor's tokens."""
    if actor.role != "clerk" or actor.bureau is None:
        return None
    merged = ctx.directory.merged_into(actor.bureau)
    if merged is None:
        return None
    return Rejection.of("bureau_merged", bureau=actor.bureau, successor=merged[0], at=merged[1])


_CLOSED_ZH = {"withdrawn": "撤回", "merged": "并案", "not_filed": "不立案"}
_ROLE_ZH = {"admin": "管理员", "overseer": "督办"}
ROLE_WORDS: dict[str, tuple[str, str]] = dict(
    next(choice.labels for choice in CHOICES if choice.name == "actor_role"))


def _hidden(state: State, command: c.Command, actor: Actor) -> bool:
    """Whether the proposal is hidden from a sender who acts for its own bureau only (a
    clerk: one its bureau has never had a duty on) or on the proposals they filed (a filer:
    another's). It is refused as unknown, before anything of the proposal (its submission
    date, its status, its duties) could show in the answer."""
    return not permissions.knows(actor, command.type,
                                 state if isinstance(state, Proposal) else None)


def authorize(command: c.Command, actor: Actor) -> Rejection | None:
    """Whether the permission table (banli.domain.permissions) lets `actor` send `command`:
    importers and admins anything; coordinators the coordinating commands and feedback; a clerk
    its own bureau's commands only; an overseer supervision (督办), its only write."""
    found = permissions.reach(actor, command.type)
    if found is None:
        return Rejection.of("forbidden", role=actor.role, command=command.type,
                            role_zh=ROLE_WORDS.get(actor.role, (actor.role,))[0])
    bureau = command.__dict__.get("bureau")
    if found == "own" and bureau != actor.bureau:
        return Rejection.of("wrong_bureau", user=actor.user, own=actor.bureau, bureau=bureau)
    return None


def authorize_recorder(recorder: Actor, actor: Actor) -> Rejection | None:
    """Whether `recorder` may enter a record of `actor`'s act (permissions.may_record_for). The
    kernel authorizes both: the act by its actor (`authorize`: a clerk's record is its own
    bureau's, whoever types it in), and the entry by its recorder (importers and admins enter
    others' acts, and never an admin's or an overseer's)."""
    if permissions.may_record_for(recorder, actor):
        return None
    if permissions.reach(recorder, "record:for_others") is None:
        return Rejection.of("not_recorder", role=recorder.role, user=actor.user)
    return Rejection.of("claimed_actor", role=actor.role,
                        role_zh=_ROLE_ZH.get(actor.role, actor.role))


# --- the rule of time -------------------------------------------------------------------------
# Business time orders a duty's records (one bureau's assignment on one proposal), not the whole
# proposal's: bureaus type in their own records in their own order. A record may not be dated
# before what it depends on, nor after today; a clerk may date a record only so far back. Which
# clock a command follows is its registry entry's `clock`.
def _follows(state: State, command: c.Command, ctx: Context) -> list[tuple[str, datetime]]:
    """The records `command` must not be dated before, each as (what, business time): the
    proposal's submission; for the proposal's own records (assign, reassign, supervise) the
    latest of them, and for reassign the latest record of every duty it ends or replaces; for
    withdraw and merge every record of the proposal; for a record on a duty, that duty's latest
    record (a co-handler's sign-off is also a record on the lead's draft it signs). Where the
    profile has the co-handlers sign a draft off, its approval depends on every co-handler's
    duty too (signed off, or returned or removed, before it)."""
    if not isinstance(state, Proposal):
        return []
    found = [("submitted", state.submitted_at)]
    clock = spec_of(command).clock
    if clock == "closing":
        return [*found, ("proposal", state.latest_record_at())]
    if clock == "proposal":
        found.append(("proposal_records", state.last_at))
    touched = list(command.touches)
    if isinstance(command, c.ApproveReply) and "cosign" in ctx.profile.review:
        touched += [a.bureau for a in state.assignments.values() if a.role == "co"]
    for bureau in touched:
        duty = state.assignments.get(bureau)
        if duty is not None:
            found.append((f"duty:{bureau}", duty.last_at))
    return found


_FOLLOWS_TEXT = {
    "submitted": ("该件的提交", "the proposal's submission"),
    "proposal_records": ("该件最后一次交办、调整或督办", "the proposal's last assignment, "
                                                  "reassignment or supervision"),
    "proposal": ("该件的最后一条办理记录", "the proposal's last record"),
}


def _untimely(state: State, command: c.Command, ctx: Context, follows: bool = True
              ) -> Rejection | None:
    """Why the command's business time cannot be taken, or None (`follows`: whether it must
    follow the records it depends on)."""
    assert command.at is not None and command.actor is not None
    day, today = business_date(command.at), business_date(ctx.recorded_at)
    if day > today:
        return Rejection.of("future_business_time", at=command.at, today=today)
    # the limit is on whoever types the record in: an importer bringing in a clerk's old
    # record is not a clerk backdating one
    recorder = command.recorded_by or command.actor
    earliest = earliest_date(recorder, today, ctx.clerk_backdate_days)
    if earliest is not None and day < earliest:
        if recorder.role == "filer":
            return Rejection.of("filer_backdated", at=day, today=today)
        return Rejection.of("backdated_too_far", at=day, days=(today - day).days,
                            limit=ctx.clerk_backdate_days)
    for what, last in _follows(state, command, ctx) if follows else ():
        if command.at < last:
            bureau = what.partition(":")[2]
            if not bureau:
                zh, en = _FOLLOWS_TEXT[what]
                return Rejection.of("out_of_order", at=command.at, last=last, what=zh,
                                    what_en=en)
            name, name_en = ctx.directory.bureau_name(bureau) or (bureau, "")
            return Rejection.of("out_of_order", at=command.at, last=last, bureau=bureau,
                                what=f"{name}在该件的最后一条记录",
                                what_en=f"{name_en or name}'s last record on it")
    return None


def earliest_date(actor: Actor, today: date, clerk_backdate_days: int) -> date | None:
    """The earliest business date `actor` may give a record when it is `today`: a clerk's go
    back `clerk_backdate_days` days at most, a filer's are today's (they rate a reply as they
    read it); anyone else's as far as the calendar (None)."""
    if actor.role == "filer":
        return today
    if actor.role != "clerk":
        return None
    return today - timedelta(days=min(clerk_backdate_days, (today - FIRST_DAY).days))
