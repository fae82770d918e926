"""A workbook's visible worksheets as `Grid`s, whatever the file's format, within bounds.

The format is taken from the file's first bytes, never from its name: a zip holding a workbook
part is .xlsx/.xlsm (read as a stream: banli.sheets.xlsx), one holding xl/workbook.bin is .xlsb,
one whose `mimetype` says so is .ods, an OLE2 compound file is .xls; those three are read by
python-calamine, which builds each worksheet's used range in memory at once, so that the
worksheet's extent is checked only after it is built: run them where the reading process's
memory is bounded (banli.sheets.isolate). A zip that holds no workbook, a PDF, text or anything
else is `unreadable`, and says what it is.
"""
from __future__ import annotations

import io
import os
from typing import IO, Any, BinaryIO, Iterator, Union

from .errors import SheetError
from .grid import Grid, clip_merges
from .limits import DEFAULT_LIMITS, SheetLimits, too_large
from .xlsx import Archive, unreadable, xlsx_grids

Source = Union[bytes, bytearray, str, os.PathLike, BinaryIO]

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def open_source(source: Source, limits: SheetLimits) -> IO[bytes]:
    """A seekable binary file of the source, its size checked against `max_bytes` first."""
    file: IO[bytes]
    if isinstance(source, (bytes, bytearray)):
        size, file = len(source), io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
        size = os.stat(source).st_size
        if size > limits.max_bytes:
            raise too_large("bytes", limits.max_bytes, size)
        file = open(source, "rb")
    else:
        file = source
        size = file.seek(0, os.SEEK_END)
        file.seek(0)
    if size > limits.max_bytes:
        file.close()
        raise too_large("bytes", limits.max_bytes, size)
    return file


def sniff(head: bytes, archive: Archive | None) -> str:
    """The format: xlsx, xlsb, ods or xls; else `unreadable`, saying what the file is."""
    if archive is not None:
        names = archive.entries
        if "xl/workbook.bin" in names:
            return "xlsb"
        if "mimetype" in names and b"".join(archive.chunks("mimetype")).strip() == ODS_MIMETYPE:
            return "ods"
        if "_rels/.rels" in names or "xl/workbook.xml" in names:
            return "xlsx"  # where its workbook part is, its relationships say
        raise unreadable("这是一个压缩包，但其中没有工作簿", "a zip archive, but no workbook in it")
    if head.startswith(OLE2):
        return "xls"
    if head.startswith(b"%PDF"):
        raise unreadable("这是 PDF 文件，不是表格", "it is a PDF, not a spreadsheet")
    if not head:
        raise unreadable("文件为空", "the file is empty")
    if _text(head):
        what = ("这是文本文件，不是表格（CSV 请先另存为 .xlsx）",
                "it is text, not a spreadsheet (save a CSV as .xlsx first)")
    else:
        what = ("不是可识别的表格格式（支持 .xlsx .xlsm .xls .xlsb .ods）",
                "not a spreadsheet format Banli reads (.xlsx .xlsm .xls .xlsb .ods)")
    raise unreadable(*what)


def _text(head: bytes) -> bool:
    """Whether the file's first bytes are UTF-8 text (a character cut at the end is fine)."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3 and b"\0" not in head
    return b"\0" not in head


def load_grids(source: Source, limits: SheetLimits = DEFAULT_LIMITS) -> Iterator[Grid]:
    """The visible worksheets of a workbook (bytes, a path or a binary file), in order, one at
    a time. Raises SheetError: `unreadable`, or `sheet_too_large` past a bound."""
    file = open_source(source, limits)
    try:
        head = file.read(512)
        file.seek(0)
        archive = Archive(file, limits) if head.startswith(b"PK") else None
        kind = sniff(head, archive)
        if kind == "xlsx":
            assert archive is not None
            yield from xlsx_grids(archive, limits)
            return
        if archive is not None:  # calamine inflates what it reads: bound all of it at once
            total = sum(info.file_size for info in archive.entries.values())
            if total > limits.max_unzipped_bytes:
                raise too_large("unzipped", limits.max_unzipped_mb, -(-total // (1 << 20)))
            file.seek(0)
        yield from calamine_grids(file, limits)
    finally:
        file.close()


def calamine_grids(file: IO[bytes], limits: SheetLimits) -> Iterator[Grid]:
    """.xls, .xlsb and .ods through python-calamine: each worksheet's extent and cells checked
    once calamine has built it (its memory is bounded by the reading process's limit)."""
    import python_calamine as calamine

    try:
        book = calamine.CalamineWorkbook.from_filelike(file)
    except Exception as exc:  # calamine raises its own errors, zip errors and XML errors
        raise unreadable("文件已损坏或格式不对", f"damaged, or not what it seems ({exc})") from exc
    try:
        for meta in book.sheets_metadata:
            if not (str(meta.typ).endswith("WorkSheet") and str(meta.visible).endswith("Visible")):
                continue
            try:
                sheet = book.get_sheet_by_name(meta.name)
            except Exception as exc:
                raise unreadable(f"工作表“{meta.name}”已损坏",
                                 f"worksheet '{meta.name}' is damaged ({exc})") from exc
            rows, cols = (sheet.end[0] + 1, sheet.end[1] + 1) if sheet.end else (0, 0)
            if rows > limits.max_rows:
                raise too_large("rows", limits.max_rows, rows)
            if cols > limits.max_columns:
                raise too_large("columns", limits.max_columns, cols)
            cells: list[list[Any]] = sheet.to_python(skip_empty_area=False)
            if sum(1 for r in cells for v in r if v not in ("", None)) > limits.max_cells:
                raise too_large("cells", limits.max_cells)
            width = max((len(r) for r in cells), default=0)
            cells = [list(r) + [""] * (width - len(r)) for r in cells]
            merged = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in
                      (sheet.merged_cell_ranges or [])]
            yield Grid(meta.name, cells, clip_merges(merged, len(cells), width))
    finally:
        book.close()


__all__ = ["Grid", "SheetError", "Source", "load_grids"]
