"""A report's numbers as label/value pairs: the first sheet of a spreadsheet whose list is
behind them (banli.sheets.write_xlsx's `numbers`), in the same scope and clocks."""
from __future__ import annotations

from typing import Any

from ..domain.views.rates import RATES, Report

Number = tuple[tuple[str, str], Any, str | None]


def report_numbers(report: Report) -> list[Number]:
    """The scope, the counts, each rate and its numerator/denominator, the records' entries."""
    s = report.scope
    years = f"{s.years[0]}" if s.years[0] == s.years[1] else f"{s.years[0]}–{s.years[1]}"
    lead = sum(r.lead for r in report.assignments.values())
    co = sum(r.co for r in report.assignments.values())
    numbers: list[Number] = [
        (("承办单位", "Bureau"), s.bureau or "全部 all", None),
        (("年度", "Years"), years, None), (("截至日期", "As of"), s.as_of, "date"),
        (("统计口径", "Profile"), s.profile, None),
        (("涉及件数", "Items"), report.proposals, "number"),
        (("主办件", "Lead"), lead, "number"), (("会办件", "Co"), co, "number"),
        (("已答复", "Replied"), report.replies, "number")]
    for rate in RATES:
        fraction = report.fractions[rate.name]
        numbers.append(((rate.zh, rate.en), report.rates[rate.name], "percent"))
        numbers.append(((f"{rate.zh}（分子/分母）", f"{rate.en} (numerator/denominator)"),
                        f"{fraction.numerator}/{fraction.denominator}", None))
    if report.entries is not None:
        numbers.append((("办理记录", "Records"), report.entries.records, "number"))
        numbers.append((("补录", "Entered late"), report.entries.late, "number"))
        numbers.append((("批量导入", "Imported"), report.entries.imported, "number"))
    return numbers
