"""Spreadsheets in and out: the pure core (no HTTP, no CLI). See docs/sheets.md.

- `assignment_preview(source, bureaus=..., existing=..., kind=..., year=...)`: an assignment list
  (交办清单) → a preview of `submit` + `assign` commands per item, with unchanged/differs/refused
  rows; the commit step sends `preview_commands(preview)`.
- `reply_preview(source, bureau=..., proposals=..., ...)`: one bureau's reply list →
  `log_contact` + `reply` + `decide_disclosure` per item.
- `read_sheet(source, headers, mapping=..., limits=...)`: the header finding and column matching
  under both, within the bounds of `SheetLimits` (.xlsx streamed: banli.sheets.xlsx);
- `read_table(source, "assignments" | "replies", limits=...)`: the same in a child process with
  its memory and time bounded, for files from outside (banli.sheets.isolate);
- the kind and year a list's title names fill in for missing options (banli.sheets.infer);
- `write_xlsx(sheets, lang=..., numbers=...)`: lists of dicts → .xlsx bytes.
"""
from .assignment_list import BureauIndex, assignment_preview
from .isolate import read_table
from .limits import DEFAULT_LIMITS, SheetLimits
from .preview import Preview, RowResult, command_id, preview_commands
from .read import (ASSIGNMENT_HEADERS, REPLY_HEADERS, Row, SheetError, Table, load_mapping,
                   read_sheet)
from .replies import reply_preview
from .values import parse_date
from .write import Column, Sheet, write_xlsx

__all__ = [
    "ASSIGNMENT_HEADERS", "BureauIndex", "Column", "DEFAULT_LIMITS", "Preview", "REPLY_HEADERS",
    "Row", "RowResult", "Sheet", "SheetError", "SheetLimits", "Table", "assignment_preview",
    "command_id", "load_mapping", "parse_date", "preview_commands", "read_sheet", "read_table",
    "reply_preview", "write_xlsx",
]
