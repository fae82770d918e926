"""Figures: each one beside a baseline measured in the same run, as a ratio, with the floor we
expect of it. The machines are shared and absolute times drift; the ratios are what we check.

`results.json` is a list of objects with `name`, `value`, `unit`, `baseline`, `ratio` and
`floor` (plus `note`, and `higher_is_better`), so a script can check every ratio against its
floor: `ratio >= floor` for every figure whose `floor` is not null.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence

FIELDS = ("name", "value", "unit", "baseline", "ratio", "floor")


@dataclass(frozen=True)
class Figure:
    """One measured figure. `ratio` is oriented so that bigger is better for us: a throughput
    over its baseline's, or a baseline's time over ours (`higher_is_better=False` figures, like
    latencies, state `ratio = ours / baseline` and have no floor)."""

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    floor: float | None = None
    note: str = ""
    higher_is_better: bool = True

    @property
    def passed(self) -> bool | None:
        """Whether the ratio meets its floor (None when there is nothing to check)."""
        if self.floor is None or self.ratio is None:
            return None
        return self.ratio >= self.floor


def throughput(name: str, value: float, baseline: float, unit: str, floor: float | None,
               note: str = "") -> Figure:
    """A rate against a baseline rate: ratio = ours / baseline."""
    return Figure(name, value, unit, baseline, _div(value, baseline), floor, note)


def speedup(name: str, value: float, baseline: float, unit: str, floor: float | None,
            note: str = "") -> Figure:
    """A time against a baseline time: ratio = baseline / ours (how many times faster)."""
    return Figure(name, value, unit, baseline, _div(baseline, value), floor, note)


def bounded(name: str, value: float, baseline: float, unit: str, limit: float,
            note: str = "") -> Figure:
    """A time against a baseline time (ratio = baseline / ours) that must also stay under an
    absolute `limit`: the floor is baseline / limit, so the ratio meets it exactly when the
    value is at most the limit."""
    return Figure(name, value, unit, baseline, _div(baseline, value), _div(baseline, limit), note)


def latency(name: str, value: float, baseline: float, unit: str, note: str = "") -> Figure:
    """A latency beside the bare relay's: ratio = ours / baseline, stated, not floored."""
    return Figure(name, value, unit, baseline, _div(value, baseline), None, note,
                  higher_is_better=False)


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def to_json(figures: Iterable[Figure]) -> list[dict]:
    return [{k: _round(v) for k, v in asdict(f).items()} for f in figures]


def _round(value):
    return round(value, 4) if isinstance(value, float) else value


def write(figures: Sequence[Figure], path: Path) -> None:
    path.write_text(json.dumps(to_json(figures), ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")


def table(figures: Sequence[Figure]) -> str:
    """The figures as a Markdown table (what `python -m bench` prints and README shows)."""
    lines = ["| figure | value | baseline | ratio | floor | |",
             "|---|---:|---:|---:|---:|---|"]
    for f in figures:
        mark = {True: "ok", False: "BELOW FLOOR", None: ""}[f.passed]
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}×"
        floor = "" if f.floor is None else f"≥ {f.floor:.3g}×"
        lines.append(f"| {f.name} | {_num(f.value)} {f.unit} | {_num(f.baseline)} | {ratio} "
                     f"| {floor} | {mark} |")
    notes = [f"- {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + ([""] + notes if notes else []))


def _num(x: float | None) -> str:
    if x is None:
        return "—"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"
