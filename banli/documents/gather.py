"""Gathering what one year-end document states (the bundle), from a `Source`: the reference (a
ledger folded in memory) or the projections (ClickHouse) alike."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Callable, Mapping, Sequence

from ..domain.views.bureaus import lineage, name_on
from ..domain.timing.deadlines import Profile
from ..domain.proposal import Bureau
from ..domain.views.rates import RATES, Report, Scope, entry_kind, report_items, select
from ..domain.types import FIRST_DAY, KINDS, Kind, Level

# Provincial people's congresses, like the national one, are elected together every five years.
TERM_ANCHOR = 2018
# The since-term section has a row per year: a few terms at most, not a century (whose report
# per year, with an audit clock, would keep a request for minutes).
MAX_TERM_YEARS = 30


class SourceMismatch(ValueError):
    """The items a source lists do not add up to the report it gives for the same scope."""


# --- Sources ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """Where a document's numbers come from: the report and the counted items of any scope,
    and the bureaus' names (id -> (zh, en)) or, better, their states (`bureaus`: their names
    over time and their mergers, so that a document names each as it was named then)."""

    report_for: Callable[[Scope], Report]
    items_for: Callable[[Scope], list[dict[str, Any]]]
    names: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    bureaus: Mapping[str, Bureau] = field(default_factory=dict)
    # days lost to misrouting per bureau (banli.domain.views.routing_lineage.Misrouted), by scope;
    # None where the source cannot tell (the document then leaves the section out)
    misrouting_for: Callable[[Scope], list[Any]] | None = None
    # the evidence behind the figures (None where the source cannot tell: no workbook then):
    # the bureaus' records of a scope (each with `proposal_id`, `seq` and its `entry`: late,
    # imported, on_time), and the events of some proposals (`EVENT_FIELDS`), every clock
    entries_for: Callable[[Scope], list[dict[str, Any]]] | None = None
    events_for: Callable[[Sequence[str]], list[dict[str, Any]]] | None = None


# an event as the evidence lists it; `bureau` is the bureau it is about ("" for the proposal's
# own: its submission, assignment, ...), the times are aware datetimes
EVENT_FIELDS = ("event_id", "proposal_id", "seq", "type", "bureau", "occurred_at", "recorded_at")
DEFAULT_OFFICE = ("建议提案办理工作办公室", "Office for Deputies' Suggestions and CPPCC Proposals")


def office_named(zh: str | None, en: str | None) -> tuple[str, str] | None:
    """The office issuing documents of all bureaus, as a deployment names it (BANLI_OFFICE_NAME,
    BANLI_OFFICE_NAME_EN): None when it names none (DEFAULT_OFFICE then)."""
    if not (zh or en):
        return None
    return (zh or DEFAULT_OFFICE[0], en or zh or DEFAULT_OFFICE[1])


def ledger_source(ledger) -> Source:
    """The reference: a `banli.history.MemoryLedger`, folded as of each scope's date."""
    from ..history import reference_entries, reference_report

    from ..domain.views.routing_lineage import misrouting

    def entries_for(scope: Scope) -> list[dict[str, Any]]:
        proposals = list(ledger.proposals_as_of(scope.as_of))
        return [{"proposal_id": event.proposal_id, "seq": event.seq,
                 "bureau": event.__dict__["bureau"], "type": event.type,
                 "entry": entry_kind(stamp, ledger.calendar, ledger.late_entry_working_days)}
                for event, stamp in reference_entries(ledger, proposals, scope)]

    def events_for(proposal_ids: Sequence[str]) -> list[dict[str, Any]]:
        return [{"event_id": event.event_id, "proposal_id": event.proposal_id,
                 "seq": event.seq, "type": event.type,
                 "bureau": event.__dict__.get("bureau") or "",
                 "occurred_at": event.occurred_at, "recorded_at": event.recorded_at}
                for pid in proposal_ids for event in ledger.streams.get(pid, ())]

    return Source(
        report_for=lambda scope: reference_report(ledger, scope),
        items_for=lambda scope: report_items(ledger.proposals_as_of(scope.as_of), scope,
                                             ledger.profile),
        names=dict(ledger.directory.bureaus),
        bureaus={state.id: state for state in ledger.states.values()
                 if isinstance(state, Bureau)},
        misrouting_for=lambda scope: misrouting(ledger.streams.values(), scope.years,
                                                scope.as_of, scope.bureau),
        entries_for=entries_for, events_for=events_for)


def store_source(store, profile: Profile, recorded_by: datetime | None = None,
                 misrouting_for: Callable[[Scope], list[Any]] | None = None,
                 events_for: Callable[[Sequence[str]], list[dict[str, Any]]] | None = None
                 ) -> Source:
    """The projections: a `services.reporting.projections.store.ReportingStore` (duck-typed,
    so the kernel side does not import a service), optionally as recorded by an audit time;
    the service passes its misrouting query (services.reporting.projections.lineage) and its
    events query (the evidence)."""
    bureaus = store.bureau_records()
    names = {b: (state.name, state.name_en) for b, state in bureaus.items()}
    return Source(report_for=lambda scope: store.report(scope, profile, recorded_by),
                  items_for=lambda scope: store.items(scope, profile, recorded_by), names=names,
                  bureaus=bureaus,
                  misrouting_for=misrouting_for,
                  entries_for=lambda scope: store.entries(scope, recorded_by),
                  events_for=events_for)


def named_on(source: Source, day: date
             ) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """The bureaus' names as of `day` (as they were named then), and what each one's past
    is as of then, where it has one (banli.domain.views.bureaus.lineage)."""
    if not source.bureaus:
        return dict(source.names), {}
    names = {b: name_on(state, day) for b, state in source.bureaus.items()}
    told = {b: found for b in source.bureaus
            if (found := lineage(source.bureaus, b, day)) is not None}
    return names, told


def congress_term_start(year: int) -> int:
    """The first year of the congress term `year` falls in (2018–2022, 2023–2027, ...)."""
    return year - (year - TERM_ANCHOR) % 5


# --- The bundle ---------------------------------------------------------------------------------

Fractions = dict[str, tuple[int, int]]  # rate -> (numerator, denominator)


@dataclass(frozen=True)
class Period:
    """One report with the items behind it and each rate's numerator and denominator."""

    scope: Scope
    report: Report
    items: list[dict[str, Any]]
    fractions: Fractions


@dataclass(frozen=True)
class Bundle:
    """Everything one year-end document states."""

    bureau: str | None
    names: Mapping[str, tuple[str, str]]
    year: int
    term_start: int
    as_of: date
    profile: Profile
    level: Level | None
    kind: Kind | None
    recorded_by: datetime | None
    doc_number: str | None             # 发文字号; None: left out
    current: Period                    # the year
    term: Period                       # term_start..year
    previous: Period | None            # last year, as of the same day a year earlier
    by_year: list[tuple[int, Report, Fractions]]
    by_bureau: list[tuple[str, Report, Fractions]]  # documents for all bureaus only
    revised: list[tuple[dict[str, Any], dict[str, Any]]]     # (then, now) per changed result
    misrouted: list[Any] | None = None                       # since the term began, per bureau
    doc_date: date | None = None       # 成文日期 (default: the as-of date)
    # who issues a document of all bureaus: the office overseeing them (zh, en)
    office: tuple[str, str] = DEFAULT_OFFICE
    # what the document says of a bureau's past as of its date (原…, 并入…), by bureau (zh, en)
    lineage: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def lead_items(self) -> list[dict[str, Any]]:
        return sorted(select(self.current.items, "lead"), key=_item_order)

    @property
    def review(self) -> list[dict[str, Any]]:
        """Since the term began: replies first left undisclosed (withheld or exempt)."""
        return sorted(select(self.term.items, "first_undisclosed"), key=_item_order)

    def name(self, bureau: str | None, lang: str) -> str:
        if bureau is None:
            return "全部承办单位" if lang == "zh" else "all bureaus"
        names = self.names.get(bureau)
        return (names[lang == "en"] or bureau) if names else bureau


def _item_order(item: dict[str, Any]) -> tuple:
    number = str(item["number"])
    return (item["year"], KINDS.index(item["kind"]), item["level"] != "municipal", item["level"],
            (0, int(number), "") if number.isdigit() else (1, 0, number), item["bureau"])


def fractions_of(items: Sequence[dict[str, Any]], report: Report) -> Fractions:
    """Each rate's (numerator, denominator) from the items; refuses items that do not give the
    report's counts and fractions."""
    counts = {"replied": report.replies,
              **{f"{k}.{role}": n for k, roles in report.assignments.items()
                 for role, n in roles.model_dump().items()},
              **{f"result.{r}": n for r, n in report.results.items()},
              **{f"disclosure.{d}": n for d, n in report.disclosure.items()}}
    for measure, number in counts.items():
        if len(select(items, measure)) != number:
            raise SourceMismatch(f"{measure}: {len(select(items, measure))} items, report "
                                 f"{number} ({report.scope})")
    fractions: Fractions = {}
    for rate in RATES:
        behind = select(items, rate.name)
        numerator, denominator = sum(i["counted"] for i in behind), len(behind)
        stated = report.fractions[rate.name]
        if (numerator, denominator) != (stated.numerator, stated.denominator):
            raise SourceMismatch(f"{rate.name}: items give {numerator}/{denominator}, report "
                                 f"{stated.numerator}/{stated.denominator} ({report.scope})")
        fractions[rate.name] = (numerator, denominator)
    return fractions


def _a_year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def build_bundle(source: Source, *, bureau: str | None, year: int, as_of: date,
                 profile: Profile, term_start: int | None = None, level: Level | None = None,
                 kind: Kind | None = None, recorded_by: datetime | None = None,
                 doc_number: str | None = None, doc_date: date | None = None,
                 office: tuple[str, str] | None = None, attempts: int = 1) -> Bundle:
    """Gather one document's numbers from `source` (whose reports must use `profile`). The
    term starts by default with the congress term `year` falls in. `doc_number` (发文字号),
    `doc_date` (成文日期, default `as_of`) and `office` (the issuer of a document of all
    bureaus, zh and en) are printed as given. A live store may take new events between its
    queries, so its reports and items can disagree for a moment: with `attempts` > 1 the
    gathering is tried again before `SourceMismatch` is raised."""
    if term_start is None:
        term_start = max(congress_term_start(year), FIRST_DAY.year)
    if not 1949 <= term_start <= year <= 2199:
        raise ValueError(f"the term starts in or before the year: {term_start}–{year}")
    if year - term_start >= MAX_TERM_YEARS:
        raise ValueError(f"a term is at most {MAX_TERM_YEARS} years (a row each in the "
                         f"document): {term_start}–{year}")
    if doc_date is not None and doc_date < as_of:
        raise ValueError(f"the document's date {doc_date} is before its data's {as_of}")
    for attempt in range(attempts):
        try:
            bundle = _gather(source, bureau, year, as_of, profile, term_start, level, kind,
                             recorded_by, doc_number or None)
            return replace(bundle, doc_date=doc_date, office=office or bundle.office)
        except SourceMismatch:
            if attempt == attempts - 1:
                raise
    raise ValueError("attempts must be at least 1")


def _gather(source: Source, bureau: str | None, year: int, as_of: date, profile: Profile,
            term_start: int, level: Level | None, kind: Kind | None,
            recorded_by: datetime | None, doc_number: str | None) -> Bundle:

    def scope(years: tuple[int, int], day: date = as_of, who: str | None = bureau) -> Scope:
        return Scope(bureau=who, years=years, as_of=day, level=level, kind=kind)

    term_scope = scope((term_start, year))
    term_report, term_items = source.report_for(term_scope), source.items_for(term_scope)
    if term_report.scope.profile != profile.name:
        raise SourceMismatch(f"the source counts with {term_report.scope.profile!r}, "
                             f"not {profile.name!r}")
    term = Period(term_scope, term_report, term_items, fractions_of(term_items, term_report))

    by_year = []
    for y in range(term_start, year + 1):
        report = term_report if term_start == year else source.report_for(scope((y, y)))
        by_year.append((y, report, fractions_of([i for i in term_items if i["year"] == y],
                                                report)))
    year_items = [i for i in term_items if i["year"] == year]
    current = Period(scope((year, year)), by_year[-1][1], year_items, by_year[-1][2])

    previous = None
    if year > FIRST_DAY.year and _a_year_earlier(as_of) >= FIRST_DAY:  # nothing before 1949
        earlier = scope((year - 1, year - 1), _a_year_earlier(as_of))
        report = source.report_for(earlier)
        if report.proposals:
            items = source.items_for(earlier)
            previous = Period(earlier, report, items, fractions_of(items, report))

    by_bureau = []
    if bureau is None:
        for b in sorted({i["bureau"] for i in year_items}):
            report = source.report_for(scope((year, year), who=b))
            by_bureau.append((b, report, fractions_of([i for i in year_items
                                                       if i["bureau"] == b], report)))

    revised = []
    last_year_end = date(year - 1, 12, 31)
    if term_start < year and last_year_end < as_of:
        then = {(i["proposal_id"], i["bureau"]): i
                for i in select(source.items_for(scope((term_start, year - 1), last_year_end)),
                                "replied")}
        revised = [(then[key], now) for now in sorted(select(term_items, "replied"),
                                                      key=_item_order)
                   if (key := (now["proposal_id"], now["bureau"])) in then
                   and then[key]["result"] != now["result"]]

    names, lineages = named_on(source, as_of)
    return Bundle(bureau=bureau, names=names, lineage=lineages, year=year, term_start=term_start,
                  as_of=as_of, profile=profile, level=level, kind=kind, recorded_by=recorded_by,
                  doc_number=doc_number, current=current, term=term, previous=previous,
                  by_year=by_year, by_bureau=by_bureau, revised=revised,
                  misrouted=(None if source.misrouting_for is None
                             else list(source.misrouting_for(term_scope))))
