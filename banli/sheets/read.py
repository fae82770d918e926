"""Reading a sheet: find its header, match the headers to Banli's fields, give the data rows.

The header may sit under a title row (merged across the columns), blank rows, and span two or
three rows (a 承办单位 group over 主办单位 | 会办单位, a 提案号 merged down over both). Merged
cells are read as their top-left value over the whole range in the header; in the data, a value
merged down (a date or a delegation shared by several items) fills each row of its range, and an
item whose number is merged down over several rows (one lead per row, say) is read as one item
whose list fields (filers, leads, co-handlers, topics) gather all its rows.

The workbook is read by banli.sheets.workbook, within the bounds of banli.sheets.limits: .xlsx
and .xlsm as a stream, .xls, .xlsb and .ods with python-calamine; cached formula values rather
than formulas, typed dates (a date-formatted cell is a date), and the merged ranges.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from .errors import SheetError
from .grid import Grid
from .limits import DEFAULT_LIMITS, SheetLimits
from .values import cell_text, is_blank, norm_header
from .workbook import Source, load_grids

# field -> the headers that name it (compared after `norm_header`: full-width/half-width, spaces,
# case, bracketed notes, `_` and `-` do not matter).
ASSIGNMENT_HEADERS: dict[str, tuple[str, ...]] = {
    "number": ("建议号", "提案号", "案号", "编号", "建议编号", "提案编号", "number", "no"),
    "title": ("标题", "案由", "题目", "建议标题", "提案标题", "建议题目", "提案题目", "title"),
    "filers": ("领衔代表", "提案人", "领衔人", "第一提案人", "领衔委员", "filers", "filer"),
    "affiliation": ("代表团", "界别", "党派团体", "affiliation"),
    "lead": ("主办单位", "lead", "leads"),
    "co": ("会办单位", "协办单位", "co", "cos"),
    "split": ("分办", "split"),
    "assigned_on": ("交办日期", "交办时间", "assigned_on", "assigned"),
    "topics": ("类别", "分类", "topics"),
    "kind": ("类型", "kind"),
    "year": ("年度", "year"),
    "level": ("层级", "level"),
    # the office's review (审查立案), optional: its outcome, the area, and a 不立案's reason and
    # the bodies it is passed on to
    "filing": ("立案情况", "审查结果", "审查情况", "是否立案", "立案", "filing"),
    "area": ("领域", "所属领域", "area"),
    "decline_reason": ("不立案理由", "不立案原因", "decline_reason"),
    "referred_to": ("转送单位", "转交单位", "referred_to"),
}
REPLY_HEADERS: dict[str, tuple[str, ...]] = {
    "number": ASSIGNMENT_HEADERS["number"],
    "result": ("办理结果", "答复类别", "答复结果", "result"),
    "replied_on": ("答复日期", "答复时间", "replied_on", "reply_date"),
    "disclosure": ("公开", "公开方式", "公开情况", "disclosure"),
    "contact_method": ("沟通", "沟通方式", "contact", "contact_method"),
    "contacted_on": ("沟通日期", "沟通时间", "contacted_on", "contact_date"),
    "signed_by": ("签发人", "signed_by"),
    "summary": ("答复摘要", "summary"),
    "kind": ASSIGNMENT_HEADERS["kind"],
    "year": ASSIGNMENT_HEADERS["year"],
    "level": ASSIGNMENT_HEADERS["level"],
}
# The filer registry (代表委员名册): one deputy or member a row.
FILER_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "代表姓名", "委员姓名", "name"),
    "affiliation": ("代表团", "界别", "代表团/界别", "代表团或界别", "所在代表团", "所在界别",
                    "affiliation"),
    "term": ("届次", "届别", "届", "term"),
    "account": ("账号", "登录账号", "帐号", "用户名", "account"),
    "filer": ("编号", "代表编号", "委员编号", "filer", "id"),
}

HEADER_SEARCH_ROWS = 30   # the header is looked for in the first rows only
HEADER_MAX_DEPTH = 3      # rows a header may span


@dataclass(frozen=True)
class Row:
    """One item of a sheet: its first sheet row (1-based), all its sheet rows, and for each
    field the non-blank cell values in column order (then row order)."""

    row: int
    rows: tuple[int, ...]
    cells: dict[str, list[Any]]

    def first(self, name: str) -> Any:
        values = self.cells.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[Any]:
        return list(self.cells.get(name, ()))

    def has(self, name: str) -> bool:
        return bool(self.cells.get(name))


@dataclass
class Table:
    """A sheet read: where its header is, which column is which field, its items."""

    sheet: str
    header_rows: tuple[int, int]              # first and last header row, 1-based
    columns: dict[str, list[str]]             # field -> the header text of its columns
    ignored: list[str]                        # headers not matched to any field
    rows: list[Row] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # section and note rows
    title: list[dict[str, str]] = field(default_factory=list)    # texts above the header:
    # each {"cell": "A1", "text": "2027年市政协提案交办清单"} (banli.sheets.infer reads them)


# ---------------------------------------------------------------- mapping override


MAX_MAPPING_ENTRIES = 500
MAX_MAPPING_BYTES = 256 << 10


def load_mapping(path: str | os.PathLike) -> dict[str, str | None]:
    """A header → field mapping from a JSON file, or a YAML file (.yaml/.yml; needs PyYAML):
    `{"承办处室": "lead", "建议内容": "title", "备注": null}`; null ignores a column."""
    path = Path(path)
    if path.stat().st_size > MAX_MAPPING_BYTES:
        raise _bad_mapping()
    text = path.read_text(encoding="utf-8-sig")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml  # PyYAML: only needed for YAML mappings

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except RecursionError:  # nested deeper than the parser goes
        raise _bad_mapping() from None
    except ValueError as exc:
        raise _bad_mapping(str(exc)) from None
    except Exception as exc:  # yaml.YAMLError, without importing yaml for JSON
        if type(exc).__module__.startswith("yaml"):
            raise _bad_mapping(str(exc)) from None
        raise
    return check_mapping(data)


def parse_mapping(text: str) -> dict[str, str | None]:
    """A header → field mapping given as JSON text (an HTTP parameter)."""
    try:
        return check_mapping(json.loads(text))
    except RecursionError:
        raise _bad_mapping() from None
    except ValueError as exc:
        raise _bad_mapping(str(exc)) from None


def check_mapping(data: Any) -> dict[str, str | None]:
    """`data` if it is a flat object of header: field (or null), of a sane size."""
    if not isinstance(data, dict) or len(data) > MAX_MAPPING_ENTRIES or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in data.items()):
        raise _bad_mapping()
    return data


def _bad_mapping(why: str = "") -> SheetError:
    return SheetError("bad_mapping",
                      "列名映射须为“列名: 字段”的对照表，如 {\"件号\": \"number\"}"
                      f"（至多 {MAX_MAPPING_ENTRIES} 项，不可嵌套）",
                      'a mapping is a flat object of header: field (or null), e.g. '
                      f'{{"件号": "number"}}, of at most {MAX_MAPPING_ENTRIES} entries'
                      + (f" ({why})" if why else ""))


def _matcher(headers: Mapping[str, Iterable[str]], mapping: Mapping[str, str | None] | None):
    known = {norm_header(label): name for name, labels in headers.items() for label in labels}
    for name in headers:
        known.setdefault(norm_header(name), name)
    override: dict[str, str | None] = {}
    for header, wanted in (mapping or {}).items():
        if wanted is not None and wanted not in headers:
            raise SheetError("bad_mapping", f"列名映射中的字段“{wanted}”不存在，可用：{'、'.join(headers)}",
                             f"unknown field '{wanted}' in the mapping; known: {', '.join(headers)}",
                             field=wanted)
        override[norm_header(header)] = wanted
    return known, override


_NO_MATCH = object()


# ---------------------------------------------------------------- reading


def read_sheet(source: Source | Grid, headers: Mapping[str, Iterable[str]] = ASSIGNMENT_HEADERS,
               *, mapping: Mapping[str, str | None] | None = None,
               sheet: str | int | None = None, key: str = "number",
               required: Iterable[str] = ("number",),
               limits: SheetLimits = DEFAULT_LIMITS) -> Table:
    """Read the items of a sheet. `headers` maps each field to the headers that name it;
    `mapping` (header → field, or None to ignore the column) is consulted first. `sheet` is a
    visible worksheet's name or 0-based index; by default the first visible worksheet whose
    header is found (the worksheets after it are not read). Raises SheetError when no header
    with the `key` column is found or a `required` field has no column, and when the workbook
    cannot be read or is past one of `limits`."""
    known, override = _matcher(headers, mapping)
    grids = [source] if isinstance(source, Grid) else _chosen(load_grids(source, limits), sheet)
    required = list(required)
    for grid in grids:
        found = _find_header(grid, known, override, key)
        if found is None:
            continue
        first, last, fields_of = found
        fields_of = _one_column_per_value(fields_of, headers, override)
        columns: dict[str, list[str]] = {}
        for col, (name, label) in sorted(fields_of.items()):
            if name is not None:
                columns.setdefault(name, []).append(label)
        missing = [f for f in required if f not in columns]
        if missing:
            names = {f: "/".join(list(headers[f])[:4]) for f in missing}
            raise SheetError(
                "missing_columns",
                "表头缺少：" + "；".join(names.values()),
                "the header has no column for: " + "; ".join(f"{f} ({names[f]})" for f in missing),
                missing=missing, found=[label for _, label in fields_of.values()])
        table = Table(sheet=grid.name, header_rows=(first + 1, last + 1), columns=columns,
                      ignored=[label for name, label in fields_of.values()
                               if name is None and label], title=_title(grid, first))
        _read_rows(grid, last + 1, {c: n for c, (n, _) in fields_of.items() if n}, key, table)
        return table
    labels = "/".join(list(headers[key])[:4])
    raise SheetError("no_header",
                     f"在前 {HEADER_SEARCH_ROWS} 行中找不到表头（需要 {labels} 列）",
                     f"no header row in the first {HEADER_SEARCH_ROWS} rows "
                     f"(it needs a {key} column: {labels})")


def _chosen(grids: Iterator[Grid], sheet: str | int | None) -> Iterator[Grid]:
    """The worksheet asked for (by name, or 0-based index among the visible), else all."""
    found = False
    for index, grid in enumerate(grids):
        if sheet is None or sheet == index or sheet == grid.name:
            found = True
            yield grid
            if sheet is not None:
                return
    if not found:
        raise SheetError("no_sheet", f"找不到工作表 {sheet}", f"no worksheet {sheet}")


def column_letter(col: int) -> str:
    """0 -> A, 26 -> AA."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _title(grid: Grid, header_row: int) -> list[dict[str, str]]:
    """The texts above the header (a title row, a note), each with its cell: what a list says
    about itself (banli.sheets.infer)."""
    return [{"cell": f"{column_letter(c)}{r + 1}", "text": cell_text(value)}
            for r, row in enumerate(grid.cells[:header_row]) for c, value in enumerate(row)
            if isinstance(value, str) and not is_blank(value)]


LIST_FIELDS = frozenset({"filers", "lead", "co", "topics", "summary"})


def _one_column_per_value(fields_of: dict[int, tuple[str | None, str]],
                          headers: Mapping[str, Iterable[str]],
                          override: dict[str, str | None]) -> dict[int, tuple[str | None, str]]:
    """A field of one value (number, title, dates ...) named by several columns keeps the
    columns of its most specific header: the mapping's, then the earliest in `headers` (提案号
    before 编号, so a 编号 column of row counts does not shadow the 提案号 column). The others
    are ignored. List fields (filers, lead, co, topics) gather all their columns."""
    def rank(name: str, label: str) -> int:
        text = norm_header(label)
        if text in override:
            return -1
        labels = [norm_header(h) for h in (*headers[name], name)]
        return labels.index(text) if text in labels else len(labels)

    best: dict[str, int] = {}
    for name, label in fields_of.values():
        if name is not None and name not in LIST_FIELDS:
            best[name] = min(best.get(name, 1 << 30), rank(name, label))
    return {col: (name, label) if name is None or name in LIST_FIELDS
            or rank(name, label) == best[name] else (None, label)
            for col, (name, label) in fields_of.items()}


def _filled_header(grid: Grid, limit: int) -> list[list[Any]]:
    """The top rows with every merged range filled by its top-left value."""
    rows = [list(r) for r in grid.cells[:limit]]
    for r0, c0, r1, c1 in grid.merged:
        if r0 >= limit:
            continue
        value = grid.cells[r0][c0]
        for r in range(r0, min(r1, limit - 1) + 1):
            for c in range(c0, c1 + 1):
                rows[r][c] = value
    return rows


def _find_header(grid: Grid, known: dict[str, str], override: dict[str, str | None], key: str
                 ) -> tuple[int, int, dict[int, tuple[str | None, str]]] | None:
    """The header band (first and last row, 0-based) that names the most fields and includes
    `key`; the shortest such band, then the earliest. Each column takes the bottom-most label
    in the band that names a field (so 主办单位 under a merged 承办单位 wins)."""
    rows = _filled_header(grid, HEADER_SEARCH_ROWS)
    matched = [[_match(v, known, override) for v in row] for row in rows]
    width = len(rows[0]) if rows else 0
    best: tuple[tuple[int, int, int], int, int, dict[int, tuple[str | None, str]]] | None = None
    for start in range(len(rows)):
        for end in range(start, min(start + HEADER_MAX_DEPTH, len(rows))):
            fields_of: dict[int, tuple[str | None, str]] = {}
            for col in range(width):
                labels = []
                for r in range(end, start - 1, -1):
                    if matched[r][col] is not _NO_MATCH:
                        fields_of[col] = (matched[r][col], cell_text(rows[r][col]))
                        break
                    if not is_blank(rows[r][col]):
                        labels.append(cell_text(rows[r][col]))
                else:
                    if labels:  # a column named by no field: keep its label for `ignored`
                        fields_of[col] = (None, "/".join(dict.fromkeys(reversed(labels))))
            names = {n for n, _ in fields_of.values() if n}
            if key not in names:
                continue
            rank = (len(names), -(end - start), -start)
            if best is None or rank > best[0]:
                best = (rank, start, end, fields_of)
    if best is None:
        return None
    _, start, end, fields_of = best
    for r0, c0, r1, c1 in grid.merged:  # a header cell merged down from above: its top row
        if r0 < start <= r1 and c1 - c0 < width - 1:  # (not a title merged across the sheet)
            start = r0
    return start, end, fields_of


def _match(value: Any, known: dict[str, str], override: dict[str, str | None]) -> Any:
    if is_blank(value) or not isinstance(value, str):
        return _NO_MATCH
    label = norm_header(value)
    if label in override:
        return override[label]
    return known.get(label, _NO_MATCH)


def _read_rows(grid: Grid, start: int, field_of: dict[int, str], key: str, table: Table) -> None:
    cells = [list(r) for r in grid.cells[start:]]
    horizontal: dict[int, tuple[int, int]] = {}  # data row -> the columns of a merge across it
    groups: dict[int, int] = {}                  # data row -> the last row of its item
    key_cols = [c for c, n in field_of.items() if n == key]
    for r0, c0, r1, c1 in grid.merged:
        if r0 < start:
            continue
        value = grid.cells[r0][c0]
        for r in range(r0, r1 + 1):
            cells[r - start][c0] = value  # a value merged down fills each row
            if c1 > c0:
                horizontal[r - start] = (c0, c1)
        if r1 > r0 and key_cols and c0 <= key_cols[0] <= c1:
            groups[r0 - start] = r1 - start
    index = 0
    while index < len(cells):
        last = groups.get(index, index)
        block = range(index, last + 1)
        index = last + 1
        if all(is_blank(v) for r in block for v in cells[r]):
            continue  # a blank row
        filled = [v for r in block for v in cells[r] if not is_blank(v)]
        if block[0] in horizontal and len(set(map(cell_text, filled))) == 1:
            # one text merged across the columns: a section heading (一、经济类) or a note
            table.skipped.append({"row": start + block[0] + 1, "text": cell_text(filled[0])})
            continue
        values: dict[str, list[Any]] = {}
        for r in block:
            for col, name in sorted(field_of.items()):
                value = cells[r][col]
                if not is_blank(value) and (len(block) == 1 or value not in values.get(name, ())):
                    values.setdefault(name, []).append(value)
        sheet_rows = tuple(start + r + 1 for r in block)
        if not values:  # content in unmatched columns only (序号 alone, a note): not an item
            table.skipped.append({"row": sheet_rows[0],
                                  "text": " ".join(dict.fromkeys(map(cell_text, filled)))})
            continue
        table.rows.append(Row(row=sheet_rows[0], rows=sheet_rows, cells=values))
