"""Composing a bundle into blocks, in Chinese or English, with every number as the model
report writes it (rates with their numerator and denominator)."""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

import re

from ..domain.views.rates import RATE_MEASURES, RATE_NAMES, Entries, Report, Scope
from ..domain.types import DISCLOSURES, KINDS, RESULT_CLASS, RESULTS, SATISFACTIONS
from ..domain.wording import rounded_percent
from .blocks import (Appendix, Block, Cell, Closing, ColumnKind, Figure, Heading, Masthead,
                     Para, Table, Title, Trace)
from .gather import Bundle

# --- Numbers as the model report writes them ----------------------------------------------------

def percent(numerator: int, denominator: int) -> str:
    """A whole percent, rounded half up (92%, 96%); one decimal where a whole number would
    round a shortfall up to 100% or a few down to 0%. No denominator: "—". The rule the
    统计口径 section states (ROUNDING) and the page's `percent` follows, in integers."""
    rounded = rounded_percent(numerator, denominator)
    if rounded is None:
        return "—"
    value, decimals = rounded
    return f"{value // 10}.{value % 10}%" if decimals else f"{value}%"


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
# who recorded a feedback (代表被满意: a bureau rating itself is what the platforms warn against)
RECORDER_NAMES = {"filer": ("代表委员本人", "the filer"), "office": ("交办单位", "the office"),
                  "bureau": ("承办单位自行录入", "the bureau itself")}
CHINESE_ORDINALS = "一二三四五六七八九十"
RATE_COLUMN: ColumnKind = "rate"
# The rounding rule, stated in the 统计口径 section; `percent` above is it, and the page's too.
ROUNDING = (
    "各项比率为分子除以分母，按四舍五入取整数百分比；取整后为100%而实际不足100%的，或为0%而实际大于0的，"
    "保留一位小数（如99.5%、0.1%）。括号内为分子/分母；无可计件数的比率记为“—”。",
    "A rate is its numerator over its denominator, rounded half up to a whole percent; where "
    "that would show a shortfall as 100% or a few as 0%, to one decimal (99.5%, 0.1%). The "
    "numerator/denominator follow in brackets; a rate with nothing to count is \"—\".")

# Figures and cross-references are written into the prose as tokens (private-use characters
# around an index or a section key) and made into parts once the paragraph, or the document,
# is complete: the prose stays f-strings, and a reference names a section written after it.
_FIGURE = re.compile("\ue000(\\d+)\ue001")
_REF = re.compile("\ue002([a-z_]+)\ue003")


def scope_of(report: Report) -> Scope:
    """The scope a report counted (its drill-downs ask for the same)."""
    s = report.scope
    return Scope(bureau=s.bureau, years=s.years, as_of=s.as_of, level=s.level, kind=s.kind)


class _Writer:
    """Composes the blocks of one bundle in one language."""

    def __init__(self, bundle: Bundle, lang: str):
        self.b, self.lang, self.zh = bundle, lang, lang == "zh"
        self.blocks: list[Block] = []
        self.tables = 0
        self.h1 = self.h2 = 0
        self.figures: list[Figure] = []
        self.sections: dict[str, tuple[int, str]] = {}  # key -> (number, title)

    def t(self, zh: str, en: str) -> str:
        return zh if self.zh else en

    def word(self, names: Mapping, key: Any) -> str:
        return names[key][0 if self.zh else 1]

    def label(self, names: Mapping, key: Any) -> str:
        """A name heading a row or a column (capitalised in English)."""
        word = self.word(names, key)
        return word[:1].upper() + word[1:]

    def add(self, block: Block) -> None:
        if isinstance(block, Para):
            block = Para(*(self._parts(block.text)))
        self.blocks.append(block)

    def _parts(self, text: str) -> list[str | Figure]:
        pieces = _FIGURE.split(text)  # text, index, text, index, ..., text
        return [self.figures[int(piece)] if odd else piece
                for odd, piece in ((i % 2 == 1, p) for i, p in enumerate(pieces))]

    def heading(self, level: int, zh: str, en: str, key: str | None = None) -> None:
        if level == 1:
            self.h1, self.h2 = self.h1 + 1, 0
            number = f"{CHINESE_ORDINALS[self.h1 - 1]}、" if self.zh else f"{self.h1}. "
            if key is not None:
                self.sections[key] = (self.h1, self.t(zh, en))
        else:
            self.h2 += 1
            number = f"（{CHINESE_ORDINALS[self.h2 - 1]}）" if self.zh else f"{self.h1}.{self.h2} "
        self.add(Heading(level, number + self.t(zh, en), key))

    def ref(self, key: str) -> str:
        """A reference to the first-level section `key`, resolved once the document is whole:
        第五部分“统计口径” / part 5, “Definitions”."""
        return f"\ue002{key}\ue003"

    def resolve(self) -> list[Block]:
        def name(match: re.Match) -> str:
            number, title = self.sections[match[1]]
            return (f"第{CHINESE_ORDINALS[number - 1]}部分“{title}”" if self.zh
                    else f"part {number}, “{title}”")

        return [Para(*(_REF.sub(name, p) if isinstance(p, str) else p for p in block.parts))
                if isinstance(block, Para) else block for block in self.blocks]

    def table(self, zh: str, en: str, header: list[str], rows: list[list[Any]],
              kinds: tuple[ColumnKind, ...], total: bool = False) -> None:
        """A numbered table; with no caption text (an attachment's own table), unnumbered.
        `kinds` says what each column holds (its layout); `total`: the last row is a total."""
        caption = ""
        if zh or en:
            self.tables += 1
            caption = f"表{self.tables}　{zh}" if self.zh else f"Table {self.tables}. {en}"
        assert len(kinds) == len(header), (header, kinds)
        self.add(Table(caption, header, [[self._cell(c) for c in row] for row in rows], kinds,
                       total))

    def _cell(self, value: Any) -> Cell:
        parts = self._parts(str(value))
        return parts[1] if len(parts) == 3 and parts[0] == parts[2] == "" else str(value)

    def _figure(self, figure: Figure) -> str:
        self.figures.append(figure)
        return f"\ue000{len(self.figures) - 1}\ue001"

    def n(self, count: int, measure: str, report: Report, proposals: bool = False) -> str:
        """A count: the number of `measure`'s items in the scope `report` counted (with
        `proposals`, of their distinct proposals)."""
        return self._figure(Figure(str(count), Trace(scope_of(report), measure=measure,
                                                     proposals=proposals), count))

    def entries(self, count: int, which: str, report: Report) -> str:
        """A count of the bureaus' records: all, late, imported or on_time."""
        return self._figure(Figure(str(count), Trace(scope_of(report), entries=which), count))

    def _rate(self, text: str, rate: str, fraction: tuple[int, int], report: Report) -> str:
        assert rate in RATE_MEASURES, rate
        return self._figure(Figure(text, Trace(scope_of(report), measure=rate), fraction[1],
                                   fraction[0]))

    def rate(self, rate: str, fraction: tuple[int, int], report: Report) -> str:
        """`92%（24/26）` ("—" with nothing to count), linked to the rate's items."""
        return self._rate(rate_cell(fraction, self.lang), rate, fraction, report)

    def phrase(self, rate: str, fraction: tuple[int, int], report: Report) -> str:
        """A rate inside a sentence: as in a table cell, but 暂无 / none yet with no base."""
        return self._rate(rate_phrase(fraction, self.lang), rate, fraction, report)

    def day(self, value: date) -> str:
        return zh_date(value) if self.zh else value.isoformat()

    def count(self, n: int) -> str:
        return f"{n}件" if self.zh else str(n)


def _handled(report: Report) -> tuple[int, int, int]:
    """(all duties, lead, co)."""
    a = report.assignments
    lead, co = sum(a[k].lead for k in KINDS), sum(a[k].co for k in KINDS)
    return lead + co, lead, co


def compose(bundle: Bundle, lang: str = "zh") -> list[Block]:
    """The document as blocks, in the order of an official document (GB/T 9704): masthead,
    title, body, attachment note, signature and date, then the attachment."""
    w = _Writer(bundle, lang)
    b, y = bundle, bundle.year
    who = b.name(b.bureau, lang)
    # the issuer: the bureau, or for all bureaus the office that oversees them
    issuer = who if b.bureau is not None else w.t(*b.office)
    w.add(Masthead(w.t(f"{issuer}文件", issuer), b.doc_number or None))
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
    attachment = w.t(f"{y}年度主办件一览表", f"Lead items of {y}")
    w.add(Para(w.t(f"附件：{attachment}", f"Attachment: {attachment}")))
    w.add(Closing(issuer, w.day(b.doc_date or b.as_of)))
    _lead_items(w, attachment)
    return w.resolve()


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
        f"{'（仅统计' + '、'.join(filters) + '）' if filters else ''}，统计口径见"
        f"{w.ref('definitions')}。",
        f"This report counts the suggestions and proposals of {b.year} and of the term since "
        f"{b.term_start}, as of {b.as_of.isoformat()}, {audit}from the handling records "
        f"{'(' + ', '.join(filters) + ' only) ' if filters else ''}"
        f"(definitions: see {w.ref('definitions')}).")))
    _lineage(w)


def _lineage(w: _Writer) -> None:
    """Each bureau is named as it was on the data's date; where it was renamed, merged or took
    another's duties over by then, the document says so (原…)."""
    b = w.b
    told = [bureau for bureau in ([b.bureau] if b.bureau is not None
                                  else [x for x, _, _ in b.by_bureau]) if bureau in b.lineage]
    if not told:
        return
    zh = "；".join(f"{b.name(x, 'zh')}（{b.lineage[x][0]}）" for x in told)
    en = "; ".join(f"{b.name(x, 'en')} ({b.lineage[x][1]})" for x in told)
    w.add(Para(w.t(f"单位名称以{w.day(b.as_of)}为准：{zh}。",
                   f"Bureaus are named as on {b.as_of.isoformat()}: {en}.")))


def _the_year(w: _Writer) -> None:
    b, y = w.b, w.b.year
    r = b.current.report
    a = r.assignments
    npc, cppcc = a["npc_suggestion"], a["cppcc_proposal"]
    handled, lead, co = _handled(r)
    us = w.t("各承办单位" if b.bureau is None else "本单位", "the bureaus" if b.bureau is None
             else "the bureau")
    w.heading(1, f"{y}年度办理情况", f"The year {y}", key="year")
    w.heading(2, "基本情况", "Items handled")
    on = (w.t(f"（涉及建议提案{w.n(r.proposals, 'duties', r, proposals=True)}件）",
              f" on {w.n(r.proposals, 'duties', r, proposals=True)} items")
          if r.proposals != handled else "")
    duties = w.n(handled, "duties", r)
    npc_all = w.n(npc.lead + npc.co, "npc_suggestion", r)
    cppcc_all = w.n(cppcc.lead + cppcc.co, "cppcc_proposal", r)
    npc_lead = w.n(npc.lead, "npc_suggestion.lead", r)
    npc_co = w.n(npc.co, "npc_suggestion.co", r)
    cppcc_lead = w.n(cppcc.lead, "cppcc_proposal.lead", r)
    cppcc_co = w.n(cppcc.co, "cppcc_proposal.co", r)
    text = w.t(
        f"{y}年，{us}共承办代表建议和政协提案{duties}件{on}，其中代表建议{npc_all}件"
        f"（主办件{npc_lead}件，会办件{npc_co}件）；政协提案{cppcc_all}件"
        f"（主办件{cppcc_lead}件，会办件{cppcc_co}件）。",
        f"In {y} {us} handled {duties} suggestions and proposals{on}: "
        f"{npc_all} NPC suggestions (lead {npc_lead}, co {npc_co}) and "
        f"{cppcc_all} CPPCC proposals (lead {cppcc_lead}, co {cppcc_co}).")
    if b.previous is not None:
        p = b.previous.report
        before = w.n(_handled(p)[0], "duties", p)
        text += w.t(f"上年同期（{y - 1}年度，截至{w.day(b.previous.scope.as_of)}）承办{before}件。",
                    f" A year earlier ({y - 1}, as of {b.previous.scope.as_of.isoformat()}): "
                    f"{before}.")
    w.add(Para(text))
    w.table(f"{y}年度承办情况", f"Handled in {y}",
            [w.t("类别", "Kind"), w.t("主办件", "Lead"), w.t("会办件", "Co"), w.t("合计", "Total")],
            [[w.word(KIND_NAMES, k), w.n(a[k].lead, f"{k}.lead", r), w.n(a[k].co, f"{k}.co", r),
              w.n(a[k].lead + a[k].co, k, r)] for k in KINDS]
            + [[w.t("合计", "Total"), w.n(lead, "lead", r), w.n(co, "co", r),
                w.n(handled, "duties", r)]],
            ("label", "count", "count", "count"), total=True)

    w.heading(2, "办理结果", "Results")
    replies, res = r.replies, r.results
    named = [w.t(f"{RESULT_NAMES[k][0]}（{RESULT_CLASS[k]}类）{w.n(n, f'result.{k}', r)}件",
                 f"{w.n(n, f'result.{k}', r)} {RESULT_NAMES[k][1]} ({RESULT_CLASS[k]})")
             for k, n in res.items() if n]
    leads, replied = w.n(lead, "lead", r), w.n(replies, "replied", r)
    if not lead:
        text = w.t("本年度无主办件。", "No lead items this year.")
    elif not replies:
        text = w.t(f"{leads}件主办件尚未答复。", f"None of the {leads} lead items is replied yet.")
    else:
        unreplied = w.n(lead - replies, "unreplied", r)
        done = (w.t("均已答复", "all replied") if replies == lead else
                w.t(f"已答复{replied}件，尚未答复{unreplied}件",
                    f"{replied} replied, {unreplied} not yet"))
        text = w.t(f"{leads}件主办件中，{done}，其中{'、'.join(named)}。",
                   f"Of the {leads} lead items: {done}; {', '.join(named)}.")
    w.add(Para(text))
    w.table(f"{y}年度主办件办理结果", f"Results of the lead items of {y}",
            [w.t("办理结果", "Result"), w.t("件数", "Items")],
            [[w.t(f"{RESULT_NAMES[k][0]}（{RESULT_CLASS[k]}类）",
                  f"{RESULT_NAMES[k][1]} ({RESULT_CLASS[k]})"), w.n(res[k], f"result.{k}", r)]
             for k in RESULTS]
            + [[w.t("已答复合计", "Replied"), w.n(replies, "replied", r)],
               [w.t("尚未答复", "Not yet replied"), w.n(lead - replies, "unreplied", r)]],
            ("label", "count"))

    w.heading(2, "主要指标", "Rates")
    f = b.current.fractions

    def said(rate: str) -> str:
        return w.phrase(rate, f[rate], r)

    w.add(Para(w.t(
        f"按期办复率{said('on_time_reply')}，办复率{said('completion')}，"
        f"解决采纳率{said('adoption')}，答复公开率{said('disclosure')}，"
        f"满意率{said('satisfaction')}，会办意见按期率{said('on_time_opinion')}。",
        f"On-time replies {said('on_time_reply')}, completion "
        f"{said('completion')}, adoption {said('adoption')}, disclosure "
        f"{said('disclosure')}, satisfaction {said('satisfaction')}, on-time "
        f"opinions {said('on_time_opinion')}.")))
    periods = [(w.t(f"{y}年度", f"{y}"), b.current)]
    if b.previous is not None:
        periods.append((w.t(f"上年同期（{y - 1}年度）", f"{y - 1}, a year earlier"), b.previous))
    periods.append((w.t(f"本届以来（{b.term_start}—{y}年）", f"since {b.term_start}"), b.term))
    w.table("主要指标", "Rates", [w.t("指标", "Rate")] + [name for name, _ in periods],
            [[w.label(RATE_NAMES, rate)] + [w.rate(rate, p.fractions[rate], p.report)
                                           for _, p in periods]
             for rate in RATE_NAMES], ("label", *[RATE_COLUMN] * len(periods)))
    _entries(w, r)

    w.heading(2, "答复公开和意见反馈", "Disclosure and feedback")
    d, fb = r.disclosure, r.feedback

    def shown(key: str, n: int) -> str:
        return w.n(n, key, r)

    w.add(Para(w.t(
        f"已答复的主办件中，全文公开{shown('disclosure.full', d['full'])}件，摘要公开"
        f"{shown('disclosure.summary', d['summary'])}件，不公开{shown('disclosure.withheld', d['withheld'])}件，"
        f"依法不公开{shown('disclosure.exempt', d['exempt'])}件，尚未决定"
        f"{shown('disclosure.undecided', d['undecided'])}件，答复公开率{said('disclosure')}"
        f"（依法不公开的不计入基数）。收到意见反馈{shown('feedback_any', sum(fb.values()))}件：满意"
        f"{shown('feedback.satisfied', fb['satisfied'])}件，基本满意"
        f"{shown('feedback.basically_satisfied', fb['basically_satisfied'])}件，不满意"
        f"{shown('feedback.dissatisfied', fb['dissatisfied'])}件，满意率{said('satisfaction')}。",
        f"Of the replies: {shown('disclosure.full', d['full'])} published in full, "
        f"{shown('disclosure.summary', d['summary'])} as summaries, "
        f"{shown('disclosure.withheld', d['withheld'])} withheld, "
        f"{shown('disclosure.exempt', d['exempt'])} exempt by law, "
        f"{shown('disclosure.undecided', d['undecided'])} undecided; disclosure "
        f"{said('disclosure')} (exempt replies are left out of the base). Feedback on "
        f"{shown('feedback_any', sum(fb.values()))}: {shown('feedback.satisfied', fb['satisfied'])} "
        f"satisfied, {shown('feedback.basically_satisfied', fb['basically_satisfied'])} basically "
        f"satisfied, {shown('feedback.dissatisfied', fb['dissatisfied'])} dissatisfied; "
        f"satisfaction {said('satisfaction')}.")))
    if sum(fb.values()):
        by = r.feedback_recorders
        w.add(Para(w.t(
            "满意度录入：" + "，".join(
                f"{RECORDER_NAMES[k][0]}{shown(f'feedback_recorders.{k}', by[k])}件"
                for k in RECORDER_NAMES)
            + f"；承办单位自行录入的占{said('self_recorded_feedback')}。",
            "Who recorded the feedback: " + ", ".join(
                f"{RECORDER_NAMES[k][1]} {shown(f'feedback_recorders.{k}', by[k])}"
                for k in RECORDER_NAMES)
            + f"; recorded by the bureau itself {said('self_recorded_feedback')}.")))
    term = b.term.report
    rows: list[list[Any]] = [
        [w.t(f"答复{DISCLOSURE_NAMES[k][0]}", f"disclosure: {DISCLOSURE_NAMES[k][1]}"),
         w.n(r.disclosure[k or "undecided"], f"disclosure.{k or 'undecided'}", r),
         w.n(term.disclosure[k or "undecided"], f"disclosure.{k or 'undecided'}", term)]
        for k in (*DISCLOSURES, None)]
    rows += [[w.t(f"反馈{FEEDBACK_NAMES[k][0]}", f"feedback: {FEEDBACK_NAMES[k][1]}"),
              w.n(r.feedback[k], f"feedback.{k}", r), w.n(term.feedback[k], f"feedback.{k}", term)]
             for k in SATISFACTIONS]
    rows += [[w.t(f"满意度录入：{RECORDER_NAMES[k][0]}",
                  f"feedback recorded by {RECORDER_NAMES[k][1]}"),
              w.n(r.feedback_recorders[k], f"feedback_recorders.{k}", r),
              w.n(term.feedback_recorders[k], f"feedback_recorders.{k}", term)]
             for k in RECORDER_NAMES]
    w.table("答复公开和意见反馈", "Disclosure and feedback",
            [w.t("项目", "Item"), w.t(f"{y}年度", f"{y}"),
             w.t(f"本届以来（{b.term_start}—{y}年）", f"since {b.term_start}")], rows,
            ("label", "count", "count"))

    if b.bureau is None:
        w.heading(2, "各承办单位办理情况", "By bureau")
        shown_rates = ("on_time_reply", "adoption", "disclosure", "satisfaction")
        rows = []
        for bureau, report, fractions in b.by_bureau:
            total, lead_n, co_n = _handled(report)
            rows.append([b.name(bureau, w.lang), w.n(total, "duties", report),
                         w.n(lead_n, "lead", report), w.n(co_n, "co", report),
                         w.n(report.replies, "replied", report)]
                        + [w.rate(k, fractions[k], report) for k in shown_rates])
        rows.append([w.t("合计", "Total"), w.n(handled, "duties", r), w.n(lead, "lead", r),
                     w.n(co, "co", r), w.n(replies, "replied", r)]
                    + [w.rate(k, f[k], r) for k in shown_rates])
        w.table(f"各承办单位{y}年度办理情况", f"Bureaus in {y}",
                [w.t("承办单位", "Bureau"), w.t("承办件数", "Handled"), w.t("主办件", "Lead"),
                 w.t("会办件", "Co"), w.t("已答复", "Replied")]
                + [w.label(RATE_NAMES, k) for k in shown_rates], rows,
                ("text", "count", "count", "count", "count", "rate", "rate", "rate", "rate"),
                total=True)


def _entries(w: _Writer, r: Report) -> None:
    """How the year's records were kept: entered late (more than N working days after they
    happened), imported in bulk (counted apart), on time."""
    e: Entries | None = r.entries
    if e is None or not e.records:
        return
    records, on_time = w.entries(e.records, "all", r), w.entries(
        e.records - e.late - e.imported, "on_time", r)
    late, imported = w.entries(e.late, "late", r), w.entries(e.imported, "imported", r)
    w.add(Para(w.t(
        f"本年度办理记录共{records}条，其中按时录入{on_time}条，"
        f"超过{e.late_after_working_days}个工作日补录{late}条，历史数据批量导入{imported}条。",
        f"The year's handling records: {records}, of which {on_time} entered on time, "
        f"{late} entered more than {e.late_after_working_days} working days after they "
        f"happened, and {imported} imported in bulk.")))


def _since_the_term(w: _Writer) -> None:
    b, y = w.b, w.b.year
    r, f = b.term.report, b.term.fractions
    a = r.assignments
    handled, lead, co = _handled(r)

    def said(rate: str) -> str:
        return w.phrase(rate, f[rate], r)

    w.heading(1, f"本届以来办理情况（{b.term_start}年至{y}年）",
              f"Since the term began ({b.term_start}–{y})", key="term")
    duties, leads, cos = w.n(handled, "duties", r), w.n(lead, "lead", r), w.n(co, "co", r)
    npc_lead = w.n(a["npc_suggestion"].lead, "npc_suggestion.lead", r)
    cppcc_lead = w.n(a["cppcc_proposal"].lead, "cppcc_proposal.lead", r)
    replied = w.n(r.replies, "replied", r)
    w.add(Para(w.t(
        f"截至{w.day(b.as_of)}，{b.term_start}年以来共收到代表建议和政协提案{duties}件"
        f"（主办件{leads}件，会办件{cos}件），其中代表建议主办件{npc_lead}件，"
        f"政协提案主办件{cppcc_lead}件；主办件已答复{replied}件，"
        f"按期办复率为{said('on_time_reply')}，解决采纳率为{said('adoption')}，"
        f"答复公开率为{said('disclosure')}。",
        f"As of {b.as_of.isoformat()}, {duties} suggestions and proposals were received since "
        f"{b.term_start} (lead {leads}, co {cos}), with lead items {npc_lead} "
        f"NPC suggestions and {cppcc_lead} CPPCC proposals; {replied} "
        f"replied; on-time replies {said('on_time_reply')}, adoption "
        f"{said('adoption')}, disclosure {said('disclosure')}.")))
    if len(b.by_year) > 1:
        rates = ("on_time_reply", "adoption", "disclosure")
        rows = []
        for year, report, fractions in b.by_year:
            total, lead_n, co_n = _handled(report)
            rows.append([w.t(f"{year}年度", str(year)), w.n(total, "duties", report),
                         w.n(lead_n, "lead", report), w.n(co_n, "co", report),
                         w.n(report.replies, "replied", report),
                         w.n(report.results["solved"], "result.solved", report)]
                        + [w.rate(k, fractions[k], report) for k in rates])
        rows.append([w.t("合计", "Total"), w.n(handled, "duties", r), w.n(lead, "lead", r),
                     w.n(co, "co", r), w.n(r.replies, "replied", r),
                     w.n(r.results["solved"], "result.solved", r)]
                    + [w.rate(k, f[k], r) for k in rates])
        w.table("本届以来分年度办理情况", "Year by year since the term began",
                [w.t("年度", "Year"), w.t("承办件数", "Handled"), w.t("主办件", "Lead"),
                 w.t("会办件", "Co"), w.t("已答复", "Replied"), w.t("解决采纳（A类）", "Solved (A)")]
                + [w.label(RATE_NAMES, k) for k in rates], rows,
                ("label", "count", "count", "count", "count", "count", "rate", "rate", "rate"),
                total=True)
    if b.term_start < y:
        if b.revised:
            # how many is the table's rows: no one drill-down lists them (two dates' results)
            w.add(Para(w.t(
                f"往年答复的主办件中，下表所列主办件的办理结果在{y}年有了变化（跟踪落实）：",
                f"Lead items replied in earlier years whose result changed since the end of "
                f"{y - 1}:")))
            w.table("往年答复件办理结果变化", "Results revised since last year",
                    [w.t("案号", "No."), w.t("标题", "Title"), w.t("年度", "Year"),
                     w.t(f"{y - 1}年末办理结果", f"At the end of {y - 1}"),
                     w.t("现办理结果", "Now")],
                    [[_number(w, now), now["title"], now["year"], _result(w, then["result"]),
                      _result(w, now["result"])] for then, now in b.revised],
                    ("code", "text", "date", "label", "label"))
        else:
            w.add(Para(w.t(f"往年答复的主办件，办理结果在{y}年没有变化。",
                           f"No lead item replied in earlier years changed result in {y}.")))


def _disclosure_review(w: _Writer) -> None:
    b = w.b
    review = b.review
    f, term = b.term.fractions, b.term.report
    w.heading(1, "答复公开复核情况", "Review of undisclosed replies", key="review")
    rate = w.phrase("disclosure", f["disclosure"], term)
    if not review:
        w.add(Para(w.t(f"{b.term_start}年以来答复的主办件，首次答复时均已决定公开或尚待决定；"
                       f"答复公开率为{rate}。",
                       f"Every lead reply since {b.term_start} was disclosed when first "
                       f"decided, or is still undecided; disclosure {rate}.")))
        return
    now = {k: sum(i["disclosure"] == k for i in review) for k in (*DISCLOSURES, None)}
    parts = []
    for k, n in now.items():
        if n:
            figure = w.n(n, f"first_undisclosed.{k or 'undecided'}", term)
            parts.append(w.t(f"{figure}件{'仍' if k == 'withheld' else ''}{DISCLOSURE_NAMES[k][0]}",
                             f"{figure} {'still ' if k == 'withheld' else ''}"
                             f"{DISCLOSURE_NAMES[k][1]}"))
    reviewed = w.n(len(review), "first_undisclosed", term)
    exempt = w.n(term.disclosure["exempt"], "disclosure.exempt", term)
    w.add(Para(w.t(
        f"对于首次答复未主动公开的{reviewed}件建议提案，经研究审核，{'，'.join(parts)}。"
        f"本届以来答复公开率为{rate}（依法不公开的{exempt}件不计入基数）。",
        f"Of the {reviewed} replies first left undisclosed, on review: {', '.join(parts)}. "
        f"Disclosure since the term began: {rate} (the {exempt} exempt by law are left out of "
        f"the base).")))
    w.table("首次答复未公开件复核情况", "Replies first left undisclosed",
            [w.t("序号", "#"), w.t("案号", "No."), w.t("标题", "Title"),
             *([w.t("主办单位", "Bureau")] if b.bureau is None else []),
             w.t("首次答复", "Replied on"), w.t("首次公开决定", "First decision"),
             w.t("现公开情况", "Now")],
            [[n, _number(w, i), i["title"], *([b.name(i["bureau"], w.lang)] if b.bureau is None
                                              else []),
              _day(i["first_reply_on"]), w.word(DISCLOSURE_NAMES, i["first_disclosure"]),
              w.word(DISCLOSURE_NAMES, i["disclosure"])] for n, i in enumerate(review, 1)],
            ("index", "code", "text", *(("text",) if b.bureau is None else ()), "date", "label",
             "label"))


def _misrouting(w: _Writer) -> None:
    """Days lost to misrouting since the term began: assignments returned, or removed by a
    reassignment, before any reply or opinion (banli.domain.views.routing_lineage). Its figures have
    no items drill-down yet (GET /api/misrouting gives them per bureau): they are not linked."""
    b = w.b
    if b.misrouted is None:
        return
    w.heading(1, "误交办情况", "Misrouting", key="misrouting")
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
            ("text", "count", "count", "count"))


def _definitions(w: _Writer) -> None:
    b, p = w.b, w.b.profile
    adopted = w.t("、".join(f"{RESULT_NAMES[r][0]}（{RESULT_CLASS[r]}类）" for r in p.adopted),
                  ", ".join(f"{RESULT_NAMES[r][1]} ({RESULT_CLASS[r]})" for r in p.adopted))
    w.heading(1, "统计口径", "Definitions", key="definitions")
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
        (ROUNDING[0] + ("上年同期指上一年度建议提案截至上年同日的情况。" if b.previous is not None else ""),
         ROUNDING[1] + (" A year earlier means last year's items as of the same day a year ago."
                        if b.previous is not None else "")),
        ("文中各项数字所依据的建议提案和办理记录，可在建议提案办理系统中逐项查证：电子文档中的数字链接至"
         "系统中同一统计范围、同一截至日期的明细，数据依据表列出每个数字所计的建议提案及其办理记录编号。",
         "Every figure can be traced in Banli to the items and records it counts: in the "
         "electronic document each figure links to its items (same scope, same dates), and the "
         "evidence workbook lists, for each figure, the items counted and their events' ids."),
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


def _lead_items(w: _Writer, title: str) -> None:
    b = w.b
    every = b.bureau is None
    w.add(Appendix(w.t("附件", "Attachment"), title))
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
            ("index", "label", "code", "text", *(("text",) if every else ()), "date", "date",
             "date", "label", "label", "label"))
