"""Every list the API and the page show, as .xlsx (`format=xlsx`, headers in Chinese or with
`lang=en` in English): the columns of each list, once, and the download. A list behind a number
of the report (the items of a measure, the records behind `entries`) gets the report's numbers
on a first sheet, in the same scope and clocks."""
from __future__ import annotations

from typing import Annotated, Any, Iterable, Literal, Mapping, Sequence
from urllib.parse import quote

from fastapi import Query, Response

from banli.domain.rates import MEASURES, RATES, Report
from banli.sheets import Column, Sheet, write_xlsx
from banli.sheets.numbers import report_numbers

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Format = Annotated[Literal["json", "xlsx"], Query(
    description="`xlsx`: the list as a spreadsheet (headers in `lang`)")]
Lang = Annotated[Literal["zh", "en"], Query(description="the spreadsheet's language")]

# what the OpenAPI says a list route answers besides its JSON
XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {XLSX: {"schema": {
    "type": "string", "format": "binary"}}}, "description": "the list (JSON, or with "
                                                            "`format=xlsx` a spreadsheet)"}}

_PROPOSAL = [Column("proposal_id", "建议提案编号", "Proposal"), Column("number", "案号", "Number"),
             Column("title", "标题", "Title"), Column("kind", "类别", "Kind"),
             Column("level", "层级", "Level"), Column("year", "年度", "Year", "number")]

ITEMS = [*_PROPOSAL, Column("bureau", "承办单位", "Bureau"), Column("role", "主办/会办", "Role"),
         Column("assigned_on", "交办日期", "Assigned on", "date"),
         Column("due", "期限", "Due", "date"), Column("replies", "答复次数", "Replies", "number"),
         Column("first_reply_on", "首次答复日期", "First reply", "date"),
         Column("opinions", "会办意见次数", "Opinions", "number"),
         Column("first_opinion_on", "首次会办意见日期", "First opinion", "date"),
         Column("result", "办理结果", "Result"), Column("disclosure", "公开方式", "Disclosure"),
         Column("feedback", "满意度", "Feedback"), Column("contacted", "答复前沟通", "Contacted"),
         Column("on_time", "按期", "On time"), Column("counted", "计入分子", "Counted")]

OWED = [Column("proposal_id", "建议提案编号", "Proposal"), Column("title", "标题", "Title"),
        Column("kind", "类别", "Kind"), Column("year", "年度", "Year", "number"),
        Column("bureau", "承办单位", "Bureau"), Column("role", "主办/会办", "Role"),
        Column("owed", "待办事项", "Owed"), Column("assigned_on", "交办日期", "Assigned on", "date"),
        Column("due", "期限", "Due", "date"), Column("days_left", "剩余天数", "Days left", "number"),
        Column("overdue", "逾期", "Overdue"), Column("due_soon", "临期", "Due soon")]

ENTRIES = [Column("proposal_id", "建议提案编号", "Proposal"), Column("seq", "序号", "Seq", "number"),
           Column("bureau", "承办单位", "Bureau"), Column("type", "记录", "Record"),
           Column("occurred_at", "发生时间", "Happened", "datetime"),
           Column("recorded_at", "录入时间", "Recorded", "datetime"),
           Column("actor", "操作人", "Acted by"), Column("user", "录入人", "Entered by"),
           Column("entry", "录入情况", "Entry")]

AWAITING = [*_PROPOSAL, Column("topics", "主题", "Topics"),
            Column("submitted_on", "提交日期", "Submitted", "date"),
            Column("assigned_before", "曾交办", "Assigned before")]

REMINDERS = [Column("proposal_id", "建议提案编号", "Proposal"), Column("bureau", "承办单位", "Bureau"),
             Column("owed", "待办事项", "Owed"), Column("colour", "提醒", "Colour"),
             Column("due", "期限", "Due", "date"), Column("days_left", "剩余天数", "Days left", "number"),
             Column("message", "提醒内容", "Message")]

MISROUTING = [Column("bureau", "承办单位", "Bureau"), Column("name", "单位名称", "Name"),
              Column("bounced", "误交办件数", "Misrouted", "number"),
              Column("returned", "退回", "Returned", "number"),
              Column("removed", "调整移出", "Removed", "number"),
              Column("days_lost", "耽误天数", "Days lost", "number")]

LEAGUE = ([Column("bureau", "承办单位", "Bureau"), Column("name", "单位名称", "Name"),
           Column("proposals", "涉及件数", "Items", "number"),
           Column("lead", "主办件", "Lead", "number"), Column("co", "会办件", "Co", "number"),
           Column("replies", "已答复", "Replied", "number")]
          + [Column(rate.name, rate.zh, rate.en, "percent") for rate in RATES])


def league_rows(reports: Mapping[str, Report], names: Mapping[str, Mapping[str, str]],
                lang: str) -> list[dict[str, Any]]:
    rows = []
    for bureau, report in reports.items():
        name = names.get(bureau, {})
        rows.append({"bureau": bureau, "name": name.get("name_en" if lang == "en" else "name"),
                     "proposals": report.proposals, "replies": report.replies,
                     "lead": sum(r.lead for r in report.assignments.values()),
                     "co": sum(r.co for r in report.assignments.values()),
                     **report.rates})
    return rows


def entry_rows(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The records with whose act each was (`actor`) and who typed it in (`user`: the importer
    who brought it in, else the actor)."""
    return [{**r, "actor": (r.get("actor") or {}).get("user"),
             "user": (r.get("recorded_by") or r.get("actor") or {}).get("user")} for r in records]


def xlsx(filename: str, title: tuple[str, str], columns: Sequence[Column],
         rows: Iterable[Mapping[str, Any]], lang: str, report: Report | None = None
         ) -> Response:
    """The download: one sheet of the list, after the report's numbers where it has them."""
    data = write_xlsx([Sheet(title, columns, list(rows))], lang=lang,
                      numbers=report_numbers(report) if report is not None else None)
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{filename}.xlsx\"; "
                               f"filename*=UTF-8''{quote(filename)}.xlsx"})


def measure_title(measure: str) -> tuple[str, str]:
    for rate in RATES:
        if rate.name == measure:
            return (f"{rate.zh}（分母明细）", f"{rate.en} (its items)")
    return (f"明细 {measure}", f"items: {measure}") if measure in MEASURES else (measure, measure)
