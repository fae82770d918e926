"""The deadlines list (到期提醒): the duties in a board's scope that owe a reply or an opinion as of
its date, each with its due date and the calendar days from that date to it. Like the board's
numbers, it reads the duties as they stood on the as-of date (and, with an audit clock, as
recorded by then): a 2020 board lists 2020's items, counted to its own date, not to today.

What a duty owes: a lead awaiting its reply (`reply`, or `re-reply` once reopened after a reply,
by the reopening's date), a co-handler its opinion (`opinion`). It is `overdue` once its due
date is before the as-of date and `due_soon` when due within ten days of it; the board shows
those two (`urgent`). The projections' query (services/reporting/projections/queries.py,
OWED) picks the same duties; `of_proposals` is the reference, over folded proposals. Pure.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from ..proposal import Assignment, Proposal
from .rates import Scope
from .reminders import YELLOW_DAYS
from ..wording import numbered


def owed_of(role: str, awaiting_reply: bool, replies: int, opinions: int, due: date,
            reopen_due: date | None) -> tuple[str, date] | None:
    """What the duty owes and by when, or None when it owes neither a reply nor an opinion."""
    if role == "lead" and awaiting_reply:
        if replies and reopen_due is not None:
            return "re-reply", reopen_due
        return "reply", due
    if role == "co" and not opinions:
        return "opinion", due
    return None


def listed(row: Mapping[str, Any], as_of: date) -> dict[str, Any] | None:
    """The duty (`row`: its proposal's id, kind, level, year, number and title; its bureau,
    role, assigned_on, due, reopen_due, replies, opinions, awaiting_reply) as the list shows
    it, counted to `as_of`; None when it owes nothing."""
    found = owed_of(row["role"], row["awaiting_reply"], row["replies"], row["opinions"],
                    row["due"], row["reopen_due"])
    if found is None:
        return None
    owed, due = found
    return {
        "proposal_id": row["proposal_id"], "bureau": row["bureau"], "role": row["role"],
        "kind": row["kind"], "level": row["level"], "year": row["year"],
        "number": row["number"], "title": row["title"] or "",
        "assigned_on": row["assigned_on"].isoformat(), "due": due.isoformat(), "owed": owed,
        "overdue": due < as_of, "due_soon": as_of <= due <= as_of + timedelta(days=YELLOW_DAYS),
        "days_left": (due - as_of).days}


def ordered(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The list in its order (due date, proposal, bureau), each item numbered."""
    return numbered(sorted(items, key=lambda i: (i["due"], i["proposal_id"], i["bureau"])))


def urgent(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The overdue duties and those due within ten days: what the board shows."""
    return [i for i in items if i["overdue"] or i["due_soon"]]


def of_proposals(proposals: Iterable[Proposal], scope: Scope) -> list[dict[str, Any]]:
    """The reference: the list from proposals folded as of `scope.as_of`."""
    found = []
    for p in proposals:
        if p.status != "open" or not scope.takes(p):
            continue
        for a in scope.duties(p):
            item = listed(_row(p, a), scope.as_of)
            if item is not None:
                found.append(item)
    return ordered(found)


def _row(p: Proposal, a: Assignment) -> dict[str, Any]:
    return {"proposal_id": p.id, "kind": p.kind, "level": p.level, "year": p.year,
            "number": p.number, "title": p.title, **a.model_dump(include={
                "bureau", "role", "assigned_on", "due", "reopen_due", "replies", "opinions",
                "awaiting_reply"})}
