"""Tables laid out from their content: each column as wide as what it holds needs.

A column of 序号, counts, dates, codes (案号) or rates never wraps: it gets the width of its
widest cell. Rates are "92%（24/26）" on one line where the table has room; where it has not,
the fraction goes under the percent (each still on one line), never broken inside. What is
left goes to the columns that may wrap (titles, names, labels), in proportion to what they
hold; a table that still does not fit is set smaller (down to 小五), then squeezed.

Widths are estimated from the characters (a CJK character is one em; Latin letters and digits
are Times New Roman's, the face the documents set for them), with a margin for the faces Word,
WPS or LibreOffice substitute. DOCX sets them as the table's fixed grid; HTML as its columns'
shares (and `white-space: nowrap` on the cells that must not wrap)."""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from .blocks import NO_WRAP, Table, plain

MM_PER_PT = 25.4 / 72
SAFETY = 1.1              # substituted faces run wider than Times New Roman
SMALLEST = 9.0            # 小五: a table is never set smaller
TEXT_LEAST = 6.0          # ems: a title or a name keeps at least so many characters a line
PADDING = 2.6            # mm a table cell takes besides its text: its margins and borders
KEEP_WHOLE = 15           # a table in the text of at most so many rows (its header too) is
                          # kept on one page
LABEL_LEAST = 5.0         # ems: and a label (依法不公开, a rate's name) so many, until it must not
# Times New Roman's advance widths (em) of what tables hold; other Latin letters about 0.5
_LATIN = {**dict.fromkeys("0123456789", 0.5), "%": 0.833, "/": 0.278, "-": 0.333, ".": 0.25,
          ",": 0.25, " ": 0.25, "(": 0.333, ")": 0.333, ":": 0.278, "#": 0.5, "—": 1.0}
_RATE = re.compile(r"^(.*?%)\s*([（(].*[）)])$")
_CODE = re.compile(r"^(.*?)\s*([（(].*[）)])$")


def em(text: str) -> float:
    """The width of `text` in ems."""
    width = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            width += 1.0
        elif ch in _LATIN:
            width += _LATIN[ch]
        else:
            width += 0.68 if ch.isupper() else 0.47
    return width * SAFETY


def rate_parts(text: str) -> tuple[str, str] | None:
    """`92%（24/26）` -> ("92%", "（24/26）"); None for a rate with nothing to count ("—")."""
    match = _RATE.match(text)
    return (match[1], match[2]) if match else None


def unbroken(kind: str, text: str) -> list[str]:
    """The pieces of a cell that a line never breaks inside: the whole cell in a column that
    never wraps, but a rate's percent and fraction, and a number and its level (`21001（省级）`),
    each on its own line where the column is narrow."""
    if kind == "rate" and (parts := rate_parts(text)) is not None:
        return list(parts)
    if kind == "code" and (match := _CODE.match(text)) is not None:
        return [match[1], match[2]]
    return [text]


def _longest_word(text: str) -> float:
    """The widest piece a line may not break inside: a CJK character, or a Latin word."""
    pieces = re.findall(r"[\x21-\x7e]+|\S", text)
    return max((em(p) for p in pieces), default=0.0)


def _on_lines(text: str, lines: int) -> float:
    """About the width `text` needs to fit on `lines` lines (a word never broken)."""
    pieces = re.findall(r"[\x21-\x7e]+ ?|\S", text)
    per_line = math.ceil(len(pieces) / lines)
    widest = max((em("".join(pieces[i:i + per_line])) for i in range(0, len(pieces), per_line)),
                 default=0.0)
    return max(widest, _longest_word(text))


@dataclass(frozen=True)
class Layout:
    widths: list[float]   # mm per column, adding up to the width given
    size: float           # the font size (pt)
    split: frozenset[int] = frozenset()  # columns whose cells put each unbroken piece on a
                                         # line of its own (a rate's fraction under its percent)

    def lines(self, column: int) -> int:
        return 2 if column in self.split else 1


def layout(table: Table, width: float, size: float, padding: float) -> Layout:
    """Column widths (mm) for `table` in a text block `width` mm wide at `size` pt, each cell
    taking `padding` mm besides its text. In order of preference: every cell on one line; rates
    on two; titles and names wrapped down to a few characters; the same one size smaller; then
    labels wrapped too; at last titles and names narrower still. A header may take up to three
    lines."""
    sizes = [size]
    while sizes[-1] > SMALLEST:
        sizes.append(max(SMALLEST, sizes[-1] - 1.5))
    for squeeze_labels in (False, True):
        for each in sizes if not squeeze_labels else sizes[-1:]:
            for rate_lines in (1, 2):
                found = _fit(table, width, each, padding, rate_lines, squeeze_labels)
                if found is not None:
                    return Layout(found, each, _split(table, found, each, padding, rate_lines))
    size = sizes[-1]
    # does not fit even so: the columns that wrap share what the others leave
    need = _needs(table, size, padding, 2)
    fixed = sum(least for _, _, least, wraps in need if not wraps)
    wrapping = sum(least for _, _, least, wraps in need if wraps)
    share = max(width - fixed, 0.0) / wrapping if wrapping else 0.0
    widths = [least * share if wraps else least for _, _, least, wraps in need]
    if sum(widths) > width:  # not even the numbers fit: all squeezed alike
        widths = [w * width / sum(widths) for w in widths]
    return Layout(widths, size, _split(table, widths, size, padding, 2))


def _split(table: Table, widths: list[float], size: float, padding: float, rate_lines: int
           ) -> frozenset[int]:
    """The rate columns with the fraction under the percent, and the code columns too narrow
    for a number and its level on one line (the level goes under it, never broken)."""
    mm = size * MM_PER_PT
    split = set()
    for column, width in enumerate(widths):
        kind = table.kind(column)
        if kind == "rate" and rate_lines == 2:
            split.add(column)
        elif kind == "code" and any(em(plain(row[column])) * mm + padding > width
                                    for row in table.rows):
            split.add(column)
    return frozenset(split)


def _needs(table: Table, size: float, padding: float, rate_lines: int,
           squeeze_labels: bool = True) -> list[tuple[float, float, float, bool]]:
    """Per column, in mm: (comfortable: its cells and its header each on one line, natural:
    its cells on one line and its header on as few lines as it takes, least, may wrap)."""
    mm = size * MM_PER_PT
    out = []
    for column, header in enumerate(table.header):
        kind = table.kind(column)
        cells = [plain(row[column]) for row in table.rows]
        if (kind == "rate" and rate_lines == 2) or kind == "code":
            body = max((max(em(p) for p in unbroken(kind, c)) for c in cells), default=0.0)
        else:
            body = max((em(c) for c in cells), default=0.0)
        # a header may take two or three lines, never breaking a word
        head = _on_lines(header, 3)
        comfortable = max(body, em(header)) * mm + padding
        if kind in NO_WRAP:
            least = max(body, head) * mm + padding
            out.append((comfortable, least, least, False))
        else:
            longest = max((_longest_word(c) for c in cells), default=0.0)
            floor = (TEXT_LEAST if kind == "text" else 2.0 if squeeze_labels
                     else min(LABEL_LEAST, body))
            least = max(head, longest, floor) * mm + padding
            out.append((comfortable, max(body * mm + padding, least), least, True))
    return out


def _fit(table: Table, width: float, size: float, padding: float, rate_lines: int,
         squeeze_labels: bool) -> list[float] | None:
    need = _needs(table, size, padding, rate_lines, squeeze_labels)
    comfortable = sum(c for c, _, _, _ in need)
    if comfortable <= width:  # everything on one line: the spare spread over every column
        return [c * width / comfortable for c, _, _, _ in need]
    fixed = sum(n for _, n, _, wraps in need if not wraps)
    flexible = [(n, least) for _, n, least, wraps in need if wraps]
    room = width - fixed
    if room < sum(least for _, least in flexible) - 1e-6:
        return None
    if not flexible:  # every column fixed: the spare spread over all of them
        return [n * width / fixed for _, n, _, _ in need]
    natural = sum(n for n, _ in flexible)
    if natural <= room:  # room to spare: the wrapping columns (titles, names) take it
        grown = [n + (room - natural) * n / natural for n, _ in flexible]
    else:  # each gives in proportion to what it can: titles most, short labels least
        grown = _squeeze(flexible, room)
    it = iter(grown)
    return [next(it) if wraps else n for _, n, _, wraps in need]


def _squeeze(columns: list[tuple[float, float]], room: float) -> list[float]:
    """Natural widths cut down to `room` in proportion to what each can give (its natural
    width over its least), none below its least."""
    natural = sum(n for n, _ in columns)
    least = sum(m for _, m in columns)
    if natural - least <= 0:
        return [m for _, m in columns]
    give = (natural - room) / (natural - least)
    return [n - (n - m) * give for n, m in columns]
