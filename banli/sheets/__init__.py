"""Spreadsheets in and out: the pure core (no HTTP, no CLI). See docs/sheets.md.

- `assignment_preview(source, bureaus=..., existing=..., kind=..., year=...)`: an assignment list
  (交办清单) → a preview of `submit` + `assign` commands per item, with unchanged/differs/refused
  rows; the commit step sends `preview_commands(preview)`.
- `reply_preview(source, bureau=..., proposals=..., ...)`: one bureau's reply list →
  `log_contact` + `reply` + `decide_disclosure` per item.
- `read_sheet(source, headers, mapping=...)`: the header finding and column matching under both.
- `write_xlsx(sheets, lang=..., numbers=...)`: lists of dicts → .xlsx bytes.
"""
from .assignment_list import BureauIndex, assignment_preview
from .preview import Preview, RowResult, command_id, preview_commands
from .read import (ASSIGNMENT_HEADERS, REPLY_HEADERS, Row, SheetError, Table, load_mapping,
                   read_sheet)
from .replies import reply_preview
from .values import parse_date
from .write import Column, Sheet, write_xlsx

__all__ = [
    "ASSIGNMENT_HEADERS", "BureauIndex", "Column", "Preview", "REPLY_HEADERS", "Row", "RowResult",
    "Sheet", "SheetError", "Table", "assignment_preview", "command_id", "load_mapping",
    "parse_date", "preview_commands", "read_sheet", "reply_preview", "write_xlsx",
]
