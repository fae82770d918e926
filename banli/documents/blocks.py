"""The document once, for every format: blocks (headings, paragraphs, tables) that each writer
lays out in its own way."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Masthead:
    agency: str | None      # 发文机关标志 (None for an all-bureaus document)
    number: str             # 发文字号


@dataclass(frozen=True)
class Title:
    text: str


@dataclass(frozen=True)
class Heading:
    level: int              # 1: 一、(黑体)  2: （一）(楷体)
    text: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Table:
    caption: str                        # "" for none
    header: list[str]
    rows: list[list[str]]
    widths: list[float] | None = None   # relative column widths, for wide tables


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
