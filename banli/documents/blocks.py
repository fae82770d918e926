"""The document once, for every format: blocks (headings, paragraphs, tables) that each writer
lays out in its own way.

Every figure of the document (a count, a rate with its fraction) is a `Figure`: its text as
printed and its `Trace`, the drill-down that lists exactly what it counts. The writers link it
(DOCX, HTML) or print its text (Markdown); the evidence workbook lists its items."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..domain.rates import Scope


@dataclass(frozen=True)
class Trace:
    """Where a figure comes from: the items of one measure (banli.domain.rates.MEASURES, or a
    rate: its denominator's items, those its numerator counts marked) in one scope, or the
    bureaus' records of one kind (`entries`: all, late, imported, on_time) in one scope."""

    scope: Scope
    measure: str | None = None
    entries: str | None = None
    proposals: bool = False  # the figure counts the items' distinct proposals, not the items

    def __post_init__(self) -> None:
        if (self.measure is None) == (self.entries is None):
            raise ValueError("a trace names a measure or an entries kind, not both")


@dataclass(frozen=True)
class Figure:
    """One number of the document as printed (`29`, `92%（24/26）`), the count it states (a
    rate's: its numerator and denominator) and the drill-down behind it."""

    text: str
    trace: Trace
    count: int
    counted: int | None = None   # a rate's numerator (the count is its denominator)

    def __str__(self) -> str:
        return self.text


Cell = str | Figure
Part = str | Figure
# What a table's column holds, for its layout: index (序号), count, rate and date never wrap,
# nor does a code (案号); a label or a text (titles, names) wraps where it must.
ColumnKind = Literal["index", "count", "rate", "date", "code", "label", "text"]
NO_WRAP: frozenset[str] = frozenset({"index", "count", "rate", "date", "code"})


def plain(part: Part) -> str:
    return part.text if isinstance(part, Figure) else part


@dataclass(frozen=True)
class Masthead:
    agency: str                 # 发文机关标志: the bureau's, or the office's for all bureaus
    number: str | None          # 发文字号; left out when not given


@dataclass(frozen=True)
class Title:
    text: str


@dataclass(frozen=True)
class Heading:
    level: int              # 1: 一、(黑体)  2: （一）(楷体)
    text: str
    key: str | None = None  # what cross-references name it by (`definitions`, ...)


@dataclass(frozen=True, init=False)
class Para:
    """A paragraph: text with the figures in it. `Para("text")` or `Para("共", figure, "件")`."""

    parts: tuple[Part, ...]

    def __init__(self, *parts: Part) -> None:
        object.__setattr__(self, "parts", tuple(p for p in parts if p != ""))

    @property
    def text(self) -> str:
        return "".join(plain(p) for p in self.parts)


@dataclass(frozen=True)
class Table:
    caption: str                        # "" for none
    header: list[str]
    rows: list[list[Cell]]
    kinds: tuple[ColumnKind, ...] = field(default=())  # per column; () lays every column out as text
    total: bool = False                 # the last row is a total (合计): kept with the table

    def kind(self, column: int) -> ColumnKind:
        return self.kinds[column] if self.kinds else "text"


@dataclass(frozen=True)
class Closing:
    signer: str
    day: str


@dataclass(frozen=True)
class Appendix:
    """Starts an attachment (附件) on a new, landscape page."""

    label: str
    title: str


Block = Masthead | Title | Heading | Para | Table | Closing | Appendix


def title_of(blocks: list[Block]) -> str:
    return next(b.text for b in blocks if isinstance(b, Title))


def figures_of(blocks: list[Block]) -> list[Figure]:
    """Every figure of the document, in reading order."""
    found: list[Figure] = []
    for block in blocks:
        if isinstance(block, Para):
            found += [p for p in block.parts if isinstance(p, Figure)]
        elif isinstance(block, Table):
            found += [c for row in block.rows for c in row if isinstance(c, Figure)]
    return found
