"""Composing a bundle into blocks, in Chinese or English, with every number as the model
report writes it (rates with their numerator and denominator)."""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from ..domain.rates import RATE_NAMES, Entries, Report
from ..domain.types import DISCLOSURES, KINDS, RESULT_CLASS, RESULTS, SATISFACTIONS
from .blocks import Appendix, Block, Closing, Heading, Masthead, Para, Table, Title
from .gather import Bundle

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
    a = r.assignments
    npc, cppcc = a["npc_suggestion"], a["cppcc_proposal"]
    handled, lead, co = _handled(r)
    us = w.t("各承办单位" if b.bureau is None else "本单位", "the bureaus" if b.bureau is None
             else "the bureau")
    w.heading(1, f"{y}年度办理情况", f"The year {y}")
    w.heading(2, "基本情况", "Items handled")
    on = (w.t(f"（涉及建议提案{r.proposals}件）", f" on {r.proposals} items")
          if r.proposals != handled else "")
    text = w.t(
        f"{y}年，{us}共承办代表建议和政协提案{handled}件{on}，其中代表建议{(npc.lead + npc.co)}件"
        f"（主办件{npc.lead}件，会办件{npc.co}件）；政协提案{(cppcc.lead + cppcc.co)}件"
        f"（主办件{cppcc.lead}件，会办件{cppcc.co}件）。",
        f"In {y} {us} handled {handled} suggestions and proposals{on}: "
        f"{(npc.lead + npc.co)} NPC suggestions (lead {npc.lead}, co {npc.co}) and "
        f"{(cppcc.lead + cppcc.co)} CPPCC proposals (lead {cppcc.lead}, co {cppcc.co}).")
    if b.previous is not None:
        text += w.t(f"上年同期（{y - 1}年度，截至{w.day(b.previous.scope.as_of)}）承办"
                    f"{_handled(b.previous.report)[0]}件。",
                    f" A year earlier ({y - 1}, as of {b.previous.scope.as_of.isoformat()}): "
                    f"{_handled(b.previous.report)[0]}.")
    w.add(Para(text))
    w.table(f"{y}年度承办情况", f"Handled in {y}",
            [w.t("类别", "Kind"), w.t("主办件", "Lead"), w.t("会办件", "Co"), w.t("合计", "Total")],
            [[w.word(KIND_NAMES, k), a[k].lead, a[k].co, a[k].lead + a[k].co]
             for k in KINDS] + [[w.t("合计", "Total"), lead, co, handled]])

    w.heading(2, "办理结果", "Results")
    replies, res = r.replies, r.results
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
             for rate in RATE_NAMES])
    _entries(w, r.entries)

    w.heading(2, "答复公开和意见反馈", "Disclosure and feedback")
    d, fb = r.disclosure, r.feedback
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
    if sum(fb.values()):
        by = r.feedback_recorders
        w.add(Para(w.t(
            "满意度录入：" + "，".join(f"{RECORDER_NAMES[k][0]}{by[k]}件" for k in RECORDER_NAMES)
            + f"；承办单位自行录入的占{w.phrase(f['self_recorded_feedback'])}。",
            "Who recorded the feedback: " + ", ".join(
                f"{RECORDER_NAMES[k][1]} {by[k]}" for k in RECORDER_NAMES)
            + f"; recorded by the bureau itself {w.phrase(f['self_recorded_feedback'])}.")))
    term = b.term.report
    rows = [[w.t(f"答复{DISCLOSURE_NAMES[k][0]}", f"disclosure: {DISCLOSURE_NAMES[k][1]}"),
             r.disclosure[k or "undecided"], term.disclosure[k or "undecided"]]
            for k in (*DISCLOSURES, None)]
    rows += [[w.t(f"反馈{FEEDBACK_NAMES[k][0]}", f"feedback: {FEEDBACK_NAMES[k][1]}"),
              r.feedback[k], term.feedback[k]] for k in SATISFACTIONS]
    rows += [[w.t(f"满意度录入：{RECORDER_NAMES[k][0]}",
                  f"feedback recorded by {RECORDER_NAMES[k][1]}"),
              r.feedback_recorders[k], term.feedback_recorders[k]] for k in RECORDER_NAMES]
    w.table("答复公开和意见反馈", "Disclosure and feedback",
            [w.t("项目", "Item"), w.t(f"{y}年度", f"{y}"),
             w.t(f"本届以来（{b.term_start}—{y}年）", f"since {b.term_start}")], rows)

    if b.bureau is None:
        w.heading(2, "各承办单位办理情况", "By bureau")
        rows = []
        for bureau, report, fractions in b.by_bureau:
            total, lead_n, co_n = _handled(report)
            rows.append([b.name(bureau, w.lang), total, lead_n, co_n, report.replies]
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


def _entries(w: _Writer, e: Entries | None) -> None:
    """How the year's records were kept: entered late (more than N working days after they
    happened), imported in bulk (counted apart), on time."""
    if e is None or not e.records:
        return
    on_time = e.records - e.late - e.imported
    w.add(Para(w.t(
        f"本年度办理记录共{e.records}条，其中按时录入{on_time}条，"
        f"超过{e.late_after_working_days}个工作日补录{e.late}条，历史数据批量导入{e.imported}条。",
        f"The year's handling records: {e.records}, of which {on_time} entered on time, "
        f"{e.late} entered more than {e.late_after_working_days} working days after they "
        f"happened, and {e.imported} imported in bulk.")))


def _since_the_term(w: _Writer) -> None:
    b, y = w.b, w.b.year
    r, f = b.term.report, b.term.fractions
    a = r.assignments
    handled, lead, co = _handled(r)
    w.heading(1, f"本届以来办理情况（{b.term_start}年至{y}年）",
              f"Since the term began ({b.term_start}–{y})")
    w.add(Para(w.t(
        f"截至{w.day(b.as_of)}，{b.term_start}年以来共收到代表建议和政协提案{handled}件"
        f"（主办件{lead}件，会办件{co}件），其中代表建议主办件{a['npc_suggestion'].lead}件，"
        f"政协提案主办件{a['cppcc_proposal'].lead}件；主办件已答复{r.replies}件，"
        f"按期办复率为{w.phrase(f['on_time_reply'])}，解决采纳率为{w.phrase(f['adoption'])}，"
        f"答复公开率为{w.phrase(f['disclosure'])}。",
        f"As of {b.as_of.isoformat()}, {handled} suggestions and proposals were received since "
        f"{b.term_start} (lead {lead}, co {co}), with lead items {a['npc_suggestion'].lead} "
        f"NPC suggestions and {a['cppcc_proposal'].lead} CPPCC proposals; {r.replies} "
        f"replied; on-time replies {w.phrase(f['on_time_reply'])}, adoption "
        f"{w.phrase(f['adoption'])}, disclosure {w.phrase(f['disclosure'])}.")))
    if len(b.by_year) > 1:
        rates = ("on_time_reply", "adoption", "disclosure")
        rows = []
        for year, report, fractions in b.by_year:
            total, lead_n, co_n = _handled(report)
            rows.append([w.t(f"{year}年度", str(year)), total, lead_n, co_n, report.replies,
                         report.results["solved"]] + [w.rate(fractions[k]) for k in rates])
        rows.append([w.t("合计", "Total"), handled, lead, co, r.replies, r.results["solved"]]
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
        f"{term.disclosure['exempt']}件不计入基数）。",
        f"Of the {len(review)} replies first left undisclosed, on review: {', '.join(parts)}. "
        f"Disclosure since the term began: {w.phrase(f['disclosure'])} (the "
        f"{term.disclosure['exempt']} exempt by law are left out of the base).")))
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
