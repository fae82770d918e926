"""The year-end report and its rates, computed from proposal states as of a date.

This is the reference definition (DOMAIN.md, "Rates"): the ClickHouse queries of the reporting
service must give the same numbers, and the differential tests hold them to it.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from .deadlines import Profile
from .proposal import Assignment, Proposal
from .types import DISCLOSURES, KINDS, RESULTS, SATISFACTIONS, Frozen, Kind, Level


class Scope(Frozen):
    """Which duties a report counts: one bureau (or all, `bureau=None`), the proposals' years,
    the as-of business date, optional level and kind filters."""

    bureau: str | None
    years: tuple[int, int]
    as_of: date
    level: Level | None = None
    kind: Kind | None = None

    def takes(self, p: Proposal) -> bool:
        return (p.status == "open" and self.years[0] <= p.year <= self.years[1]
                and self.level in (None, p.level) and self.kind in (None, p.kind))

    def duties(self, p: Proposal) -> list[Assignment]:
        return [a for a in p.active_duties() if self.bureau in (None, a.bureau)]


def ratio(numerator: int, denominator: int) -> float | None:
    """An unrounded fraction, or None when nothing was there to count."""
    return numerator / denominator if denominator else None


def empty_report(scope: Scope, profile: Profile) -> dict[str, Any]:
    return {
        "scope": {"bureau": scope.bureau, "years": list(scope.years),
                  "as_of": scope.as_of.isoformat(), "level": scope.level, "kind": scope.kind,
                  "profile": profile.name},
        "proposals": 0,
        "assignments": {k: {"lead": 0, "co": 0} for k in KINDS},
        "replies": 0,
        "results": {r: 0 for r in RESULTS},
        "disclosure": {**{d: 0 for d in DISCLOSURES}, "undecided": 0},
        "feedback": {s: 0 for s in SATISFACTIONS},
        "rates": {},
    }


def compute_report(proposals: Iterable[Proposal], scope: Scope, profile: Profile
                   ) -> dict[str, Any]:
    """The report over proposals already folded as of `scope.as_of` (events on or before it)."""
    report = empty_report(scope, profile)
    n = dict(lead=0, replied=0, due_lead=0, on_time_lead=0, due_co=0, on_time_co=0,
             adopted=0, contacted=0)
    for p in proposals:
        if not scope.takes(p):
            continue
        duties = scope.duties(p)
        if duties:
            report["proposals"] += 1
        for a in duties:
            report["assignments"][p.kind][a.role] += 1
            if a.role == "co":
                if a.first_opinion_on is not None or a.due < scope.as_of:
                    n["due_co"] += 1
                    n["on_time_co"] += a.first_opinion_on is not None and a.first_opinion_on <= a.due
                continue
            n["lead"] += 1
            if a.first_reply_on is not None or a.due < scope.as_of:
                n["due_lead"] += 1
                n["on_time_lead"] += a.first_reply_on is not None and a.first_reply_on <= a.due
            if not a.replies:
                continue
            n["replied"] += 1
            report["results"][a.result] += 1
            report["disclosure"][a.disclosure or "undecided"] += 1
            if a.feedback is not None:
                report["feedback"][a.feedback] += 1
            n["adopted"] += a.result in profile.adopted
            n["contacted"] += a.contacted_before_reply
    disclosure, feedback = report["disclosure"], report["feedback"]
    report["replies"] = n["replied"]
    report["rates"] = {
        "on_time_reply": ratio(n["on_time_lead"], n["due_lead"]),
        "on_time_opinion": ratio(n["on_time_co"], n["due_co"]),
        "completion": ratio(n["replied"], n["lead"]),
        "adoption": ratio(n["adopted"], n["replied"]),
        "disclosure": ratio(disclosure["full"] + disclosure["summary"],
                            n["replied"] - disclosure["exempt"]),
        "satisfaction": ratio(feedback["satisfied"] + feedback["basically_satisfied"],
                              sum(feedback.values())),
        "contact": ratio(n["contacted"], n["replied"]),
    }
    return report
