"""The error of a sheet that cannot be read as a whole."""
from __future__ import annotations

from typing import Any


class SheetError(ValueError):
    """The sheet as a whole cannot be read (not a workbook, no header, a required column
    missing, a bad mapping: `status` 422) or is past a bound (`sheet_too_large`: 413, see
    banli.sheets.limits). Rows are never refused this way: they get row refusals."""

    status = 422

    def __init__(self, code: str, message: str, message_en: str, **details: Any):
        super().__init__(f"{message_en} ({message})")
        self.code, self.message, self.message_en, self.details = code, message, message_en, details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "message_en": self.message_en,
                "details": self.details}
