"""A bureau's work (待办): everything its duties owe now, each with its clock. Pure: the duties
(as the projections hold them, or as a fold gives them: `WorkDuty.of`), the profile, the
calendar and today come in; the owed items go out, sorted by due date.

What a duty owes, and by when:
- `acknowledge`: to sign for it or return it (签收或退回), while it is neither acknowledged nor
  answered, by the end of the return window (the profile's working days after assignment);
- `contact`: a lead's contact with the filer (沟通) before its first reply, by the reply's date;
- `reply` (a lead, no review), or under a review profile `draft` (no draft yet) then `approve`
  (签发, once drafted; with `cosign` it waits for the co-handlers' sign-offs, named in
  `waiting_for`), by the reply date;
- `opinion`: a co-handler's opinion (会办意见), by its opinion date;
- `sign_off`: a co-handler's sign-off of a lead's draft (会签, under `cosign`), by that lead's
  reply date;
- `rehandle`: after 不满意, to reopen it (no date), then, reopened, to reply again by the new
  date (drafted and approved under review);
- `disclose`: the disclosure decision on the latest reply (公开), by the publication deadline
  (the profile's working days after the reply), unless withheld or exempt;
- `feedback`: the filer's feedback on the latest reply, not yet in (no date).
Each item's clock: calendar days and working days left (negative once overdue), red once
overdue and yellow within 10 days (as views.reminders colours them), `provisional` when a
year it was counted over has no holiday notice loaded yet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence, get_args

from ..timing.deadlines import Profile
from .explain import Duty, status
from ..proposal import Assignment, Proposal
from .reminders import YELLOW_DAYS
from ..types import Colour, Role
from ..wording import CHOICE_WORDS, numbered
from ..timing.workdays import Calendar, OutsideCalendar, WorkingDayCount, provisional_between

Owed = Literal["acknowledge", "contact", "reply", "opinion", "draft", "sign_off", "approve",
               "rehandle", "disclose", "feedback"]
# Each kind of work, in the order the counts list them, with its words (the choice `owed`).
OWED_WORDS: dict[Owed, tuple[str, str]] = {
    owed: CHOICE_WORDS["owed"][owed] for owed in get_args(Owed)}
OWED: tuple[Owed, ...] = tuple(OWED_WORDS)


@dataclass(frozen=True)
class Peer:
    """Another duty of the same proposal, as far as review asks: a lead's draft and who has
    signed it off, a co-handler's role."""

    bureau: str
    role: Role
    due: date
    draft_on: date | None = None
    signed_off: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkDuty:
    """One duty, as the work list asks of it: the deadlines' facts (`duty`), the proposal's
    number and title, and what else decides what it owes."""

    duty: Duty
    level: str
    year: int
    number: str
    title: str
    key_item: bool
    contacts: int
    feedback_on_reply: str | None
    draft_on: date | None
    signed_off: tuple[str, ...]
    extension_requested: date | None
    peers: tuple[Peer, ...] = ()  # the proposal's other active duties (review needs them)

    @classmethod
    def of(cls, p: Proposal, a: Assignment) -> "WorkDuty":
        """A duty of a folded proposal."""
        return cls(Duty.of(p, a), p.level, p.year, p.number, p.title, p.key_item, a.contacts,
                   a.feedback_on_reply, a.draft.drafted_on if a.draft else None,
                   a.draft.signed_off if a.draft else (),
                   a.extension_request.reply_due if a.extension_request else None,
                   tuple(peer_of(other) for other in p.active_duties()
                         if other.bureau != a.bureau))


def peer_of(a: Assignment) -> Peer:
    return Peer(a.bureau, a.role, a.due, a.draft.drafted_on if a.draft else None,
                a.draft.signed_off if a.draft else ())


@dataclass(frozen=True)
class Task:
    """One thing owed: what, by when (None: no date), the commands that discharge it, and what
    the page shows beside it."""

    owed: Owed
    due: date | None
    commands: tuple[str, ...]
    counted_from: date | None = None  # a working-day deadline: the day it is counted from
    extra: Mapping[str, Any] = field(default_factory=dict)


def tasks(w: WorkDuty, profile: Profile, calendar: Calendar, today: date) -> list[Task]:
    """What one duty owes now."""
    d = w.duty
    found: list[Task] = []
    if not d.acknowledged and not d.replies and not d.opinions:
        window = _working_deadline(profile.return_deadline, calendar, d.assigned_on)
        found.append(Task("acknowledge", window,
                          ("acknowledge", "return") if window is None or today <= window
                          else ("acknowledge",), d.assigned_on))
    if d.role == "lead":
        found += _lead(w, profile, calendar)
    else:
        found += _co(w, profile)
    return found


def _lead(w: WorkDuty, profile: Profile, calendar: Calendar) -> list[Task]:
    d, found = w.duty, []
    asked = ({"extension_requested": w.extension_requested.isoformat()}
             if w.extension_requested else {})
    if d.awaiting_reply and not d.replies:
        if not w.contacts:
            found.append(Task("contact", d.due, ("log_contact",)))
        owed, commands, extra = _replying(w, profile)
        found.append(Task(owed, d.due, commands, extra={**extra, **asked}))
    elif d.awaiting_reply:  # reopened: the reply again, by the new date
        _, commands, extra = _replying(w, profile)
        found.append(Task("rehandle", d.reopen_due or d.due, commands, extra=extra))
    elif w.feedback_on_reply == "dissatisfied":
        found.append(Task("rehandle", None, ("reopen",)))
    elif w.feedback_on_reply is None:
        found.append(Task("feedback", None, ("record_feedback",)))
    if (d.last_reply_on is not None and d.published_on is None
            and d.disclosure not in ("withheld", "exempt")):
        found.append(Task("disclose", _working_deadline(profile.disclosure_due, calendar,
                                                        d.last_reply_on),
                          ("decide_disclosure",), d.last_reply_on))
    return found


def _replying(w: WorkDuty, profile: Profile) -> tuple[Owed, tuple[str, ...], dict[str, Any]]:
    """A lead's next step towards its reply: the reply itself, or under review the draft and
    then its approval (with the co-handlers whose sign-off it waits for)."""
    if not profile.review:
        return "reply", ("reply",), {}
    if w.draft_on is None:
        return "draft", ("draft_reply",), {}
    waiting = sorted(p.bureau for p in w.peers if p.role == "co" and p.bureau not in w.signed_off
                     ) if "cosign" in profile.review else []
    return "approve", ("approve_reply", "draft_reply"), {"waiting_for": waiting}


def _co(w: WorkDuty, profile: Profile) -> list[Task]:
    found = []
    if not w.duty.opinions:
        found.append(Task("opinion", w.duty.due, ("submit_opinion",)))
    if "cosign" in profile.review:
        for lead in w.peers:
            if (lead.role == "lead" and lead.draft_on is not None
                    and w.duty.bureau not in lead.signed_off):
                found.append(Task("sign_off", lead.due, ("sign_off_reply",),
                                  extra={"lead": lead.bureau}))
    return found


def _working_deadline(rule: Callable[[Calendar, date], date], calendar: Calendar,
                      start: date) -> date | None:
    try:
        return rule(calendar, start)
    except OutsideCalendar:
        return None


def colour(days_left: int | None) -> Colour | None:
    """Red once overdue, yellow when due in YELLOW_DAYS days or fewer (the reminders')."""
    if days_left is None or days_left > YELLOW_DAYS:
        return None
    return "red" if days_left < 0 else "yellow"


def work(duties: Iterable[WorkDuty], profile: Profile, calendar: Calendar, today: date
         ) -> list[dict[str, Any]]:
    """Every item the duties owe, each with its clock and its number (`display`: with the year
    where the items span years), sorted by due date (those without one last), then by number."""
    found = [(w, task) for w in duties for task in tasks(w, profile, calendar, today)]
    dues = [t.due for _, t in found if t.due is not None]
    count = WorkingDayCount(calendar, today, min(dues, default=today), max(dues, default=today))
    items = [_item(w, task, count, calendar, today) for w, task in found]
    items.sort(key=lambda i: (i["due"] is None, i["due"] or "", *number_order(i), i["bureau"],
                              OWED.index(i["owed"])))
    return numbered(items)


def number_order(item: Mapping[str, Any]) -> tuple[int, str, str, int, str]:
    """Items in the order of their numbers: by year, kind and level, then number (7 before
    10), as the lists print them."""
    number = str(item["number"])
    return (int(item["year"]), item["kind"], item.get("level") or "",
            int(number) if number.isascii() and number.isdigit() else -1, number)


def _item(w: WorkDuty, task: Task, count: WorkingDayCount, calendar: Calendar, today: date
          ) -> dict[str, Any]:
    d, due = w.duty, task.due
    days_left = (due - today).days if due is not None else None
    return {
        "proposal_id": d.proposal_id, "kind": d.kind, "level": w.level, "year": w.year,
        "number": w.number, "title": w.title, "key_item": w.key_item, "bureau": d.bureau,
        "role": d.role, "owed": task.owed, "due": due.isoformat() if due else None,
        "working_days_left": count.left(due) if due is not None else None,
        "days_left": days_left, "colour": colour(days_left),
        "provisional": due is not None and _provisional(calendar, today, due,
                                                        task.counted_from),
        "commands": list(task.commands), **task.extra,
    }


def _provisional(calendar: Calendar, today: date, due: date, start: date | None) -> bool:
    """Whether the clock went over a year without its holiday notice: from the deadline's own
    start (a working-day deadline) or the due date, to today."""
    first = min(today, due, *([start] if start else []))
    return provisional_between(calendar, first, max(today, due))


def counts(items: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many items of each kind of work (every kind, 0 included): the top bar's numbers."""
    found: dict[str, int] = {owed: 0 for owed in OWED}
    for item in items:
        found[item["owed"]] += 1
    return found


# --- the coordinator's desk: a key item's state ---------------------------------------------------
KeyState = Literal["awaiting_assignment", "in_hand", "answered"]


def key_item_state(duties: Sequence[Mapping[str, Any]], today: date) -> dict[str, Any]:
    """A key item (重点督办件) as the desk shows it, from its active duties (each with `bureau`,
    `role`, `due`, `reopen_due`, `replies`, `opinions`, `first_reply_on`, `first_opinion_on`,
    `awaiting_reply`): each duty's date and status (explain.status: on_time, late, overdue,
    pending), and the item's `state` (awaiting_assignment: no active lead; answered: every
    active duty answered; else in_hand) and whether any duty is overdue."""
    shown = []
    for d in duties:
        lead = d["role"] == "lead"
        reopened = lead and d["replies"] and d["awaiting_reply"]
        due: date = d["reopen_due"] if reopened and d["reopen_due"] else d["due"]
        answered = (not d["awaiting_reply"]) if lead else bool(d["opinions"])
        on = (d["first_reply_on"] if lead else d["first_opinion_on"]) if answered else None
        shown.append({"bureau": d["bureau"], "role": d["role"], "due": due.isoformat(),
                      "answered_on": on.isoformat() if on else None,
                      "status": status(on, due, today)})
    state: KeyState = ("awaiting_assignment" if not any(d["role"] == "lead" for d in duties)
                       else "answered" if all(d["answered_on"] for d in shown) else "in_hand")
    return {"state": state, "overdue": any(d["status"] == "overdue" for d in shown),
            "duties": shown}
