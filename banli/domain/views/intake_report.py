"""The office's report of what it received (审查立案情况): how many proposals were received, filed,
merged, not filed (passed on as opinions), withdrawn before filing, still under review or with
their filers for revision; of those filed, members' against collective proposals (by the
collective's kind) and each area, with shares to one decimal as the offices print them; and how
timely the review was. The reference definition: the projections' items are held to these.

Each received proposal in scope is one *item* (a plain dict, the same whether folded from events
or read from the projections); every number is the size of one measure's selection of items, so
every number drills down to its items (`select`). A proposal submitted without review is filed
on submit: it counts as received and filed, and not in the review's timeliness. Pure."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterable, Mapping

from ..timing.deadlines import Area, Profile
from ..proposal import Proposal
from ..types import (CHOICES, COLLECTIVE_KINDS, REVIEW_STATES, Frozen, Kind, Level, YearSpan,
                     business_date)
from .rates import Fraction, Report, Scope

Item = dict[str, Any]
Keep = Callable[[Item], bool]


# --- items -----------------------------------------------------------------------------------
def intake_item(p: Proposal, as_of: date) -> Item:
    """A received proposal as the office's report counts it, as of `as_of` (the state folded
    from its events dated on or before it): its number, where its review stands, who filed it,
    its area, the review's dates, and whether the review is overdue on that date."""
    decided = p.review in ("filed", "merged", "not_filed")
    reviewed = p.review_due is not None  # received for review, not filed on submit
    return {
        "proposal_id": p.id, "kind": p.kind, "level": p.level, "year": p.year,
        "number": p.number, "title": p.title, "review": p.review, "status": p.status,
        "filer_kind": p.filer_kind, "area": p.area,
        "received_on": p.received_on or business_date(p.submitted_at),
        "review_due": p.review_due, "reviewed_on": p.reviewed_on if reviewed else None,
        "returns": p.returns, "merged_into": p.merged_into, "referred_to": list(p.referred_to),
        **review_flags(reviewed, decided, p.review == "pending" and p.status == "open",
                       p.review_due, p.reviewed_on, as_of)}


def review_flags(reviewed: bool, decided: bool, pending: bool, due: date | None,
                 decided_on: date | None, as_of: date) -> dict[str, bool]:
    """What the review's timeliness asks of an item: decided (filed, merged or not filed after
    a review), on time (on or before its due date: the latest receipt's), or overdue (awaiting
    review past its due date on `as_of`)."""
    decided = reviewed and decided
    return {"reviewed": reviewed, "decided": decided,
            "review_on_time": decided and due is not None and decided_on is not None
            and decided_on <= due,
            "review_overdue": reviewed and pending and due is not None and due < as_of}


def in_scope(p: Proposal, years: tuple[int, int], level: Level | None, kind: Kind | None
             ) -> bool:
    return (years[0] <= p.year <= years[1] and level in (None, p.level)
            and kind in (None, p.kind))


# --- measures ---------------------------------------------------------------------------------
def _filed(i: Item) -> bool:
    return bool(i["review"] == "filed")


def _collective(i: Item) -> bool:
    return _filed(i) and i["filer_kind"] != "person"


def _area_measure(code: str) -> Keep:
    return lambda i: _filed(i) and i["area"] == code


# name -> which items it counts. The areas' measures (`area.{code}`) are made for the areas a
# report lists (area_measures): the list is the profile's, per year.
MEASURES: dict[str, Keep] = {
    "received": lambda i: True,
    "filed": _filed,
    "merged": lambda i: i["review"] == "merged",
    "not_filed": lambda i: i["review"] == "not_filed",
    # withdrawn by the filer before it was filed (a filed one withdrawn later counts as filed)
    "withdrawn": lambda i: i["status"] == "withdrawn" and i["review"] != "filed",
    "pending": lambda i: i["review"] == "pending" and i["status"] == "open",
    "awaiting_revision": lambda i: i["review"] == "returned" and i["status"] == "open",
    "returned": lambda i: i["returns"] > 0,  # ever returned for revision
    "members": lambda i: _filed(i) and i["filer_kind"] == "person",
    "collective": _collective,
    **{f"collective.{k}": (lambda k: lambda i: _collective(i) and i["filer_kind"] == k)(k)
       for k in COLLECTIVE_KINDS},
    "area.none": lambda i: _filed(i) and not i["area"],
    "reviewed": lambda i: i["reviewed"],
    "review_decided": lambda i: i["decided"],
    "review_counted": lambda i: i["decided"] or i["review_overdue"],
    "review_on_time": lambda i: i["review_on_time"],
    "review_late": lambda i: i["decided"] and not i["review_on_time"],
    "review_overdue": lambda i: i["review_overdue"],
}
# The outcomes of the review, in the order the office prints them; each adds up to `received`.
OUTCOMES = ("filed", "merged", "not_filed", "withdrawn", "pending", "awaiting_revision")
# The rate of the review's timeliness: its numerator and denominator measures.
TIMELINESS = ("review_on_time", "review_counted")


def area_measures(areas: Iterable[Area]) -> dict[str, Keep]:
    return {f"area.{a.code}": _area_measure(a.code) for a in areas}


def measures_for(areas: Iterable[Area]) -> dict[str, Keep]:
    return {**MEASURES, **area_measures(areas)}


def select(items: Iterable[Item], measure: str, areas: Iterable[Area] = ()) -> list[Item]:
    """The items behind one number of the report (KeyError for a measure it has not); the
    timeliness rate's items are its denominator's, each marked `counted` when on time."""
    if measure == "review_timeliness":
        return [{**i, "counted": i["review_on_time"]} for i in items
                if MEASURES["review_counted"](i)]
    keep = measures_for(areas).get(measure) or (
        _area_measure(measure.removeprefix("area.")) if measure.startswith("area.") else None)
    if keep is None:
        raise KeyError(measure)
    return [i for i in items if keep(i)]


# --- shares, as the offices print them --------------------------------------------------------
def share(count: int, base: int) -> float | None:
    """`count` of `base` in percent, to one decimal, rounded half up from the exact fraction
    (4,531 of 5,002: 90.6); None when there is no base."""
    if not base:
        return None
    exact = Decimal(count * 100) / Decimal(base)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


# --- the report -------------------------------------------------------------------------------
class IntakeScope(Frozen):
    years: YearSpan
    as_of: date
    level: Level | None = None
    kind: Kind | None = None
    profile: str


class Part(Frozen):
    """One line of a breakdown: the measure that lists its items, its names, its count and its
    share of the filed proposals (percent, one decimal)."""

    measure: str
    label: str
    label_en: str
    count: int
    share: float | None


class Timeliness(Frozen):
    """The review's timeliness: reviews decided on or before their due date, over those decided
    and those overdue (`fraction`, `rate`), and how many were late and are overdue."""

    on_time: int
    late: int
    overdue: int
    working_days: int
    fraction: Fraction
    rate: float | None


class IntakeReport(Frozen):
    """The office's report (审查立案情况) for a scope, with the handling figures the bureaus'
    report gives for the same scope beside it (`handling`: all bureaus)."""

    scope: IntakeScope
    received: int
    outcomes: list[Part]  # filed, merged, not filed, withdrawn, under review, with the filer
    returned: int  # ever returned for revision (some since resubmitted)
    filers: list[Part]  # members' and collective, then each collective kind
    areas: list[Part]  # each area of the years', then those filed without one
    timeliness: Timeliness
    counts: dict[str, int]
    handling: Report | None = None


_WORDS = {choice.name: choice.labels for choice in CHOICES}
OUTCOME_WORDS: dict[str, tuple[str, str]] = {
    "filed": ("立案", "filed"), "merged": ("并案", "merged"),
    "not_filed": ("不立案（转为意见和建议）", "not filed (passed on as opinions)"),
    "withdrawn": ("立案前撤回", "withdrawn before filing"),
    "pending": ("审查中", "under review"), "awaiting_revision": ("退回修改待重新提交",
                                                          "returned, awaiting resubmission")}
FILER_WORDS: dict[str, tuple[str, str]] = {
    "members": ("委员（代表）个人提出", "filed by members"),
    "collective": ("集体提出", "filed by collectives"),
    **{f"collective.{k}": _WORDS["filer_kind"][k] for k in COLLECTIVE_KINDS}}


def areas_of(profile: Profile, years: tuple[int, int]) -> list[Area]:
    """The areas of the years' lists, each once, in the order the lists give them."""
    found: dict[str, Area] = {}
    for year in range(years[0], years[1] + 1):
        for area in profile.areas_of(year):
            found.setdefault(area.code, area)
    return list(found.values())


def intake_report(items: Iterable[Item], scope: IntakeScope, profile: Profile,
                  handling: Report | None = None) -> IntakeReport:
    """The report made of its items (already in scope, flagged as of the scope's date): each
    number is the size of its measure's selection."""
    items = list(items)
    areas = areas_of(profile, scope.years)
    others = sorted({i["area"] for i in items if _filed(i) and i["area"]}
                    - {a.code for a in areas})  # recorded under a list since changed
    listed = [*areas, *(Area(code=code, zh=code, en=code) for code in others)]
    counts = {name: sum(1 for i in items if keep(i))
              for name, keep in measures_for(listed).items()}
    filed = counts["filed"]

    def part(measure: str, words: tuple[str, str]) -> Part:
        return Part(measure=measure, label=words[0], label_en=words[1], count=counts[measure],
                    share=share(counts[measure], filed))

    fraction = Fraction(numerator=counts[TIMELINESS[0]], denominator=counts[TIMELINESS[1]])
    return IntakeReport(
        scope=scope, received=counts["received"],
        outcomes=[Part(measure=m, label=OUTCOME_WORDS[m][0], label_en=OUTCOME_WORDS[m][1],
                       count=counts[m], share=share(counts[m], counts["received"]))
                  for m in OUTCOMES],
        returned=counts["returned"],
        filers=[part(m, words) for m, words in FILER_WORDS.items()],
        areas=[*(part(f"area.{a.code}", (a.zh, a.en or a.zh)) for a in listed),
               part("area.none", ("未分类", "unclassified"))],
        timeliness=Timeliness(on_time=counts["review_on_time"], late=counts["review_late"],
                              overdue=counts["review_overdue"],
                              working_days=profile.intake_review_working_days,
                              fraction=fraction, rate=fraction.value),
        counts=counts, handling=handling)


def intake_items(proposals: Iterable[Proposal], scope: IntakeScope) -> list[Item]:
    """The items of the proposals in scope, folded as of the scope's date, in order of their
    year, kind, level and number (as the projections' list)."""
    return sorted((intake_item(p, scope.as_of) for p in proposals
                   if in_scope(p, scope.years, scope.level, scope.kind)), key=item_order)


def item_order(item: Item) -> tuple[int, str, str, int, str]:
    number: str = item["number"]
    return (item["year"], item["kind"], item["level"],
            int(number) if number.isascii() and number.isdigit() else 0, number)


def handling_scope(scope: IntakeScope) -> Scope:
    """The bureaus' report's scope (all bureaus) beside the office report's."""
    return Scope(bureau=None, years=scope.years, as_of=scope.as_of, level=scope.level,
                 kind=scope.kind)


def check_sums(report: IntakeReport) -> None:
    """The report's own arithmetic (a report that breaks it is a defect, never printed): the
    outcomes add up to what was received, members' and collective to what was filed, and so do
    the areas."""
    if sum(p.count for p in report.outcomes) != report.received:
        raise AssertionError("the review's outcomes do not add up to the proposals received")
    filed = report.counts["filed"]
    if report.counts["members"] + report.counts["collective"] != filed:
        raise AssertionError("members' and collective proposals do not add up to those filed")
    if sum(p.count for p in report.areas) != filed:
        raise AssertionError("the areas do not add up to the proposals filed")


# The review states and their words (the drill-down's column)
REVIEW_WORDS: Mapping[str, tuple[str, str]] = {s: _WORDS["review"][s] for s in REVIEW_STATES}

