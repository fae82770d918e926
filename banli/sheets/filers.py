"""The filer registry (代表委员名册) → `register_filer` commands, and the offer to link the
proposals recorded before it, as a preview.

Each row is one deputy or member: 姓名, 代表团/界别, 届次, 账号 (the sign-in account), and
optionally 编号 (their id in Banli's registry; without it the id is derived from the name, the
affiliation and the term, so that importing the same sheet again registers no one twice). A row
becomes:
- `register_filer`, unless Banli has the id already (`unchanged`, or `differs` with the
  differences: a correction is not made by a re-import);
- a `link_filers` for each proposal that names a filer of exactly that name, filed under exactly
  that affiliation, not linked to the registry yet (one recorded before the registry, or whose
  filer was ambiguous then), unless another filer (of the registry or of the sheet) has the same
  name and affiliation: then it is left to the coordinator (`link_filers` by hand).
Commands carry no business time (they happen when they are decided) and ids derived from the
filer's id and the command (and the proposal): the kernel decides each once.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any, Callable, Mapping

from pydantic import ValidationError

from ..domain.registry import parse_command
from .assignment_list import compare
from .preview import Preview, RowResult, command_id, describe_validation, preview, refuse
from .preview import refusal, row_result
from .read import FILER_HEADERS, Grid, Row, Source, Table, read_sheet
from .values import cell_text

FILER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # banli.domain.types.FilerId
# What the registry holds of a filer, by id: name, affiliation, term, account.
Registered = Mapping[str, Mapping[str, str]]
Unlinked = Callable[[str, str], list[str]]


def derived_id(name: str, affiliation: str, term: str) -> str:
    """A filer's id where the sheet gives none: the same person of the same delegation or
    sector and term has the same id on every import."""
    return "f" + hashlib.sha256(f"{name}|{affiliation}|{term}".encode()).hexdigest()[:12]


def filer_preview(source: Source | Grid | Table, *, registered: Registered, unlinked: Unlinked,
                  mapping: Mapping[str, str | None] | None = None,
                  sheet: str | int | None = None) -> Preview:
    """The preview of importing a filer registry. `registered` is the registry Banli has;
    `unlinked(name, affiliation)` the proposals naming a filer of that name, filed under that
    affiliation, not linked yet. Raises SheetError when the sheet as a whole cannot be read."""
    table = source if isinstance(source, Table) else read_sheet(
        source, FILER_HEADERS, mapping=mapping, sheet=sheet, key="name", required=("name",))
    people = [_person(item) for item in table.rows]
    # a name and affiliation more than one filer has: no link is offered for it
    shared = Counter((p["name"], p["affiliation"]) for p in people if p["filer"]) + Counter(
        (entry.get("name", ""), entry.get("affiliation", "")) for filer, entry in
        registered.items() if filer not in {p["filer"] for p in people})
    seen: dict[str, int] = {}
    accounts = {entry.get("account"): filer for filer, entry in registered.items()
                if entry.get("account")}
    results = [_row(item, person, registered, unlinked, shared, seen, accounts)
               for item, person in zip(table.rows, people)]
    found = preview(table, results)
    found["counts"]["links"] = sum(c["type"] == "link_filers" for r in results
                                   for c in r["commands"])
    return found


def _person(item: Row) -> dict[str, str]:
    name, affiliation, term = (cell_text(item.first(f)) for f in ("name", "affiliation", "term"))
    given = cell_text(item.first("filer"))
    return {"name": name, "affiliation": affiliation, "term": term,
            "account": cell_text(item.first("account")),
            "given": given, "filer": given or (derived_id(name, affiliation, term) if name
                                               else "")}


def _row(item: Row, person: dict[str, str], registered: Registered, unlinked: Unlinked,
         shared: Counter, seen: dict[str, int], accounts: dict[str | None, str]) -> RowResult:
    row, filer = item.row, person["filer"]
    result = row_result(row, list(item.rows), None, filer or None)
    if not person["name"]:
        return refuse(result, [refusal(row, "missing_name")])
    if person["given"] and not FILER_ID.match(person["given"]):
        return refuse(result, [refusal(row, "bad_filer_id", value=person["given"])])
    if filer in seen:
        return refuse(result, [refusal(row, "duplicate_in_sheet", key=filer, first=seen[filer])])
    seen[filer] = row
    owner = accounts.get(person["account"]) if person["account"] else None
    if owner is not None and owner != filer:
        return refuse(result, [refusal(row, "account_taken", account=person["account"],
                                       owner=owner)])
    if person["account"]:
        accounts[person["account"]] = filer
    known = registered.get(filer)
    if known is not None:
        differences = compare(known, **{k: person[k] for k in ("name", "affiliation", "term",
                                                               "account")})
        if differences:
            result["status"], result["differences"] = "differs", differences
            return result
    commands: list[dict[str, Any]] = []
    if known is None:
        commands.append({"type": "register_filer",
                         "command_id": command_id(filer, "register_filer"), "filer": filer,
                         "name": person["name"], "affiliation": person["affiliation"],
                         "term": person["term"], "account": person["account"]})
    if shared[(person["name"], person["affiliation"])] == 1:
        commands += [{"type": "link_filers", "command_id": command_id(filer, "link_filers",
                                                                      proposal),
                      "proposal": proposal, "filers": [{"id": filer, "name": person["name"]}]}
                     for proposal in unlinked(person["name"], person["affiliation"])]
    for command in commands:
        try:
            parse_command(command)
        except ValidationError as exc:
            return refuse(result, [refusal(row, "invalid_command",
                                           detail=describe_validation(exc))])
    result["commands"] = commands
    if not commands:
        result["status"] = "unchanged"
    return result
