"""The Proposal aggregate (and the small Bureau aggregate): state, `decide` and `evolve`.

Pure: every id and time comes in with the command or the context, so the same command against
the same state always gives the same events.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from hashlib import sha1
from typing import Any, Callable, Iterable, Literal, Protocol

from . import commands as c
from . import events as e
from . import permissions
from .deadlines import DEFAULT_PROFILE, Profile
from .rejections import Rejection
from .types import (
    RESULT_CLASS,
    Actor,
    DisclosureChoice,
    FeedbackChannel,
    Frozen,
    Kind,
    Level,
    Result,
    Role,
    Satisfaction,
    business_date,
    replaced,
)
from .workdays import NO_CALENDAR, Calendar, OutsideCalendar

EVENT_ID_NAMESPACE = uuid.UUID("5d4e4375-31ce-4a05-8b1a-000000002020")


# --- state ----------------------------------------------------------------------------------
class ReplyDraft(Frozen):
    """A lead's reply under review: its result (as regraded), who has signed it off (会签)."""

    result: Result
    summary: str = ""
    drafted_on: date
    signed_off: tuple[str, ...] = ()
    regraded: bool = False


class Assignment(Frozen):
    """One bureau's duty on one proposal, as far as the events so far tell."""

    bureau: str
    role: Role
    assigned_on: date
    due: date  # the reply deadline of a lead (after extensions) or the opinion deadline of a co
    status: Literal["active", "returned", "removed"] = "active"
    acknowledged: bool = False
    contacts: int = 0
    contacted_before_reply: bool = False
    opinions: int = 0
    first_opinion_on: date | None = None
    replies: int = 0
    first_reply_on: date | None = None
    last_reply_on: date | None = None  # the reply whose disclosure is due (Profile.disclosure_due)
    published_on: date | None = None  # when that reply was first disclosed in full or summary
    awaiting_reply: bool = True
    reopen_due: date | None = None
    extensions: int = 0
    result: Result | None = None
    disclosure: DisclosureChoice | None = None
    first_disclosure: DisclosureChoice | None = None  # before any review changed it
    feedback: Satisfaction | None = None
    feedback_on_reply: Satisfaction | None = None  # on the latest reply; a reopen needs it
    feedback_channel: FeedbackChannel | None = None  # of the latest feedback
    feedback_by_self: bool = False  # the latest feedback was recorded by this very bureau
    draft: ReplyDraft | None = None  # a lead's reply under review, until it is issued
    supervisions: int = 0
    last_at: datetime  # the duty's clock: its assignment and the latest record on it

    @property
    def active(self) -> bool:
        return self.status == "active"


class Proposal(Frozen):
    id: str
    kind: Kind
    level: Level
    year: int
    number: str
    title: str
    filers: tuple[str, ...] = ()
    affiliation: str = ""
    topics: tuple[str, ...] = ()
    key_item: bool = False
    status: Literal["open", "withdrawn", "merged"] = "open"
    merged_into: str | None = None
    assignments: dict[str, Assignment] = {}
    ever_assigned: bool = False
    supervisions: int = 0
    version: int = 0
    submitted_at: datetime
    last_at: datetime  # the proposal's own clock: submission, (re)assignment, supervision, closing

    @property
    def natural_key(self) -> str:
        return c.natural_key(self.level, self.kind, self.year, self.number)

    def duty(self, bureau: str) -> Assignment | None:
        """The bureau's active assignment, if it has one."""
        found = self.assignments.get(bureau)
        return found if found is not None and found.active else None

    def active_duties(self) -> list[Assignment]:
        return [a for a in self.assignments.values() if a.active]

    def latest_record_at(self) -> datetime:
        """The business time of the proposal's latest record, of any duty."""
        return max([self.last_at, *(a.last_at for a in self.assignments.values())])


class Bureau(Frozen):
    id: str
    name: str
    name_en: str = ""
    version: int = 0
    last_at: datetime


State = Proposal | Bureau | None


# --- context --------------------------------------------------------------------------------
class Directory(Protocol):
    """What a decision may ask beyond its own aggregate: registered bureaus, the owner of a
    natural key, and another proposal's status (for merge). Read-only."""

    def has_bureau(self, bureau: str) -> bool: ...

    def owner_of(self, natural_key: str) -> str | None: ...

    def proposal_status(self, proposal_id: str) -> str | None: ...


@dataclass
class MemoryDirectory:
    """A directory kept in memory, updated from the events it is shown."""

    bureaus: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, name_en)
    keys: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)

    def has_bureau(self, bureau: str) -> bool:
        return bureau in self.bureaus

    def owner_of(self, natural_key: str) -> str | None:
        return self.keys.get(natural_key)

    def proposal_status(self, proposal_id: str) -> str | None:
        return self.statuses.get(proposal_id)

    def observe(self, event: e.Event) -> None:
        match event:
            case e.BureauRegistered():
                self.bureaus[event.bureau] = (event.name, event.name_en)
            case e.ProposalSubmitted():
                self.keys[c.natural_key(event.level, event.kind, event.year, event.number)] = (
                    event.proposal_id)
                self.statuses[event.proposal_id] = "open"
            case e.ProposalWithdrawn():
                self.statuses[event.proposal_id] = "withdrawn"
            case e.ProposalMerged():
                self.statuses[event.proposal_id] = "merged"


@dataclass(frozen=True)
class Context:
    """What the caller supplies besides state and command: the system clock's reading
    (`recorded_at`, also "now" for a command without a business time), the deadline profile,
    the directory, the working-day calendar (without one, every rule that counts working days
    refuses), and how many days back a clerk may date a record (`clerk_backdate_days`)."""

    recorded_at: datetime
    profile: Profile = DEFAULT_PROFILE
    directory: Directory = field(default_factory=MemoryDirectory)
    calendar: Calendar = NO_CALENDAR
    clerk_backdate_days: int = 30


# --- decide ---------------------------------------------------------------------------------
Draft = tuple[type[e.Event], dict[str, Any]]
Decision = list[e.Event] | Rejection


def decide(state: State, command: c.AnyCommand, ctx: Context) -> Decision:
    """Decide a command against the current state of its stream: the new events, or why not.
    A command without a business time happens now: at the context's `recorded_at`, or at the
    latest record it must follow if the clock reads earlier (two clocks, or a clock set back)."""
    if command.command_id is None:
        raise ValueError("the adapter must give every command a command_id before deciding")
    if command.actor is None:
        return Rejection.of("missing_actor")
    if (denied := authorize(command, command.actor)) is not None:
        return denied
    if command.at is None:
        follows = [at for _, at in _follows(state, command)]
        command = replaced(command, {"at": max([ctx.recorded_at, *follows])})
    if (untimely := _untimely(state, command, ctx)) is not None:
        return untimely
    if isinstance(command, c.RegisterBureau):
        drafts = _register_bureau(state, command, ctx)
    elif isinstance(command, c.Submit):
        drafts = _submit(state, command, ctx)
    elif not isinstance(state, Proposal):
        return Rejection.of("unknown_proposal", proposal=command.proposal)
    elif state.status != "open":
        return Rejection.of("closed", proposal=state.id, status=_CLOSED_ZH[state.status],
                            status_en=state.status)
    else:
        drafts = _DECIDERS[command.type](state, command, ctx)
    if isinstance(drafts, Rejection):
        return drafts
    version = state.version if state is not None else 0
    return [_stamp(cls, data, command, ctx, version + i + 1, i) for i, (cls, data)
            in enumerate(drafts)]


_CLOSED_ZH = {"withdrawn": "撤回", "merged": "并案"}

# --- the rule of time -------------------------------------------------------------------------
# Business time orders a duty's records (one bureau's assignment on one proposal), not the whole
# proposal's: bureaus type in their own records in their own order. A record may not be dated
# before what it depends on, nor after today; a clerk may date a record only so far back.
PROPOSAL_RECORDS = frozenset({"assign", "reassign", "supervise", "withdraw", "merge"})
CLOSING = frozenset({"withdraw", "merge"})
# commands on a lead's duty that its bureau does not send itself
ON_LEAD_DUTY = frozenset({"extend_deadline", "regrade_reply"})


def _follows(state: State, command: c.AnyCommand) -> list[tuple[str, datetime]]:
    """The records `command` must not be dated before, each as (what, business time): the
    proposal's submission; for the proposal's own records (assign, reassign, supervise) the
    latest of them, and for reassign the latest record of every duty it ends or replaces; for
    withdraw and merge every record of the proposal; for a record on a duty, that duty's latest
    record (a co-handler's sign-off is also a record on the lead's draft it signs)."""
    if not isinstance(state, Proposal):
        return []
    found = [("submitted", state.submitted_at)]
    if command.type in CLOSING:
        return [*found, ("proposal", state.latest_record_at())]
    if command.type in PROPOSAL_RECORDS:
        found.append(("proposal_records", state.last_at))
    if command.type == "reassign":
        touched = [*command.remove, *command.add_lead, *command.add_co]
    elif command.type == "sign_off_reply":
        touched = [command.bureau, command.lead]
    else:
        touched = [getattr(command, "bureau", None)]
    for bureau in touched:
        duty = state.assignments.get(bureau) if bureau else None
        if duty is not None:
            found.append((f"duty:{bureau}", duty.last_at))
    return found


_FOLLOWS_TEXT = {
    "submitted": ("该件的提交", "the proposal's submission"),
    "proposal_records": ("该件最后一次交办、调整或督办", "the proposal's last assignment, "
                                                  "reassignment or supervision"),
    "proposal": ("该件的最后一条办理记录", "the proposal's last record"),
}


def _untimely(state: State, command: c.AnyCommand, ctx: Context) -> Rejection | None:
    """Why the command's business time cannot be taken, or None."""
    assert command.at is not None and command.actor is not None
    day, today = business_date(command.at), business_date(ctx.recorded_at)
    if day > today:
        return Rejection.of("future_business_time", at=command.at.isoformat(), today=today)
    late = (today - day).days
    if command.actor.role == "clerk" and late > ctx.clerk_backdate_days:
        return Rejection.of("backdated_too_far", at=day, days=late,
                            limit=ctx.clerk_backdate_days)
    for what, last in _follows(state, command):
        if command.at < last:
            bureau = what.partition(":")[2]
            zh, en = (_FOLLOWS_TEXT[what] if not bureau else
                      (f"{bureau} 在该件的最后一条记录", f"{bureau}'s last record on it"))
            return Rejection.of("out_of_order", at=command.at.isoformat(),
                                last=last.isoformat(), what=zh, what_en=en)
    return None
_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes


def event_id(command_id: str, index: int) -> str:
    """The id of a command's `index`-th event: `str(uuid5(EVENT_ID_NAMESPACE, "<command>/<i>"))`,
    computed as uuid5 does (SHA-1 of namespace and name, version and variant bits set) without
    building UUID objects, which cost as much again as the hash: one id is made per event."""
    digest = bytearray(sha1(_NAMESPACE_BYTES + f"{command_id}/{index}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _stamp(cls: type[e.Event], data: dict[str, Any], command: c.Command, ctx: Context,
           seq: int, index: int) -> e.Event:
    return cls(
        event_id=event_id(command.command_id, index),
        proposal_id=command.stream, seq=seq, occurred_at=command.at,
        recorded_at=ctx.recorded_at, actor=command.actor, command_id=command.command_id,
        **data,
    )


def authorize(command: c.AnyCommand, actor: Actor) -> Rejection | None:
    """Whether the permission table (banli.domain.permissions) lets `actor` send `command`:
    importers and admins anything; coordinators the coordinating commands and feedback; a clerk
    its own bureau's commands only; an overseer supervision (督办), its only write."""
    found = permissions.reach(actor, command.type)
    if found is None:
        return Rejection.of("forbidden", role=actor.role, command=command.type)
    bureau = command.__dict__.get("bureau")
    if found == "own" and bureau != actor.bureau:
        return Rejection.of("wrong_bureau", user=actor.user, own=actor.bureau, bureau=bureau)
    return None


def _register_bureau(state: State, cmd: c.RegisterBureau, ctx: Context) -> list[Draft] | Rejection:
    if state is not None or ctx.directory.has_bureau(cmd.bureau):
        return Rejection.of("duplicate_bureau", bureau=cmd.bureau)
    return [(e.BureauRegistered, dict(bureau=cmd.bureau, name=cmd.name, name_en=cmd.name_en))]


def _submit(state: State, cmd: c.Submit, ctx: Context) -> list[Draft] | Rejection:
    if state is not None:
        return Rejection.of("duplicate_proposal", proposal=cmd.proposal_id)
    owner = ctx.directory.owner_of(cmd.natural_key)
    if owner is not None and owner != cmd.proposal_id:
        return Rejection.of("duplicate_number", key=cmd.natural_key, existing=owner)
    return [(e.ProposalSubmitted, dict(
        kind=cmd.kind, level=cmd.level, year=cmd.year, number=cmd.number, title=cmd.title,
        filers=[f.name for f in cmd.filers], affiliation=cmd.affiliation, topics=cmd.topics,
        summary=cmd.summary, key_item=cmd.key_item))]


def _new_duties(p: Proposal, cmd: c.Assign | c.Reassign, leads: list[str], cos: list[str],
                ctx: Context) -> list[e.Duty] | Rejection:
    seen: set[str] = set()
    for bureau in [*leads, *cos]:
        if bureau in seen:
            return Rejection.of("duplicate_role", bureau=bureau)
        seen.add(bureau)
        if not ctx.directory.has_bureau(bureau):
            return Rejection.of("unknown_bureau", bureau=bureau)
    assigned = business_date(cmd.at)
    reply_due = cmd.reply_due or ctx.profile.reply_due(assigned, p.kind)
    opinion_due = cmd.opinion_due or ctx.profile.opinion_due(assigned)
    for due in ((reply_due,) if leads else ()) + ((opinion_due,) if cos else ()):
        if due < assigned:
            return Rejection.of("due_before_assignment", due=due, assigned=assigned)
    return ([e.Duty(bureau=b, role="lead", due=reply_due) for b in leads]
            + [e.Duty(bureau=b, role="co", due=opinion_due) for b in cos])


def _assign(p: Proposal, cmd: c.Assign, ctx: Context) -> list[Draft] | Rejection:
    if p.ever_assigned:
        return Rejection.of("already_assigned", proposal=p.id)
    if not cmd.lead:
        return Rejection.of("no_lead")
    duties = _new_duties(p, cmd, cmd.lead, cmd.co, ctx)
    if isinstance(duties, Rejection):
        return duties
    return [(e.ProposalAssigned, dict(duties=duties))]


def _reassign(p: Proposal, cmd: c.Reassign, ctx: Context) -> list[Draft] | Rejection:
    for bureau in cmd.remove:
        duty = p.duty(bureau)
        if duty is None:
            return Rejection.of("not_assigned", bureau=bureau, proposal=p.id)
        if duty.replies:
            return Rejection.of("cannot_remove_replied", bureau=bureau)
    for bureau in [*cmd.add_lead, *cmd.add_co]:
        if bureau in cmd.remove:
            return Rejection.of("duplicate_role", bureau=bureau)
        if p.duty(bureau) is not None:
            return Rejection.of("already_active", bureau=bureau, proposal=p.id)
    duties = _new_duties(p, cmd, cmd.add_lead, cmd.add_co, ctx)
    if isinstance(duties, Rejection):
        return duties
    leads_left = [a for a in p.active_duties() if a.role == "lead" and a.bureau not in cmd.remove]
    if not leads_left and not cmd.add_lead:
        return Rejection.of("no_lead")
    return [(e.ProposalReassigned, dict(added=duties, removed=cmd.remove))]


def _own_duty(p: Proposal, bureau: str, role: Role | None = None) -> Assignment | Rejection:
    duty = p.duty(bureau)
    if duty is None:
        return Rejection.of("not_assigned", bureau=bureau, proposal=p.id)
    if role == "lead" and duty.role != "lead":
        return Rejection.of("not_lead", proposal=p.id)
    if role == "co" and duty.role != "co":
        return Rejection.of("not_co")
    return duty


def _replied_lead(p: Proposal, bureau: str) -> Assignment | Rejection:
    duty = _own_duty(p, bureau, "lead")
    if isinstance(duty, Assignment) and not duty.replies:
        return Rejection.of("not_replied", bureau=bureau, proposal=p.id)
    return duty


def _acknowledge(p: Proposal, cmd: c.Acknowledge, ctx: Context) -> list[Draft] | Rejection:
    duty = _own_duty(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    if duty.acknowledged:
        return Rejection.of("already_acknowledged", bureau=cmd.bureau)
    return [(e.AssignmentAcknowledged, dict(bureau=cmd.bureau))]


def _return(p: Proposal, cmd: c.Return, ctx: Context) -> list[Draft] | Rejection:
    duty = _own_duty(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    if duty.replies or duty.opinions:
        return Rejection.of("cannot_return_after_reply", bureau=cmd.bureau)
    day = business_date(cmd.at)
    try:
        too_late = ctx.profile.return_too_late(ctx.calendar, duty.assigned_on, day)
    except OutsideCalendar as gap:
        return _not_covered(gap)
    if too_late:
        return Rejection.of("return_window_closed", bureau=cmd.bureau,
                            days=ctx.profile.return_working_days, assigned=duty.assigned_on,
                            deadline=ctx.profile.return_deadline(ctx.calendar, duty.assigned_on))
    return [(e.AssignmentReturned, dict(bureau=cmd.bureau, reason=cmd.reason))]


def _not_covered(gap: OutsideCalendar) -> Rejection:
    return Rejection.of("calendar_not_covered", day=gap.day, calendar=gap.calendar_name,
                        first=gap.first_year, last=gap.last_year)


def _log_contact(p: Proposal, cmd: c.LogContact, ctx: Context) -> list[Draft] | Rejection:
    duty = _own_duty(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    return [(e.ContactLogged, dict(bureau=cmd.bureau, stage=cmd.stage, method=cmd.method,
                                   note=cmd.note))]


def _submit_opinion(p: Proposal, cmd: c.SubmitOpinion, ctx: Context) -> list[Draft] | Rejection:
    duty = _own_duty(p, cmd.bureau, "co")
    if isinstance(duty, Rejection):
        return duty
    return [(e.OpinionSubmitted, dict(bureau=cmd.bureau, summary=cmd.summary))]


def _awaiting_lead(p: Proposal, bureau: str) -> Assignment | Rejection:
    duty = _own_duty(p, bureau, "lead")
    if isinstance(duty, Assignment) and not duty.awaiting_reply:
        return Rejection.of("already_replied", bureau=bureau, proposal=p.id)
    return duty


def _reply(p: Proposal, cmd: c.Reply, ctx: Context) -> list[Draft] | Rejection:
    duty = _awaiting_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    # A history import records replies as they were issued: their review, if any, happened
    # before the system knew of them.
    if ctx.profile.review and cmd.actor.role != "importer":  # type: ignore[union-attr]
        steps = "cosign" in ctx.profile.review
        return Rejection.of("review_required", profile=ctx.profile.name,
                            steps="、经会办单位会签" if steps else "",
                            steps_en="co-signed" if steps else "reviewed")
    return [(e.ReplyIssued, dict(bureau=cmd.bureau, result=cmd.result, summary=cmd.summary,
                                 signed_by=cmd.signed_by))]


def _draft_reply(p: Proposal, cmd: c.DraftReply, ctx: Context) -> list[Draft] | Rejection:
    duty = _awaiting_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    return [(e.ReplyDrafted, dict(bureau=cmd.bureau, result=cmd.result, summary=cmd.summary))]


def _drafted(p: Proposal, lead: str) -> ReplyDraft | Rejection:
    duty = p.duty(lead)
    if duty is None or duty.role != "lead" or duty.draft is None:
        return Rejection.of("no_draft", bureau=lead)
    return duty.draft


def _sign_off_reply(p: Proposal, cmd: c.SignOffReply, ctx: Context) -> list[Draft] | Rejection:
    duty = _own_duty(p, cmd.bureau, "co")
    if isinstance(duty, Rejection):
        return duty
    draft = _drafted(p, cmd.lead)
    if isinstance(draft, Rejection):
        return draft
    if cmd.bureau in draft.signed_off:
        return Rejection.of("already_signed_off", bureau=cmd.bureau, lead=cmd.lead)
    return [(e.ReplySignedOff, dict(bureau=cmd.bureau, lead=cmd.lead, remark=cmd.remark))]


def _regrade_reply(p: Proposal, cmd: c.RegradeReply, ctx: Context) -> list[Draft] | Rejection:
    draft = _drafted(p, cmd.bureau)
    if isinstance(draft, Rejection):
        return draft
    if draft.result == cmd.result:
        return Rejection.of("regrade_unchanged", result_class=RESULT_CLASS[cmd.result])
    return [(e.ReplyRegraded, dict(bureau=cmd.bureau, result=cmd.result, previous=draft.result,
                                   reason=cmd.reason))]


def _approve_reply(p: Proposal, cmd: c.ApproveReply, ctx: Context) -> list[Draft] | Rejection:
    duty = _awaiting_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    draft = _drafted(p, cmd.bureau)
    if isinstance(draft, Rejection):
        return draft
    if "cosign" in ctx.profile.review:
        pending = [a.bureau for a in p.active_duties()
                   if a.role == "co" and a.bureau not in draft.signed_off]
        if pending:
            return Rejection.of("cosign_pending", pending=", ".join(sorted(pending)))
    return [(e.ReplyApproved, dict(bureau=cmd.bureau, signed_by=cmd.signed_by)),
            (e.ReplyIssued, dict(bureau=cmd.bureau, result=draft.result, summary=draft.summary,
                                 signed_by=cmd.signed_by))]


def _decide_disclosure(p: Proposal, cmd: c.DecideDisclosure, ctx: Context
                       ) -> list[Draft] | Rejection:
    duty = _replied_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    return [(e.DisclosureDecided, dict(bureau=cmd.bureau, disclosure=cmd.disclosure,
                                       reason=cmd.reason, url=cmd.url))]


def _record_feedback(p: Proposal, cmd: c.RecordFeedback, ctx: Context) -> list[Draft] | Rejection:
    duty = _replied_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    return [(e.FeedbackRecorded, dict(bureau=cmd.bureau, satisfaction=cmd.satisfaction,
                                      comment=cmd.comment, channel=cmd.channel))]


def _reopen(p: Proposal, cmd: c.Reopen, ctx: Context) -> list[Draft] | Rejection:
    duty = _replied_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    if duty.awaiting_reply:
        return Rejection.of("not_replied", bureau=cmd.bureau, proposal=p.id)
    if duty.feedback_on_reply != "dissatisfied":  # feedback on an earlier reply does not count
        return Rejection.of("not_dissatisfied")
    if cmd.reply_due < business_date(cmd.at):
        return Rejection.of("due_before_assignment", due=cmd.reply_due,
                            assigned=business_date(cmd.at))
    return [(e.HandlingReopened, dict(bureau=cmd.bureau, reason=cmd.reason,
                                      reply_due=cmd.reply_due))]


def _revise_result(p: Proposal, cmd: c.ReviseResult, ctx: Context) -> list[Draft] | Rejection:
    duty = _replied_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    return [(e.ResultRevised, dict(bureau=cmd.bureau, result=cmd.result, note=cmd.note))]


def _extend_deadline(p: Proposal, cmd: c.ExtendDeadline, ctx: Context) -> list[Draft] | Rejection:
    duty = _own_duty(p, cmd.bureau, "lead")
    if isinstance(duty, Rejection):
        return duty
    if duty.replies:
        return Rejection.of("already_replied", bureau=cmd.bureau, proposal=p.id)
    if cmd.reply_due <= duty.due:
        return Rejection.of("extension_not_later", reply_due=cmd.reply_due, current=duty.due)
    limit = ctx.profile.extension_limit(duty.assigned_on)
    if cmd.reply_due > limit:
        return Rejection.of("extension_too_long", limit=limit)
    return [(e.DeadlineExtended, dict(bureau=cmd.bureau, reply_due=cmd.reply_due,
                                      reason=cmd.reason))]


def _supervise(p: Proposal, cmd: c.Supervise, ctx: Context) -> list[Draft] | Rejection:
    if cmd.bureau is not None and p.duty(cmd.bureau) is None:
        return Rejection.of("not_assigned", bureau=cmd.bureau, proposal=p.id)
    return [(e.ProposalSupervised, dict(bureau=cmd.bureau, note=cmd.note))]


def _withdraw(p: Proposal, cmd: c.Withdraw, ctx: Context) -> list[Draft] | Rejection:
    return [(e.ProposalWithdrawn, dict(reason=cmd.reason))]


def _merge(p: Proposal, cmd: c.Merge, ctx: Context) -> list[Draft] | Rejection:
    if cmd.into == p.id or ctx.directory.proposal_status(cmd.into) != "open":
        return Rejection.of("merge_target", into=cmd.into)
    return [(e.ProposalMerged, dict(into=cmd.into))]


_DECIDERS: dict[str, Callable[[Proposal, Any, Context], list[Draft] | Rejection]] = {
    "assign": _assign, "reassign": _reassign, "acknowledge": _acknowledge, "return": _return,
    "log_contact": _log_contact, "submit_opinion": _submit_opinion, "reply": _reply,
    "decide_disclosure": _decide_disclosure, "record_feedback": _record_feedback,
    "reopen": _reopen, "revise_result": _revise_result, "extend_deadline": _extend_deadline,
    "supervise": _supervise, "withdraw": _withdraw, "merge": _merge,
    "draft_reply": _draft_reply, "sign_off_reply": _sign_off_reply,
    "regrade_reply": _regrade_reply, "approve_reply": _approve_reply,
}


# --- evolve ---------------------------------------------------------------------------------
def evolve(state: State, event: e.Event) -> State:
    """The state after one more event. Events are facts: evolve never refuses. Folding the
    events dated on or before a day, in the order they were recorded, gives the state as of
    that day: each duty's records are in business-time order, and so are the proposal's own."""
    at = event.occurred_at
    match event:
        case e.BureauRegistered():
            return Bureau(id=event.bureau, name=event.name, name_en=event.name_en,
                          version=event.seq, last_at=at)
        case e.ProposalSubmitted():
            return Proposal(
                id=event.proposal_id, kind=event.kind, level=event.level, year=event.year,
                number=event.number, title=event.title, filers=tuple(event.filers),
                affiliation=event.affiliation, topics=tuple(event.topics),
                key_item=event.key_item, version=event.seq, submitted_at=at, last_at=at)
    assert isinstance(state, Proposal), f"{event.type} before ProposalSubmitted"
    update: dict[str, Any] = {"version": event.seq}
    day = business_date(at)
    match event:
        case e.ProposalAssigned(duties=duties) | e.ProposalReassigned(added=duties):
            assignments = dict(state.assignments)
            for bureau in getattr(event, "removed", ()):
                assignments[bureau] = replaced(assignments[bureau], {
                    "status": "removed", "last_at": _later(assignments[bureau].last_at, at)})
            for duty in duties:
                assignments[duty.bureau] = Assignment(bureau=duty.bureau, role=duty.role,
                                                      assigned_on=day, due=duty.due, last_at=at)
            update.update(assignments=assignments, ever_assigned=True)
        case e.ProposalSupervised():
            update["supervisions"] = state.supervisions + 1
            if event.bureau is not None:
                duty = state.assignments[event.bureau]
                update["assignments"] = _with(state, event.bureau,
                                              supervisions=duty.supervisions + 1,
                                              last_at=_later(duty.last_at, at))
        case e.ProposalWithdrawn():
            update["status"] = "withdrawn"
        case e.ProposalMerged():
            update.update(status="merged", merged_into=event.into)
        case e.ReplySignedOff():  # the sign-off is a record of the co-handler's and on the draft
            lead, co = state.assignments[event.lead], state.assignments[event.bureau]
            assert lead.draft is not None, "a sign-off needs a draft"
            assignments = dict(state.assignments)
            assignments[event.lead] = replaced(lead, {
                "draft": replaced(lead.draft, {"signed_off": (*lead.draft.signed_off,
                                                              event.bureau)}),
                "last_at": _later(lead.last_at, at)})
            assignments[event.bureau] = replaced(co, {"last_at": _later(co.last_at, at)})
            update["assignments"] = assignments
            return replaced(state, update)
        case _:
            duty = state.assignments[event.bureau]  # type: ignore[attr-defined]
            update["assignments"] = _with(state, duty.bureau, **_duty_change(duty, event, day),
                                          last_at=_later(duty.last_at, at))
            return replaced(state, update)
    update["last_at"] = _later(state.last_at, at)  # one of the proposal's own records
    return replaced(state, update)


def _later(a: datetime, b: datetime) -> datetime:
    return b if b > a else a


def _duty_change(duty: Assignment, event: e.Event, day: date) -> dict[str, Any]:
    match event:
        case e.AssignmentAcknowledged():
            return {"acknowledged": True}
        case e.AssignmentReturned():
            return {"status": "returned"}
        case e.ContactLogged():
            return {"contacts": duty.contacts + 1,
                    "contacted_before_reply": duty.contacted_before_reply or not duty.replies}
        case e.OpinionSubmitted():
            return {"opinions": duty.opinions + 1, "first_opinion_on": duty.first_opinion_on or day}
        case e.ReplyIssued():
            return {"replies": duty.replies + 1, "first_reply_on": duty.first_reply_on or day,
                    "last_reply_on": day, "published_on": None, "draft": None,
                    "awaiting_reply": False, "result": event.result, "feedback_on_reply": None}
        case e.DisclosureDecided():
            published = event.disclosure in ("full", "summary")
            return {"disclosure": event.disclosure,
                    "published_on": duty.published_on or (day if published else None),
                    "first_disclosure": duty.first_disclosure or event.disclosure}
        case e.FeedbackRecorded():
            return {"feedback": event.satisfaction, "feedback_on_reply": event.satisfaction,
                    "feedback_channel": event.channel,
                    "feedback_by_self": event.actor.bureau == duty.bureau}
        case e.HandlingReopened():
            return {"awaiting_reply": True, "reopen_due": event.reply_due}
        case e.ResultRevised():
            return {"result": event.result}
        case e.ReplyDrafted():
            return {"draft": ReplyDraft(result=event.result, summary=event.summary,
                                        drafted_on=day)}
        case e.ReplyRegraded():
            assert duty.draft is not None, "a regrade needs a draft"
            return {"draft": replaced(duty.draft, {"result": event.result, "regraded": True})}
        case e.ReplyApproved():
            return {}
        case e.DeadlineExtended():
            return {"due": event.reply_due, "extensions": duty.extensions + 1}
    raise TypeError(f"no evolution for {event.type}")


def _with(state: Proposal, bureau: str, **change: Any) -> dict[str, Assignment]:
    assignments = dict(state.assignments)
    assignments[bureau] = replaced(assignments[bureau], change)
    return assignments


def fold(events: Iterable[e.Event], state: State = None) -> State:
    for event in events:
        state = evolve(state, event)
    return state
