"""The evidence workbook: for each figure of a document, the items it counts and the events
behind each, so that an auditor who picks any number can reach the events that make it.

Two sheets. 数字 (Figures): each figure in reading order, where it stands, as printed, what it
counts (the measure, or the kind of records), its scope, the count (a rate's: its denominator
and numerator) and its link. 明细 (Items): per figure, each item counted (a rate's items each
marked whether its numerator counts it) with the ids of its events: those of the duty (the
bureau's) and of its proposal (submission, assignment, ...) dated on or before the figure's
as-of date (and recorded by the audit time, in an audit). A figure of records (entries) lists
each record with its own event id."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Callable, Iterator

from ..domain.rates import RATE_MEASURES, RATE_NAMES, select
from ..domain.types import SHANGHAI, business_date
from ..sheets import Column, Sheet, write_xlsx
from .blocks import Block, Figure, Heading, Para, Table, Trace
from .gather import Bundle, Source, SourceMismatch

ENTRY_NAMES = {"all": ("办理记录", "records"), "late": ("逾期补录的记录", "records entered late"),
               "imported": ("批量导入的记录", "records imported"),
               "on_time": ("按时录入的记录", "records entered on time")}

FIGURE_COLUMNS = [
    Column("n", "编号", "No.", "number"), Column("where", "位置", "Where"),
    Column("text", "文中数字", "As printed"), Column("what", "统计内容", "Counts"),
    Column("measure", "指标代码", "Measure"), Column("bureau", "承办单位", "Bureau"),
    Column("years", "年度", "Years"), Column("as_of", "截至日期", "As of", "date"),
    Column("kind", "类别", "Kind"), Column("level", "层级", "Level"),
    Column("count", "件数（比率为分母）", "Count (a rate's denominator)", "number"),
    Column("counted", "计入分子", "Numerator", "number"),
    Column("link", "明细链接", "Link to the items"),
]
ITEM_COLUMNS = [
    Column("n", "数字编号", "Figure No.", "number"), Column("proposal_id", "建议提案", "Proposal"),
    Column("number", "案号", "No."), Column("title", "标题", "Title"),
    Column("bureau", "承办单位", "Bureau"), Column("role", "主办/会办", "Role"),
    Column("counted", "计入分子", "In the numerator"),
    Column("record", "记录", "Record"), Column("seq", "记录序号", "Record seq", "number"),
    Column("events", "事件编号", "Event ids"),
]


def write_evidence(blocks: list[Block], bundle: Bundle, source: Source, lang: str,
                   link: Callable[[Trace], str] | None) -> bytes:
    """The workbook for the document `blocks` composed from `bundle`, read from `source`."""
    if source.entries_for is None or source.events_for is None:
        raise ValueError("this source cannot list the events behind the figures")
    zh = lang == "zh"
    figures = list(_located(blocks))
    behind = _Behind(source, bundle)
    figure_rows, item_rows = [], []
    for n, (where, figure) in enumerate(figures, 1):
        trace, s = figure.trace, figure.trace.scope
        figure_rows.append({
            "n": n, "where": where, "text": figure.text, "what": _what(trace, zh),
            "measure": trace.measure or f"entries:{trace.entries}",
            "bureau": bundle.name(s.bureau, lang),
            "years": f"{s.years[0]}" if s.years[0] == s.years[1] else f"{s.years[0]}–{s.years[1]}",
            "as_of": s.as_of, "kind": s.kind or "", "level": s.level or "",
            "count": figure.count, "counted": figure.counted,
            "link": link(trace) if link is not None else ""})
        rows = behind.rows(trace, zh)
        _holds(figure, rows)
        item_rows += [{"n": n, **row} for row in rows]
    return write_xlsx([Sheet(("数字", "Figures"), FIGURE_COLUMNS, figure_rows),
                       Sheet(("明细", "Items"), ITEM_COLUMNS, item_rows)], lang=lang)


def _holds(figure: Figure, rows: list[dict[str, Any]]) -> None:
    """The items listed are the figure's count (a store taking events meanwhile is read again
    by the caller): the workbook never contradicts its document."""
    count = len({r["proposal_id"] for r in rows}) if figure.trace.proposals else len(rows)
    counted = sum(r["counted"] in ("是", "yes") for r in rows)
    if count != figure.count or (figure.counted is not None and counted != figure.counted):
        raise SourceMismatch(f"{figure.text} ({figure.trace}): {count} items listed")


def _what(trace: Trace, zh: bool) -> str:
    if trace.entries is not None:
        return ENTRY_NAMES[trace.entries][0 if zh else 1]
    assert trace.measure is not None
    if trace.measure in RATE_MEASURES:
        name = RATE_NAMES[trace.measure][0 if zh else 1]
        return f"{name}（分母各件，标明是否计入分子）" if zh else f"{name} (its base, each marked)"
    if trace.proposals:
        return "涉及的建议提案（不同件数）" if zh else "distinct proposals"
    return trace.measure


def _located(blocks: list[Block]) -> Iterator[tuple[str, Figure]]:
    """Each figure with where it stands: its section, and its table, row and column."""
    sections: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            sections = sections[:block.level - 1] + [block.text]
        elif isinstance(block, Para):
            for part in block.parts:
                if isinstance(part, Figure):
                    yield " › ".join(sections), part
        elif isinstance(block, Table):
            for row in block.rows:
                for column, cell in enumerate(row):
                    if isinstance(cell, Figure):
                        yield " › ".join([*sections, block.caption or "",
                                          f"{row[0]} / {block.header[column]}"]), cell


class _Behind:
    """The items and events behind traces, each scope read once."""

    def __init__(self, source: Source, bundle: Bundle):
        self.source, self.bundle = source, bundle
        self.items: dict[Any, list[dict[str, Any]]] = {}
        self.records: dict[Any, list[dict[str, Any]]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}

    def _events(self, proposal_ids: set[str]) -> None:
        missing = sorted(proposal_ids - self.events.keys())
        if not missing:
            return
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        assert self.source.events_for is not None
        for event in self.source.events_for(missing):
            found[event["proposal_id"]].append(event)
        for pid in missing:
            self.events[pid] = sorted(found[pid], key=lambda event: event["seq"])

    def _seen(self, event: dict[str, Any], trace: Trace) -> bool:
        audit = self.bundle.recorded_by
        return (business_date(event["occurred_at"]) <= trace.scope.as_of
                and (audit is None or event["recorded_at"] <= _aware(audit)))

    def rows(self, trace: Trace, zh: bool) -> list[dict[str, Any]]:
        if trace.entries is not None:
            return self._record_rows(trace, "zh" if zh else "en")
        if trace.scope not in self.items:
            self.items[trace.scope] = self.source.items_for(trace.scope)
        assert trace.measure is not None
        chosen = select(self.items[trace.scope], trace.measure)
        self._events({i["proposal_id"] for i in chosen})
        rate = trace.measure in RATE_MEASURES
        yes, no = ("是", "否") if zh else ("yes", "no")
        return [{"proposal_id": i["proposal_id"], "number": i["number"], "title": i["title"],
                 "bureau": self.bundle.name(i["bureau"], "zh" if zh else "en"),
                 "role": i["role"], "counted": (yes if i["counted"] else no) if rate else "",
                 "record": "", "seq": None,
                 "events": " ".join(e["event_id"] for e in self.events[i["proposal_id"]]
                                    if e["bureau"] in ("", i["bureau"])
                                    and self._seen(e, trace))}
                for i in chosen]

    def _record_rows(self, trace: Trace, lang: str) -> list[dict[str, Any]]:
        if trace.scope not in self.records:
            assert self.source.entries_for is not None
            self.records[trace.scope] = self.source.entries_for(trace.scope)
        chosen = [r for r in self.records[trace.scope]
                  if trace.entries == "all" or r["entry"] == trace.entries]
        self._events({r["proposal_id"] for r in chosen})
        ids = {(e["proposal_id"], e["seq"]): e["event_id"]
               for pid in {r["proposal_id"] for r in chosen} for e in self.events[pid]}
        return [{"proposal_id": r["proposal_id"], "number": "", "title": "",
                 "bureau": self.bundle.name(r["bureau"], lang), "role": "",
                 "counted": "", "record": f"{r['type']} ({r['entry']})", "seq": r["seq"],
                 "events": ids.get((r["proposal_id"], r["seq"]), "")}
                for r in chosen]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)
