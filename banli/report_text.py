"""The report as text for people, in Chinese (default) or English."""
from __future__ import annotations

from typing import Any

RATE_NAMES = {
    "on_time_reply": ("按期办复率", "on-time reply rate"),
    "on_time_opinion": ("会办意见按期率", "on-time opinion rate"),
    "completion": ("办复率", "completion rate"),
    "adoption": ("解决采纳率", "adoption rate"),
    "disclosure": ("公开率", "disclosure rate"),
    "satisfaction": ("满意率", "satisfaction rate"),
    "contact": ("沟通率", "contact rate"),
    # 代表被满意: how much of the satisfaction feedback the bureau typed in itself
    "self_recorded_feedback": ("满意度由本单位自行录入占比", "feedback recorded by the bureau itself"),
}


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def render_text(report: dict[str, Any], bureau_name: str | None = None, lang: str = "zh") -> str:
    s, a = report["scope"], report["assignments"]
    npc, cppcc = a["npc_suggestion"], a["cppcc_proposal"]
    r, d, f = report["results"], report["disclosure"], report["feedback"]
    years = f"{s['years'][0]}" if s["years"][0] == s["years"][1] else "{}–{}".format(*s["years"])
    who = bureau_name or s["bureau"] or ("全部承办单位" if lang == "zh" else "all bureaus")
    if lang == "en":
        lines = [
            f"{who}: suggestions and proposals of {years}, as of {s['as_of']} "
            f"(profile {s['profile']})",
            f"Handled {sum(npc.values()) + sum(cppcc.values())} on {report['proposals']} items: "
            f"NPC suggestions {sum(npc.values())} (lead {npc['lead']}, co {npc['co']}); "
            f"CPPCC proposals {sum(cppcc.values())} (lead {cppcc['lead']}, co {cppcc['co']})",
            f"Lead replies {report['replies']}: solved {r['solved']}, planned {r['planned']}, "
            f"deferred {r['deferred']}, reference {r['reference']}",
            f"Disclosure: full {d['full']}, summary {d['summary']}, withheld {d['withheld']}, "
            f"exempt {d['exempt']}, undecided {d['undecided']}",
            f"Feedback: satisfied {f['satisfied']}, basically satisfied "
            f"{f['basically_satisfied']}, dissatisfied {f['dissatisfied']}",
        ]
        lines += [f"{en}: {percent(report['rates'][k])}" for k, (_, en) in RATE_NAMES.items()]
        return "\n".join(lines) + "\n"
    lines = [
        f"{who} {years} 年度建议提案办理情况（截至 {s['as_of']}，统计口径 {s['profile']}）",
        f"共承办 {sum(npc.values()) + sum(cppcc.values())} 件（涉及 {report['proposals']} 件建议提案），"
        f"其中代表建议 {sum(npc.values())} 件（主办件 {npc['lead']} 件，会办件 {npc['co']} 件）；"
        f"政协提案 {sum(cppcc.values())} 件（主办件 {cppcc['lead']} 件，会办件 {cppcc['co']} 件）。",
        f"主办件已答复 {report['replies']} 件：解决采纳（A类）{r['solved']} 件，"
        f"正在解决或列入计划（B类）{r['planned']} 件，因条件限制待以后解决（C类）{r['deferred']} 件，"
        f"留作参考（D类）{r['reference']} 件。",
        f"答复公开：全文公开 {d['full']} 件，摘要公开 {d['summary']} 件，不公开 {d['withheld']} 件，"
        f"依法不公开 {d['exempt']} 件，未决定 {d['undecided']} 件。",
        f"意见反馈：满意 {f['satisfied']} 件，基本满意 {f['basically_satisfied']} 件，"
        f"不满意 {f['dissatisfied']} 件。",
    ]
    lines += [f"{zh}：{percent(report['rates'][k])}" for k, (zh, _) in RATE_NAMES.items()]
    return "\n".join(lines) + "\n"
