"""A worksheet's cells as read, whatever the file's format."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Grid:
    """A worksheet's cells, 0-based and rectangular ('' for blank), and its merged ranges as
    (first row, first column, last row, last column), 0-based, inclusive and within the cells
    (see `clip_merges`)."""

    name: str
    cells: list[list[Any]]
    merged: list[tuple[int, int, int, int]]


def clip_merges(merged: list[tuple[int, int, int, int]], height: int, width: int
                ) -> list[tuple[int, int, int, int]]:
    """Merged ranges (0-based, inclusive) within a grid of `height` × `width`: a range that
    starts outside it holds nothing and is dropped, one that reaches past it ends at its edge."""
    return [(r0, c0, min(r1, height - 1), min(c1, width - 1))
            for r0, c0, r1, c1 in merged if 0 <= r0 < height and 0 <= c0 < width]
