"""A report's numbers as label/value pairs: the first sheet of a spreadsheet whose list is
behind them (banli.sheets.write_xlsx's `numbers`), in the same scope and clocks, in words: the
bureau by its name, the profile by its, each rate as the 统计口径 rounds it beside its fraction."""
from __future__ import annotations

from typing import Any

from ..domain.timing.deadlines import PROFILE_WORDS
from ..domain.views.rates import RATES, Report

Number = tuple[tuple[str, str], Any, str | None]
ALL_BUREAUS = ("全部单位", "All bureaus")


def report_numbers(report: Report, bureau: tuple[str, str] | None = None) -> list[Number]:
    """The scope, the counts, each rate and its numerator/denominator, the records' entries.
    `bureau`: the scope's bureau by its name (zh, en); its id where not given."""
    s = report.scope
    years = f"{s.years[0]}" if s.years[0] == s.years[1] else f"{s.years[0]}–{s.years[1]}"
    lead = sum(r.lead for r in report.assignments.values())
    co = sum(r.co for r in report.assignments.values())
    named = bureau or ((s.bureau, s.bureau) if s.bureau else ALL_BUREAUS)
    numbers: list[Number] = [
        (("承办单位", "Bureau"), named, "words"),
        (("年度", "Years"), years, None), (("截至日期", "As of"), s.as_of, "date"),
        (("统计口径", "Profile"), PROFILE_WORDS.get(s.profile, (s.profile, s.profile)), "words"),
        (("涉及件数", "Items"), report.proposals, "number"),
        (("主办件", "Lead"), lead, "number"), (("会办件", "Co"), co, "number"),
        (("已答复", "Replied"), report.replies, "number")]
    for rate in RATES:
        fraction = report.fractions[rate.name]
        numbers.append(((rate.zh, rate.en), fraction, "rate"))
        numbers.append(((f"{rate.zh}（分子/分母）", f"{rate.en} (numerator/denominator)"),
                        f"{fraction.numerator}/{fraction.denominator}", None))
    if report.entries is not None:
        numbers.append((("办理记录", "Records"), report.entries.records, "number"))
        numbers.append((("补录", "Entered late"), report.entries.late, "number"))
        numbers.append((("批量导入", "Imported"), report.entries.imported, "number"))
    return numbers
