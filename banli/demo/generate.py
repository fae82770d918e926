"""A deterministic random history: every command of the registry, in business-time order.

    python -m banli.demo.generate --proposals 1000 --seed 7 [--noise 0.05] > history.jsonl

`iter_history` yields command dicts (JSON Lines once dumped) without `actor`, so the importer's
default applies. Every line of a clean history is accepted by the kernel: business time never
goes backwards within a proposal, bureaus are registered first, a merge's target is submitted
earlier and stays open, and deadlines are extended within 6 months under every profile.

With `noise > 0`, about that many bad lines per good one are mixed in (broken JSON, unknown
types, a missing `at`, a reply by a co-handler, a duplicate submit, a reply before assignment,
an extension beyond 6 months, a clerk acting for another bureau, a command on a withdrawn
proposal, ...). Each is refused without touching anything else, so a noisy history gives the
same report as its clean one: the good lines are the same, in the same order, because the noise
draws from a random stream of its own. `iter_entries` tells which lines are noise and the
rejection code each must get (`"invalid"` when the line does not even parse).

With `routing_noise` set (0..1), leads follow the topics: each topic has its bureau (教育 goes
to the education commission, 金融 to the financial regulator, ...), and a proposal's lead is the
bureau of its first topic except for that share of proposals, which go to a random bureau (a
third of those are returned and reassigned to the right one); titles and summaries are worded
from a phrase bank per topic. This is the history the routing backtest learns from
(`banli routing backtest`); left unset (the default) the history is exactly what it always was.

Proposals are planned one at a time in order of submission, each as its own time-ordered list,
and merged into one stream with a heap keyed by (time, proposal, step): memory holds only the
proposals still in progress, never the whole history.
"""
from __future__ import annotations

import argparse
import functools
import heapq
import json
import random
import sys
from collections import Counter
from datetime import date, timedelta
from typing import Any, Iterator, Sequence

from ..domain.timing.deadlines import add_months
from ..domain.registry import BY_TYPE, REGISTRY
from ..domain.views.vocabulary import command_forms, example
from .model import BUREAUS as MODEL_BUREAUS

Line = dict[str, Any] | str
Entry = tuple[Line, str | None]  # a line, and the rejection code it must get (None: accepted)

# Times are counted in working minutes from 1 January of the first year: DAY of them a day,
# rendered from 09:00 Shanghai time, so every action falls in office hours.
DAY = 480

BUREAUS = [
    *MODEL_BUREAUS,  # the model report's six, then more
    ("sh-jw", "上海市教育委员会", "Shanghai Municipal Education Commission"),
    ("sh-wsjkw", "上海市卫生健康委员会", "Shanghai Municipal Health Commission"),
    ("sh-jtw", "上海市交通委员会", "Shanghai Municipal Transportation Commission"),
    ("sh-sthjj", "上海市生态环境局", "Shanghai Municipal Bureau of Ecology and Environment"),
    ("sh-zjw", "上海市住房和城乡建设管理委员会", "Shanghai Housing and Urban-Rural Development Commission"),
    ("sh-mzj", "上海市民政局", "Shanghai Civil Affairs Bureau"),
]
KINDS = ("npc_suggestion", "cppcc_proposal")
LEVELS = ("national", "provincial", "municipal", "district")
LEVEL_ODDS = (2, 8, 93, 100)  # cumulative: 2% national, 6% provincial, 85% municipal
TOPICS = ["知识产权保护", "人才", "金融", "运营交易", "服务体系", "营商环境", "教育", "医疗卫生",
          "交通", "生态环境", "住房", "养老"]
FILERS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周涛", "吴婷", "徐明",
          "孙丽", "马骏", "朱红", "胡斌", "郭强"]
AFFILIATIONS = {
    "npc_suggestion": ["浦东新区代表团", "黄浦区代表团", "徐汇区代表团", "闵行区代表团", "解放军代表团"],
    "cppcc_proposal": ["经济界别", "科技界别", "教育界别", "无党派人士界别", "金融界别", "民盟市委"],
}
# The filer registry: each name of FILERS registered under one delegation or sector (the
# proposals name them under any: those of another are linked afterwards, by id).
FILER_REGISTRY = [(f"filer-{k:02d}", name,
                   AFFILIATIONS[KINDS[k % 2]][k % len(AFFILIATIONS[KINDS[k % 2]])])
                  for k, name in enumerate(FILERS)]
SIGNERS = ["芮文彪", "王志刚", "李明", None]
AREAS = ("economy", "politics", "culture", "society", "ecology")
REFERRED = ["市发展和改革委员会", "有关区人民政府", "市政协有关专门委员会"]
METHODS = ("phone", "visit", "meeting", "online", "letter")
RESULTS = ("solved", "planned", "deferred", "reference")
DISCLOSURES = ("full", "summary", "withheld", "exempt")
SATISFACTIONS = ("satisfied", "basically_satisfied", "dissatisfied")


# The commands the planner models (when each happens, on which duty, what it depends on). The
# demo generates from the registry: every other command on a proposal is sent as its example
# (_Planner.others), so that a command added to the registry is in the demo's histories too.
MODELLED = frozenset({
    "register_bureau", "register_filer", "link_filers", "submit", "assign", "reassign", "acknowledge", "return", "log_contact",
    "submit_opinion", "reply", "draft_reply", "sign_off_reply", "regrade_reply", "approve_reply",
    "decide_disclosure", "record_feedback", "reopen", "revise_result", "extend_deadline",
    "request_extension", "deny_extension", "mark_key_item", "supervise", "withdraw", "merge",
    "file_proposal", "decline_filing", "request_revision", "resubmit",
    # a reorganisation's, when a history is asked for one (`reorganised`)
    "rename_bureau", "merge_bureau", "hand_over"})
UNMODELLED = [spec for spec in REGISTRY if spec.type not in MODELLED]


# Routing histories (`routing_noise`): the bureau in charge of each topic, and how proposals on
# it are worded.
TOPIC_BUREAUS = {
    "知识产权保护": "sh-ipa", "人才": "sh-hrss", "金融": "sh-jrj", "运营交易": "sh-stcsm",
    "服务体系": "sh-sjxw", "营商环境": "sh-samr", "教育": "sh-jw", "医疗卫生": "sh-wsjkw",
    "交通": "sh-jtw", "生态环境": "sh-sthjj", "住房": "sh-zjw", "养老": "sh-mzj",
}
TOPIC_PHRASES = {
    "知识产权保护": ["加大知识产权侵权惩处力度", "完善专利快速维权机制", "加强商标品牌保护",
                     "打击网络盗版侵权"],
    "人才": ["完善高层次人才落户政策", "加强青年人才住房保障", "优化海外人才引进服务",
             "健全技能人才评价体系"],
    "金融": ["推广知识产权质押融资", "加大普惠金融支持小微企业", "防范互联网金融风险",
             "发展科技保险和融资担保"],
    "运营交易": ["建设科技成果转化交易平台", "促进高校专利转移转化", "培育技术经纪人队伍",
                 "完善技术交易市场规则"],
    "服务体系": ["完善中小企业公共服务平台", "推进产业园区数字化转型", "加强工业互联网建设",
                 "发展专业化服务机构"],
    "营商环境": ["优化企业开办和注销流程", "规范涉企执法检查", "加强食品安全监管",
                 "推进市场主体信用监管"],
    "教育": ["推进义务教育优质均衡发展", "加强中小学体育和心理健康教育", "减轻学生课外负担",
             "发展职业教育产教融合"],
    "医疗卫生": ["推进社区医院分级诊疗", "加强基层全科医生队伍建设", "缓解大医院看病难",
                 "完善公共卫生应急体系"],
    "交通": ["优化公交线路和地铁换乘", "治理停车难和非机动车乱停", "完善慢行交通系统",
             "加强道路交通安全管理"],
    "生态环境": ["推进垃圾分类和资源化利用", "加强河道水环境治理", "控制工地扬尘污染",
                 "推动工业企业节能减排"],
    "住房": ["加大保障性租赁住房供给", "推进老旧小区加装电梯", "规范住房租赁市场",
             "加强物业服务管理"],
    "养老": ["发展社区嵌入式养老服务", "完善长期护理保险制度", "推进适老化改造",
             "加强养老护理员队伍建设"],
}


def bureau_list(count: int) -> list[tuple[str, str, str]]:
    """`count` bureaus: the named ones first, then numbered ones."""
    named = BUREAUS[:count]
    return named + [(f"bureau-{k:03d}", f"第{k}承办单位", f"Bureau {k}")
                    for k in range(len(named) + 1, count + 1)]


class _Clock:
    """Working minutes <-> ISO times with the +08:00 offset."""

    def __init__(self, first_year: int) -> None:
        self.base = date(first_year, 1, 1).toordinal()
        self.days: dict[int, str] = {}
        self.minutes = [f"T{9 + m // 60:02d}:{m % 60:02d}:00+08:00" for m in range(DAY)]

    def at(self, t: int) -> str:
        day, minute = divmod(t, DAY)
        if (text := self.days.get(day)) is None:
            text = self.days[day] = date.fromordinal(self.base + day).isoformat()
        return text + self.minutes[minute]

    def day(self, t: int) -> date:
        return date.fromordinal(self.base + t // DAY)

    def start(self, day: date) -> int:
        return (day.toordinal() - self.base) * DAY


class _Planner:
    """Plans one proposal's life at a time, with one random stream for the history and one
    for the noise."""

    def __init__(self, rng: random.Random, noise_rng: random.Random, noise: float,
                 clock: _Clock, bureaus: list[str], routing: "_Routing | None" = None,
                 split: float = 0.1) -> None:
        self.rng, self.noise_rng, self.noise = rng, noise_rng, noise
        self.split = split  # the share of proposals split between two leads (分办)
        self.clock, self.bureaus = clock, bureaus
        self.routing = routing
        self.numbers: Counter[tuple[int, str, str]] = Counter()
        self.targets: dict[tuple[int, str], str] = {}  # the latest open proposal to merge into
        # What the noise may refer to: the proposal being planned, its leads and co-handlers.
        self.context: dict[str, Any] = {"pid": "registry", "leads": [], "cos": []}

    # --- time ---------------------------------------------------------------------------
    def later(self, t: int, lo: int, hi: int) -> int:
        """A moment lo..hi days after t, strictly after it."""
        day = t // DAY + self.rng.randint(lo, hi)
        return max(day * DAY + self.rng.randrange(DAY), t + 1)

    def on_day(self, day: date, after: int) -> int:
        return max(self.clock.start(day) + self.rng.randrange(DAY), after + 1)

    def between(self, lo: int, hi: int) -> int | None:
        return self.rng.randint(lo + 1, hi - 1) if hi - lo >= 2 else None

    def cmd(self, t: int, type_: str, **fields: Any) -> tuple[int, dict[str, Any]]:
        return t, {"type": type_, **fields, "at": self.clock.at(t)}

    # --- one proposal ---------------------------------------------------------------------
    def proposal(self, year: int, t0: int) -> list[tuple[int, dict[str, Any]]]:
        """The clean commands of one proposal, sorted by time (causes strictly before effects)."""
        rng = self.rng
        kind = KINDS[rng.random() < 0.5]
        level = rng.choices(LEVELS, cum_weights=LEVEL_ODDS)[0]
        self.numbers[(year, kind, level)] += 1
        number = f"{self.numbers[(year, kind, level)]:05d}"
        derived = f"{year}-{kind}-{number}"
        if level != "municipal":
            derived = f"{level}-{derived}"
        explicit = rng.random() < 0.03
        pid = f"P{year}{kind[0]}{level[0]}{number}" if explicit else derived
        topics = rng.sample(TOPICS, rng.choice((1, 1, 2)))
        submit: dict[str, Any] = {
            **({"proposal": pid} if explicit else {}),
            "kind": kind, "level": level, "year": year, "number": number,
            "title": f"关于加强{topics[0]}工作的{'建议' if kind == KINDS[0] else '提案'}（{number}号）",
            "filers": [{"name": n} for n in rng.sample(FILERS, rng.randint(1, 3))],
            "affiliation": rng.choice(AFFILIATIONS[kind]), "topics": topics,
        }
        if rng.random() < 0.1:
            submit["summary"] = f"建议进一步完善{topics[0]}相关政策"
        if self.routing is not None:
            submit.update(self.routing.wording(topics, kind, number))
        if rng.random() < 0.05:
            submit["key_item"] = True
        steps = [self.cmd(t0, "submit", **submit)]
        submit = steps[0][1]  # the line itself: the review (below) may add to it
        self.context = {"pid": pid, "submit": submit, "leads": [], "cos": []}
        steps += self.links(pid, submit, t0)

        fate = rng.random()
        target = self.targets.get((year, kind))
        review = random.Random(f"review/{pid}")  # the office's review: a stream of its own
        if fate < 0.015:
            steps.append(self.cmd(self.later(t0, 2, 20), "withdraw", proposal=pid,
                                  reason="代表撤回"))
            return steps
        if fate < 0.03 and target is not None:
            self.received(submit, review, 0.3)  # merged under review: the review's 并案
            steps.append(self.cmd(self.later(t0, 2, 20), "merge", proposal=pid, into=target))
            return steps
        if fate < 0.04:  # not assigned yet: under review, with its filer, or not filed
            steps += self.undecided(submit, review, pid, max(t for t, _ in steps))
            return steps
        # not filed: planned as any other (the one stream's draws), then left unhandled
        declined = review.random() < 0.02 and fate >= 0.06
        if declined:
            self.received(submit, review, 1.0)
        elif self.received(submit, review, 0.08):
            steps += self.reviewed(review, pid, t0)
        received = len(steps)
        if rng.random() < 0.05:
            steps.append(self.cmd(self.later(t0, 1, 10), "supervise", proposal=pid,
                                  note="列为重点督办件"))
        t_assign = self.later(t0, 7, 35)
        assigned = self.clock.day(t_assign)
        pool = rng.sample(self.bureaus, len(self.bureaus))
        n_leads = 2 if rng.random() < self.split and len(pool) >= 3 else 1
        n_co = rng.choices((0, 1, 2, 3), cum_weights=(25, 65, 90, 100))[0]
        n_co = min(n_co, len(pool) - n_leads - 1)  # keep a spare bureau for reassigning
        fix = None  # routing histories: a misrouted lead and the bureau it should have gone to
        if self.routing is not None:
            pool, fix = self.routing.arrange(pool, topics, n_leads, n_co)
        leads, cos = pool[:n_leads], pool[n_leads:n_leads + n_co]
        spare = pool[n_leads + n_co:]
        self.context.update(leads=leads, cos=cos)
        assign: dict[str, Any] = {"proposal": pid, "lead": leads, "co": cos}
        reply_due, opinion_due = add_months(assigned, 3), add_months(assigned, 1)
        if rng.random() < 0.03:  # the coordinator sets the deadlines itself
            reply_due, opinion_due = add_months(assigned, 2), assigned + timedelta(days=20)
            assign.update(reply_due=reply_due.isoformat(), opinion_due=opinion_due.isoformat())
        steps.append(self.cmd(t_assign, "assign", **assign))
        # A few become key items (重点督办件) once assigned, drawn from a stream of their own so
        # that every other line is what it was before key items were marked.
        keys = random.Random(f"key/{pid}")
        if not submit.get("key_item") and keys.random() < 0.03:
            steps.append(self.cmd(t_assign + keys.randint(DAY, 10 * DAY), "mark_key_item",
                                  proposal=pid, key=True, reason="市领导关注，列为重点督办件"))

        tracked = {b: ("lead", t_assign, reply_due) for b in leads}
        tracked.update({b: ("co", t_assign, opinion_due) for b in cos})
        change = rng.random()
        if fix is not None and fix[1] in spare:
            change = 0.0  # the misrouted lead returns it, the right bureau takes it over
        if change < 0.04 and spare:  # a bureau returns it and the coordinator reassigns
            victim = rng.choice([*leads, *cos]) if fix is None else fix[0]
            role, _, _ = tracked.pop(victim)
            t_return = self.later(t_assign, 2, 6)
            self.acknowledge_before(steps, pid, victim, t_assign, t_return)
            steps.append(self.cmd(t_return, "return", proposal=pid, bureau=victim,
                                  reason="不属于本单位职责范围"))
            t_re = self.later(t_return, 1, 7)
            new = spare.pop() if fix is None else spare.pop(spare.index(fix[1]))
            steps.append(self.cmd(t_re, "reassign", proposal=pid,
                                  **{"add_lead" if role == "lead" else "add_co": [new]}))
            day = self.clock.day(t_re)
            tracked[new] = (role, t_re, add_months(day, 3 if role == "lead" else 1))
        elif change < 0.07 and cos and spare:  # a co-handler is swapped for a better one
            victim = rng.choice(cos)
            del tracked[victim]
            t_re = self.later(t_assign, 6, 12)
            self.acknowledge_before(steps, pid, victim, t_assign, t_re)
            new = spare.pop()
            steps.append(self.cmd(t_re, "reassign", proposal=pid, remove=[victim], add_co=[new]))
            tracked[new] = ("co", t_re, add_months(self.clock.day(t_re), 1))
        elif change < 0.09 and len(leads) == 2:  # split handling undone: one lead is enough
            victim = leads[1]
            del tracked[victim]
            t_re = self.later(t_assign, 6, 12)
            self.acknowledge_before(steps, pid, victim, t_assign, t_re)
            steps.append(self.cmd(t_re, "reassign", proposal=pid, remove=[victim]))
        # Reassignments are over two weeks after the assignment: reviews sign off with these cos.
        self.context.update(final_cos=sorted(b for b, (r, _, _) in tracked.items() if r == "co"),
                            settled=t_assign + 14 * DAY)
        for bureau, (role, t_start, due) in tracked.items():
            if role == "lead":
                self.lead(steps, pid, bureau, t_start, due)
            else:
                self.co(steps, pid, bureau, t_start, due)

        if declined:  # the office did not file it: nothing handled
            steps = steps[:received]
            steps += self.undecided(submit, review, pid, max(t for t, _ in steps), decline=True)
        elif fate < 0.06:  # withdrawn, or merged, while in hand: nothing after it
            t_end = self.later(t_assign, 5, 90)
            steps = [s for s in steps if s[0] < t_end]
            if fate < 0.05 or target is None:
                steps.append(self.cmd(t_end, "withdraw", proposal=pid, reason="代表撤回"))
            else:
                steps.append(self.cmd(t_end, "merge", proposal=pid, into=target))
        else:
            self.targets[(year, kind)] = pid
            steps += self.others(pid, tracked, max(t for t, _ in steps))
        steps.sort(key=lambda s: s[0])
        return steps

    # --- the office's review (审查立案), from the stream `review` of the proposal's own, so that
    # every other line is what it would be without it ------------------------------------------
    def received(self, submit: dict[str, Any], review: random.Random, share: float) -> bool:
        """Whether (drawn with `share`) the proposal is received for review; if so the submit
        says so, and may name a collective filer's kind and an area."""
        if review.random() >= share:
            return False
        submit["review"] = True
        if review.random() < 0.2:
            submit["filer_kind"] = review.choice(("party", "sector", "people_organisation"))
        if review.random() < 0.5:
            submit["area"] = review.choice(AREAS)
        return True

    def reviewed(self, review: random.Random, pid: str, t0: int
                 ) -> list[tuple[int, dict[str, Any]]]:
        """Filed within the week before its assignment (which comes 7 days or more after the
        submit), a quarter after a return for revision and a resubmission."""
        t, found = t0, []
        if review.random() < 0.25:
            t += DAY + review.randrange(DAY)
            found.append(self.cmd(t, "request_revision", proposal=pid, reason="请补充具体建议"))
            t += DAY + review.randrange(DAY)
            found.append(self.cmd(t, "resubmit", proposal=pid, note="已按意见修改",
                                  **({"area": review.choice(AREAS)} if review.random() < 0.5
                                     else {})))
        t += DAY + review.randrange(DAY)
        area = {"area": review.choice(AREAS)} if review.random() < 0.8 else {}
        found.append(self.cmd(t, "file_proposal", proposal=pid, **area))
        return found

    def undecided(self, submit: dict[str, Any], review: random.Random, pid: str, last: int,
                  decline: bool = False) -> list[tuple[int, dict[str, Any]]]:
        """A proposal never assigned: most received for review, and then (after its records so
        far, the last at `last`: linking its filers) not filed (passed on as an opinion; always
        with `decline`), returned to its filer (a few resubmitted), or still awaiting review."""
        if not decline and not self.received(submit, review, 0.8):
            return []
        t = last + DAY + review.randrange(10 * DAY)
        fate = 0.0 if decline else review.random()
        if fate < 0.4:
            return [self.cmd(t, "decline_filing", proposal=pid, reason="属于具体事务，转有关单位参考",
                             referred_to=review.sample(REFERRED, review.choice((1, 2))))]
        if fate < 0.7:
            found = [self.cmd(t, "request_revision", proposal=pid, reason="请明确具体措施")]
            if review.random() < 0.3:
                found.append(self.cmd(t + DAY, "resubmit", proposal=pid, note="已修改"))
            return found
        return []

    def links(self, pid: str, submit: dict[str, Any], t0: int
              ) -> list[tuple[int, dict[str, Any]]]:
        """On a fifth of the proposals naming a registered filer under another delegation or
        sector than the registry's (`submit` links only the filers of its own), the
        coordinator links them by id a few days on. Drawn from a random stream of its own:
        every other line is what it would be without it."""
        rng = random.Random(f"filers/{pid}")
        ids = {name: (filer, where) for filer, name, where in FILER_REGISTRY}
        unlinked = [{"id": ids[f["name"]][0], "name": f["name"]} for f in submit["filers"]
                    if ids[f["name"]][1] != submit["affiliation"]]
        if not unlinked or rng.random() >= 0.2:
            return []
        return [self.cmd(t0 + (1 + rng.randrange(5)) * DAY, "link_filers", proposal=pid,
                         filers=unlinked)]

    def others(self, pid: str, tracked: dict[str, tuple[str, int, date]], last: int
               ) -> list[tuple[int, dict[str, Any]]]:
        """The registry's commands on a proposal that the planner does not model, each sent as
        its example (banli.domain.views.vocabulary) for the first lead on a quarter of the open
        proposals, after all of their other records. Drawn from a random stream of their own:
        every other line is what it would be without them."""
        leads = sorted(b for b, (role, _, _) in tracked.items() if role == "lead")
        rng, t, found = random.Random(f"registry/{pid}"), last, []
        for spec in UNMODELLED:
            if not spec.on_proposal or not leads or rng.random() >= 0.25:
                continue
            t += 1 + rng.randrange(DAY)
            found.append(self.cmd(t, spec.type, **example(
                spec.command, proposal=pid, bureau=leads[0], day=self.clock.day(t))))
        return found

    def acknowledge_before(self, steps: list, pid: str, bureau: str, lo: int, hi: int) -> None:
        t = self.between(lo, hi)
        if t is not None and self.rng.random() < 0.5:
            steps.append(self.cmd(t, "acknowledge", proposal=pid, bureau=bureau))

    def lead(self, steps: list, pid: str, bureau: str, t_start: int, due: date) -> None:
        """A lead's duty: sign, maybe an extension, contacts, the reply and what follows it."""
        rng, clock = self.rng, self.clock
        if rng.random() < 0.85:
            steps.append(self.cmd(self.later(t_start, 0, 3), "acknowledge", proposal=pid,
                                  bureau=bureau))
        start, t = clock.day(t_start), t_start
        # The bureau's requests for an extension (申请延期): a stream of their own, so that
        # every other line is what it was before requests were generated.
        asks = random.Random(f"extension/{pid}/{bureau}")
        # Later than any profile's deadline (3 or 5 months), within the 6-month limit.
        lo, hi = add_months(start, 5) + timedelta(days=1), add_months(start, 6)
        if rng.random() < 0.05:
            t = self.later(t_start, 10, 45)
            due = lo + timedelta(days=rng.randint(0, (hi - lo).days))
            if asks.random() < 0.8:  # asked for a few days before the coordinator approved it
                steps.append(self.cmd(t - asks.randint(DAY, 4 * DAY), "request_extension",
                                      proposal=pid, bureau=bureau, reply_due=due.isoformat(),
                                      reason="涉及多部门协调，申请延期"))
            steps.append(self.cmd(t, "extend_deadline", proposal=pid, bureau=bureau,
                                  reply_due=due.isoformat(), reason="涉及多部门协调，申请延期"))
        elif asks.random() < 0.02:  # asked for, and denied, before any reply (2 weeks on)
            t_ask = t_start + asks.randint(5 * DAY, 8 * DAY)
            asked = lo + timedelta(days=asks.randint(0, (hi - lo).days))
            steps.append(self.cmd(t_ask, "request_extension", proposal=pid, bureau=bureau,
                                  reply_due=asked.isoformat(), reason="需开展专题调研，申请延期"))
            steps.append(self.cmd(t_ask + asks.randint(DAY // 2, 3 * DAY), "deny_extension",
                                  proposal=pid, bureau=bureau, reason="请按原期限答复"))
        outcome = rng.random()
        if outcome < 0.05:
            t_reply = None
        elif outcome < 0.13:
            t_reply = self.on_day(due + timedelta(days=rng.randint(1, 40)), t)
        else:
            lo = max(clock.day(t) + timedelta(days=1), start + timedelta(days=14))
            span = max(0, (due - lo).days)
            t_reply = self.on_day(lo + timedelta(days=rng.randint(0, span)), t)
        horizon = t_reply if t_reply is not None else t_start + 60 * DAY
        if rng.random() < 0.85 and (tc := self.between(t_start, horizon)) is not None:
            steps.append(self.cmd(tc, "log_contact", proposal=pid, bureau=bureau,
                                  stage="before" if rng.random() < 0.6 else "during",
                                  method=rng.choice(METHODS), note="听取代表委员意见"))
        if rng.random() < 0.05 and (ts := self.between(t_start, horizon)) is not None:
            steps.append(self.cmd(ts, "supervise", proposal=pid, bureau=bureau,
                                  note="督办：请加快办理"))
        if t_reply is None:
            return
        result = self.result()
        issued = self.reply(t_reply, pid, bureau, result)
        # A tenth of first replies go through review, drawn from a stream of their own so that
        # every other line is what it was before reviews were generated.
        review = random.Random(f"review/{pid}/{bureau}")
        flow = self.review(review, issued) if review.random() < 0.1 else None
        if flow is not None:
            review_steps, result = flow
            steps.extend(review_steps)
        else:
            steps.append(issued)
        last = t_reply
        if rng.random() < 0.97:
            td = self.later(t_reply, 1, 10)
            choice = rng.choices(DISCLOSURES, cum_weights=(55, 80, 93, 100))[0]
            steps.append(self.disclosure(td, pid, bureau, choice))
            if choice == "withheld" and rng.random() < 0.5:  # revised at a later review
                steps.append(self.disclosure(self.later(td, 30, 300), pid, bureau,
                                             rng.choice(("full", "summary", "exempt"))))
        if rng.random() < 0.3:
            steps.append(self.cmd(self.later(t_reply, 3, 60), "log_contact", proposal=pid,
                                  bureau=bureau, stage="after", method=rng.choice(METHODS),
                                  note="办后回访"))
        if rng.random() < 0.8:
            tf = self.later(t_reply, 10, 45)
            satisfaction = rng.choices(SATISFACTIONS, cum_weights=(68, 90, 100))[0]
            steps.append(self.feedback(tf, pid, bureau, satisfaction))
            if satisfaction == "dissatisfied" and rng.random() < 0.8:
                to = self.later(tf, 2, 10)
                reopen_due = add_months(clock.day(to), 1)
                steps.append(self.cmd(to, "reopen", proposal=pid, bureau=bureau,
                                      reason="代表不满意，重新办理",
                                      reply_due=reopen_due.isoformat()))
                second = rng.random()
                if second < 0.9:
                    days = rng.randint(5, 25) if second < 0.8 else rng.randint(35, 60)
                    last = self.later(to, days, days)
                    result = self.result()
                    steps.append(self.reply(last, pid, bureau, result))
                    if rng.random() < 0.9:
                        steps.append(self.feedback(
                            self.later(last, 10, 40), pid, bureau,
                            rng.choice(("satisfied", "basically_satisfied"))))
            elif rng.random() < 0.05:  # asked again months later
                steps.append(self.feedback(
                    self.later(tf, 30, 200), pid, bureau,
                    rng.choice(("satisfied", "basically_satisfied", "dissatisfied"))))
        if result != "solved" and rng.random() < 0.25:  # tracked and adopted years on
            steps.append(self.cmd(self.later(last, 150, 600), "revise_result", proposal=pid,
                                  bureau=bureau,
                                  result="solved" if rng.random() < 0.7 else "planned",
                                  note="跟踪落实：已列入相关政策"))

    def co(self, steps: list, pid: str, bureau: str, t_start: int, due: date) -> None:
        """A co-handler's duty: sign, maybe a contact, the opinion (on time, late, or never)."""
        rng, clock = self.rng, self.clock
        if rng.random() < 0.8:
            steps.append(self.cmd(self.later(t_start, 0, 3), "acknowledge", proposal=pid,
                                  bureau=bureau))
        if rng.random() < 0.2:
            steps.append(self.cmd(self.later(t_start, 2, 40), "log_contact", proposal=pid,
                                  bureau=bureau, stage="during", method=rng.choice(METHODS),
                                  note="会办单位参加走访"))
        outcome = rng.random()
        if outcome < 0.05:
            return
        start = clock.day(t_start)
        if outcome < 0.15:
            day = due + timedelta(days=rng.randint(1, 20))
        else:
            lo = start + timedelta(days=2)
            day = lo + timedelta(days=rng.randint(0, max(0, (due - lo).days)))
        steps.append(self.cmd(self.on_day(day, t_start), "submit_opinion", proposal=pid,
                              bureau=bureau, summary="会办意见已送主办单位"))

    def result(self) -> str:
        return self.rng.choices(RESULTS, cum_weights=(60, 80, 88, 100))[0]

    def reply(self, t: int, pid: str, bureau: str, result: str) -> tuple[int, dict[str, Any]]:
        signer = self.rng.choice(SIGNERS)
        return self.cmd(t, "reply", proposal=pid, bureau=bureau, result=result,
                        summary="答复意见", **({"signed_by": signer} if signer else {}))

    def review(self, rng: random.Random, issued: tuple[int, dict[str, Any]]
               ) -> tuple[list[tuple[int, dict[str, Any]]], str] | None:
        """The reply drafted, signed off by every co-handler (会签), sometimes regraded by the
        coordinator, and approved (签发) when it would have been issued; None when there is no
        room for it after the reassignments have settled."""
        t_reply, line = issued
        pid, bureau, result = line["proposal"], line["bureau"], line["result"]
        cos, regrade = self.context["final_cos"], rng.random() < 0.3
        lo, count = max(self.context["settled"], t_reply - 5 * DAY), 1 + len(cos) + regrade
        if t_reply - lo <= count:
            return None
        times = sorted(rng.sample(range(lo + 1, t_reply), count))
        steps = [self.cmd(times[0], "draft_reply", proposal=pid, bureau=bureau, result=result,
                          summary=line["summary"])]
        steps += [self.cmd(t, "sign_off_reply", proposal=pid, bureau=co, lead=bureau,
                           remark="同意" if rng.random() < 0.7 else "建议补充会办意见")
                  for t, co in zip(times[1:], cos)]
        if regrade:
            result = rng.choice([r for r in RESULTS if r != result])
            steps.append(self.cmd(times[-1], "regrade_reply", proposal=pid, bureau=bureau,
                                  result=result, reason="交办单位审核调整办理结果类别"))
        steps.append(self.cmd(t_reply, "approve_reply", proposal=pid, bureau=bureau,
                              signed_by=line.get("signed_by") or "分管局领导"))
        return steps, result

    def disclosure(self, t: int, pid: str, bureau: str, choice: str) -> tuple[int, dict]:
        extra = ({"url": f"https://example.gov.cn/jyta/{pid}.html"} if choice in ("full", "summary")
                 else {"reason": "涉及商业秘密" if choice == "exempt" else "暂不公开"})
        return self.cmd(t, "decide_disclosure", proposal=pid, bureau=bureau, disclosure=choice,
                        **extra)

    def feedback(self, t: int, pid: str, bureau: str, satisfaction: str) -> tuple[int, dict]:
        return self.cmd(t, "record_feedback", proposal=pid, bureau=bureau,
                        satisfaction=satisfaction)

    # --- noise ---------------------------------------------------------------------------
    def with_noise(self, steps: list[tuple[int, dict[str, Any]]]
                   ) -> list[tuple[int, Line, str | None]]:
        """The steps, each followed (with probability `noise`) by a line that must be refused."""
        out: list[tuple[int, Line, str | None]] = []
        for t, command in steps:
            out.append((t, command, None))
            if self.noise and self.noise_rng.random() < self.noise:
                out.append((t, *self.bad_line(t, command)))
        return out

    def bad_line(self, t: int, anchor: dict[str, Any]) -> tuple[Line, str]:
        """A line that the kernel (or the parser) refuses right after `anchor`, with its code."""
        rng, at, ctx = self.noise_rng, self.clock.at(t), self.context
        pid = ctx["pid"]
        kinds = ["broken_json", "unknown_type", "missing_at", "bad_field", "unknown_proposal",
                 "wrong_bureau"]
        match anchor["type"]:
            case "register_bureau":
                kinds += ["duplicate_bureau"] * 6
            case "submit":
                kinds += ["duplicate_proposal", "duplicate_number", "reply_before_assignment"] * 3
            case "assign":
                kinds += (["co_reply"] * 4 if ctx["cos"] else []) + ["long_extension"] * 4
            case "withdraw" | "merge":
                kinds += ["closed"] * 6
        bureau = anchor.get("bureau") or rng.choice(self.bureaus)
        match rng.choice(kinds):
            case "broken_json":
                return json.dumps(anchor, ensure_ascii=False)[:-9], "invalid"
            case "unknown_type":
                return {"type": "approve", "proposal": pid, "at": at}, "invalid"
            case "missing_at":
                return {"type": "supervise", "proposal": pid, "note": "无业务时间"}, "invalid"
            case "bad_field":
                return {"type": "reply", "proposal": pid, "bureau": bureau, "result": "E",
                        "at": at}, "invalid"
            case "unknown_proposal":
                return {"type": "reply", "proposal": f"{pid}-nosuch", "bureau": bureau,
                        "result": "solved", "at": at}, "unknown_proposal"
            case "wrong_bureau":
                other = next(b for b in self.bureaus if b != bureau)
                return {"type": "log_contact", "proposal": pid, "bureau": bureau,
                        "stage": "during", "method": "phone", "at": at,
                        "actor": {"user": f"clerk@{other}", "bureau": other, "role": "clerk"}
                        }, "wrong_bureau"
            case "duplicate_bureau":
                return {**anchor, "name": anchor["name"] + "（重复）"}, "duplicate_bureau"
            case "duplicate_proposal":
                return {**anchor, "title": anchor["title"] + "（重复录入）"}, "duplicate_proposal"
            case "duplicate_number":
                return {**anchor, "proposal": f"{pid}-dup"}, "duplicate_number"
            case "reply_before_assignment":
                return {"type": "reply", "proposal": pid, "bureau": bureau, "result": "solved",
                        "at": at}, "not_assigned"
            case "co_reply":
                return {"type": "reply", "proposal": pid, "bureau": ctx["cos"][0],
                        "result": "solved", "at": at}, "not_lead"
            case "long_extension":
                too_late = add_months(self.clock.day(t), 7)
                return {"type": "extend_deadline", "proposal": pid, "bureau": ctx["leads"][0],
                        "reply_due": too_late.isoformat(), "reason": "申请延期", "at": at
                        }, "extension_too_long"
            case "closed":
                return {"type": "supervise", "proposal": pid, "note": "督办", "at": at}, "closed"
        raise AssertionError("unreachable")


class _Routing:
    """Topic-driven routing for the routing backtest's histories, with a random stream of its
    own: a share `noise` of the proposals goes to a random bureau instead of the topic's."""

    def __init__(self, rng: random.Random, noise: float, bureaus: list[str]) -> None:
        self.rng, self.noise, self.bureaus = rng, noise, bureaus

    def bureau_of(self, topic: str) -> str:
        """The topic's bureau, or (when it is not in the registry) a stand-in fixed per topic."""
        bureau = TOPIC_BUREAUS[topic]
        return bureau if bureau in self.bureaus else self.bureaus[
            TOPICS.index(topic) % len(self.bureaus)]

    def wording(self, topics: list[str], kind: str, number: str) -> dict[str, str]:
        phrases = [self.rng.choice(TOPIC_PHRASES[t]) for t in topics]
        noun = "建议" if kind == KINDS[0] else "提案"
        ask = self.rng.choice(("加强统筹协调", "完善配套政策", "加大资金投入", "开展专项调研"))
        return {"title": f"关于{'、'.join(phrases)}的{noun}（{number}号）",
                "summary": f"针对{phrases[0]}方面存在的问题，建议有关部门{ask}。"}

    def arrange(self, pool: list[str], topics: list[str], n_leads: int, n_co: int
                ) -> tuple[list[str], tuple[str, str] | None]:
        """The pool reordered so that leads then co-handlers follow the topics; and, for a
        misrouted lead that is to be returned, (that lead, the right bureau)."""
        right = [self.bureau_of(t) for t in topics]
        misrouted = self.rng.random() < self.noise
        lead = self.rng.choice(self.bureaus) if misrouted else right[0]
        chosen = [lead] + [b for b in right[1:] if b != lead]
        rest = [b for b in pool if b not in chosen]
        if misrouted and lead != right[0] and self.rng.random() < 1 / 3:
            chosen = [b for b in chosen if b != right[0]]  # keep it spare for the reassignment
            rest = [b for b in rest if b != right[0]] + [right[0]]
            fix = (lead, right[0])
        else:
            fix = None
        ordered = chosen[:n_leads] + rest[:max(0, n_leads - len(chosen))]
        ordered += [b for b in chosen + rest if b not in ordered]
        if fix is not None and fix[1] in ordered[:n_leads + n_co]:
            fix = None  # too few bureaus to keep it spare
        return ordered, fix


def iter_entries(proposals: int, seed: int, years: tuple[int, int] = (2018, 2020),
                 bureaus: int = 8, noise: float = 0.0, exclude: tuple[str, ...] = (),
                 routing_noise: float | None = None, split: float = 0.1) -> Iterator[Entry]:
    """Every line of the history in business-time order, each with the rejection code it must
    get (None for the good lines). `routing_noise` makes leads follow the topics (module doc);
    `split` is the share of proposals with two leads (分办)."""
    first, last = years
    if first > last or bureaus < 3 or proposals < 0 or not 0 <= noise <= 1:
        raise ValueError("need years Y1 <= Y2, at least 3 bureaus, proposals >= 0, 0 <= noise <= 1")
    if routing_noise is not None and not 0 <= routing_noise <= 1:
        raise ValueError("need 0 <= routing_noise <= 1")
    clock = _Clock(first)
    registry = [b for b in bureau_list(bureaus + len(exclude)) if b[0] not in exclude]
    ids = [b for b, _, _ in registry]
    routing = (None if routing_noise is None
               else _Routing(random.Random(f"routing:{seed}"), routing_noise, ids))
    planner = _Planner(random.Random(seed), random.Random(f"noise:{seed}"), noise, clock,
                       ids, routing, split)
    registration = [planner.cmd(DAY + k, "register_bureau", bureau=b, name=name, name_en=en)
                    for k, (b, name, en) in enumerate(registry)]
    for _, line, expected in planner.with_noise(registration):
        yield line, expected
    for k, (filer, name, where) in enumerate(FILER_REGISTRY):  # clean: the noise is the above's
        yield planner.cmd(2 * DAY + k, "register_filer", filer=filer, name=name,
                          affiliation=where, term="十六届", account=filer.replace("-", ""))[1], None

    heap: list[tuple[int, int, int, list[Any]]] = []  # (time, proposal, step, its lines)
    n_years = last - first + 1
    serial = 0
    for y, year in enumerate(range(first, last + 1)):
        count = proposals * (y + 1) // n_years - proposals * y // n_years
        session = (date(year, 1, 10).toordinal() - clock.base) * DAY
        for j in range(count):  # submitted over the 30 days of the sessions, in order
            t0 = session + j * 30 * DAY // count
            while heap and heap[0][:2] < (t0, serial):
                yield _pop(heap)
            lines = planner.with_noise(planner.proposal(year, t0))
            heapq.heappush(heap, (lines[0][0], serial, 0, lines))
            serial += 1
    while heap:
        yield _pop(heap)


def _pop(heap: list[tuple[int, int, int, list[Any]]]) -> Entry:
    """The earliest line, advancing its proposal to its next line."""
    _, serial, step, lines = heap[0]
    _, line, expected = lines[step]
    lines[step] = None  # emitted: let it go while the proposal's later lines wait
    if step + 1 < len(lines):
        heapq.heapreplace(heap, (lines[step + 1][0], serial, step + 1, lines))
    else:
        heapq.heappop(heap)
    return line, expected


def iter_history(proposals: int, seed: int, years: tuple[int, int] = (2018, 2020),
                 bureaus: int = 8, noise: float = 0.0, exclude: tuple[str, ...] = (),
                 routing_noise: float | None = None, split: float = 0.1) -> Iterator[Line]:
    """The history's lines in business-time order: command dicts, and with noise also broken
    lines as raw strings. Bureaus named in `exclude` are left out of the registry."""
    for line, _ in iter_entries(proposals, seed, years, bureaus, noise, exclude, routing_noise,
                                split):
        yield line


def generate_history(proposals: int, seed: int, years: tuple[int, int] = (2018, 2020),
                     bureaus: int = 8, noise: float = 0.0,
                     routing_noise: float | None = None, split: float = 0.1,
                     reorganise: bool = False) -> list[Line]:
    """The whole history as a list (see `iter_history`). Same arguments, same history. With
    `reorganise`, the bureaus go through a reorganisation (`reorganised`)."""
    lines = list(iter_history(proposals, seed, years, bureaus, noise,
                              routing_noise=routing_noise, split=split))
    return reorganised(lines, years) if reorganise else lines


def reorganised(lines: list[Line], years: tuple[int, int] = (2018, 2020)) -> list[Line]:
    """A clean history through a reorganisation (机构改革): the second last bureau registered is
    renamed (1 July of the second year, or of the only one), and the last one is merged, on 1
    January of the last year (1 July of an only year), into a bureau newly registered the day
    before: its records from then on are the new bureau's. One of its lead duties open then,
    on a proposal with records of it after the merger, is handed over to another bureau first
    (a split): that proposal's later records are that bureau's. Every line is still accepted."""
    registered: list[dict[str, Any]] = [
        line for line in lines if isinstance(line, dict) and line["type"] == "register_bureau"]
    if len(registered) < 3:
        return lines
    first, last = years
    merger = date(last, 1, 1) if last > first else date(last, 7, 1)
    renamed = date(min(first + 1, last), 7, 1)
    gone, old = registered[-1], registered[-2]
    new: dict[str, Any] = {
        "type": "register_bureau", "bureau": f"{gone['bureau']}-new",
        "name": f"{gone['name']}（新组建）", "name_en": f"{gone['name_en']} (reorganised)",
        "short_names": ["新" + gone["name"].removeprefix("上海市")],
        "at": f"{merger - timedelta(days=1)}T08:00:00+08:00"}
    moment = f"{merger}T08:00:00+08:00"
    split = _split_duty(lines, gone["bureau"], new["bureau"], moment,
                        [b["bureau"] for b in registered])
    renamed_to = (old["name"].replace("委员会", "局") if "委员会" in old["name"]
                  else f"{old['name']}管理办公室")
    extra: list[Line] = [
        {"type": "rename_bureau", "bureau": old["bureau"], "name": renamed_to,
         "name_en": f"{old['name_en']} (renamed)",
         "short_names": ["市" + renamed_to.removeprefix("上海市")],
         "at": f"{renamed}T08:00:00+08:00"},
        new,
        {"type": "merge_bureau", "bureau": gone["bureau"], "into": new["bureau"], "at": moment}]
    if split is not None:
        extra.append({"type": "hand_over", "proposal": split[0], "bureau": gone["bureau"],
                      "to": split[1], "at": f"{merger}T07:59:00+08:00"})
    out = [_taken_over(line, gone["bureau"], new["bureau"], split, moment) for line in lines]
    return sorted(out + extra, key=lambda line: line["at"] if isinstance(line, dict) else "")


def _split_duty(lines: list[Line], bureau: str, new: str, moment: str, registry: list[str]
                ) -> tuple[str, str] | None:
    """A proposal on which `bureau` leads, open at `moment`, with records of the bureau after
    it, and a registered bureau that has no part in it: (proposal, bureau to take it over)."""
    by_proposal: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        if isinstance(line, dict) and BY_TYPE[line["type"]].on_proposal:
            by_proposal.setdefault(line["proposal"], []).append(line)
    found: list[tuple[bool, str, str]] = []
    for proposal, own in sorted(by_proposal.items()):
        before = [x for x in own if x["at"] < moment]
        leads = {b for x in before for b in [*x.get("lead", ()), *x.get("add_lead", ())]}
        ended = {x.get("bureau") for x in before if x["type"] == "return"} | {
            b for x in before for b in x.get("remove", ())}
        closed = any(x["type"] in ("withdraw", "merge") for x in own)
        named = {b for x in own for name in _bureau_fields(x["type"])
                 for b in _bureaus_in(x.get(name))}
        free = [b for b in registry if b not in named and b not in (bureau, new)]
        if bureau in leads and bureau not in ended and not closed and free:
            later = any(x["at"] >= moment and x.get("bureau") == bureau for x in own)
            found.append((not later, proposal, free[0]))  # one with later records first
    return min(found)[1:] if found else None


def _taken_over(line: Line, bureau: str, new: str, split: tuple[str, str] | None,
                moment: str) -> Line:
    """A line after the merger naming the merged bureau: naming its successor instead (the
    split proposal's: the bureau it was handed to)."""
    if not isinstance(line, dict) or line["at"] < moment or line["type"] == "register_bureau":
        return line
    to = split[1] if split is not None and line.get("proposal") == split[0] else new
    changed = dict(line)
    for name in _bureau_fields(line["type"]):
        value = line.get(name)
        if value == bureau:
            changed[name] = to
        elif isinstance(value, list):
            changed[name] = [to if b == bureau else b for b in value]
    return changed


def demo_history() -> Iterator[str]:
    """The demo's other bureaus: a realistic spread of results, late replies, dissatisfied
    feedback, reopenings, extensions and split handling, 2018-2021, leaving the model bureau
    (sh-ipa) to the model report's own history."""
    for line in iter_history(240, seed=20201120, years=(2018, 2021), bureaus=9,
                             exclude=("sh-ipa",)):
        yield to_jsonl(line)


def clocks_of(line: dict[str, Any]) -> frozenset[str] | None:
    """The clocks a command's business time follows (the rule of time, DOMAIN.md), from its
    registry entry: the duties of the bureaus it names (`duty:<bureau>`), and `proposal` for
    the proposal's own records and the one that opens it. None for a command that follows
    every record (withdraw, merge)."""
    spec = BY_TYPE[line["type"]]
    if spec.clock == "closing":
        return None
    named = [b for name in _bureau_fields(spec.type) for b in _bureaus_in(line.get(name))]
    own = ("proposal",) if spec.clock in ("none", "proposal") else ()
    return frozenset({*own, *(f"duty:{b}" for b in named)})


@functools.cache
def _bureau_fields(command_type: str) -> tuple[str, ...]:
    form = next(f for f in command_forms() if f.type == command_type)
    return tuple(f.name for f in form.fields if f.input in ("bureau", "bureaus"))


def _bureaus_in(value: Any) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def typed_in_by_bureau(lines: Sequence[Line], seed: int) -> list[Line]:
    """The same history as bureaus type it in: each proposal's lines reordered, every bureau's
    records kept in their own order (and the proposal's own records in theirs), but one
    bureau's records typed in as a block after another's later-dated ones (分办: each lead
    enters its reply, disclosure and feedback in turn). Other lines keep their places, and each
    proposal's lines take the places its lines had, so registrations, merge targets and the
    like still come first. Every line of a clean history is still accepted, and reports as of
    any date are the same."""
    rng = random.Random(f"typed-in:{seed}")
    by_proposal: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        if isinstance(line, dict) and (BY_TYPE[line["type"]].on_proposal
                                       or line["type"] == "submit"):
            key = line.get("proposal") or _derived_id(line)  # a submit may leave it out
            by_proposal.setdefault(key, []).append(i)
    out = list(lines)
    for places in by_proposal.values():
        own = [lines[i] for i in places]
        for place, line in zip(places, _interleave(own, rng)):
            out[place] = line
    return out


def _derived_id(line: dict[str, Any]) -> str:
    derived = f"{line['year']}-{line['kind']}-{line['number']}"
    return derived if line.get("level", "municipal") == "municipal" else f"{line['level']}-{derived}"


def _interleave(own: list[Any], rng: random.Random) -> list[Any]:
    """A random order of one proposal's lines that keeps each clock's lines in order: one lane
    (clock) is followed as long as it has a line ready, then another is picked at random."""
    # an approval follows every co-handler's duty where drafts are co-signed (the rule of time)
    cos = {f"duty:{b}" for line in own for b in [*line.get("co", []), *line.get("add_co", [])]}
    clocks = [None if (mine := clocks_of(line)) is None else
              mine | (cos if line["type"] == "approve_reply" else frozenset())
              for line in own]
    done = [False] * len(own)
    order: list[Any] = []
    lane: str | None = None

    def ready(i: int) -> bool:
        mine = clocks[i]
        if mine is None:
            return all(done[:i])
        return all(done[j] for j in range(i) if (theirs := clocks[j]) is None or theirs & mine)

    while len(order) < len(own):
        candidates = [i for i in range(len(own)) if not done[i] and ready(i)]
        in_lane = [i for i in candidates if lane is not None and lane in (clocks[i] or ())]
        pick = in_lane[0] if in_lane else rng.choice(candidates)
        if not in_lane:
            picked = clocks[pick]
            lane = rng.choice(sorted(picked)) if picked else None
        done[pick] = True
        order.append(own[pick])
    return order


def to_jsonl(line: Line) -> str:
    text = line if isinstance(line, str) else json.dumps(line, ensure_ascii=False,
                                                         separators=(",", ":"))
    return text + "\n"


def _years(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    return int(first), int(last or first)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m banli.demo.generate",
        description="Print a deterministic random history of commands as JSON Lines.")
    parser.add_argument("--proposals", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--years", type=_years, default=(2018, 2020), metavar="Y1-Y2")
    parser.add_argument("--bureaus", type=int, default=8)
    parser.add_argument("--noise", type=float, default=0.0,
                        help="bad lines mixed in per good line (default 0)")
    parser.add_argument("--routing-noise", type=float, default=None, metavar="SHARE",
                        help="leads follow the topics, except this share sent to a random "
                             "bureau (default: leads are random, as they always were)")
    args = parser.parse_args(argv)
    write = sys.stdout.write
    try:
        for line in iter_history(args.proposals, args.seed, args.years, args.bureaus,
                                 args.noise, routing_noise=args.routing_noise):
            write(to_jsonl(line))
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has had enough
        sys.stdout = None  # nothing left to flush at exit (sys.stdout may be None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
