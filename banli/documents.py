"""Year-end documents: the statistical parts of a bureau's year-end report (年终总结), from the
same numbers as `banli report`, as DOCX (for Word and WPS), printable HTML or Markdown.

Two steps. `build_bundle` gathers everything one document states, for one bureau (or all) and
one year: the year's report, the since-term report with a row per year, last year's report as of
the same day a year earlier, the year's lead items, the disclosure review and the results
revised since last year. It reads through a `Source` — two callables, `report_for(scope)` and
`items_for(scope)` — so the reference (a ledger folded in memory) and the projections
(ClickHouse) feed it alike. `render` lays a bundle out once as blocks (headings, paragraphs,
tables) and writes the blocks in each format, so the three formats state the same numbers.

Every rate is printed with its numerator and denominator, counted from the items behind it
(`banli.domain.rates.select`). A source whose items disagree with its report is refused: a
document that contradicts itself is worse than none.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import quote

from .domain.deadlines import Profile
from .domain.rates import RATE_MEASURES, Scope, report_items, select
from .domain.types import (DISCLOSURES, FIRST_DAY, KINDS, RESULT_CLASS, RESULTS, SATISFACTIONS,
                           Kind, Level)
from .report_text import RATE_NAMES

FORMATS = ("docx", "html", "md")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
# Provincial people's congresses, like the national one, are elected together every five years.
TERM_ANCHOR = 2018


class SourceMismatch(ValueError):
    """The items a source lists do not add up to the report it gives for the same scope."""


# --- Sources ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """Where a document's numbers come from: the report and the counted items of any scope,
    and the bureaus' names (id -> (zh, en))."""

    report_for: Callable[[Scope], dict[str, Any]]
    items_for: Callable[[Scope], list[dict[str, Any]]]
    names: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # days lost to misrouting per bureau (banli.domain.routing_lineage.Misrouted), by scope;
    # None where the source cannot tell (the document then leaves the section out)
    misrouting_for: Callable[[Scope], list[Any]] | None = None


def ledger_source(ledger) -> Source:
    """The reference: a `banli.history.MemoryLedger`, folded as of each scope's date."""
    from .history import reference_report

    from .domain.routing_lineage import misrouting

    return Source(
        report_for=lambda scope: reference_report(ledger, scope),
        items_for=lambda scope: report_items(ledger.proposals_as_of(scope.as_of), scope,
                                             ledger.profile),
        names=dict(ledger.directory.bureaus),
        misrouting_for=lambda scope: misrouting(ledger.streams.values(), scope.years,
                                                scope.as_of, scope.bureau))


def store_source(store, profile: Profile, recorded_by: datetime | None = None,
                 misrouting_for: Callable[[Scope], list[Any]] | None = None) -> Source:
    """The projections: a `services.reporting.store.ReportingStore` (duck-typed, so the kernel
    side does not import a service), optionally as recorded by an audit time; the service
    passes its misrouting query (services.reporting.lineage)."""
    names = {b: (n["name"], n["name_en"]) for b, n in store.bureau_names().items()}
    return Source(report_for=lambda scope: store.report(scope, profile, recorded_by),
                  items_for=lambda scope: store.items(scope, profile, recorded_by), names=names,
                  misrouting_for=misrouting_for)


def congress_term_start(year: int) -> int:
    """The first year of the congress term `year` falls in (2018–2022, 2023–2027, ...)."""
    return year - (year - TERM_ANCHOR) % 5


# --- The bundle ---------------------------------------------------------------------------------

Fractions = dict[str, tuple[int, int]]  # rate -> (numerator, denominator)


@dataclass(frozen=True)
class Period:
    """One report with the items behind it and each rate's numerator and denominator."""

    scope: Scope
    report: dict[str, Any]
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
    doc_number: str | None
    current: Period                    # the year
    term: Period                       # term_start..year
    previous: Period | None            # last year, as of the same day a year earlier
    by_year: list[tuple[int, dict[str, Any], Fractions]]
    by_bureau: list[tuple[str, dict[str, Any], Fractions]]  # documents for all bureaus only
    revised: list[tuple[dict[str, Any], dict[str, Any]]]     # (then, now) per changed result
    misrouted: list[Any] | None = None                       # since the term began, per bureau

    @property
    def lead_items(self) -> list[dict[str, Any]]:
        return sorted(select(self.current.items, "lead"), key=_item_order)

    @property
    def review(self) -> list[dict[str, Any]]:
        """Since the term began: replies first left undisclosed (withheld or exempt)."""
        return sorted((i for i in select(self.term.items, "replied")
                       if i["first_disclosure"] in ("withheld", "exempt")), key=_item_order)

    def name(self, bureau: str | None, lang: str) -> str:
        if bureau is None:
            return "全部承办单位" if lang == "zh" else "all bureaus"
        names = self.names.get(bureau)
        return (names[lang == "en"] or bureau) if names else bureau


def _item_order(item: dict[str, Any]) -> tuple:
    number = str(item["number"])
    return (item["year"], KINDS.index(item["kind"]), item["level"] != "municipal", item["level"],
            (0, int(number), "") if number.isdigit() else (1, 0, number), item["bureau"])


def fractions_of(items: Sequence[dict[str, Any]], report: dict[str, Any]) -> Fractions:
    """Each rate's (numerator, denominator) from the items; refuses items that do not give the
    report's counts and rates."""
    counts = {"replied": report["replies"],
              **{f"{k}.{role}": n for k, roles in report["assignments"].items()
                 for role, n in roles.items()},
              **{f"result.{r}": n for r, n in report["results"].items()},
              **{f"disclosure.{d}": n for d, n in report["disclosure"].items()}}
    for measure, number in counts.items():
        if len(select(items, measure)) != number:
            raise SourceMismatch(f"{measure}: {len(select(items, measure))} items, report "
                                 f"{number} ({report['scope']})")
    fractions: Fractions = {}
    for rate in RATE_MEASURES:
        behind = select(items, rate)
        numerator, denominator = sum(i["counted"] for i in behind), len(behind)
        stated = report["rates"][rate]
        value = numerator / denominator if denominator else None
        if (value is None) != (stated is None) or (
                value is not None and not math.isclose(value, stated, rel_tol=1e-12)):
            raise SourceMismatch(f"{rate}: items give {numerator}/{denominator}, report "
                                 f"{stated} ({report['scope']})")
        fractions[rate] = (numerator, denominator)
    return fractions


def _a_year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def build_bundle(source: Source, *, bureau: str | None, year: int, as_of: date,
                 profile: Profile, term_start: int | None = None, level: Level | None = None,
                 kind: Kind | None = None, recorded_by: datetime | None = None,
                 doc_number: str | None = None, attempts: int = 1) -> Bundle:
    """Gather one document's numbers from `source` (whose reports must use `profile`). The
    term starts by default with the congress term `year` falls in. A live store may take new
    events between its queries, so its reports and items can disagree for a moment: with
    `attempts` > 1 the gathering is tried again before `SourceMismatch` is raised."""
    if term_start is None:
        term_start = max(congress_term_start(year), FIRST_DAY.year)
    if not 1949 <= term_start <= year <= 2199:
        raise ValueError(f"the term starts in or before the year: {term_start}–{year}")
    for attempt in range(attempts):
        try:
            return _gather(source, bureau, year, as_of, profile, term_start, level, kind,
                           recorded_by, doc_number)
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
    if term_report["scope"]["profile"] != profile.name:
        raise SourceMismatch(f"the source counts with {term_report['scope']['profile']!r}, "
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
        if report["proposals"]:
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

    return Bundle(bureau=bureau, names=source.names, year=year, term_start=term_start,
                  as_of=as_of, profile=profile, level=level, kind=kind, recorded_by=recorded_by,
                  doc_number=doc_number, current=current, term=term, previous=previous,
                  by_year=by_year, by_bureau=by_bureau, revised=revised,
                  misrouted=(None if source.misrouting_for is None
                             else list(source.misrouting_for(term_scope))))


# --- Numbers as the model report writes them ----------------------------------------------------

def percent(numerator: int, denominator: int) -> str:
    """A whole percent, rounded half up (92%, 96%); one decimal where a whole number would
    round a shortfall up to 100% or a few down to 0%. No denominator: "—"."""
    if not denominator:
        return "—"
    whole = (200 * numerator + denominator) // (2 * denominator)
    if (whole == 100 and numerator < denominator) or (whole == 0 and numerator > 0):
        tenths = (2000 * numerator + denominator) // (2 * denominator)
        tenths = min(max(tenths, 1), 999)
        return f"{tenths // 10}.{tenths % 10}%"
    return f"{whole}%"


def rate_cell(fraction: tuple[int, int], lang: str = "zh") -> str:
    """`92%（24/26）`; "—" when nothing was there to count."""
    numerator, denominator = fraction
    if not denominator:
        return "—"
    return (f"{percent(*fraction)}（{numerator}/{denominator}）" if lang == "zh"
            else f"{percent(*fraction)} ({numerator}/{denominator})")


def rate_phrase(fraction: tuple[int, int], lang: str = "zh") -> str:
    """A rate inside a sentence: as in a table cell, but 暂无 / none yet when it has no base."""
    return rate_cell(fraction, lang) if fraction[1] else ("暂无" if lang == "zh" else "none yet")


def zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _day(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


# --- Blocks: the document once, for every format -------------------------------------------------

@dataclass(frozen=True)
class Masthead:
    agency: str | None      # 发文机关标志 (None for an all-bureaus document)
    number: str             # 发文字号


@dataclass(frozen=True)
class Title:
    text: str


@dataclass(frozen=True)
class Heading:
    level: int              # 1: 一、(黑体)  2: （一）(楷体)
    text: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Table:
    caption: str                        # "" for none
    header: list[str]
    rows: list[list[str]]
    widths: list[float] | None = None   # relative column widths, for wide tables


@dataclass(frozen=True)
class Closing:
    signer: str
    day: str


@dataclass(frozen=True)
class Appendix:
    """Starts an attachment (附件) on a new, landscape page."""

    label: str
    title: str


Block = Masthead | Title | Heading | Para | Table | Closing | Appendix

KIND_NAMES = {"npc_suggestion": ("代表建议", "NPC suggestions"),
              "cppcc_proposal": ("政协提案", "CPPCC proposals")}
LEVEL_NAMES = {"national": ("全国", "national"), "provincial": ("省级", "provincial"),
               "municipal": ("市级", "municipal"), "district": ("区级", "district")}
RESULT_NAMES = {"solved": ("解决采纳", "solved or adopted"),
                "planned": ("正在解决或列入计划", "being solved or planned"),
                "deferred": ("因条件限制待以后解决", "deferred by constraints"),
                "reference": ("留作参考", "kept for reference")}
DISCLOSURE_NAMES = {"full": ("全文公开", "full text"), "summary": ("摘要公开", "summary"),
                    "withheld": ("不公开", "withheld"), "exempt": ("依法不公开", "exempt by law"),
                    None: ("未决定", "undecided")}
FEEDBACK_NAMES = {"satisfied": ("满意", "satisfied"),
                  "basically_satisfied": ("基本满意", "basically satisfied"),
                  "dissatisfied": ("不满意", "dissatisfied"), None: ("未反馈", "none yet")}
CHINESE_ORDINALS = "一二三四五六七八九十"


class _Writer:
    """Composes the blocks of one bundle in one language."""

    def __init__(self, bundle: Bundle, lang: str):
        self.b, self.lang, self.zh = bundle, lang, lang == "zh"
        self.blocks: list[Block] = []
        self.tables = 0
        self.h1 = self.h2 = 0

    def t(self, zh: str, en: str) -> str:
        return zh if self.zh else en

    def word(self, names: Mapping, key: Any) -> str:
        return names[key][0 if self.zh else 1]

    def add(self, block: Block) -> None:
        self.blocks.append(block)

    def heading(self, level: int, zh: str, en: str) -> None:
        if level == 1:
            self.h1, self.h2 = self.h1 + 1, 0
            number = f"{CHINESE_ORDINALS[self.h1 - 1]}、" if self.zh else f"{self.h1}. "
        else:
            self.h2 += 1
            number = f"（{CHINESE_ORDINALS[self.h2 - 1]}）" if self.zh else f"{self.h1}.{self.h2} "
        self.add(Heading(level, number + self.t(zh, en)))

    def table(self, zh: str, en: str, header: list[str], rows: list[list[Any]],
              widths: list[float] | None = None) -> None:
        """A numbered table; with no caption text (an attachment's own table), unnumbered."""
        caption = ""
        if zh or en:
            self.tables += 1
            caption = f"表{self.tables}　{zh}" if self.zh else f"Table {self.tables}. {en}"
        self.add(Table(caption, header, [[str(c) for c in row] for row in rows], widths))

    def rate(self, fraction: tuple[int, int]) -> str:
        return rate_cell(fraction, self.lang)

    def phrase(self, fraction: tuple[int, int]) -> str:
        return rate_phrase(fraction, self.lang)

    def day(self, value: date) -> str:
        return zh_date(value) if self.zh else value.isoformat()

    def count(self, n: int) -> str:
        return f"{n}件" if self.zh else str(n)


def _handled(report: dict[str, Any]) -> tuple[int, int, int]:
    """(all duties, lead, co)."""
    a = report["assignments"]
    lead, co = sum(a[k]["lead"] for k in KINDS), sum(a[k]["co"] for k in KINDS)
    return lead + co, lead, co


def compose(bundle: Bundle, lang: str = "zh") -> list[Block]:
    """The document as blocks, in the order of an official document (GB/T 9704): masthead,
    title, body, attachment note, signature and date, then the attachment."""
    w = _Writer(bundle, lang)
    b, y = bundle, bundle.year
    who = b.name(b.bureau, lang)
    if b.bureau is not None or b.doc_number:  # a document of all bureaus has no issuer
        w.add(Masthead(None if b.bureau is None else w.t(f"{who}文件", who),
                       b.doc_number or w.t(f"〔{b.as_of.year}〕　号", f"[{b.as_of.year}] No. __")))
    if lang == "zh":
        w.add(Title(f"{'' if b.bureau is None else who}{y}年度人大代表建议和政协提案办理情况"
                    f"统计报告{'（全部承办单位）' if b.bureau is None else ''}"))
    else:
        w.add(Title(f"{who.capitalize() if b.bureau is None else who}: NPC deputies' suggestions "
                    f"and CPPCC proposals handled in {y}, a statistical report"))
    _intro(w)
    _the_year(w)
    _since_the_term(w)
    _disclosure_review(w)
    _misrouting(w)
    _definitions(w)
    w.add(Para(w.t(f"附件：{y}年度主办件一览表", f"Attachment: lead items of {y}")))
    w.add(Closing(who if b.bureau is not None else w.t("建议提案办理系统", "Banli"),
                  w.day(b.as_of)))
    _lead_items(w)
    return w.blocks


def _intro(w: _Writer) -> None:
    b = w.b
    filters = []
    if b.level:
        filters.append(w.word(LEVEL_NAMES, b.level) + w.t("", " level"))
    if b.kind:
        filters.append(w.word(KIND_NAMES, b.kind))
    audit = ""
    if b.recorded_by is not None:
        audit = w.t(f"按系统截至 {b.recorded_by.isoformat(timespec='minutes')} 已录入的记录统计，",
                    f"counting only what the system had recorded by "
                    f"{b.recorded_by.isoformat(timespec='minutes')}, ")
    w.add(Para(w.t(
        f"现将{b.year}年度人大代表建议和政协提案办理情况及本届以来（{b.term_start}年以来）办理情况"
        f"统计报告如下。数据截至{w.day(b.as_of)}，{audit}由建议提案办理系统根据办理过程记录生成"
        f"{'（仅统计' + '、'.join(filters) + '）' if filters else ''}，统计口径见第四部分。",
        f"This report counts the suggestions and proposals of {b.year} and of the term since "
        f"{b.term_start}, as of {b.as_of.isoformat()}, {audit}from the handling records "
        f"{'(' + ', '.join(filters) + ' only) ' if filters else ''}"
        f"(definitions in part 4).")))


def _the_year(w: _Writer) -> None:
    b, y = w.b, w.b.year
    r = b.current.report
    a = r["assignments"]
    npc, cppcc = a["npc_suggestion"], a["cppcc_proposal"]
    handled, lead, co = _handled(r)
    us = w.t("各承办单位" if b.bureau is None else "本单位", "the bureaus" if b.bureau is None
             else "the bureau")
    w.heading(1, f"{y}年度办理情况", f"The year {y}")
    w.heading(2, "基本情况", "Items handled")
    on = (w.t(f"（涉及建议提案{r['proposals']}件）", f" on {r['proposals']} items")
          if r["proposals"] != handled else "")
    text = w.t(
        f"{y}年，{us}共承办代表建议和政协提案{handled}件{on}，其中代表建议{sum(npc.values())}件"
        f"（主办件{npc['lead']}件，会办件{npc['co']}件）；政协提案{sum(cppcc.values())}件"
        f"（主办件{cppcc['lead']}件，会办件{cppcc['co']}件）。",
        f"In {y} {us} handled {handled} suggestions and proposals{on}: "
        f"{sum(npc.values())} NPC suggestions (lead {npc['lead']}, co {npc['co']}) and "
        f"{sum(cppcc.values())} CPPCC proposals (lead {cppcc['lead']}, co {cppcc['co']}).")
    if b.previous is not None:
        text += w.t(f"上年同期（{y - 1}年度，截至{w.day(b.previous.scope.as_of)}）承办"
                    f"{_handled(b.previous.report)[0]}件。",
                    f" A year earlier ({y - 1}, as of {b.previous.scope.as_of.isoformat()}): "
                    f"{_handled(b.previous.report)[0]}.")
    w.add(Para(text))
    w.table(f"{y}年度承办情况", f"Handled in {y}",
            [w.t("类别", "Kind"), w.t("主办件", "Lead"), w.t("会办件", "Co"), w.t("合计", "Total")],
            [[w.word(KIND_NAMES, k), a[k]["lead"], a[k]["co"], a[k]["lead"] + a[k]["co"]]
             for k in KINDS] + [[w.t("合计", "Total"), lead, co, handled]])

    w.heading(2, "办理结果", "Results")
    replies, res = r["replies"], r["results"]
    named = [w.t(f"{RESULT_NAMES[k][0]}（{RESULT_CLASS[k]}类）{n}件",
                 f"{n} {RESULT_NAMES[k][1]} ({RESULT_CLASS[k]})") for k, n in res.items() if n]
    if not lead:
        text = w.t("本年度无主办件。", "No lead items this year.")
    elif not replies:
        text = w.t(f"{lead}件主办件尚未答复。", f"None of the {lead} lead items is replied yet.")
    else:
        done = (w.t("均已答复", "all replied") if replies == lead else
                w.t(f"已答复{replies}件，尚未答复{lead - replies}件",
                    f"{replies} replied, {lead - replies} not yet"))
        text = w.t(f"{lead}件主办件中，{done}，其中{'、'.join(named)}。",
                   f"Of the {lead} lead items: {done}; {', '.join(named)}.")
    w.add(Para(text))
    w.table(f"{y}年度主办件办理结果", f"Results of the lead items of {y}",
            [w.t("办理结果", "Result"), w.t("件数", "Items")],
            [[w.t(f"{RESULT_NAMES[k][0]}（{RESULT_CLASS[k]}类）",
                  f"{RESULT_NAMES[k][1]} ({RESULT_CLASS[k]})"), res[k]] for k in RESULTS]
            + [[w.t("已答复合计", "Replied"), replies],
               [w.t("尚未答复", "Not yet replied"), lead - replies]])

    w.heading(2, "主要指标", "Rates")
    f = b.current.fractions
    w.add(Para(w.t(
        f"按期办复率{w.phrase(f['on_time_reply'])}，办复率{w.phrase(f['completion'])}，"
        f"解决采纳率{w.phrase(f['adoption'])}，答复公开率{w.phrase(f['disclosure'])}，"
        f"满意率{w.phrase(f['satisfaction'])}，会办意见按期率{w.phrase(f['on_time_opinion'])}。",
        f"On-time replies {w.phrase(f['on_time_reply'])}, completion "
        f"{w.phrase(f['completion'])}, adoption {w.phrase(f['adoption'])}, disclosure "
        f"{w.phrase(f['disclosure'])}, satisfaction {w.phrase(f['satisfaction'])}, on-time "
        f"opinions {w.phrase(f['on_time_opinion'])}.")))
    periods = [(w.t(f"{y}年度", f"{y}"), b.current)]
    if b.previous is not None:
        periods.append((w.t(f"上年同期（{y - 1}年度）", f"{y - 1}, a year earlier"), b.previous))
    periods.append((w.t(f"本届以来（{b.term_start}—{y}年）", f"since {b.term_start}"), b.term))
    w.table("主要指标", "Rates", [w.t("指标", "Rate")] + [name for name, _ in periods],
            [[w.word(RATE_NAMES, rate)] + [w.rate(p.fractions[rate]) for _, p in periods]
             for rate in RATE_NAMES if rate in RATE_MEASURES])
    _entries(w, r["entries"])

    w.heading(2, "答复公开和意见反馈", "Disclosure and feedback")
    d, fb = r["disclosure"], r["feedback"]
    w.add(Para(w.t(
        f"已答复的主办件中，全文公开{d['full']}件，摘要公开{d['summary']}件，不公开{d['withheld']}件，"
        f"依法不公开{d['exempt']}件，尚未决定{d['undecided']}件，答复公开率{w.phrase(f['disclosure'])}"
        f"（依法不公开的不计入基数）。收到意见反馈{sum(fb.values())}件：满意{fb['satisfied']}件，"
        f"基本满意{fb['basically_satisfied']}件，不满意{fb['dissatisfied']}件，满意率"
        f"{w.phrase(f['satisfaction'])}。",
        f"Of the replies: {d['full']} published in full, {d['summary']} as summaries, "
        f"{d['withheld']} withheld, {d['exempt']} exempt by law, {d['undecided']} undecided; "
        f"disclosure {w.phrase(f['disclosure'])} (exempt replies are left out of the base). "
        f"Feedback on {sum(fb.values())}: {fb['satisfied']} satisfied, "
        f"{fb['basically_satisfied']} basically satisfied, {fb['dissatisfied']} dissatisfied; "
        f"satisfaction {w.phrase(f['satisfaction'])}.")))
    term = b.term.report
    rows = [[w.t(f"答复{DISCLOSURE_NAMES[k][0]}", f"disclosure: {DISCLOSURE_NAMES[k][1]}"),
             r["disclosure"][k or "undecided"], term["disclosure"][k or "undecided"]]
            for k in (*DISCLOSURES, None)]
    rows += [[w.t(f"反馈{FEEDBACK_NAMES[k][0]}", f"feedback: {FEEDBACK_NAMES[k][1]}"),
              r["feedback"][k], term["feedback"][k]] for k in SATISFACTIONS]
    w.table("答复公开和意见反馈", "Disclosure and feedback",
            [w.t("项目", "Item"), w.t(f"{y}年度", f"{y}"),
             w.t(f"本届以来（{b.term_start}—{y}年）", f"since {b.term_start}")], rows)

    if b.bureau is None:
        w.heading(2, "各承办单位办理情况", "By bureau")
        rows = []
        for bureau, report, fractions in b.by_bureau:
            total, lead_n, co_n = _handled(report)
            rows.append([b.name(bureau, w.lang), total, lead_n, co_n, report["replies"]]
                        + [w.rate(fractions[k]) for k in ("on_time_reply", "adoption",
                                                           "disclosure", "satisfaction")])
        rows.append([w.t("合计", "Total"), handled, lead, co, replies]
                    + [w.rate(f[k]) for k in ("on_time_reply", "adoption", "disclosure",
                                              "satisfaction")])
        w.table(f"各承办单位{y}年度办理情况", f"Bureaus in {y}",
                [w.t("承办单位", "Bureau"), w.t("承办件数", "Handled"), w.t("主办件", "Lead"),
                 w.t("会办件", "Co"), w.t("已答复", "Replied")]
                + [w.word(RATE_NAMES, k) for k in ("on_time_reply", "adoption", "disclosure",
                                                    "satisfaction")], rows,
                widths=[3, 1.2, 1.2, 1.2, 1.2, 1.8, 1.8, 1.8, 1.8])


def _entries(w: _Writer, e: dict[str, int]) -> None:
    """How the year's records were kept: entered late (more than N working days after they
    happened), imported in bulk (counted apart), on time."""
    if not e["records"]:
        return
    on_time = e["records"] - e["late"] - e["imported"]
    w.add(Para(w.t(
        f"本年度办理记录共{e['records']}条，其中按时录入{on_time}条，"
        f"超过{e['late_after_working_days']}个工作日补录{e['late']}条，历史数据批量导入{e['imported']}条。",
        f"The year's handling records: {e['records']}, of which {on_time} entered on time, "
        f"{e['late']} entered more than {e['late_after_working_days']} working days after they "
        f"happened, and {e['imported']} imported in bulk.")))


def _since_the_term(w: _Writer) -> None:
    b, y = w.b, w.b.year
    r, f = b.term.report, b.term.fractions
    a = r["assignments"]
    handled, lead, co = _handled(r)
    w.heading(1, f"本届以来办理情况（{b.term_start}年至{y}年）",
              f"Since the term began ({b.term_start}–{y})")
    w.add(Para(w.t(
        f"截至{w.day(b.as_of)}，{b.term_start}年以来共收到代表建议和政协提案{handled}件"
        f"（主办件{lead}件，会办件{co}件），其中代表建议主办件{a['npc_suggestion']['lead']}件，"
        f"政协提案主办件{a['cppcc_proposal']['lead']}件；主办件已答复{r['replies']}件，"
        f"按期办复率为{w.phrase(f['on_time_reply'])}，解决采纳率为{w.phrase(f['adoption'])}，"
        f"答复公开率为{w.phrase(f['disclosure'])}。",
        f"As of {b.as_of.isoformat()}, {handled} suggestions and proposals were received since "
        f"{b.term_start} (lead {lead}, co {co}), with lead items {a['npc_suggestion']['lead']} "
        f"NPC suggestions and {a['cppcc_proposal']['lead']} CPPCC proposals; {r['replies']} "
        f"replied; on-time replies {w.phrase(f['on_time_reply'])}, adoption "
        f"{w.phrase(f['adoption'])}, disclosure {w.phrase(f['disclosure'])}.")))
    if len(b.by_year) > 1:
        rates = ("on_time_reply", "adoption", "disclosure")
        rows = []
        for year, report, fractions in b.by_year:
            total, lead_n, co_n = _handled(report)
            rows.append([w.t(f"{year}年度", str(year)), total, lead_n, co_n, report["replies"],
                         report["results"]["solved"]] + [w.rate(fractions[k]) for k in rates])
        rows.append([w.t("合计", "Total"), handled, lead, co, r["replies"], r["results"]["solved"]]
                    + [w.rate(f[k]) for k in rates])
        w.table("本届以来分年度办理情况", "Year by year since the term began",
                [w.t("年度", "Year"), w.t("承办件数", "Handled"), w.t("主办件", "Lead"),
                 w.t("会办件", "Co"), w.t("已答复", "Replied"), w.t("解决采纳（A类）", "Solved (A)")]
                + [w.word(RATE_NAMES, k) for k in rates], rows,
                widths=[1.6, 1.3, 1.2, 1.2, 1.2, 1.6, 2, 2, 2])
    if b.term_start < y:
        if b.revised:
            w.add(Para(w.t(
                f"往年答复的主办件中，有{len(b.revised)}件的办理结果在{y}年有了变化（跟踪落实）：",
                f"{len(b.revised)} lead items replied in earlier years changed result since "
                f"the end of {y - 1}:")))
            w.table("往年答复件办理结果变化", "Results revised since last year",
                    [w.t("案号", "No."), w.t("标题", "Title"), w.t("年度", "Year"),
                     w.t(f"{y - 1}年末办理结果", f"At the end of {y - 1}"),
                     w.t("现办理结果", "Now")],
                    [[_number(w, now), now["title"], now["year"], _result(w, then["result"]),
                      _result(w, now["result"])] for then, now in b.revised],
                    widths=[1.4, 5, 1, 2, 2])
        else:
            w.add(Para(w.t(f"往年答复的主办件，办理结果在{y}年没有变化。",
                           f"No lead item replied in earlier years changed result in {y}.")))


def _disclosure_review(w: _Writer) -> None:
    b = w.b
    review = b.review
    f, term = b.term.fractions, b.term.report
    w.heading(1, "答复公开复核情况", "Review of undisclosed replies")
    if not review:
        w.add(Para(w.t(f"{b.term_start}年以来答复的主办件，首次答复时均已决定公开或尚待决定；"
                       f"答复公开率为{w.phrase(f['disclosure'])}。",
                       f"Every lead reply since {b.term_start} was disclosed when first "
                       f"decided, or is still undecided; disclosure {w.phrase(f['disclosure'])}.")))
        return
    now = {k: sum(i["disclosure"] == k for i in review) for k in (*DISCLOSURES, None)}
    parts = [w.t(f"{n}件{'仍' if k == 'withheld' else ''}{DISCLOSURE_NAMES[k][0]}",
                 f"{n} {'still ' if k == 'withheld' else ''}{DISCLOSURE_NAMES[k][1]}")
             for k, n in now.items() if n]
    w.add(Para(w.t(
        f"对于首次答复未主动公开的{len(review)}件建议提案，经研究审核，{'，'.join(parts)}。"
        f"本届以来答复公开率为{w.phrase(f['disclosure'])}（依法不公开的"
        f"{term['disclosure']['exempt']}件不计入基数）。",
        f"Of the {len(review)} replies first left undisclosed, on review: {', '.join(parts)}. "
        f"Disclosure since the term began: {w.phrase(f['disclosure'])} (the "
        f"{term['disclosure']['exempt']} exempt by law are left out of the base).")))
    w.table("首次答复未公开件复核情况", "Replies first left undisclosed",
            [w.t("序号", "#"), w.t("案号", "No."), w.t("标题", "Title"),
             *([w.t("主办单位", "Bureau")] if b.bureau is None else []),
             w.t("首次答复", "Replied on"), w.t("首次公开决定", "First decision"),
             w.t("现公开情况", "Now")],
            [[n, _number(w, i), i["title"], *([b.name(i["bureau"], w.lang)] if b.bureau is None
                                              else []),
              _day(i["first_reply_on"]), w.word(DISCLOSURE_NAMES, i["first_disclosure"]),
              w.word(DISCLOSURE_NAMES, i["disclosure"])] for n, i in enumerate(review, 1)],
            widths=[0.6, 1.6, 4.6, *([2.2] if b.bureau is None else []), 1.8, 1.5, 1.5])


def _misrouting(w: _Writer) -> None:
    """Days lost to misrouting since the term began: assignments returned, or removed by a
    reassignment, before any reply or opinion (banli.domain.routing_lineage)."""
    b = w.b
    if b.misrouted is None:
        return
    w.heading(1, "误交办情况", "Misrouting")
    if not b.misrouted:
        w.add(Para(w.t(f"{b.term_start}年以来，没有在答复或会办意见之前被退回或调整移出的承办件。",
                       f"Since {b.term_start}, no assignment was returned or removed before a "
                       f"reply or opinion.")))
        return
    bounced = sum(m.returned + m.removed for m in b.misrouted)
    days = sum(m.days_lost for m in b.misrouted)
    w.add(Para(w.t(
        f"{b.term_start}年以来，在答复或会办意见之前被退回或调整移出的承办件共{bounced}件次，"
        f"自交办之日起至退回或移出之日累计耽误{days}天。",
        f"Since {b.term_start}, {bounced} assignments were returned or removed before a reply "
        f"or opinion: {days} days lost from their assignment to that end.")))
    w.table("误交办情况", "Misrouting",
            [w.t("承办单位", "Bureau"), w.t("退回", "Returned"), w.t("调整移出", "Removed"),
             w.t("耽误天数", "Days lost")],
            [[b.name(m.bureau, w.lang), m.returned, m.removed, m.days_lost]
             for m in b.misrouted],
            widths=[5.0, 1.6, 1.6, 1.8])


def _definitions(w: _Writer) -> None:
    b, p = w.b, w.b.profile
    adopted = w.t("、".join(f"{RESULT_NAMES[r][0]}（{RESULT_CLASS[r]}类）" for r in p.adopted),
                  ", ".join(f"{RESULT_NAMES[r][1]} ({RESULT_CLASS[r]})" for r in p.adopted))
    w.heading(1, "统计口径", "Definitions")
    for zh, en in (
        (f"统计口径为“{p.name}”。承办件数含主办件和会办件，不含已撤回、并案的建议提案和已退回、"
         f"撤销的交办；年度指建议提案的年度，截至日指办理事项发生的日期（北京时间）。",
         f"Profile \"{p.name}\". Handled counts lead and co assignments, leaving out withdrawn "
         f"and merged items and returned or removed assignments; a year is the item's year; "
         f"\"as of\" counts what happened on or before that day (Beijing time)."),
        ("按期办复率：已到答复期限或已答复的主办件中，首次答复不晚于答复期限（含批准的延期）的比例。"
         "会办意见按期率：已到会办意见期限或已提出意见的会办件中，按期提出意见的比例。"
         "办复率：主办件中已答复的比例。",
         "On-time replies: of the lead items due or replied, the share first replied by the "
         "due date (after approved extensions). On-time opinions: likewise for co-handlers' "
         "opinions. Completion: the share of lead items replied."),
        (f"解决采纳率：已答复主办件中，现办理结果为{adopted}的比例。答复公开率：全文公开和摘要公开的"
         f"答复件占答复件（不含依法不公开的）的比例。满意率：收到意见反馈的答复件中，满意和基本满意的"
         f"比例。沟通率：答复前与代表委员沟通过的答复件的比例。",
         f"Adoption: of the replied lead items, the share whose current result is {adopted}. "
         f"Disclosure: replies published in full or as a summary over replies not exempt by "
         f"law. Satisfaction: satisfied and basically satisfied over all feedback received. "
         f"Contact: replies preceded by a contact with the filer."),
        ("补录：承办单位的办理记录（交办单位和监督机构的记录除外）在发生之日后超过规定工作日数才录入系统的，"
         "计为逾期补录；历史数据由导入角色批量迁移的，单独计为批量导入，不计为逾期补录。",
         "Late entry: a bureau's record (not the coordinator's or an overseer's) entered into "
         "the system more than the set number of working days after it happened; a history "
         "migrated in bulk by the importer role is counted apart, as imported."),
        ("各项比率按四舍五入取整（不足100%的不进为100%），括号内为分子/分母；无可计件数的比率记为“—”。"
         + ("上年同期指上一年度建议提案截至上年同日的情况。" if b.previous is not None else ""),
         "Rates are rounded half up to whole percents (a shortfall is never shown as 100%), "
         "with numerator/denominator in brackets; a rate with nothing to count is \"—\"."
         + (" A year earlier means last year's items as of the same day a year ago."
            if b.previous is not None else "")),
    ):
        w.add(Para(w.t(zh, en)))


def _number(w: _Writer, item: dict[str, Any]) -> str:
    level = "" if item["level"] == "municipal" else w.t(f"（{LEVEL_NAMES[item['level']][0]}）",
                                                        f" ({item['level']})")
    return f"{item['number']}{level}"


def _result(w: _Writer, result: str | None) -> str:
    if result is None:
        return "—"
    return w.t(f"{RESULT_CLASS[result]}类 {RESULT_NAMES[result][0]}",
               f"{RESULT_CLASS[result]} {RESULT_NAMES[result][1]}")


def _lead_items(w: _Writer) -> None:
    b = w.b
    every = b.bureau is None
    w.add(Appendix(w.t("附件", "Attachment"),
                   w.t(f"{b.year}年度主办件一览表", f"Lead items of {b.year}")))
    rows = []
    for n, i in enumerate(b.lead_items, 1):
        disclosure = w.word(DISCLOSURE_NAMES, i["disclosure"]) if i["replies"] else "—"
        if i["replies"] and i["first_disclosure"] not in (None, i["disclosure"]):
            disclosure += w.t(f"（首次{DISCLOSURE_NAMES[i['first_disclosure']][0]}）",
                              f" (first {DISCLOSURE_NAMES[i['first_disclosure']][1]})")
        rows.append([n, w.word(KIND_NAMES, i["kind"]), _number(w, i), i["title"],
                     *([b.name(i["bureau"], w.lang)] if every else []),
                     _day(i["assigned_on"]), _day(i["due"]),
                     _day(i["first_reply_on"]) if i["replies"] else w.t("未答复", "not yet"),
                     _result(w, i["result"]) if i["replies"] else "—", disclosure,
                     w.word(FEEDBACK_NAMES, i["feedback"]) if i["replies"] else "—"])
    w.table("", "",
            [w.t("序号", "#"), w.t("类别", "Kind"), w.t("案号", "No."), w.t("标题", "Title"),
             *([w.t("主办单位", "Bureau")] if every else []), w.t("交办日期", "Assigned"),
             w.t("答复期限", "Due"), w.t("首次答复", "Replied"), w.t("办理结果", "Result"),
             w.t("答复公开", "Disclosure"), w.t("满意度", "Feedback")], rows,
            widths=[0.6, 1.5, 1.1, 5.2, *([2.4] if every else []), 1.7, 1.7, 1.7, 2.1, 2.0, 1.3])


# --- Writers --------------------------------------------------------------------------------------

def render(bundle: Bundle, fmt: str, lang: str = "zh") -> bytes:
    """The document as bytes: "docx", "html" (self-contained, printable) or "md"."""
    if fmt not in FORMATS:
        raise ValueError(f"format is one of {', '.join(FORMATS)}, not {fmt!r}")
    if lang not in ("zh", "en"):
        raise ValueError(f"lang is zh or en, not {lang!r}")
    blocks = compose(bundle, lang)
    if fmt == "docx":
        from .documents_docx import write_docx

        return write_docx(blocks, lang, title=_title_of(blocks), author=bundle.name(
            bundle.bureau, lang))
    return (write_html(blocks, lang) if fmt == "html" else write_markdown(blocks)).encode()


def _title_of(blocks: list[Block]) -> str:
    return next(b.text for b in blocks if isinstance(b, Title))


def filename(bundle: Bundle, fmt: str, lang: str = "zh") -> str:
    """A name for the downloaded file (Chinese for zh; see `content_disposition`)."""
    if lang == "zh":
        return f"{bundle.name(bundle.bureau, 'zh')}{bundle.year}年度建议提案办理情况报告.{fmt}"
    return ascii_filename(bundle, fmt)


def ascii_filename(bundle: Bundle, fmt: str) -> str:
    return f"banli-report-{bundle.bureau or 'all'}-{bundle.year}.{fmt}"


def content_disposition(bundle: Bundle, fmt: str, lang: str = "zh") -> str:
    """An attachment with an ASCII fallback name and the real one per RFC 5987/6266."""
    return (f'attachment; filename="{ascii_filename(bundle, fmt)}"; '
            f"filename*=UTF-8''{quote(filename(bundle, fmt, lang), safe='')}")


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def write_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Masthead):
            if block.agency:
                out.append(f"**{block.agency}**\n")
            out.append(f"{block.number}\n\n---\n")
        elif isinstance(block, Title):
            out.append(f"# {block.text}\n")
        elif isinstance(block, Heading):
            out.append(f"{'#' * (block.level + 1)} {block.text}\n")
        elif isinstance(block, Para):
            out.append(f"{block.text}\n")
        elif isinstance(block, Table):
            if block.caption:
                out.append(f"**{block.caption}**\n")
            lines = ["| " + " | ".join(_md_cell(c) for c in block.header) + " |",
                     "|" + "|".join("---" for _ in block.header) + "|"]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            out.append("\n".join(lines) + "\n")
        elif isinstance(block, Closing):
            out.append(f"{block.signer}  \n{block.day}\n")
        elif isinstance(block, Appendix):
            out.append(f"---\n\n**{block.label}**\n\n## {block.title}\n")
    return "\n".join(out)


# Font stacks: the GB/T 9704 faces by their Windows names first, then what Windows, macOS and
# Linux ship (FangSong, STFangsong, Noto), then a generic family.
HTML_FONTS = {
    "title": '"方正小标宋简体", "FZXiaoBiaoSong-B05S", "STZhongsong", "华文中宋", "SimSun", '
             '"宋体", "Noto Serif CJK SC", "Source Han Serif SC", serif',
    "body": '"仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "STFangsong", "华文仿宋", '
            '"Noto Serif CJK SC", serif',
    "h1": '"黑体", "SimHei", "STHeiti", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif',
    "h2": '"楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "STKaiti", "华文楷体", serif',
}

HTML_STYLE = f"""
@page {{ size: A4; margin: 37mm 26mm 35mm 28mm;
  @bottom-center {{ content: "— " counter(page) " —"; font: 14pt "SimSun", serif; }} }}
@page wide {{ size: A4 landscape; margin: 28mm 26mm 26mm 28mm; }}
body {{ font-family: {HTML_FONTS['body']}; font-size: 16pt; line-height: 28.95pt;
  margin: 0; color: #000; }}
main {{ max-width: 156mm; margin: 2em auto; }}
.masthead {{ text-align: center; color: #d00; font-family: {HTML_FONTS['title']};
  font-size: 30pt; letter-spacing: .1em; line-height: 1.4; margin: 0; }}
.docnum {{ text-align: center; margin: 1em 0 0; }}
.rule {{ border: 0; border-top: 2px solid #d00; margin: .3em 0 2em; }}
h1 {{ font-family: {HTML_FONTS['title']}; font-size: 22pt; line-height: 1.5; font-weight: normal;
  text-align: center; margin: 0 0 1em; }}
h2 {{ font-family: {HTML_FONTS['h1']}; font-size: 16pt; font-weight: normal; margin: 0;
  text-indent: 2em; }}
h3 {{ font-family: {HTML_FONTS['h2']}; font-size: 16pt; font-weight: normal; margin: 0;
  text-indent: 2em; }}
p {{ margin: 0; text-indent: 2em; text-align: justify; }}
table {{ border-collapse: collapse; width: 100%; margin: .4em 0 .8em; font-size: 12pt;
  line-height: 1.5; page-break-inside: auto; }}
caption {{ font-family: {HTML_FONTS['h1']}; font-size: 14pt; padding: .4em 0; }}
th, td {{ border: 1px solid #000; padding: 2px 5px; text-align: center; vertical-align: middle; }}
th {{ font-family: {HTML_FONTS['h1']}; font-weight: normal; }}
td.text {{ text-align: left; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; }}
.closing {{ text-align: right; text-indent: 0; margin-top: 2em; padding-right: 2em; }}
.closing + .closing {{ margin-top: 0; padding-right: 4em; }}
.appendix {{ page: wide; page-break-before: always; max-width: 245mm; margin: 2em auto; }}
.appendix .label {{ font-family: {HTML_FONTS['h1']}; text-indent: 0; }}
.appendix h1 {{ font-size: 18pt; }}
.appendix table {{ font-size: 10.5pt; }}
@media screen {{ .appendix {{ border-top: 1px dashed #999; margin-top: 3em; padding-top: 2em; }} }}
@media print {{ main, .appendix {{ margin: 0 auto; }} }}
"""


def write_html(blocks: list[Block], lang: str) -> str:
    e = html.escape
    out = [f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n'
           f'<meta charset="utf-8">\n<title>{e(_title_of(blocks))}</title>\n'
           f"<style>{HTML_STYLE}</style>\n</head>\n<body>\n<main>"]
    in_appendix = False
    for block in blocks:
        if isinstance(block, Masthead):
            if block.agency:
                out.append(f'<p class="masthead">{e(block.agency)}</p>')
            out.append(f'<p class="docnum">{e(block.number)}</p><hr class="rule">')
        elif isinstance(block, Title):
            out.append(f"<h1>{e(block.text)}</h1>")
        elif isinstance(block, Heading):
            out.append(f"<h{block.level + 1}>{e(block.text)}</h{block.level + 1}>")
        elif isinstance(block, Para):
            out.append(f"<p>{e(block.text)}</p>")
        elif isinstance(block, Table):
            text_columns = {i for i, h in enumerate(block.header)
                            if h in ("标题", "Title", "承办单位", "Bureau", "主办单位")}
            cell = ('<td class="text">{}</td>', "<td>{}</td>")
            rows = "\n".join(
                "<tr>" + "".join(cell[i not in text_columns].format(e(c))
                                 for i, c in enumerate(row)) + "</tr>" for row in block.rows)
            caption = f"<caption>{e(block.caption)}</caption>\n" if block.caption else ""
            columns = ""
            if block.widths:
                columns = "<colgroup>" + "".join(
                    f'<col style="width:{share / sum(block.widths):.1%}">'
                    for share in block.widths) + "</colgroup>\n"
            out.append(f"<table>\n{caption}{columns}<thead><tr>"
                       + "".join(f"<th>{e(h)}</th>" for h in block.header)
                       + f"</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>")
        elif isinstance(block, Closing):
            out.append(f'<p class="closing">{e(block.signer)}</p>'
                       f'<p class="closing">{e(block.day)}</p>')
        elif isinstance(block, Appendix):
            out.append('</main>\n<section class="appendix">')
            out.append(f'<p class="label">{e(block.label)}</p><h1>{e(block.title)}</h1>')
            in_appendix = True
    out.append("</section>" if in_appendix else "</main>")
    out.append("</body>\n</html>\n")
    return "\n".join(out)
