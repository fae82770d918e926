"""An assignment list (交办清单) → `submit` and `assign` commands, as a preview.

Each item becomes, on its assignment date (交办日期, else the caller's default date), a `submit`
at 09:00 and an `assign` at 09:01 (Asia/Shanghai), with command ids derived from the natural key
(level/kind/year/number) and the command type: importing the same sheet twice sends the same
ids, and the kernel decides each once. A row that gives the office's review (立案情况: 立案 or
不立案) is received for review, then filed (`file_proposal`, 09:01) and assigned (09:02), or not
filed (`decline_filing`, 09:01) and not assigned. An item Banli already has is `unchanged` or
`differs` and sends nothing — except an item submitted but never assigned, which sends its
`assign`, and one received for review and not yet reviewed, which sends the review's outcome.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Iterable, Mapping, Sequence

from pydantic import ValidationError

from ..domain.views.bureaus import NameIndex
from ..domain.commands import natural_key
from ..domain.proposal import Bureau
from ..domain.registry import parse_command
from ..domain.timing.deadlines import FIVE_AREAS, Area
from .infer import DEFAULT_SESSIONS, Sessions, infer_kind, infer_year
from .preview import (Difference, Preview, RowResult, at, command_id, describe_validation,
                      preview, refuse, refusal, row_result)
from .read import ASSIGNMENT_HEADERS, Grid, Row, SheetError, Source, Table, read_sheet
from .values import (FILING_LABELS, KIND_LABELS, LEVEL_LABELS, NO_LABELS, YES_LABELS, cell_text,
                     lookup, norm, parse_date, parse_number, parse_year, split_names,
                     split_strong)

Existing = Callable[[str], Mapping[str, Any] | None]
Areas = Sequence[Area] | Callable[[int], Sequence[Area]]  # the areas, or a year's areas

SUBMIT_HOUR, ASSIGN_MINUTE = 9, 1  # submit at 09:00, assign at 09:01 on the assignment day


class BureauIndex:
    """Registered bureaus by every name they bear or bore (banli.domain.views.bureaus.NameIndex: the
    id, full, English and short names, then former names), compared after `norm`
    (whitespace, full-width/half-width and case do not matter)."""

    def __init__(self, bureaus: Mapping[str, Bureau | Sequence[str]]):
        self.names = NameIndex.of({b: (names,) if isinstance(names, str) else names
                                   for b, names in bureaus.items()})
        self._found: dict[str, frozenset[str]] = {}  # lists name the same bureaus again and again

    def find(self, name: str) -> frozenset[str]:
        found = self._found.get(name)
        if found is None:
            found = self._found[name] = self.names.find(name)
        return found

    def unknown(self, row: int, name: str) -> dict[str, Any]:
        """The refusal of a name no bureau bears, offering the closest registered names."""
        closest = self.names.closest(name)
        return refusal(row, "unknown_bureau", name=name,
                       closest="、".join(f"{n}（{b}）" for n, b in closest) or "无",
                       closest_en=", ".join(f"{n} ({b})" for n, b in closest) or "none",
                       suggestions=[b for _, b in closest])

    def resolve(self, cells: Iterable[Any], row: int) -> tuple[list[str], list[dict[str, Any]]]:
        """Bureau ids for the names in some cells, and a refusal for each name not registered.
        Names are split on 、，, ; and line breaks; a piece that names no bureau is tried again
        split on spaces (市财政局 市科委), and refused whole if that does not help."""
        found: dict[str, None] = {}
        problems = []
        for cell in cells:
            for piece in split_strong(cell):
                candidates = [[piece]]
                if not self.find(piece) and len(split_names(piece)) > 1:
                    candidates.append(split_names(piece))
                for names in candidates:
                    matches = [self.find(n) for n in names]
                    if all(matches):
                        break
                else:
                    problems.append(self.unknown(row, piece))
                    continue
                for name, ids in zip(names, matches):
                    if len(ids) > 1:
                        problems.append(refusal(row, "ambiguous_bureau", name=name,
                                                bureaus="、".join(sorted(ids))))
                    else:
                        found[next(iter(ids))] = None
        return list(found), problems


def assignment_preview(
    source: Source | Grid | Table,
    *,
    bureaus: Mapping[str, Bureau | Sequence[str]],
    existing: Existing | None = None,
    kind: str | None = None,
    year: int | str | None = None,
    level: str | None = None,
    assigned_on: date | str | None = None,
    mapping: Mapping[str, str | None] | None = None,
    sheet: str | int | None = None,
    sessions: Sessions = DEFAULT_SESSIONS,
    areas: Areas = FIVE_AREAS,
) -> Preview:
    """The preview of importing an assignment list.

    `bureaus` is the registry: each bureau's state (its names: full, English, short and former),
    or `(name_zh, name_en, *aliases)`; `existing(key)` gives
    what Banli has for a natural key (title, filers, affiliation, topics, leads, cos; optionally
    proposal), or None. `kind`, `year`, `level` and `assigned_on` are used where the sheet has no
    such column or leaves the cell blank (a cell wins over the option); without the option,
    the kind and the year the sheet's title names (banli.sheets.infer, with `sessions`); `level`
    defaults to municipal. `areas` are the areas a 领域 cell may name (by code, Chinese or
    English name; a callable gives a year's, as the profile's `areas_of`). `mapping` overrides
    header → field. Raises SheetError when the sheet as a whole cannot be read; every row
    problem is a refusal in the preview."""
    table = source if isinstance(source, Table) else read_sheet(
        source, ASSIGNMENT_HEADERS, mapping=mapping, sheet=sheet,
        required=("number", "title", "lead"))
    index = BureauIndex(bureaus)
    defaults = _defaults(kind, year, level, assigned_on)
    inferred = infer_defaults(table, defaults, sessions)
    seen: dict[str, int] = {}
    areas_of = areas if callable(areas) else lambda year: areas
    results = [_row(item, index, existing, defaults, seen, set(table.columns), areas_of)
               for item in table.rows]
    return preview(table, results, inferred)


def _defaults(kind: Any, year: Any, level: Any, assigned_on: Any = None) -> dict[str, Any]:
    """The caller's options, checked once: a bad option is the caller's error (SheetError),
    not a row's."""
    parsers = {"kind": lambda v: lookup(KIND_LABELS, v), "year": parse_year,
               "level": lambda v: lookup(LEVEL_LABELS, v), "assigned_on": parse_date}
    given = {"kind": kind, "year": year, "level": level, "assigned_on": assigned_on}
    out: dict[str, Any] = {"level": "municipal"}
    for name, value in given.items():
        if value is None or value == "":
            out.setdefault(name, None)
            continue
        try:
            out[name] = parsers[name](value)
        except ValueError as exc:
            raise SheetError("bad_option", f"导入选项 {name}={value!r} 无法识别",
                             f"the import option {name}={value!r} is not valid: {exc}",
                             option=name) from exc
    return out


def infer_defaults(table: Table, defaults: dict[str, Any], sessions: Sessions
                   ) -> dict[str, Any]:
    """The kind and year the title names, for those the options left unset: set in `defaults`
    and returned ({"kind": {...}, "year": {...}}, each with its cell and messages)."""
    inferred: dict[str, Any] = {}
    if defaults["kind"] is None and (kind := infer_kind(table.title)):
        defaults["kind"] = kind["value"]
        inferred["kind"] = kind
    if defaults["year"] is None and (year := infer_year(table.title, defaults["kind"],
                                                        defaults["level"], sessions)):
        defaults["year"] = year["value"]
        inferred["year"] = year
    return inferred


def natural_key_of(item: Row, defaults: Mapping[str, Any], problems: list[dict[str, Any]]
                   ) -> tuple[str | None, str | None, int | None, str | None]:
    """(level, kind, year, number) of a row from its cells or the defaults; a refusal for each
    part missing or unreadable (then that part is None)."""
    row = item.row

    def part(name: str, parse: Callable[[Any], Any], bad: str, missing: str | None):
        value = item.first(name)
        if value is None:
            if defaults.get(name) is None and missing:
                problems.append(refusal(row, missing))
            return defaults.get(name)
        try:
            return parse(value)
        except ValueError:
            problems.append(refusal(row, bad, value=cell_text(value)))
            return None

    number = part("number", parse_number, "bad_number", "missing_number")
    kind = part("kind", lambda v: lookup(KIND_LABELS, v), "bad_kind", "missing_kind")
    year = part("year", parse_year, "bad_year", "missing_year")
    level = part("level", lambda v: lookup(LEVEL_LABELS, v), "bad_level", None)
    return level, kind, year, number


def proposal_id_of(level: str, kind: str, year: int, number: str) -> str:
    """The id `submit` derives (banli.domain.commands.Submit.proposal_id)."""
    derived = f"{year}-{kind}-{number}"
    return derived if level == "municipal" else f"{level}-{derived}"


def _row(item: Row, index: BureauIndex, existing: Existing | None, defaults: Mapping[str, Any],
         seen: dict[str, int], sheet_fields: set[str],
         areas_of: Callable[[int], Sequence[Area]]) -> RowResult:
    row = item.row
    problems: list[dict[str, Any]] = []
    level, kind, year, number = natural_key_of(item, defaults, problems)
    key = proposal = None
    if level is not None and kind is not None and year is not None and number is not None:
        key = natural_key(level, kind, year, number)
        proposal = proposal_id_of(level, kind, year, number)
    result = row_result(row, list(item.rows), number, key)
    if key is not None:
        if key in seen:
            return refuse(result, [refusal(row, "duplicate_in_sheet", key=key, first=seen[key])])
        seen[key] = row
        result["proposal"] = proposal

    title = " ".join(cell_text(v) for v in item.all("title"))
    if not title:
        problems.append(refusal(row, "missing_title"))
    filers = [n for v in item.all("filers") for n in split_names(v)]
    affiliation = "、".join(cell_text(v) for v in item.all("affiliation"))
    topics = list(dict.fromkeys(n for v in item.all("topics") for n in split_names(v)))

    day = defaults["assigned_on"]
    if item.has("assigned_on"):
        try:
            day = parse_date(item.first("assigned_on"))
        except ValueError:
            problems.append(refusal(row, "bad_date", field="assigned_on",
                                    value=cell_text(item.first("assigned_on"))))
    elif day is None:
        problems.append(refusal(row, "missing_date", field="assigned_on"))

    review = _review(item, areas_of, year, problems)
    declined = review["outcome"] == "not_filed"
    lead, lead_problems = index.resolve(item.all("lead"), row)
    co, co_problems = index.resolve(item.all("co"), row)
    split, split_problems = _split(item, index)
    problems += lead_problems + split_problems + co_problems
    lead = list(dict.fromkeys(lead + split))
    if declined and (item.has("lead") or item.has("co") or split):
        problems.append(refusal(row, "not_filed_with_bureaus"))
    elif not lead and not lead_problems and not split_problems and not declined:
        problems.append(refusal(row, "no_lead"))
    marked = item.has("split") and norm(item.first("split")) in YES_LABELS
    if marked and len(lead) == 1 and not lead_problems:
        problems.append(refusal(row, "split_single_lead"))
    for bureau in lead:
        if bureau in co:
            problems.append(refusal(row, "lead_and_co", bureau=bureau))
    if problems:
        return refuse(result, problems)
    assert key is not None, "a row without its natural key has problems"

    submit: dict[str, Any] = {"type": "submit", "command_id": command_id(key, "submit"),
              "at": at(day, SUBMIT_HOUR), "kind": kind, "level": level, "year": year,
              "number": number, "title": title, "filers": [{"name": n} for n in filers],
              "affiliation": affiliation, "topics": topics}
    assign: dict[str, Any] = {"type": "assign", "command_id": command_id(key, "assign"),
              "at": at(day, SUBMIT_HOUR, ASSIGN_MINUTE), "proposal": result["proposal"],
              "lead": lead, "co": co}
    if review["area"] is not None:
        submit["area"] = review["area"]
    commands = [submit, assign]
    if review["outcome"] is not None:
        commands = _reviewed(submit, assign, review, key, day)

    known = existing(key) if existing else None
    if known is not None:
        given = {"title": title, "filers": filers, "affiliation": affiliation,
                 "topics": topics, "leads": lead, "cos": co}
        columns = {"filers": "filers", "affiliation": "affiliation", "topics": "topics",
                   "cos": "co"}  # a field the sheet has no column for is not compared
        differences = compare(known, **{name: value for name, value in given.items()
                                        if name not in columns or columns[name] in sheet_fields})
        if known.get("proposal") or known.get("proposal_id"):
            result["proposal"] = known.get("proposal") or known.get("proposal_id")
            for command in commands[1:]:
                command["proposal"] = result["proposal"]
        outcome, state = review["outcome"], known.get("review")
        if outcome is not None and state is not None and state not in ("pending", outcome):
            differences.append(Difference(field="review", old=state, new=outcome))
        unassigned = "leads" in known and not known["leads"] and not known.get("cos")
        todo = None
        if outcome is not None and state == "pending":
            todo = commands[1:]  # received before, not yet reviewed: the outcome is new
        elif unassigned and outcome != "not_filed":
            todo = [assign]  # submitted before, never assigned: the assignment is new
        if todo is not None and all(d["field"] in ("leads", "cos") for d in differences):
            commands = todo
        else:
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


def _review(item: Row, areas_of: Callable[[int], Sequence[Area]], year: int | None,
            problems: list[dict[str, Any]]) -> dict[str, Any]:
    """The office's review as a row records it (optional columns): its outcome (立案/不立案,
    None where the row gives none), the area's code, a 不立案's reason and the bodies it is
    passed on to; a refusal in `problems` for each that is missing or not understood."""
    row = item.row
    review: dict[str, Any] = {"outcome": None, "area": None, "reason": "", "referred_to": []}
    if item.has("filing"):
        try:
            review["outcome"] = lookup(FILING_LABELS, item.first("filing"))
        except ValueError:
            problems.append(refusal(row, "bad_filing", value=cell_text(item.first("filing"))))
    if item.has("area") and year is not None:
        known = areas_of(year)
        value = item.first("area")
        codes = {norm(name): a.code for a in known for name in (a.code, a.zh, a.en) if name}
        review["area"] = codes.get(norm(value))
        if review["area"] is None:
            problems.append(refusal(row, "unknown_area", value=cell_text(value),
                                    areas="、".join(a.zh for a in known),
                                    areas_en=", ".join(f"{a.en or a.code} ({a.zh})"
                                                       for a in known)))
    if review["outcome"] == "not_filed":
        review["reason"] = " ".join(cell_text(v) for v in item.all("decline_reason"))
        review["referred_to"] = list(dict.fromkeys(
            n for v in item.all("referred_to") for n in split_strong(v)))
        if not review["reason"]:
            problems.append(refusal(row, "missing_decline_reason"))
        if not review["referred_to"]:
            problems.append(refusal(row, "missing_referred_to"))
    return review


def _reviewed(submit: dict[str, Any], assign: dict[str, Any], review: Mapping[str, Any],
              key: str, day: date) -> list[dict[str, Any]]:
    """A row with the review's outcome: received for review (`submit` with `review`), then at
    09:01 filed (立案, in the row's area) and assigned at 09:02, or not filed (不立案: passed on
    to the bodies named, with the reason) and not assigned."""
    submit["review"] = True
    decided = {"at": at(day, SUBMIT_HOUR, 1), "proposal": assign["proposal"]}
    if review["outcome"] == "not_filed":
        return [submit, {"type": "decline_filing", "command_id": command_id(key, "decline"),
                         **decided, "referred_to": review["referred_to"],
                         "reason": review["reason"]}]
    filed: dict[str, Any] = {"type": "file_proposal", "command_id": command_id(key, "file"),
                             **decided}
    if review["area"] is not None:
        filed["area"] = review["area"]
    assign["at"] = at(day, SUBMIT_HOUR, 2)
    return [submit, filed, assign]


def _split(item: Row, index: BureauIndex) -> tuple[list[str], list[dict[str, Any]]]:
    """A 分办 cell is either a marker (是, √, Y, 分办 ...; 否, N, 0 mean not split) or the
    names of the leads that share the handling, added to the 主办单位 column's."""
    names = [v for v in item.all("split") if norm(v) not in YES_LABELS | NO_LABELS]
    return index.resolve(names, item.row) if names else ([], [])


def compare(known: Mapping[str, Any], **new: Any) -> list[Difference]:
    """The fields in which the sheet differs from what Banli has. Titles and affiliations are
    compared after `norm`; filers in order (the first is the lead filer); topics, leads and
    co-handlers as sets. A field Banli's record does not give is not compared."""
    differences: list[Difference] = []
    for name, value in new.items():
        if name not in known:
            continue
        old = known[name]
        if name == "filers":
            old = [f["name"] if isinstance(f, Mapping) else str(f) for f in old or ()]
            same = [norm(n) for n in old] == [norm(n) for n in value]
        elif name in ("topics", "leads", "cos"):
            old = list(old or ())
            same = {norm(n) for n in old} == {norm(n) for n in value}
        else:
            old = old or ""
            same = norm(old) == norm(value)
        if not same:
            differences.append(Difference(field=name, old=old, new=value))
    return differences
