"""The model year-end report's history (DOMAIN.md; 沪知局〔2020〕118号) as commands.

Shanghai Intellectual Property Administration (`sh-ipa`), 2018 to 20 November 2020:
- 2020: 29 items; NPC lead 2, co 9; CPPCC lead 8, co 10; of the 10 lead items 9 solved, 1 kept
  for reference; every 2020 reply disclosed.
- 2018-2020: 70 items, lead 6 NPC + 20 CPPCC, all replied on time, 24 of 26 adopted.
- Of the 2018-2019 replies, 7 were first left undisclosed (withheld); the September 2020 review
  published 2 in full and 3 as summaries, found 1 exempt and kept 1 withheld: 24 of 25.
- A 2018 CPPCC proposal on IP talent was kept for reference and adopted in 2020.
- The bureau visited filers before replying; a co-handled item (led by the human-resources
  bureau) was raised with it through that bureau's visit.

`model_history()` returns the commands in the order they happened; `write_model_history`
writes them as the JSON Lines file shipped in `banli/data/`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator

MODEL_BUREAU = "sh-ipa"
MODEL_FILE = Path(__file__).resolve().parent.parent / "data" / "model_history.jsonl"

BUREAUS = [
    ("sh-ipa", "上海市知识产权局", "Shanghai Intellectual Property Administration"),
    ("sh-hrss", "上海市人力资源和社会保障局", "Shanghai Human Resources and Social Security Bureau"),
    ("sh-stcsm", "上海市科学技术委员会", "Shanghai Science and Technology Commission"),
    ("sh-jrj", "上海市地方金融监督管理局", "Shanghai Local Financial Supervision Bureau"),
    ("sh-sjxw", "上海市经济和信息化委员会", "Shanghai Economy and Informatization Commission"),
    ("sh-samr", "上海市市场监督管理局", "Shanghai Administration for Market Regulation"),
]
OTHER_LEADS = ["sh-hrss", "sh-stcsm", "sh-jrj", "sh-sjxw", "sh-samr"]
TOPICS = ["知识产权保护", "人才", "金融", "运营交易", "服务体系", "营商环境"]
FILERS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周涛", "吴婷"]

# Titles the report names; the rest are made up in the same manner.
NAMED = {
    (2020, "cppcc_proposal", "lead", 0): ("关于以构建知识产权流转平台为抓手，促长三角科创一体化的建议",
                                          "无党派人士界别", "运营交易"),
    (2020, "cppcc_proposal", "lead", 1): ("加大知识产权保护力度，进一步优化营商环境", "经济界别",
                                          "知识产权保护"),
    (2020, "cppcc_proposal", "lead", 2): ("关于创新和推广知识产权保险，促进知识产权流转的建议",
                                          "金融界别", "金融"),
    (2020, "cppcc_proposal", "co", 0): ("关于结构性改革助力创新城市建设的建议", "科技界别", "人才"),
    (2018, "cppcc_proposal", "lead", 0): ("关于完善知识产权专业人才落户就业政策的建议", "教育界别",
                                          "人才"),
}


@dataclass(frozen=True)
class Item:
    year: int
    kind: str
    role: str
    index: int  # within (year, kind, role)
    result: str = "solved"
    disclosure: str = "full"
    review: str | None = None  # the disclosure decided at the 2020 review
    revised_to: str | None = None  # result revised in 2020
    feedback: str | None = None


def _items() -> list[Item]:
    items: list[Item] = []
    counts = {  # (year, kind, role): how many
        (2018, "npc_suggestion", "lead"): 2, (2018, "cppcc_proposal", "lead"): 6,
        (2018, "npc_suggestion", "co"): 5, (2018, "cppcc_proposal", "co"): 7,
        (2019, "npc_suggestion", "lead"): 2, (2019, "cppcc_proposal", "lead"): 6,
        (2019, "npc_suggestion", "co"): 5, (2019, "cppcc_proposal", "co"): 8,
        (2020, "npc_suggestion", "lead"): 2, (2020, "cppcc_proposal", "lead"): 8,
        (2020, "npc_suggestion", "co"): 9, (2020, "cppcc_proposal", "co"): 10,
    }
    for (year, kind, role), n in counts.items():
        for i in range(n):
            items.append(Item(year, kind, role, i))
    # The 16 lead replies of 2018-2019: 7 first withheld, reviewed in 2020 (2 full, 3 summary,
    # 1 exempt, 1 still withheld); one 2019 NPC item deferred; the 2018 talent proposal kept for
    # reference and adopted in 2020. Feedback: all satisfied or basically satisfied.
    reviews = iter(["full", "full", "summary", "summary", "summary", "exempt", "withheld"])
    early_leads = [it for it in items if it.role == "lead" and it.year < 2020]
    out: list[Item] = []
    for it in items:
        if it in early_leads:
            k = early_leads.index(it)
            change: dict[str, Any] = {"feedback": "basically_satisfied" if k % 4 == 3 else "satisfied"}
            if k % 2 == 1 and k < 14:  # seven of them: 1, 3, 5, 7, 9, 11, 13
                change.update(disclosure="withheld", review=next(reviews))
            else:
                change["disclosure"] = "summary" if k % 3 == 0 else "full"
            if (it.year, it.kind, it.index) == (2018, "cppcc_proposal", 0):
                change.update(result="reference", revised_to="solved")
            if (it.year, it.kind, it.index) == (2019, "npc_suggestion", 1):
                change["result"] = "deferred"
            it = Item(**{**it.__dict__, **change})
        elif it.role == "lead":  # 2020: 9 solved, 1 reference; all disclosed
            result = "reference" if (it.kind, it.index) == ("cppcc_proposal", 7) else "solved"
            it = Item(**{**it.__dict__, "result": result,
                         "disclosure": "summary" if it.index % 3 == 2 else "full"})
        out.append(it)
    return out


def _at(day: date, hour: int = 10) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00+08:00"


def model_history() -> list[dict[str, Any]]:
    """The commands, ordered by business time (within a proposal, never backwards)."""
    timed: list[tuple[str, int, dict[str, Any]]] = []  # (at, order, command)

    def add(at: str, cmd: dict[str, Any]) -> None:
        timed.append((at, len(timed), {**cmd, "at": at}))

    for bureau, name, name_en in BUREAUS:
        add(_at(date(2018, 1, 2), 9), {"type": "register_bureau", "bureau": bureau, "name": name,
                                       "name_en": name_en})
    numbers: dict[tuple[int, str], int] = {}
    reviewed_on = date(2020, 9, 15)
    for serial, it in enumerate(_items()):
        key = (it.year, it.kind)
        numbers[key] = numbers.get(key, 0) + 1
        number = f"{(11 if it.kind == 'npc_suggestion' else 21)}{numbers[key]:03d}"
        pid = f"{it.year}-{it.kind}-{number}"
        title, affiliation, topic = NAMED.get(
            (it.year, it.kind, it.role, it.index),
            (f"关于{TOPICS[serial % len(TOPICS)]}工作的建议（{it.year}-{number}）",
             "上海代表团" if it.kind == "npc_suggestion" else "经济界别",
             TOPICS[serial % len(TOPICS)]))
        session = date(it.year, 1, 14 if it.kind == "cppcc_proposal" else 15)
        add(_at(session), {
            "type": "submit", "kind": it.kind, "level": "municipal", "year": it.year,
            "number": number, "title": title, "affiliation": affiliation, "topics": [topic],
            "filers": [{"name": FILERS[serial % len(FILERS)]},
                       {"name": FILERS[(serial + 3) % len(FILERS)]}],
        })
        assigned = date(it.year, 2, 20)
        other = OTHER_LEADS[serial % len(OTHER_LEADS)]
        if (it.year, it.kind, it.role, it.index) == (2020, "cppcc_proposal", "co", 0):
            other = "sh-hrss"
        if it.role == "lead":
            add(_at(assigned), {"type": "assign", "proposal": pid, "lead": [MODEL_BUREAU],
                                "co": [other]})
            offset = serial % 28
            add(_at(date(it.year, 3, 1) + timedelta(days=offset % 10)), {
                "type": "submit_opinion", "proposal": pid, "bureau": other,
                "summary": "会办意见已送主办单位"})
            add(_at(date(it.year, 3, 10) + timedelta(days=offset)), {
                "type": "log_contact", "proposal": pid, "bureau": MODEL_BUREAU,
                "stage": "before" if offset % 2 else "during",
                "method": "visit" if offset % 3 == 0 else "phone", "note": "听取代表委员意见"})
            replied = date(it.year, 4, 10) + timedelta(days=offset)
            add(_at(replied), {"type": "reply", "proposal": pid, "bureau": MODEL_BUREAU,
                               "result": it.result, "summary": "答复意见", "signed_by": "芮文彪"})
            add(_at(replied + timedelta(days=3)), {
                "type": "decide_disclosure", "proposal": pid, "bureau": MODEL_BUREAU,
                "disclosure": it.disclosure,
                **({"reason": "首次答复暂不公开"} if it.disclosure == "withheld" else
                   {"url": f"https://sipa.sh.gov.cn/jyta/{pid}.html"})})
            if it.feedback:
                add(_at(replied + timedelta(days=20)), {
                    "type": "record_feedback", "proposal": pid, "bureau": MODEL_BUREAU,
                    "satisfaction": it.feedback})
            if it.revised_to:
                add(_at(date(2020, 6, 30)), {
                    "type": "revise_result", "proposal": pid, "bureau": MODEL_BUREAU,
                    "result": it.revised_to,
                    "note": "《关于新时代上海实施人才引领发展战略的若干意见》已将知识产权服务纳入人才引进重点产业"})
            if it.review:
                add(_at(reviewed_on), {
                    "type": "decide_disclosure", "proposal": pid, "bureau": MODEL_BUREAU,
                    "disclosure": it.review, "reason": "本届以来建议提案梳理复核",
                    **({"url": f"https://sipa.sh.gov.cn/jyta/{pid}.html"}
                       if it.review in ("full", "summary") else {})})
        else:
            add(_at(assigned), {"type": "assign", "proposal": pid, "lead": [other],
                                "co": [MODEL_BUREAU]})
            offset = serial % 15
            if other == "sh-hrss" and it.year == 2020:
                add(_at(date(2020, 3, 3)), {
                    "type": "log_contact", "proposal": pid, "bureau": MODEL_BUREAU,
                    "stage": "during", "method": "visit",
                    "note": "市人社局走访提案人时委员提出知识产权问题，我局随即上门走访"})
            add(_at(date(it.year, 3, 1) + timedelta(days=offset)), {
                "type": "submit_opinion", "proposal": pid, "bureau": MODEL_BUREAU,
                "summary": "会办意见"})
            add(_at(date(it.year, 5, 1) + timedelta(days=offset)), {
                "type": "reply", "proposal": pid, "bureau": other,
                "result": "solved" if serial % 4 else "planned"})
    timed.sort(key=lambda t: (t[0], t[1]))
    return [cmd for _, _, cmd in timed]


def history_lines(commands: list[dict[str, Any]]) -> Iterator[str]:
    for cmd in commands:
        yield json.dumps(cmd, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_model_history(path: Path = MODEL_FILE) -> Path:
    path.write_text("".join(history_lines(model_history())), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_model_history())
