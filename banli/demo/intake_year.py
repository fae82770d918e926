"""A generated year of the office's review whose table is the national CPPCC's for its 2025
session (全国政协十四届三次会议, 4-10 March 2025), as the proposals committee published it:

- 5,890 proposals received; 5,002 filed, 262 merged, 626 not filed and passed on as opinions;
- of those filed, 4,531 members' proposals (90.6%) and 471 collective proposals (9.4%);
- by area: economy 2,133 (42.6%), politics 419 (8.4%), culture 459 (9.2%), society 1,387
  (27.7%), ecology 604 (12.1%).

    python -m banli.demo.intake_year > cppcc-2025.jsonl

Every proposal is received for review during the session, and the office decides each: some
are returned to their filers for revision and resubmitted first, some decisions come after the
review's due date; a few are classified in one area when received and filed in another. Every
filed proposal is assigned to a ministry, and a share is replied to and rated, so the handling
figures stand beside the review's. Deterministic (one seed); the lines are commands in
business-time order, without `actor` (the importer's)."""
from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import date, datetime, timedelta
from typing import Any, Iterator, Sequence

from ..domain.types import SHANGHAI

RECEIVED, FILED, MERGED, NOT_FILED = 5_890, 5_002, 262, 626
MEMBERS, COLLECTIVE = 4_531, 471
AREAS = {"economy": 2_133, "politics": 419, "culture": 459, "society": 1_387, "ecology": 604}
# the collective proposals filed, by the collective's kind (adding up to COLLECTIVE)
COLLECTIVE_KINDS = {"party": 268, "people_organisation": 67, "sector": 96,
                    "special_committee": 40}
AS_OF = date(2025, 12, 31)

SESSION = [date(2025, 3, 4) + timedelta(days=d) for d in range(7)]  # 4-10 March 2025
MINISTRIES = {
    "ndrc": ("国家发展和改革委员会", "National Development and Reform Commission"),
    "mof": ("财政部", "Ministry of Finance"),
    "miit": ("工业和信息化部", "Ministry of Industry and Information Technology"),
    "most": ("科学技术部", "Ministry of Science and Technology"),
    "moj": ("司法部", "Ministry of Justice"),
    "mca": ("民政部", "Ministry of Civil Affairs"),
    "mct": ("文化和旅游部", "Ministry of Culture and Tourism"),
    "moe": ("教育部", "Ministry of Education"),
    "mohrss": ("人力资源和社会保障部", "Ministry of Human Resources and Social Security"),
    "nhc": ("国家卫生健康委员会", "National Health Commission"),
    "mohurd": ("住房和城乡建设部", "Ministry of Housing and Urban-Rural Development"),
    "mee": ("生态环境部", "Ministry of Ecology and Environment"),
}
AREA_MINISTRIES = {"economy": ["ndrc", "mof", "miit", "most"], "politics": ["moj", "mca"],
                   "culture": ["mct", "moe"], "society": ["mohrss", "nhc", "moe", "mohurd"],
                   "ecology": ["mee"]}
PHRASES = {
    "economy": ["推动科技创新和产业创新深度融合", "优化民营经济发展环境", "扩大内需提振消费",
                "加快发展新质生产力", "完善全国统一大市场"],
    "politics": ["完善基层协商民主制度", "推进法治政府建设", "加强涉外法治体系建设"],
    "culture": ["推动文化遗产系统性保护", "促进文旅深度融合", "加强公共文化服务体系建设"],
    "society": ["完善养老服务体系", "促进高校毕业生就业", "推进分级诊疗制度建设",
                "加强城市更新和老旧小区改造"],
    "ecology": ["推进美丽中国建设", "加强长江流域生态保护", "完善碳排放权交易市场"],
}
COLLECTIVES = {
    "party": ["民革中央", "民盟中央", "民建中央", "民进中央", "农工党中央", "致公党中央",
              "九三学社中央", "台盟中央"],
    "people_organisation": ["全国工商联", "中华全国总工会", "共青团中央", "全国妇联", "中国科协",
                            "全国台联", "中国侨联"],
    "sector": ["经济界", "农业界", "教育界", "科技界", "医药卫生界", "社会福利和社会保障界"],
    "special_committee": ["提案委员会", "经济委员会", "人口资源环境委员会", "社会和法制委员会"],
}
SECTORS = ["中国共产党", "无党派人士", "经济界", "农业界", "教育界", "科技界", "医药卫生界",
           "文化艺术界", "社会科学界", "社会福利和社会保障界", "特别邀请人士"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志文斌辉鹏宇"
BODIES = ["国家发展和改革委员会", "教育部", "民政部", "国家卫生健康委员会", "有关省级人民政府",
          "全国政协有关专门委员会"]
RESULTS = ("solved", "solved", "planned", "planned", "deferred", "reference")
SATISFACTIONS = ("satisfied", "satisfied", "satisfied", "basically_satisfied", "dissatisfied")


def at(day: date, minute: int) -> str:
    """09:00 Shanghai time on `day`, `minute` minutes on (within office hours)."""
    moment = datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI) + timedelta(
        minutes=minute % 480)
    return moment.isoformat()


def _plan(rng: random.Random) -> list[dict[str, Any]]:
    """Each proposal's fate: its outcome, and for a filed one its area and filer kind."""
    fates: list[dict[str, Any]] = []
    areas = [area for area, n in AREAS.items() for _ in range(n)]
    kinds = ["person"] * MEMBERS + [k for k, n in COLLECTIVE_KINDS.items() for _ in range(n)]
    rng.shuffle(areas)
    rng.shuffle(kinds)
    fates += [{"outcome": "filed", "area": area, "filer_kind": kind}
              for area, kind in zip(areas, kinds)]
    # a few collective ones among those not filed and merged: they count in neither share
    fates += [{"outcome": "merged", "area": rng.choice(list(AREAS)),
               "filer_kind": "person" if k % 20 else "sector"} for k in range(MERGED)]
    fates += [{"outcome": "not_filed", "area": rng.choice(list(AREAS)),
               "filer_kind": "person" if k % 25 else "party"} for k in range(NOT_FILED)]
    rng.shuffle(fates)
    return fates


def _filers(rng: random.Random, kind: str) -> tuple[list[dict[str, str]], str]:
    if kind != "person":
        name = rng.choice(COLLECTIVES[kind])
        return [{"name": name}], name if kind in ("party", "sector") else ""
    names = {rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
             for _ in range(rng.choice((1, 1, 1, 2, 3)))}
    return [{"name": n} for n in sorted(names)], rng.choice(SECTORS) + "界别"


def iter_year(seed: int = 2025, handled: float = 0.2) -> Iterator[dict[str, Any]]:
    """The year's commands in business-time order: the ministries registered, each proposal
    received and reviewed, the filed ones assigned, `handled` of them replied and rated."""
    rng = random.Random(seed)
    lines: list[tuple[str, int, dict[str, Any]]] = []
    for k, (bureau, (name, name_en)) in enumerate(MINISTRIES.items()):
        lines.append((at(date(2025, 1, 2), k), len(lines), {
            "type": "register_bureau", "bureau": bureau, "name": name, "name_en": name_en}))
    targets: list[tuple[str, str]] = []  # filed proposals to merge into, with their receipt
    merges: list[tuple[int, str, str]] = []  # (number, proposal, its last record's time)
    for n, fate in enumerate(_plan(rng), start=1):
        steps = _proposal(rng, n, fate)
        pid = steps[0][1]["proposal"]
        if fate["outcome"] == "merged":
            merges.append((n, pid, steps[-1][0]))
        elif fate["outcome"] == "filed":
            targets.append((steps[0][0], pid))
        lines += [(when, len(lines) + i, line) for i, (when, line) in enumerate(steps)]
        if fate["outcome"] == "filed":
            lines += [(when, len(lines) + i, line)
                      for i, (when, line) in enumerate(_handling(rng, pid, fate, steps[-1][0],
                                                                 handled))]
    for n, pid, last in merges:  # into a filed proposal on the same matter, after both
        day = date.fromisoformat(last[:10]) + timedelta(days=1 + rng.randrange(12))
        when = at(day, n)
        into = rng.choice([target for received, target in targets if received < when])
        lines.append((when, len(lines), {"type": "merge", "proposal": pid, "into": into}))
    lines.sort(key=lambda line: (line[0], line[1]))
    for when, _, line in lines:
        yield {**line, "at": when}


def _proposal(rng: random.Random, n: int, fate: dict[str, Any]
              ) -> list[tuple[str, dict[str, Any]]]:
    """A proposal's submit and its review (without its merge: iter_year adds it)."""
    pid = f"cppcc-2025-{n:05d}"
    received = rng.choice(SESSION)
    area = fate["area"]
    filers, affiliation = _filers(rng, fate["filer_kind"])
    submit: dict[str, Any] = {
        "type": "submit", "proposal": pid, "kind": "cppcc_proposal", "level": "national",
        "year": 2025, "number": f"{n:05d}",
        "title": f"关于{rng.choice(PHRASES[area])}的提案", "filers": filers,
        "affiliation": affiliation, "topics": [], "review": True}
    if fate["filer_kind"] != "person":
        submit["filer_kind"] = fate["filer_kind"]
    if rng.random() < 0.6:  # classified when received, sometimes in another area than filed
        submit["area"] = area if rng.random() < 0.95 else rng.choice(list(AREAS))
    steps = [(at(received, n), submit)]
    day = received
    if rng.random() < 0.04:  # back to its filer for revision, resubmitted a few days later
        day += timedelta(days=2 + rng.randrange(5))
        steps.append((at(day, n), {"type": "request_revision", "proposal": pid,
                                   "reason": "请进一步明确具体建议和措施"}))
        day += timedelta(days=3 + rng.randrange(8))
        steps.append((at(day, n), {"type": "resubmit", "proposal": pid,
                                   "note": "已补充具体措施"}))
    late = rng.random() < 0.01  # decided after the review's due date (15 working days)
    day += timedelta(days=(30 + rng.randrange(20)) if late else (1 + rng.randrange(12)))
    if fate["outcome"] == "filed":
        steps.append((at(day, n), {"type": "file_proposal", "proposal": pid, "area": area}))
    elif fate["outcome"] == "not_filed":
        steps.append((at(day, n), {
            "type": "decline_filing", "proposal": pid,
            "referred_to": rng.sample(BODIES, rng.choice((1, 1, 2))),
            "reason": "所提问题属于具体工作事项，转有关单位研究参考"}))
    return steps


def _handling(rng: random.Random, pid: str, fate: dict[str, Any], filed_at: str,
              handled: float) -> list[tuple[str, dict[str, Any]]]:
    """A filed proposal assigned to a ministry of its area, within a month; a share replied
    within three months and rated."""
    filed_on = date.fromisoformat(filed_at[:10])
    assigned = filed_on + timedelta(days=7 + rng.randrange(21))
    lead = rng.choice(AREA_MINISTRIES[fate["area"]])
    steps = [(at(assigned, 1), {"type": "assign", "proposal": pid, "lead": [lead]})]
    if rng.random() < handled:
        replied = assigned + timedelta(days=20 + rng.randrange(80))
        steps.append((at(replied, 2), {"type": "reply", "proposal": pid, "bureau": lead,
                                       "result": rng.choice(RESULTS)}))
        rated = replied + timedelta(days=5 + rng.randrange(20))
        steps.append((at(rated, 3), {"type": "record_feedback", "proposal": pid,
                                     "bureau": lead,
                                     "satisfaction": rng.choice(SATISFACTIONS)}))
    return steps


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m banli.demo.intake_year",
        description="the national CPPCC's 2025 review table as a generated history (JSON Lines)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--handled", type=float, default=0.2,
                        help="share of the filed proposals replied and rated (0..1)")
    args = parser.parse_args(argv)
    for line in iter_year(args.seed, args.handled):
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
