"""Reminders: what is due soon (yellow: in 10 days or fewer) or overdue (red), for replies,
co-handlers' opinions, returns and the publication of replies. Pure: the duties, the profile,
the calendar and today's date come in; the reminders, each with a stable key, go out.

A reminder's key names the duty, what is owed, the colour and the due date: the outbox sends
each key once, so a reminder goes out once per colour and deadline, and again only when the
deadline itself changes (an extension, a reopening, a new reply to publish).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Iterable, Literal

from ..timing.deadlines import Profile
from .explain import Duty
from ..types import Colour
from ..wording import CHOICE_WORDS
from ..timing.workdays import Calendar, OutsideCalendar

Owed = Literal["reply", "opinion", "return", "disclosure"]
YELLOW_DAYS = 10


@dataclass(frozen=True)
class Reminder:
    key: str
    proposal_id: str
    bureau: str
    owed: Owed
    colour: Colour
    due: date
    days_left: int
    message: str
    message_en: str

    def payload(self) -> dict[str, Any]:
        """Its fields, the due date as ISO text (every field is a plain value: no deep copy,
        which `asdict` makes of each and a work list of thousands of items paid for)."""
        return {**{f.name: getattr(self, f.name) for f in fields(self)},
                "due": self.due.isoformat()}


def owed(d: Duty, profile: Profile, calendar: Calendar) -> list[tuple[Owed, date]]:
    """What a duty still owes, and by when. A return is owed (to be decided: sign for it or
    return it) while an assignment is neither acknowledged nor answered; a day the calendar
    cannot count leaves that working-day deadline out (the explanation shows why)."""
    items: list[tuple[Owed, date]] = []
    if d.role == "lead" and d.awaiting_reply:
        items.append(("reply", d.reopen_due if d.replies and d.reopen_due else d.due))
    if d.role == "co" and not d.opinions:
        items.append(("opinion", d.due))
    try:
        if not d.acknowledged and not d.replies and not d.opinions:
            items.append(("return", profile.return_deadline(calendar, d.assigned_on)))
        if (d.role == "lead" and d.last_reply_on is not None and d.published_on is None
                and d.disclosure not in ("withheld", "exempt")):
            items.append(("disclosure", profile.disclosure_due(calendar, d.last_reply_on)))
    except OutsideCalendar:
        pass
    return items


def reminders(duties: Iterable[Duty], profile: Profile, calendar: Calendar,
              today: date) -> list[Reminder]:
    """The reminders due today: yellow when the deadline is 0-10 days away, red once passed;
    the earliest due first (then by key: the same duties give the same list, in any order)."""
    found = []
    for d in duties:
        for what, due in owed(d, profile, calendar):
            left = (due - today).days
            if left > YELLOW_DAYS:
                continue
            colour: Colour = "red" if left < 0 else "yellow"
            said = CHOICE_WORDS["owed"][what][0]
            zh = (f"{d.proposal_id}：{d.bureau} 的{said}已逾期 {-left} 天（期限 {due}）"
                  if colour == "red" else
                  f"{d.proposal_id}：{d.bureau} 的{said}将于 {due} 到期（剩 {left} 天）")
            en = (f"{d.proposal_id}: {what} of {d.bureau} overdue by {-left} days (due {due})"
                  if colour == "red" else
                  f"{d.proposal_id}: {what} of {d.bureau} due on {due} ({left} days left)")
            found.append(Reminder(
                key=f"{d.proposal_id}/{d.bureau}/{what}/{colour}/{due.isoformat()}",
                proposal_id=d.proposal_id, bureau=d.bureau, owed=what, colour=colour, due=due,
                days_left=left, message=zh, message_en=en))
    return sorted(found, key=lambda r: (r.due, r.key))
