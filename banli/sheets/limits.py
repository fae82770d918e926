"""The bounds within which an uploaded spreadsheet is read (docs/sheets.md, "Bounds").

A sheet is untrusted input: a 5 KB file may declare a cell at XFD1048576, a 300 KB zip may
inflate to gigabytes. Every bound here is checked before anything of its size is allocated,
and a sheet past one is refused as a whole with `sheet_too_large` (HTTP 413), naming the bound,
the limit and the setting that raises it. The defaults fit a real office's lists (a 交办清单 of a
few thousand rows, a reply list of a few hundred) and a small shared machine (2 cores).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .errors import SheetError

MIB = 1 << 20


@dataclass(frozen=True)
class SheetLimits:
    """Bounds on reading one sheet, and on the previews a process keeps. Each field is the
    setting `BANLI_SHEET_<FIELD>` (banli.settings)."""

    max_bytes: int = 16 * MIB          # the file itself
    max_rows: int = 20_000             # the last row holding a value (also the declared one)
    max_columns: int = 200             # the last column holding a value (also the declared one)
    max_cells: int = 400_000           # cells holding a value; also shared strings and merges
    max_unzipped_mb: int = 128         # what the zip's entries read inflate to, in all
    max_zip_entries: int = 2_000       # entries in the zip (.xlsx, .xlsm, .xlsb, .ods)
    memory_mb: int = 1024              # the reading process's address space (RLIMIT_AS)
    cpu_s: int = 20                    # its processor time (RLIMIT_CPU)
    timeout_s: float = 30.0            # its wall-clock time
    parallel: int = 2                  # sheets read at once per process
    queue: int = 8                     # uploads waiting for a reader; more are refused (503)
    previews_per_user: int = 3         # previews kept per uploader (their oldest go first)
    previews_mb: int = 256             # previews kept by the process, in all

    @property
    def max_unzipped_bytes(self) -> int:
        return self.max_unzipped_mb * MIB

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_settings(cls, settings: Any) -> "SheetLimits":
        """The limits of a `banli.settings.Settings` (its `sheet_*` fields)."""
        return cls(**{name: getattr(settings, f"sheet_{name}") for name in cls.__dataclass_fields__})


DEFAULT_LIMITS = SheetLimits()

# bound -> (the setting that raises it, what it counts in zh, in en)
BOUNDS: dict[str, tuple[str, str, str]] = {
    "bytes": ("BANLI_SHEET_MAX_BYTES", "文件大小（字节）", "file size (bytes)"),
    "rows": ("BANLI_SHEET_MAX_ROWS", "行号", "row"),
    "columns": ("BANLI_SHEET_MAX_COLUMNS", "列号", "column"),
    "dimension": ("BANLI_SHEET_MAX_ROWS / BANLI_SHEET_MAX_COLUMNS", "声明的表格范围",
                  "declared dimension"),
    "cells": ("BANLI_SHEET_MAX_CELLS", "非空单元格数", "cells holding a value"),
    "strings": ("BANLI_SHEET_MAX_CELLS", "共享字符串数", "shared strings"),
    "merges": ("BANLI_SHEET_MAX_CELLS", "合并单元格区域数", "merged ranges"),
    "unzipped": ("BANLI_SHEET_MAX_UNZIPPED_MB", "解压后大小（MiB）", "uncompressed size (MiB)"),
    "entries": ("BANLI_SHEET_MAX_ZIP_ENTRIES", "压缩包内文件数", "entries in the zip"),
    "memory": ("BANLI_SHEET_MEMORY_MB", "读取所需内存（MiB）", "memory to read it (MiB)"),
    "time": ("BANLI_SHEET_TIMEOUT_S / BANLI_SHEET_CPU_S", "读取用时（秒）",
             "time to read it (seconds)"),
}


def too_large(bound: str, limit: Any, found: Any = None) -> SheetError:
    """The refusal of a sheet past `bound`: 413, naming the bound, its limit and its setting.
    `found` is what the sheet has, where it is known (reading stops at the bound)."""
    setting, zh, en = BOUNDS[bound]
    error = SheetError(
        "sheet_too_large",
        f"表格超出读取上限：{zh}" + (f"为 {found}，" if found is not None else "")
        + f"超过上限 {limit}（可由 {setting} 调整）",
        f"the sheet is past a bound: {en}" + (f" {found}," if found is not None else "")
        + f" over the limit of {limit} (set by {setting})",
        bound=bound, limit=limit, found=found, setting=setting)
    error.status = 413
    return error
