"""The preview of an import: what each row of a sheet would send, and why a row would not.

A preview is plain JSON-serialisable data (dicts, lists, strings, numbers, None), so it can go
to a browser and back; the commit step sends exactly the `commands` of its rows, in order.

    {"sheet": "Sheet1", "header_rows": [3, 4], "columns": {"number": ["提案号"], ...},
     "ignored_columns": ["序号"], "skipped": [{"row": 9, "text": "以下为重点提案"}],
     "rows": [{"row": 5, "rows": [5], "number": "12", "key": "municipal/cppcc_proposal/2027/12",
               "proposal": "2027-cppcc_proposal-12", "status": "new",
               "commands": [{...}, {...}], "differences": [], "reason": None, "problems": []},
              ...],
     "counts": {"rows": 4, "new": 2, "unchanged": 1, "differs": 0, "refused": 1,
                "commands": 4, "skipped": 1}}

`status` is `new` (commands to send), `unchanged` (already in Banli as the sheet says: nothing to
send), `differs` (already in Banli, otherwise than the sheet says: nothing to send, see
`differences`, each {"field", "old", "new"}) or `refused` (see `reason`, the first of
`problems`, each {"code", "message", "message_en", "details"} as in banli.domain.rejections).
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from typing import Any, Iterable, Literal, TypedDict

from pydantic import ValidationError

from ..domain.rejections import Rejection
from ..domain.types import SHANGHAI

Status = Literal["new", "unchanged", "differs", "refused"]
STATUSES: tuple[Status, ...] = ("new", "unchanged", "differs", "refused")


class Difference(TypedDict):
    field: str
    old: Any
    new: Any


class RowResult(TypedDict):
    row: int                    # the sheet row (1-based) where the item starts
    rows: list[int]             # every sheet row of the item (several when its number is merged)
    number: str | None
    key: str | None             # the natural key level/kind/year/number
    proposal: str | None        # the proposal id the commands address
    status: Status
    commands: list[dict[str, Any]]
    differences: list[Difference]
    reason: dict[str, Any] | None
    problems: list[dict[str, Any]]


class Preview(TypedDict):
    sheet: str
    header_rows: list[int]
    columns: dict[str, list[str]]
    ignored_columns: list[str]
    skipped: list[dict[str, Any]]
    rows: list[RowResult]
    counts: dict[str, int]
    inferred: dict[str, Any]    # "kind", "year": what the title gave (banli.sheets.infer)


# code -> (zh, en); every message is prefixed with the row ("第 5 行：" / "row 5: ").
MESSAGES: dict[str, tuple[str, str]] = {
    "missing_number": ("缺少案号（建议号/提案号）", "no number (建议号/提案号)"),
    "bad_number": (
        "案号“{value}”不合规：只能是字母、数字、- 和 _，最长 32 位",
        "the number '{value}' is not valid: letters, digits, - and _, at most 32"),
    "missing_title": ("缺少标题（案由）", "no title (标题/案由)"),
    "missing_kind": (
        "缺少类型：表中没有“类型”，标题中看不出，导入时也未指定（人大建议或政协提案）",
        "no kind: the sheet gives none, its title does not say, and the import was given none "
        "(npc_suggestion or cppcc_proposal)"),
    "bad_kind": ("类型“{value}”无法识别，应为人大建议或政协提案",
                 "kind '{value}' is not npc_suggestion (人大建议) or cppcc_proposal (政协提案)"),
    "missing_year": ("缺少年度：表中没有“年度”，标题中看不出（如 2027年、第十六届第三次会议），导入时也未指定",
                     "no year: the sheet gives none, its title does not say (2027年, a "
                     "session), and the import was given none"),
    "bad_year": ("年度“{value}”无法识别", "year '{value}' is not a year"),
    "bad_level": ("层级“{value}”无法识别，应为全国/省/市/区",
                  "level '{value}' is not national/provincial/municipal/district"),
    "missing_date": ("缺少{field}，导入时也未指定默认日期",
                     "no {field_en} in the row and no default date was given"),
    "bad_date": ("{field}“{value}”不是可识别的日期",
                 "{field_en} '{value}' is not a date (2027-01-15, 2027/1/15, 2027年1月15日 ...)"),
    "no_lead": ("缺少主办单位", "no lead bureau (主办单位)"),
    "unknown_bureau": ("承办单位“{name}”未登记（最接近的已登记单位：{closest}；请更正名称或先登记）",
                       "bureau '{name}' is not registered (the closest registered: "
                       "{closest_en}; correct the name or register it)"),
    "ambiguous_bureau": ("“{name}”对应多个承办单位：{bureaus}",
                         "'{name}' names several bureaus: {bureaus}"),
    "lead_and_co": ("{bureau} 不能既是主办单位又是会办单位",
                    "{bureau} cannot be both a lead and a co-handling bureau"),
    "split_single_lead": ("标注为分办，但只有一个主办单位",
                          "marked as split handling (分办) but there is only one lead bureau"),
    "bad_filing": ("立案情况“{value}”无法识别，应为立案或不立案（并案请在审查立案中办理）",
                   "review outcome '{value}' is not 立案 (filed) or 不立案 (not filed); merge "
                   "(并案) in the review"),
    "unknown_area": ("领域“{value}”无法识别，应为：{areas}",
                     "area '{value}' is not one of: {areas_en}"),
    "missing_decline_reason": ("不立案须写明不立案理由", "not filed (不立案) without a reason (不立案理由)"),
    "missing_referred_to": ("不立案须写明转送单位", "not filed (不立案) without the bodies it is "
                            "passed on to (转送单位)"),
    "not_filed_with_bureaus": ("不立案的不交办，不应填写主办或会办单位",
                               "not filed (不立案): not assigned, so no lead or co-handling bureau"),
    "duplicate_in_sheet": ("{key} 在表中重复（已见于第 {first} 行），本行不导入",
                           "{key} appears twice in the sheet (first on row {first}); "
                           "this row is not imported"),
    "invalid_command": ("由本行生成的命令不合规：{detail}",
                        "the command built from this row is not valid: {detail}"),
    "unknown_proposal": ("{key} 不是本单位主办的建议提案：尚未登记（请先导入交办清单），或未交本单位主办",
                         "{key} is not an item this bureau leads: not in Banli (import the "
                         "assignment list first), or not assigned to this bureau as lead"),
    "missing_result": ("缺少办理结果（A/B/C/D 类）", "no result (办理结果, A/B/C/D)"),
    "bad_result": ("办理结果“{value}”无法识别，应为 A/B/C/D 类",
                   "result '{value}' is not A/B/C/D (solved/planned/deferred/reference)"),
    "bad_disclosure": ("公开方式“{value}”无法识别，应为全文公开/摘要公开/不公开/依法不公开",
                       "disclosure '{value}' is not full/summary/withheld/exempt"),
    "bad_contact_method": ("沟通方式“{value}”无法识别，应为电话/走访/座谈/网络/信函",
                           "contact method '{value}' is not phone/visit/meeting/online/letter"),
    "missing_name": ("缺少姓名", "no name (姓名)"),
    "bad_filer_id": ("编号“{value}”不合规：只能是字母、数字、.、- 和 _，最长 64 位",
                     "the id '{value}' is not valid: letters, digits, ., - and _, at most 64"),
    "account_taken": ("账号“{account}”已对应代表委员 {owner}",
                      "the account '{account}' is already filer {owner}'s"),
    "contact_after_reply": ("沟通日期 {contacted} 晚于答复日期 {replied}，办前沟通须在答复之前",
                            "the contact on {contacted} is after the reply on {replied}; "
                            "a contact before handling comes before the reply"),
}

FIELD_NAMES: dict[str, tuple[str, str]] = {
    "assigned_on": ("交办日期", "assignment date"),
    "replied_on": ("答复日期", "reply date"),
    "contacted_on": ("沟通日期", "contact date"),
}


def refusal(row: int, code: str, **details: Any) -> dict[str, Any]:
    """A row's refusal, shaped like banli.domain.rejections.Rejection."""
    zh, en = MESSAGES[code]
    if "field" in details:
        details.setdefault("field_en", FIELD_NAMES.get(details["field"], ("", details["field"]))[1])
        details["field"] = FIELD_NAMES.get(details["field"], (details["field"], ""))[0]
    return Rejection(code=code, message=f"第 {row} 行：" + zh.format(**details),
                     message_en=f"row {row}: " + en.format(**details),
                     details={"row": row, **{k: _plain(v) for k, v in details.items()}}
                     ).model_dump()


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def describe_validation(error: ValidationError) -> str:
    """A pydantic error in a line: where and what (as banli.history does for JSON Lines)."""
    parts = []
    for item in error.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "(command)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def command_id(key: str, command_type: str, bureau: str | None = None) -> str:
    """The same id for the same item and command on every import of a sheet: the kernel then
    decides it once. Opaque and URL-safe (`/api/commands/{id}`)."""
    digest = hashlib.sha256(f"{key}|{command_type}|{bureau or ''}".encode()).hexdigest()[:32]
    return f"sheet-{command_type}-{digest}"


def at(day: date, hour: int, minute: int = 0) -> str:
    """Business time on `day`, Shanghai, as ISO 8601."""
    return datetime.combine(day, time(hour, minute), SHANGHAI).isoformat()


def row_result(row: int, rows: list[int], number: str | None = None, key: str | None = None,
               proposal: str | None = None) -> RowResult:
    return RowResult(row=row, rows=rows, number=number, key=key, proposal=proposal,
                     status="new", commands=[], differences=[], reason=None, problems=[])


def refuse(result: RowResult, problems: list[dict[str, Any]]) -> RowResult:
    result["status"], result["commands"] = "refused", []
    result["reason"], result["problems"] = problems[0], problems
    return result


def preview(table: Any, results: Iterable[RowResult],
            inferred: dict[str, Any] | None = None) -> Preview:
    rows = list(results)
    counts: dict[str, int] = {"rows": len(rows), **{s: 0 for s in STATUSES}}
    for r in rows:
        counts[r["status"]] += 1
    counts["commands"] = sum(len(r["commands"]) for r in rows)
    counts["skipped"] = len(table.skipped)
    return Preview(sheet=table.sheet, header_rows=list(table.header_rows),
                   columns={f: list(h) for f, h in table.columns.items()},
                   ignored_columns=list(table.ignored), skipped=list(table.skipped),
                   rows=rows, counts=counts, inferred=dict(inferred or {}))


def preview_commands(preview: Preview) -> list[dict[str, Any]]:
    """Every command of a preview, in the order to send them."""
    return [cmd for row in preview["rows"] for cmd in row["commands"]]
