"""The report as text for people, in Chinese (default) or English."""
from __future__ import annotations

from .domain.rates import RATES, Report


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def render_text(report: Report, bureau_name: str | None = None, lang: str = "zh") -> str:
    s, a = report.scope, report.assignments
    npc, cppcc = a["npc_suggestion"], a["cppcc_proposal"]
    handled_npc, handled_cppcc = npc.lead + npc.co, cppcc.lead + cppcc.co
    r, d, f = report.results, report.disclosure, report.feedback
    by = report.feedback_recorders
    years = f"{s.years[0]}" if s.years[0] == s.years[1] else "{}–{}".format(*s.years)
    who = bureau_name or s.bureau or ("全部承办单位" if lang == "zh" else "all bureaus")
    if lang == "en":
        lines = [
            f"{who}: suggestions and proposals of {years}, as of {s.as_of} "
            f"(profile {s.profile})",
            f"Handled {handled_npc + handled_cppcc} on {report.proposals} items: "
            f"NPC suggestions {handled_npc} (lead {npc.lead}, co {npc.co}); "
            f"CPPCC proposals {handled_cppcc} (lead {cppcc.lead}, co {cppcc.co})",
            f"Lead replies {report.replies}: solved {r['solved']}, planned {r['planned']}, "
            f"deferred {r['deferred']}, reference {r['reference']}",
            f"Disclosure: full {d['full']}, summary {d['summary']}, withheld {d['withheld']}, "
            f"exempt {d['exempt']}, undecided {d['undecided']}",
            f"Feedback: satisfied {f['satisfied']}, basically satisfied "
            f"{f['basically_satisfied']}, dissatisfied {f['dissatisfied']}; recorded by the "
            f"filer {by['filer']}, the office {by['office']}, the bureau itself {by['bureau']}",
        ]
        lines += [f"{rate.en}: {percent(report.rates[rate.name])}" for rate in RATES]
        return "\n".join(lines) + "\n"
    lines = [
        f"{who} {years} 年度建议提案办理情况（截至 {s.as_of}，统计口径 {s.profile}）",
        f"共承办 {handled_npc + handled_cppcc} 件（涉及 {report.proposals} 件建议提案），"
        f"其中代表建议 {handled_npc} 件（主办件 {npc.lead} 件，会办件 {npc.co} 件）；"
        f"政协提案 {handled_cppcc} 件（主办件 {cppcc.lead} 件，会办件 {cppcc.co} 件）。",
        f"主办件已答复 {report.replies} 件：解决采纳（A类）{r['solved']} 件，"
        f"正在解决或列入计划（B类）{r['planned']} 件，因条件限制待以后解决（C类）{r['deferred']} 件，"
        f"留作参考（D类）{r['reference']} 件。",
        f"答复公开：全文公开 {d['full']} 件，摘要公开 {d['summary']} 件，不公开 {d['withheld']} 件，"
        f"依法不公开 {d['exempt']} 件，未决定 {d['undecided']} 件。",
        f"意见反馈：满意 {f['satisfied']} 件，基本满意 {f['basically_satisfied']} 件，"
        f"不满意 {f['dissatisfied']} 件；满意度录入：代表委员本人 {by['filer']} 件，"
        f"交办单位 {by['office']} 件，承办单位自行录入 {by['bureau']} 件。",
    ]
    lines += [f"{rate.zh}：{percent(report.rates[rate.name])}" for rate in RATES]
    return "\n".join(lines) + "\n"
