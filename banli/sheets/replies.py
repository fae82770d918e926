"""A bureau's reply list → `log_contact`, `reply` and `decide_disclosure` commands, as a preview.

Each row, for the one bureau the caller names, becomes in this order:
- `log_contact` (stage `before`) when a contact method is given, on the contact date (沟通日期)
  or else the reply date, at 09:00;
- `reply` with the result, on the reply date (答复日期) at 10:00, with 签发人 and 答复摘要 if given;
- `decide_disclosure` when a disclosure is given, on the reply date at 10:01.
Command ids derive from the natural key, the command type and the bureau.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from pydantic import ValidationError

from ..domain.commands import natural_key
from ..domain.registry import parse_command
from .assignment_list import _defaults, compare, infer_defaults, natural_key_of
from .infer import DEFAULT_SESSIONS, Sessions
from .preview import (Preview, RowResult, at, command_id, describe_validation, preview, refuse,
                      refusal, row_result)
from .read import REPLY_HEADERS, Grid, Row, Source, Table, read_sheet
from .values import (DISCLOSURE_LABELS, METHOD_LABELS, RESULT_LABELS, cell_text, lookup,
                     parse_date)

CONTACT_HOUR, REPLY_HOUR, DISCLOSURE_MINUTE = 9, 10, 1


def reply_preview(
    source: Source | Grid | Table,
    *,
    bureau: str,
    proposals: Callable[[str], str | None],
    replied: Callable[[str], Mapping[str, Any] | None] | None = None,
    kind: str | None = None,
    year: int | str | None = None,
    level: str | None = None,
    mapping: Mapping[str, str | None] | None = None,
    sheet: str | int | None = None,
    sessions: Sessions = DEFAULT_SESSIONS,
) -> Preview:
    """The preview of importing `bureau`'s reply list.

    `proposals(key)` gives the proposal id for a natural key, or None when Banli has no such
    item that `bureau` leads (a refusal that says neither which, nor whose it is). `replied(proposal_id)`, if given, gives the bureau's reply Banli already has
    (result, and optionally disclosure, signed_by) or None: a row already replied is `unchanged`
    or `differs` and sends nothing. `kind`, `year` and `level` fill in for a missing column or a
    blank cell, and without them what the title names (banli.sheets.infer). Raises SheetError
    when the sheet as a whole cannot be read."""
    table = source if isinstance(source, Table) else read_sheet(
        source, REPLY_HEADERS, mapping=mapping, sheet=sheet, required=("number", "result"))
    defaults = _defaults(kind, year, level)
    inferred = infer_defaults(table, defaults, sessions)
    seen: dict[str, int] = {}
    results = [_row(item, bureau, proposals, replied, defaults, seen) for item in table.rows]
    return preview(table, results, inferred)


def _row(item: Row, bureau: str, proposals: Callable[[str], str | None],
         replied: Callable[[str], Mapping[str, Any] | None] | None,
         defaults: Mapping[str, Any], seen: dict[str, int]) -> RowResult:
    row = item.row
    problems: list[dict[str, Any]] = []
    level, kind, year, number = natural_key_of(item, defaults, problems)
    key = None
    if level is not None and kind is not None and year is not None and number is not None:
        key = natural_key(level, kind, year, number)
    result = row_result(row, list(item.rows), number, key)
    if key is not None:
        if key in seen:
            return refuse(result, [refusal(row, "duplicate_in_sheet", key=key, first=seen[key])])
        seen[key] = row
        result["proposal"] = proposals(key)
        if result["proposal"] is None:
            problems.append(refusal(row, "unknown_proposal", key=key))

    def choice(name: str, vocabulary: dict[str, str], bad: str, missing: str | None = None):
        value = item.first(name)
        if value is None:
            if missing:
                problems.append(refusal(row, missing))
            return None
        try:
            return lookup(vocabulary, value)
        except ValueError:
            problems.append(refusal(row, bad, value=cell_text(value)))
            return None

    def day(name: str, required: bool):
        value = item.first(name)
        if value is None:
            if required:
                problems.append(refusal(row, "missing_date", field=name))
            return None
        try:
            return parse_date(value)
        except ValueError:
            problems.append(refusal(row, "bad_date", field=name, value=cell_text(value)))
            return None

    outcome = choice("result", RESULT_LABELS, "bad_result", "missing_result")
    disclosure = choice("disclosure", DISCLOSURE_LABELS, "bad_disclosure")
    method = choice("contact_method", METHOD_LABELS, "bad_contact_method")
    replied_on = day("replied_on", required=True)
    contacted_on = day("contacted_on", required=False) if method else None
    if replied_on and contacted_on and contacted_on > replied_on:
        problems.append(refusal(row, "contact_after_reply", contacted=contacted_on.isoformat(),
                                replied=replied_on.isoformat()))
    signed_by = cell_text(item.first("signed_by")) or None
    summary = "\n".join(cell_text(v) for v in item.all("summary"))
    if problems:
        return refuse(result, problems)

    proposal = result["proposal"]
    assert key is not None and proposal is not None, "a row without them has problems"
    commands: list[dict[str, Any]] = []
    if method:
        commands.append({"type": "log_contact",
                         "command_id": command_id(key, "log_contact", bureau),
                         "at": at(contacted_on or replied_on, CONTACT_HOUR), "proposal": proposal,
                         "bureau": bureau, "stage": "before", "method": method, "note": ""})
    reply: dict[str, Any] = {"type": "reply", "command_id": command_id(key, "reply", bureau),
                             "at": at(replied_on, REPLY_HOUR), "proposal": proposal,
                             "bureau": bureau, "result": outcome, "summary": summary}
    if signed_by:
        reply["signed_by"] = signed_by
    commands.append(reply)
    if disclosure:
        commands.append({"type": "decide_disclosure",
                         "command_id": command_id(key, "decide_disclosure", bureau),
                         "at": at(replied_on, REPLY_HOUR, DISCLOSURE_MINUTE),
                         "proposal": proposal, "bureau": bureau, "disclosure": disclosure})

    known = replied(proposal) if replied else None
    if known is not None:
        new = {"result": outcome}
        if disclosure:
            new["disclosure"] = disclosure
        if signed_by:
            new["signed_by"] = signed_by
        differences = compare(known, **new)
        result["status"] = "differs" if differences else "unchanged"
        result["differences"] = differences
        return result
    for command in commands:
        try:
            parse_command(command)
        except ValidationError as exc:
            return refuse(result, [refusal(row, "invalid_command",
                                           detail=describe_validation(exc))])
    result["commands"] = commands
    return result
