"""The office's report as a document (审查立案情况): what it received and how the review decided
it, members' against collective proposals, the areas with their shares to one decimal, the
review's timeliness, and the handling figures beside them; as DOCX, printable HTML, Markdown or
plain text, and as a workbook (the figures, then every item with where its review stands).

The same blocks as the year-end documents (banli.documents.blocks), laid out by the same
writers. Every figure is traced: the office's own to the page's intake drill-down
(`/app/?view=intake&…&measure=M`, which `GET /api/intake/items` lists), the handling figures
to the bureaus' report's (banli.documents.links)."""
from __future__ import annotations

from datetime import date
from typing import Any, Callable
from urllib.parse import urlencode

from ..domain.views.filed import FiledItem, FiledReviewStep
from ..domain.views.intake_report import (IntakeReport, Part, check_sums, handling_scope,
                                          percent_text)
from ..domain.views.rates import RATE_NAMES
from ..sheets import Column, Sheet, write_xlsx
from .blocks import Block, Closing, Figure, Heading, Masthead, Para, Table, Title, Trace, plain
from .compose import rate_cell, zh_date
from .docx import write_docx
from .gather import DEFAULT_OFFICE
from .html import write_html
from .links import PAGE_PATH, linker
from .markdown import write_markdown

INTAKE_FORMATS = ("docx", "html", "md", "text", "xlsx")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
    "text": "text/plain; charset=utf-8"}
PREFIX = "intake."  # a trace's measure of the office's report, as the linker tells them apart
KIND_WORDS = {None: ("建议提案", "suggestions and proposals"),
              "cppcc_proposal": ("提案", "proposals"), "npc_suggestion": ("建议", "suggestions")}


def intake_query(report: IntakeReport, measure: str | None = None) -> dict[str, str]:
    """The page's (and `GET /api/intake/items`') query for the report's scope, and a figure's
    measure."""
    s = report.scope
    query = {"view": "intake", "years": f"{s.years[0]}-{s.years[1]}",
             "as_of": s.as_of.isoformat(), "profile": s.profile}
    query.update({k: v for k, v in (("kind", s.kind), ("level", s.level)) if v})
    if measure is not None:
        query["measure"] = measure
    return query


def intake_linker(report: IntakeReport, base_url: str) -> Callable[[Trace], str]:
    """A figure's link: the office's own figures to the intake view's drill-down, the handling
    figures to the bureaus' report's."""
    handling = linker(base_url, report.scope.profile, None)
    base = base_url.rstrip("/") + PAGE_PATH

    def link(trace: Trace) -> str:
        if trace.measure and trace.measure.startswith(PREFIX):
            return f"{base}?{urlencode(intake_query(report, trace.measure[len(PREFIX):]))}"
        return handling(trace)

    return link


def compose_intake(report: IntakeReport, lang: str = "zh",
                   office: tuple[str, str] | None = None, doc_number: str | None = None,
                   doc_date: date | None = None) -> list[Block]:
    """The document's blocks. Refuses a report whose numbers do not add up (check_sums)."""
    check_sums(report)
    zh = lang == "zh"
    s = report.scope
    handling = report.handling
    scope = handling_scope(s)  # the bureaus' report's, for the handling figures

    def fig(measure: str, count: int, text: str | None = None) -> Figure:
        return Figure(text if text is not None else _n(count, zh),
                      Trace(handling_scope(s), measure=PREFIX + measure), count)

    def share(p: Part) -> str:
        return percent_text(p.share)

    noun = KIND_WORDS.get(s.kind, KIND_WORDS[None])[0 if zh else 1]
    years = f"{s.years[0]}" if s.years[0] == s.years[1] else f"{s.years[0]}—{s.years[1]}"
    agency = (office or DEFAULT_OFFICE)[0 if zh else 1]
    title = (f"{years}年度{noun}审查立案情况" if zh
             else f"Review and filing of {noun}, {years.replace('—', '-')}")
    blocks: list[Block] = [Masthead(agency, doc_number), Title(title)]
    counts = report.counts
    o = {p.measure: p for p in report.outcomes}
    # 一、收到和审查
    blocks.append(Heading(1, "一、收到和审查情况" if zh else "1. Received and reviewed",
                          key="received"))
    others = [p for p in report.outcomes if p.measure not in ("filed", "merged", "not_filed")
              and p.count]
    if zh:
        parts: list[Any] = [f"截至{zh_date(s.as_of)}，共收到{noun}", fig("received", report.received),
                            "件。经审查，立案", fig("filed", o["filed"].count), "件，并案",
                            fig("merged", o["merged"].count), "件，不立案转为意见和建议",
                            fig("not_filed", o["not_filed"].count), "件"]
        for p in others:
            parts += [f"，{p.label}", fig(p.measure, p.count), "件"]
        parts.append("。")
        if report.returned:
            parts += ["审查中退回提出者修改", fig("returned", report.returned), "件。"]
    else:
        parts = [f"As of {s.as_of.isoformat()}, ", fig("received", report.received),
                 f" {noun} were received. Reviewed, ", fig("filed", o["filed"].count),
                 " were filed, ", fig("merged", o["merged"].count), " merged, and ",
                 fig("not_filed", o["not_filed"].count),
                 " not filed and passed on as opinions"]
        for p in others:
            parts += ["; ", fig(p.measure, p.count), f" {p.label_en}"]
        parts.append(".")
        if report.returned:
            parts += [" ", fig("returned", report.returned),
                      " were returned to their filers for revision during the review."]
    blocks.append(Para(*parts))
    blocks.append(_table(
        "审查结果" if zh else "Outcomes of the review",
        ["审查结果", "件数", "占收到的比例"] if zh else ["Outcome", "Count", "Share of received"],
        [[p.label if zh else p.label_en, fig(p.measure, p.count), share(p)]
         for p in report.outcomes if p.count or p.measure in ("filed", "merged", "not_filed")],
        ["合计", fig("received", report.received), "100.0%"] if zh
        else ["Total", fig("received", report.received), "100.0%"]))
    # 二、提出者
    f = {p.measure: p for p in report.filers}
    blocks.append(Heading(1, "二、提出者情况" if zh else "2. Who filed them", key="filers"))
    kinds = [p for p in report.filers if p.measure.startswith("collective.") and p.count]
    if zh:
        parts = ["立案", noun, "中，委员（代表）个人提出", fig("members", f["members"].count),
                 f"件，占{share(f['members'])}；集体提出", fig("collective", f["collective"].count),
                 f"件，占{share(f['collective'])}"]
        if kinds:
            parts.append("，其中")
            for i, p in enumerate(kinds):
                parts += [("、" if i else "") + p.label, fig(p.measure, p.count), "件"]
        parts.append("。")
    else:
        parts = ["Of those filed, ", fig("members", f["members"].count),
                 f" ({share(f['members'])}) were filed by members and ",
                 fig("collective", f["collective"].count),
                 f" ({share(f['collective'])}) by collectives"]
        if kinds:
            parts.append(": ")
            for i, p in enumerate(kinds):
                parts += [", " if i else "", fig(p.measure, p.count), f" by {p.label_en}"]
        parts.append(".")
    blocks.append(Para(*parts))
    blocks.append(_table(
        "立案提出者构成" if zh else "Filed, by who filed them",
        ["提出者", "件数", "占立案的比例"] if zh else ["Filed by", "Count", "Share of filed"],
        [[p.label if zh else p.label_en, fig(p.measure, p.count), share(p)]
         for p in report.filers if p.count or p.measure in ("members", "collective")], None))
    # 三、内容分布
    blocks.append(Heading(1, "三、内容分布" if zh else "3. Areas", key="areas"))
    areas = [p for p in report.areas if p.count or p.measure != "area.none"]
    if zh:
        parts = ["立案", noun, "中，"]
        for i, p in enumerate(areas):
            parts += [("；" if i else "") + f"{p.label}方面", fig(p.measure, p.count),
                      f"件，占{share(p)}"]
        parts.append("。")
    else:
        parts = ["Of those filed, "]
        for i, p in enumerate(areas):
            parts += [", " if i else "", fig(p.measure, p.count),
                      f" ({share(p)}) on {p.label_en}"]
        parts.append(".")
    blocks.append(Para(*parts))
    blocks.append(_table(
        "立案内容分布" if zh else "Filed, by area",
        ["领域", "件数", "占立案的比例"] if zh else ["Area", "Count", "Share of filed"],
        [[p.label if zh else p.label_en, fig(p.measure, p.count), share(p)] for p in areas],
        ["合计", fig("filed", counts["filed"]), "100.0%" if counts["filed"] else "—"] if zh
        else ["Total", fig("filed", counts["filed"]), "100.0%" if counts["filed"] else "—"]))
    # 四、审查时效
    t = report.timeliness
    blocks.append(Heading(1, "四、审查时效" if zh else "4. Timeliness of the review",
                          key="timeliness"))
    rate = fig("review_timeliness", t.fraction.denominator,
               rate_cell((t.fraction.numerator, t.fraction.denominator), lang))
    rate = Figure(rate.text, rate.trace, t.fraction.denominator, t.fraction.numerator)
    if zh:
        parts = [f"审查期限为收到（或重新提交）后{t.working_days}个工作日。经审查作出决定",
                 fig("review_decided", counts["review_decided"]), "件，其中按期",
                 fig("review_on_time", t.on_time), "件、逾期", fig("review_late", t.late),
                 "件；超过期限尚未审查", fig("review_overdue", t.overdue), "件。审查按期率", rate, "。"]
    else:
        parts = [f"A review is due {t.working_days} working days after the proposal is "
                 "received (or resubmitted). ", fig("review_decided", counts["review_decided"]),
                 " were decided: ", fig("review_on_time", t.on_time), " on time, ",
                 fig("review_late", t.late), " late; ", fig("review_overdue", t.overdue),
                 " await review past their due date. On time: ", rate, "."]
    blocks.append(Para(*parts))
    # 五、办理情况
    if handling is not None:
        blocks.append(Heading(1, "五、交办和办理情况" if zh else "5. Handling", key="handling"))
        hf = handling.fractions

        def hfig(measure: str, count: int) -> Figure:
            return Figure(_n(count, zh), Trace(scope, measure=measure), count)

        def hrate(name: str) -> Figure:
            fr = hf[name]
            return Figure(rate_cell((fr.numerator, fr.denominator), lang),
                          Trace(scope, measure=name), fr.denominator, fr.numerator)

        names = {name: RATE_NAMES[name][0 if zh else 1] for name in RATE_NAMES}
        if zh:
            parts = ["立案", noun, "已交办", hfig("proposals", handling.proposals),
                     "件（承办单位主办", hfig("lead", hf["completion"].denominator), "件次）；已答复",
                     hfig("replied", handling.replies), f"件次，{names['completion']}",
                     hrate("completion"), f"，{names['adoption']}", hrate("adoption"),
                     f"，{names['satisfaction']}", hrate("satisfaction"), "。"]
        else:
            parts = [hfig("proposals", handling.proposals), " filed were assigned (",
                     hfig("lead", hf["completion"].denominator), " lead duties); ",
                     hfig("replied", handling.replies), f" replies; {names['completion']} ",
                     hrate("completion"), f", {names['adoption']} ", hrate("adoption"),
                     f", {names['satisfaction']} ", hrate("satisfaction"), "."]
        blocks.append(Para(*parts))
    blocks.append(Para("比例按分子除以分母计算，保留一位小数，四舍五入；各项比例之和可能因四舍五入不等于100%。"
                       if zh else "Shares are the count over its base, to one decimal, rounded "
                       "half up; they may not add up to 100% for the rounding."))
    blocks.append(Closing(agency, zh_date(doc_date or s.as_of) if zh
                          else (doc_date or s.as_of).isoformat()))
    return blocks


def _n(count: int, zh: bool) -> str:
    """A count as the offices print it: 5890 in Chinese text, 5,890 in English."""
    return str(count) if zh else f"{count:,}"


def _table(caption: str, header: list[str], rows: list[list[Any]],
           total: list[Any] | None) -> Table:
    return Table(caption, header, [*rows, *([total] if total else [])],
                 kinds=("label", "count", "rate"), total=total is not None)


def text_of(blocks: list[Block]) -> str:
    """The document as plain text (the CLI's, `format=text`)."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, (Title, Heading)):
            out.append(block.text)
        elif isinstance(block, Para):
            out.append(block.text)
        elif isinstance(block, Table):
            out.append(block.caption)
            rows: list[list[Any]] = [block.header, *block.rows]
            out += ["  " + " | ".join(plain(c) for c in row) for row in rows]
        elif isinstance(block, Masthead):
            out.append(block.agency)
    return "\n".join(out) + "\n"


ITEM_COLUMNS = [
    Column("proposal_id", "编号", "Proposal"), Column("display", "案号", "Number"),
    Column("title", "标题", "Title"), Column("review", "审查结果", "Review"),
    Column("status", "状态", "Status"), Column("filer_kind", "提出者类别", "Filed by"),
    Column("area", "领域", "Area"), Column("received_on", "收到日期", "Received", "date"),
    Column("review_due", "审查期限", "Review due", "date"),
    Column("reviewed_on", "审查日期", "Decided", "date"),
    Column("returns", "退回修改次数", "Returned", "number"),
    Column("merged_into", "并入", "Merged into"), Column("referred_to", "转送单位", "Passed on to"),
    Column("review_on_time", "按期审查", "On time")]


def workbook(report: IntakeReport, items: list[dict[str, Any]], lang: str) -> bytes:
    """The figures, then every item of the scope with where its review stands."""
    numbers: list[tuple[Any, ...]] = [((p.label, p.label_en), p.count) for p in report.outcomes]
    numbers = [(("收到", "received"), report.received), *numbers,
               (("退回修改", "returned for revision"), report.returned)]
    numbers += [((f"{p.label}（件）", f"{p.label_en} (count)"), p.count) for p in
                [*report.filers, *report.areas]]
    numbers += [((f"{p.label}（占比）", f"{p.label_en} (share)"), (p.share or 0) / 100, "percent")
                for p in [*report.filers, *report.areas]]
    numbers.append((("审查按期率", "reviews on time"), report.timeliness.rate or 0, "percent"))
    rows = [{**i, "referred_to": "、".join(i.get("referred_to") or []),
             "merged_into": i.get("merged_into") or ""} for i in items]
    return write_xlsx([Sheet(("审查立案明细", "Items reviewed"), ITEM_COLUMNS, rows)], lang=lang,
                      numbers=numbers)


def render_intake(report: IntakeReport, fmt: str, lang: str = "zh",
                  base_url: str = "http://127.0.0.1:8000",
                  office: tuple[str, str] | None = None, doc_number: str | None = None,
                  doc_date: date | None = None, items: list[dict[str, Any]] | None = None
                  ) -> bytes:
    """The report in `fmt` (INTAKE_FORMATS); "xlsx" needs the report's `items`."""
    if fmt not in INTAKE_FORMATS:
        raise ValueError(f"format is one of {', '.join(INTAKE_FORMATS)}, not {fmt!r}")
    if fmt == "xlsx":
        return workbook(report, items or [], lang)
    blocks = compose_intake(report, lang, office, doc_number, doc_date)
    link = intake_linker(report, base_url)
    if fmt == "docx":
        return write_docx(blocks, lang, title=next(b.text for b in blocks
                                                   if isinstance(b, Title)),
                          author=(office or DEFAULT_OFFICE)[0 if lang == "zh" else 1], link=link)
    if fmt == "html":
        return write_html(blocks, lang, link).encode()
    if fmt == "md":
        return write_markdown(blocks).encode()
    return text_of(blocks).encode()


def intake_filename(report: IntakeReport, fmt: str, lang: str) -> str:
    years = report.scope.years
    span = f"{years[0]}" if years[0] == years[1] else f"{years[0]}-{years[1]}"
    suffix = "txt" if fmt == "text" else fmt
    if lang == "zh":
        return f"{span}年度审查立案情况.{suffix}"
    return f"banli-intake-{span}.{suffix}"



# --- the review's letter to a proposal's filers (一件一函) ------------------------------------
Names = dict[str, tuple[str, str]]  # a bureau's (or an area's) names by id: (zh, en)


def review_letter(item: FiledItem, bureaus: Names, areas: Names, lang: str = "zh",
                  office: tuple[str, str] | None = None, day: date | None = None) -> list[Block]:
    """The letter telling a proposal's filers how the office's review decided it: filed (in
    which area) and to whom it was assigned; merged into which; not filed and passed on to
    whom, and why; returned for revision, and what to revise; or still under review, and until
    when. Dated `day` (else the latest step's)."""
    zh = lang == "zh"
    steps = item.review_steps
    last = steps[-1] if steps else None
    agency = (office or DEFAULT_OFFICE)[0 if zh else 1]
    number = item.display if zh else item.display_en
    to = ("、".join(item.filers) if zh else ", ".join(item.filers)) or ("提出者" if zh else "filer")

    def name(table: Names, key: str) -> str:
        zh_name, en_name = table.get(key, (key, key))
        return zh_name if zh else en_name or zh_name

    leads = [name(bureaus, d.bureau) for d in item.duties if d.role == "lead"]
    cos = [name(bureaus, d.bureau) for d in item.duties if d.role == "co"]
    sep = "、" if zh else ", "
    said = _letter_text(item, last, leads, cos, sep, name, areas, zh)
    when = day or (last.on if last else date.today())
    return [Title(f"关于{number}审查情况的函" if zh else f"The review of {number}"),
            Para(f"{to}：" if zh else f"To {to},"),
            Para((f"您提出的《{item.title}》（{number}）" if zh
                  else f"Your proposal \"{item.title}\" ({number}) ") + said),
            Para("特此函告。" if zh else "Yours faithfully,"),
            Closing(agency, zh_date(when) if zh else when.isoformat())]


def _letter_text(item: FiledItem, last: FiledReviewStep | None, leads: list[str],
                 cos: list[str], sep: str, name: Callable[[Names, str], str], areas: Names,
                 zh: bool) -> str:
    """What the review decided, in the letter's words."""
    if last is None or last.step == "filed":
        on = (zh_date(last.on) if zh else last.on.isoformat()) if last else ""
        area = name(areas, last.area) if last and last.area else ""
        text = (f"已于{on}经审查立案" if zh and on else "已立案" if zh
                else f"was filed on {on}" if on else "was filed")
        if area:
            text += f"，归入{area}类" if zh else f", in the area of {area}"
        if leads:
            text += (f"，交由{sep.join(leads)}主办" + (f"、{sep.join(cos)}会办" if cos else "")
                     + "办理，承办单位将在规定期限内答复。") if zh else (
                f", and assigned to {sep.join(leads)}" + (f" with {sep.join(cos)}" if cos else "")
                + ", which will reply within the time set.")
        else:
            text += "，即将交办。" if zh else "; it will be assigned shortly."
        return text
    on = zh_date(last.on) if zh else last.on.isoformat()
    if last.step == "merged":
        target = (last.merged_into_display if zh else last.merged_into_display_en) or (
            last.merged_into or "")
        return (f"经审查，于{on}与{target}并案办理。" if zh
                else f"was merged on {on} with {target}, and is handled with it.")
    if last.step == "not_filed":
        bodies = sep.join(last.referred_to)
        return (f"经审查，于{on}决定不作立案，已转为意见和建议，转送{bodies}研究参考。"
                f"{('理由：' + last.reason + '。') if last.reason else ''}" if zh
                else f"was not filed ({on}): it has been passed on as an opinion to {bodies}. "
                     f"{('Reason: ' + last.reason + '.') if last.reason else ''}")
    if last.step == "returned":
        return (f"经审查，于{on}退回修改：{last.reason}。请修改后重新提交。" if zh
                else f"was returned for revision on {on}: {last.reason}. Please revise and "
                     "resubmit it.")
    due = last.review_due
    until = (zh_date(due) if zh else due.isoformat()) if due else ""
    return (f"已于{on}收到，正在审查" + (f"，审查期限至{until}。" if until else "。") if zh
            else f"was received on {on} and is under review" + (f" until {until}." if until
                                                               else "."))


def render_letter(blocks: list[Block], fmt: str, lang: str) -> bytes:
    """The letter as DOCX, printable HTML or Markdown."""
    if fmt == "docx":
        return write_docx(blocks, lang, title=next(b.text for b in blocks
                                                   if isinstance(b, Title)),
                          author=next(b.signer for b in blocks if isinstance(b, Closing)))
    if fmt == "html":
        return write_html(blocks, lang).encode()
    return write_markdown(blocks).encode()
