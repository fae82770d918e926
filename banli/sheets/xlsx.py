"""Reading .xlsx and .xlsm as a stream, within bounds (banli.sheets.limits).

python-calamine reads a worksheet's whole used range into one dense array, so one cell at
XFD1048576 asks for half a terabyte. Here, as openpyxl's read-only mode does, the worksheet's
XML is parsed as it is inflated from the zip (expat, fed in chunks), and only the cells holding
a value are kept: each is checked against the row, column and cell bounds as it arrives, the
declared `<dimension>` before the first row, every entry's declared size before it is opened
and its inflated bytes while it is read. A document type declaration (the door to entity
expansion) is refused. What this gives is the `Grid` of banli.sheets.read: dense, 0-based, as
wide as the rightmost value, merged ranges clipped to it.

Cell values follow python-calamine's: shared and inline strings as text, numbers as int when
whole, booleans, error values as their text (#N/A), and a number whose style is a date format
(built-in ids 14-22, 27-36, 45-47, 50-58, or a custom format with d, m, y, h or s outside quotes
and brackets) as a date, a date-time, or a time when under one day and a time format.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO, Any, Callable, Iterator

from .errors import SheetError
from .grid import Grid, clip_merges
from .limits import SheetLimits, too_large

CHUNK = 1 << 16
EPOCH_1900 = datetime(1899, 12, 30)
EPOCH_1904 = datetime(1904, 1, 1)
MAX_SERIAL = 2_958_465  # 9999-12-31
DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
TIME_FORMAT_IDS = frozenset([18, 19, 20, 21, 45, 46, 47])


def unreadable(reason_zh: str, reason_en: str) -> SheetError:
    return SheetError("unreadable", f"无法读取表格文件：{reason_zh}",
                      f"cannot read the workbook: {reason_en}")


# ---------------------------------------------------------------- the zip, within bounds


class Archive:
    """A zip whose entries are read within the uncompressed-size bound: each entry's declared
    size is checked before it is opened, and what it inflates to is counted as it is read
    (zipfile stops at the declared size and checks the CRC, the count guards the rest)."""

    def __init__(self, file: IO[bytes], limits: SheetLimits):
        try:
            self.zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise unreadable("不是有效的压缩包", f"not a valid zip ({exc})") from exc
        self.limits = limits
        self.entries = {info.filename: info for info in self.zip.infolist()}
        if len(self.entries) > limits.max_zip_entries:
            raise too_large("entries", limits.max_zip_entries, len(self.entries))
        self.left = limits.max_unzipped_bytes

    def has(self, name: str) -> bool:
        return name in self.entries

    def chunks(self, name: str) -> Iterator[bytes]:
        info = self.entries[name]
        if info.file_size > self.left:
            raise too_large("unzipped", self.limits.max_unzipped_mb,
                            _mib(self.limits.max_unzipped_bytes - self.left + info.file_size))
        try:
            with self.zip.open(info) as stream:
                while chunk := stream.read(CHUNK):
                    self.left -= len(chunk)
                    if self.left < 0:
                        raise too_large("unzipped", self.limits.max_unzipped_mb)
                    yield chunk
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
                OSError, RuntimeError) as exc:  # a bad CRC, an unknown method, encryption
            raise unreadable(f"{name} 已损坏", f"{name} is damaged ({exc})") from exc

    def close(self) -> None:
        self.zip.close()


def _mib(size: int) -> int:
    return -(-size // (1 << 20))


# ---------------------------------------------------------------- streaming XML


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def parse(chunks: Iterator[bytes], start: Callable[[str, dict[str, str]], None],
          end: Callable[[str], None] | None = None,
          text: Callable[[str], None] | None = None) -> None:
    """Feed an XML stream to expat with handlers taking local names (prefixes dropped).
    A DOCTYPE or an entity declaration is refused: workbooks have neither."""
    import pyexpat

    parser = pyexpat.ParserCreate()
    parser.buffer_text = True

    def doctype(*_: Any) -> None:
        raise unreadable("包含 DOCTYPE 声明", "it declares a DOCTYPE")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = lambda name, attrs: start(_local(name), attrs)
    if end is not None:
        parser.EndElementHandler = lambda name: end(_local(name))
    if text is not None:
        parser.CharacterDataHandler = text
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except pyexpat.ExpatError as exc:
        raise unreadable("XML 格式错误", f"malformed XML ({exc})") from exc


# ---------------------------------------------------------------- the workbook's parts


@dataclass(frozen=True)
class SheetEntry:
    name: str
    path: str
    visible: bool


@dataclass
class Parts:
    sheets: list[SheetEntry]
    strings: str | None      # the shared strings' entry
    styles: str | None       # the styles' entry
    date1904: bool


def _relationships(archive: Archive, path: str) -> dict[str, tuple[str, str]]:
    """Id -> (type's last part, target entry) of a part's relationships."""
    folder, name = posixpath.split(path)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    found: dict[str, tuple[str, str]] = {}
    if not archive.has(rels):
        return found

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else \
                posixpath.normpath(posixpath.join(folder, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", "").rsplit("/", 1)[-1], target)

    parse(archive.chunks(rels), start)
    return found


def workbook_parts(archive: Archive) -> Parts:
    """The worksheets (name, entry, visible) in order, and the shared strings' and styles'
    entries, from the package's relationships (xl/workbook.xml where they say nothing)."""
    book = next((target for kind, target in _relationships(archive, "").values()
                 if kind == "officeDocument" and archive.has(target)), "xl/workbook.xml")
    if not archive.has(book) or not book.lower().endswith("workbook.xml"):  # a .docx, a .pptx
        raise unreadable("压缩包中没有工作簿", "a zip, but no workbook in it")
    rels = _relationships(archive, book)
    listed: list[tuple[str, str, bool]] = []
    date1904 = [False]

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "sheet":
            rid = next((v for k, v in attrs.items() if _local(k) == "id" and ":" in k), "")
            listed.append((attrs.get("name", ""), rid, attrs.get("state", "visible") == "visible"))
        elif tag == "workbookPr":
            date1904[0] = attrs.get("date1904", "").lower() in ("1", "true")

    parse(archive.chunks(book), start)
    sheets = [SheetEntry(name, rels[rid][1], visible) for name, rid, visible in listed
              if rid in rels and rels[rid][0] == "worksheet" and archive.has(rels[rid][1])]
    by_kind = {kind: target for kind, target in rels.values() if archive.has(target)}
    return Parts(sheets, by_kind.get("sharedStrings"), by_kind.get("styles"), date1904[0])


def shared_strings(archive: Archive, path: str | None, limits: SheetLimits) -> list[str]:
    """The shared strings' texts (runs joined, phonetic runs left out)."""
    strings: list[str] = []
    if path is None:
        return strings
    parts: list[str] = []
    state = {"si": False, "t": False, "rph": 0}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "si":
            state["si"] = True
            parts.clear()
        elif tag == "rPh":
            state["rph"] += 1
        elif tag == "t" and state["si"] and not state["rph"]:
            state["t"] = True

    def end(tag: str) -> None:
        if tag == "si":
            state["si"] = False
            if len(strings) >= limits.max_cells:
                raise too_large("strings", limits.max_cells)
            strings.append("".join(parts))
        elif tag == "rPh":
            state["rph"] -= 1
        elif tag == "t":
            state["t"] = False

    def text(data: str) -> None:
        if state["t"]:
            parts.append(data)

    parse(archive.chunks(path), start, end, text)
    return strings


_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


def is_date_format(code: str) -> bool:
    """A number format that shows a date or a time: d, m, y, h or s outside quoted text,
    escaped characters and brackets ([Red], [$-804])."""
    plain = _QUOTED.sub("", code.split(";")[0]).lower()
    return plain not in ("general", "") and bool(re.search(r"[dmyhs]", plain))


def is_time_format(code: str) -> bool:
    plain = _QUOTED.sub("", code.split(";")[0]).lower()
    return bool(re.search(r"[hs]", plain)) and not re.search(r"[dy]", plain)


def date_styles(archive: Archive, path: str | None) -> list[str | None]:
    """For each cell style (cellXfs, by index): "date", "time" or None."""
    if path is None:
        return []
    formats: dict[int, str] = {}
    styles: list[str | None] = []
    inside = {"cellXfs": False}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "numFmt":
            formats[_int(attrs.get("numFmtId"), -1)] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            inside["cellXfs"] = True
        elif tag == "xf" and inside["cellXfs"]:
            fmt = _int(attrs.get("numFmtId"), 0)
            code = formats.get(fmt)
            if code is not None:
                styles.append(("time" if is_time_format(code) else "date")
                              if is_date_format(code) else None)
            else:
                styles.append(("time" if fmt in TIME_FORMAT_IDS else "date")
                              if fmt in DATE_FORMAT_IDS else None)

    def end(tag: str) -> None:
        if tag == "cellXfs":
            inside["cellXfs"] = False

    parse(archive.chunks(path), start, end)
    return styles


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


# ---------------------------------------------------------------- a worksheet

_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")


def cell_index(ref: str) -> tuple[int, int]:
    """A1 -> (1, 1), XFD1048576 -> (1048576, 16384): 1-based row and column."""
    match = _REF.match(ref)
    if not match:
        raise unreadable(f"单元格引用“{ref[:20]}”无效", f"bad cell reference '{ref[:20]}'")
    col = 0
    for char in match.group(1).upper():
        col = col * 26 + ord(char) - 64
    return int(match.group(2)), col


def _range(ref: str) -> tuple[tuple[int, int], tuple[int, int]]:
    first, _, last = ref.partition(":")
    return cell_index(first), cell_index(last or first)


class _Worksheet:
    """The expat handlers of one worksheet: cells holding a value, by row and column."""

    def __init__(self, strings: list[str], styles: list[str | None], epoch: datetime,
                 limits: SheetLimits):
        self.strings, self.styles, self.epoch, self.limits = strings, styles, epoch, limits
        self.values: dict[int, dict[int, Any]] = {}
        self.merged: list[tuple[int, int, int, int]] = []
        self.count = 0
        self.row = 0
        self.col = 0
        self.cell: dict[str, str] = {}
        self.text: list[str] | None = None
        self.inline = 0
        self.rph = 0
        self.value: str | None = None
        self.inline_text: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                self.row, self.col = cell_index(ref)
            else:
                self.col += 1
            self.cell = attrs
            self.value, self.inline_text = None, []
        elif tag == "v":
            self.text = []
        elif tag == "is":
            self.inline += 1
        elif tag == "rPh":
            self.rph += 1
        elif tag == "t" and self.inline and not self.rph:
            self.text = []
        elif tag == "row":
            self.row = _int(attrs.get("r"), self.row + 1)
            self.col = 0
        elif tag == "mergeCell":
            if len(self.merged) >= self.limits.max_cells:
                raise too_large("merges", self.limits.max_cells)
            (r0, c0), (r1, c1) = _range(attrs.get("ref", ""))
            self.merged.append((min(r0, r1) - 1, min(c0, c1) - 1, max(r0, r1) - 1,
                                max(c0, c1) - 1))
        elif tag == "dimension":
            self.dimension(attrs.get("ref", ""))

    def end(self, tag: str) -> None:
        if tag == "v" and self.text is not None:
            self.value, self.text = "".join(self.text), None
        elif tag == "t" and self.text is not None:
            self.inline_text.append("".join(self.text))
            self.text = None
        elif tag == "is":
            self.inline -= 1
        elif tag == "rPh":
            self.rph -= 1
        elif tag == "c":
            self.keep(self.typed())

    def characters(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def dimension(self, ref: str) -> None:
        try:
            _, (rows, cols) = _range(ref)
        except SheetError:
            return  # a dimension is a hint; a bad one says nothing
        if rows > self.limits.max_rows or cols > self.limits.max_columns:
            raise too_large("dimension", f"{self.limits.max_rows} × {self.limits.max_columns}",
                            ref)

    def keep(self, value: Any) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return  # a blank or styled-only cell holds nothing
        if self.row > self.limits.max_rows:
            raise too_large("rows", self.limits.max_rows, self.row)
        if self.col > self.limits.max_columns:
            raise too_large("columns", self.limits.max_columns, self.col)
        self.count += 1
        if self.count > self.limits.max_cells:
            raise too_large("cells", self.limits.max_cells)
        self.values.setdefault(self.row, {})[self.col] = value

    def typed(self) -> Any:
        kind = self.cell.get("t", "n")
        if kind == "inlineStr":
            return "".join(self.inline_text)
        raw = self.value
        if raw is None:
            return None
        if kind == "s":
            index = _int(raw.strip(), -1)
            return self.strings[index] if 0 <= index < len(self.strings) else None
        if kind in ("str", "e"):
            return raw
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "d":
            try:
                return datetime.fromisoformat(raw.strip())
            except ValueError:
                return raw
        try:
            number = float(raw)
        except ValueError:
            return raw
        style = _int(self.cell.get("s"), 0)
        shown = self.styles[style] if 0 <= style < len(self.styles) else None
        if shown is not None and 0 <= number <= MAX_SERIAL:
            return self.moment(number, shown)
        return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number

    def moment(self, serial: float, shown: str) -> date | datetime | time:
        """A date-formatted number as a date (a whole day), a date-time (to the millisecond,
        as Excel keeps it), or a time of day (a time format, under one day)."""
        millis = round(serial * 86_400_000)
        if shown == "time" and serial < 1:
            seconds, millis = divmod(millis, 1000)
            return time(min(seconds // 3600, 23), seconds // 60 % 60, seconds % 60, millis * 1000)
        moment = self.epoch + timedelta(milliseconds=millis)
        return moment.date() if serial.is_integer() else moment

    def grid(self, name: str) -> Grid:
        """Dense, 0-based, as high as the lowest value and as wide as the rightmost; merged
        ranges clipped to it (a merge outside the cells holding values holds nothing)."""
        height = max(self.values, default=0)
        width = max((max(cols) for cols in self.values.values()), default=0)
        cells: list[list[Any]] = [[""] * width for _ in range(height)]
        for row, cols in self.values.items():
            line = cells[row - 1]
            for col, value in cols.items():
                line[col - 1] = value
        return Grid(name, cells, clip_merges(self.merged, height, width))


def xlsx_grids(archive: Archive, limits: SheetLimits) -> Iterator[Grid]:
    """The visible worksheets of an .xlsx/.xlsm, one at a time, in order (a caller looking for
    the first with a header reads no further)."""
    try:
        parts = workbook_parts(archive)
        strings = shared_strings(archive, parts.strings, limits)
        styles = date_styles(archive, parts.styles)
        epoch = EPOCH_1904 if parts.date1904 else EPOCH_1900
        for entry in parts.sheets:
            if not entry.visible:
                continue
            sheet = _Worksheet(strings, styles, epoch, limits)
            parse(archive.chunks(entry.path), sheet.start, sheet.end, sheet.characters)
            yield sheet.grid(entry.name)
    finally:
        archive.close()
