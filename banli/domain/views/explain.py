"""Deadlines explained, and what a change of rules would change. Pure.

`explain_proposal` says, for every assignment of a proposal, how each of its deadlines came
about: the assignment date, the profile's rule (or the date the coordinator gave), approved
extensions, a reopening, and for the working-day rules (the return window, the publication of
a reply) the calendar that counted them. `flips` lists the duties whose on-time status would
differ under another profile or another calendar (a new holiday notice, a corrected release).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Literal

from .. import events as e
from ..timing.deadlines import Profile
from ..proposal import Assignment, Proposal, fold
from ..types import Kind, Role, business_date
from ..timing.workdays import Calendar, OutsideCalendar, provisional_between

Status = Literal["on_time", "late", "overdue", "pending", "not_due", "unknown"]


def _calendar(calendar: Calendar) -> dict[str, Any]:
    return {"name": calendar.name, "years": [calendar.first_year, calendar.last_year]}


def _working_day_rule(calendar: Calendar, days: int, start: date,
                      compute: Callable[[Calendar, date], date]) -> dict[str, Any]:
    """A deadline counted in working days: the day (`provisional` when it was counted over a
    year whose holiday notice is not loaded: statutory holidays only), or why the calendar
    cannot tell it."""
    try:
        due = compute(calendar, start)
        return {"working_days": days, "from": start.isoformat(), "due": due.isoformat(),
                "provisional": provisional_between(calendar, start, due)}
    except OutsideCalendar as gap:
        return {"working_days": days, "from": start.isoformat(), "due": None,
                "calendar_gap": {"day": gap.day.isoformat(), "message": (
                    f"工作日历 {gap.calendar_name} 只有 {gap.first_year}—{gap.last_year} 年的数据"),
                    "message_en": f"{gap.calendar_name} covers {gap.first_year}-{gap.last_year}"}}


def _rule(profile: Profile, p: Proposal, a: Assignment) -> dict[str, Any]:
    if a.role == "lead":
        months = profile.reply_months_by_kind.get(p.kind, profile.reply_months)
        due = profile.reply_due(a.assigned_on, p.kind)
        zh, en = f"交办后 {months} 个月内答复", f"reply within {months} months of the assignment"
    else:
        months, due = profile.opinion_months, profile.opinion_due(a.assigned_on)
        zh, en = (f"交办后 {months} 个月内提交会办意见",
                  f"opinion within {months} months of the assignment")
    return {"profile": profile.name, "months": months, "due": due.isoformat(), "text": zh,
            "text_en": en}


def status(done_on: date | None, due: date | None, as_of: date) -> Status:
    """On time, late, overdue (not done and the due date passed), pending, or unknown (no due
    date: the calendar does not cover it)."""
    if due is None:
        return "unknown"
    if done_on is not None:
        return "on_time" if done_on <= due else "late"
    return "overdue" if due < as_of else "pending"


def explain_duty(p: Proposal, a: Assignment, own_events: list[e.Event], profile: Profile,
                 calendar: Calendar, as_of: date) -> dict[str, Any]:
    """One assignment's deadlines; `own_events` are the events of this assignment, from its
    (latest) assignment on."""
    assigned_due = next((d.due for ev in own_events
                         if isinstance(ev, (e.ProposalAssigned, e.ProposalReassigned))
                         for d in (ev.duties if isinstance(ev, e.ProposalAssigned) else ev.added)
                         if d.bureau == a.bureau), a.due)
    rule = _rule(profile, p, a)
    explained: dict[str, Any] = {
        "bureau": a.bureau, "role": a.role, "status": a.status,
        "assigned_on": a.assigned_on.isoformat(), "rule": rule,
        "assigned_due": assigned_due.isoformat(),
        "set_by": "profile" if assigned_due.isoformat() == rule["due"] else "assignment",
        "extensions": [{"on": business_date(ev.occurred_at).isoformat(),
                        "reply_due": ev.reply_due.isoformat(), "reason": ev.reason}
                       for ev in own_events if isinstance(ev, e.DeadlineExtended)],
        "reopened": [{"on": business_date(ev.occurred_at).isoformat(),
                      "reply_due": ev.reply_due.isoformat(), "reason": ev.reason}
                     for ev in own_events if isinstance(ev, e.HandlingReopened)],
        "due": a.due.isoformat(),
        "calendar": _calendar(calendar),
    }
    if a.role == "lead":
        explained["reply"] = {"first_reply_on": _iso(a.first_reply_on),
                              "status": status(a.first_reply_on, a.due, as_of)}
        if a.reopen_due is not None:
            explained["reply"]["reopen_due"] = a.reopen_due.isoformat()
    else:
        explained["opinion"] = {"first_opinion_on": _iso(a.first_opinion_on),
                                "status": status(a.first_opinion_on, a.due, as_of)}
    explained["return_window"] = _working_day_rule(
        calendar, profile.return_working_days, a.assigned_on, profile.return_deadline)
    if a.role == "lead" and a.last_reply_on is not None:
        disclosure = _working_day_rule(calendar, profile.disclosure_working_days,
                                       a.last_reply_on, profile.disclosure_due)
        disclosure.update(published_on=_iso(a.published_on), decision=a.disclosure,
                          status=disclosure_status(a, profile, calendar, as_of))
        explained["disclosure"] = disclosure
    return explained


def disclosure_status(a: Assignment | "Duty", profile: Profile, calendar: Calendar,
                      as_of: date) -> Status:
    """Whether the latest reply was published on time; `not_due` when it is not to be
    published (withheld, exempt) and was not."""
    if a.last_reply_on is None:
        return "not_due"
    if a.published_on is None and a.disclosure in ("withheld", "exempt"):
        return "not_due"
    try:
        due = profile.disclosure_due(calendar, a.last_reply_on)
    except OutsideCalendar:
        return "unknown"
    return status(a.published_on, due, as_of)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _bureau_of(event: e.Event) -> set[str]:
    match event:
        case e.ProposalAssigned():
            return {d.bureau for d in event.duties}
        case e.ProposalReassigned():
            return {d.bureau for d in event.added} | set(event.removed)
        case e.ReplySignedOff():
            return {event.bureau, event.lead}
    bureau = getattr(event, "bureau", None)
    return {bureau} if bureau else set()


def explain_proposal(events: list[e.Event], profile: Profile, calendar: Calendar,
                     as_of: date) -> dict[str, Any]:
    """Every assignment of a proposal (active or not), its deadlines explained."""
    state = fold(events)
    if not isinstance(state, Proposal):
        raise ValueError("not a proposal's events")
    duties = []
    for bureau, a in state.assignments.items():
        mine = [ev for ev in events if bureau in _bureau_of(ev)]
        # from its latest assignment on: an earlier, returned duty has its own story
        starts = [i for i, ev in enumerate(mine)
                  if isinstance(ev, (e.ProposalAssigned, e.ProposalReassigned))
                  and bureau in {d.bureau for d in (ev.duties if isinstance(ev, e.ProposalAssigned)
                                                    else ev.added)}]
        duties.append(explain_duty(state, a, mine[starts[-1]:] if starts else mine, profile,
                                   calendar, as_of))
    return {"proposal_id": state.id, "kind": state.kind, "as_of": as_of.isoformat(),
            "profile": profile.name, "calendar": _calendar(calendar), "assignments": duties}


# --- what a change would flip ----------------------------------------------------------------
@dataclass(frozen=True)
class Duty:
    """What the on-time questions need of one duty, from a fold or from the projections."""

    proposal_id: str
    bureau: str
    role: Role
    kind: Kind
    assigned_on: date
    due: date
    extensions: int
    first_reply_on: date | None
    first_opinion_on: date | None
    last_reply_on: date | None
    published_on: date | None
    disclosure: str | None
    # what the reminders ask besides (banli.domain.views.reminders)
    acknowledged: bool = False
    awaiting_reply: bool = True
    reopen_due: date | None = None
    opinions: int = 0
    replies: int = 0

    @classmethod
    def of(cls, p: Proposal, a: Assignment) -> "Duty":
        return cls(p.id, a.bureau, a.role, p.kind, a.assigned_on, a.due, a.extensions,
                   a.first_reply_on, a.first_opinion_on, a.last_reply_on, a.published_on,
                   a.disclosure, a.acknowledged, a.awaiting_reply, a.reopen_due, a.opinions,
                   a.replies)


def due_under(d: Duty, current: Profile, other: Profile) -> date:
    """The duty's due date had `other` been the profile: a date the rule gave is recounted; an
    extension or a date the coordinator set stays."""
    if d.role == "lead":
        if d.extensions or d.due != current.reply_due(d.assigned_on, d.kind):
            return d.due
        return other.reply_due(d.assigned_on, d.kind)
    if d.due != current.opinion_due(d.assigned_on):
        return d.due
    return other.opinion_due(d.assigned_on)


def deadlines(d: Duty, current: Profile, profile: Profile, calendar: Calendar,
              as_of: date) -> dict[str, tuple[date | None, Status]]:
    """Each of the duty's deadlines under `profile` and `calendar`, with its status: the reply
    or opinion, the publication of the latest reply, and, while the duty can still be returned
    (unacknowledged, nothing given), the return window."""
    due = due_under(d, current, profile)
    found: dict[str, tuple[date | None, Status]]
    if d.role == "co":
        found = {"opinion": (due, status(d.first_opinion_on, due, as_of))}
    else:
        found = {"reply": (due, status(d.first_reply_on, due, as_of)),
                 "disclosure": (_disclosure_due(d, profile, calendar),
                                disclosure_status(d, profile, calendar, as_of))}
    if not d.acknowledged and not d.replies and not d.opinions:
        try:
            window = profile.return_deadline(calendar, d.assigned_on)
        except OutsideCalendar:
            window = None
        found["return_window"] = (window, "unknown" if window is None else
                                  "pending" if window >= as_of else "overdue")
    return found


def _disclosure_due(d: Duty, profile: Profile, calendar: Calendar) -> date | None:
    if d.last_reply_on is None:
        return None
    try:
        return profile.disclosure_due(calendar, d.last_reply_on)
    except OutsideCalendar:
        return None


def flips(duties: Iterable[Duty], current: Profile, calendar: Calendar, other: Profile,
          other_calendar: Calendar, as_of: date) -> list[dict[str, Any]]:
    """The duties whose deadlines (reply, opinion, publication, return window) would move or
    whose on-time status would change from (`current`, `calendar`) to (`other`,
    `other_calendar`): a new profile, or a holiday notice loaded. Each with both due dates and
    both statuses."""
    changed = []
    for d in duties:
        before = deadlines(d, current, current, calendar, as_of)
        after = deadlines(d, current, other, other_calendar, as_of)
        for what, (due, old) in before.items():
            new_due, new = after[what]
            if (due, old) != (new_due, new):
                changed.append({"proposal_id": d.proposal_id, "bureau": d.bureau,
                                "role": d.role, "what": what, "before": old, "after": new,
                                "due_before": _iso(due), "due_after": _iso(new_due)})
    return changed
