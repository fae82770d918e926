"""Routing from history (banli.routing): similar past proposals by their Chinese text, leads
and co-handlers suggested from who handled them, learnt only from the bureaus that kept a
proposal, and a backtest on generated histories that beats the naive baseline."""
from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import replace

import pytest

from banli.demo.generate import TOPIC_BUREAUS, generate_history, to_jsonl
from banli.history import run_history
from banli.routing import (
    PastProposal,
    Query,
    RoutingIndex,
    backtest,
    hit,
    most_frequent_leads,
    past_from_streams,
)

from .scenario import P, assign, bureaus, given, reassign, return_, submit


def past(pid: str, title: str, leads: tuple[str, ...], cos: tuple[str, ...] = (),
         topics: tuple[str, ...] = (), year: int = 2019, summary: str = "") -> PastProposal:
    return PastProposal(proposal_id=pid, year=year, kind="cppcc_proposal", title=title,
                        summary=summary, topics=topics, affiliation="经济界别", leads=leads,
                        cos=cos)


HISTORY = [
    past("a1", "关于推进生活垃圾分类和资源化利用的提案", ("env",), ("hous",), ("生态环境",)),
    past("a2", "关于加强垃圾分类投放点管理的提案", ("env",), ("civil",), ("生态环境",)),
    past("a3", "关于治理河道水环境的提案", ("env",), (), ("生态环境",)),
    past("b1", "关于加大保障性租赁住房供给的提案", ("hous",), ("fin",), ("住房",)),
    past("b2", "关于推进老旧小区加装电梯的提案", ("hous",), ("civil",), ("住房",)),
    past("c1", "关于推广知识产权质押融资的提案", ("fin",), ("ipa",), ("金融",)),
    past("c2", "关于发展科技保险和融资担保的提案", ("fin",), (), ("金融",)),
    past("d1", "关于加大专利侵权惩处力度的提案", ("ipa",), (), ("知识产权保护",)),
    past("x1", "关于某事项的提案", (), (), ("住房",)),  # never assigned: nothing to learn
]


@pytest.fixture(scope="module")
def index() -> RoutingIndex:
    return RoutingIndex.build(HISTORY)


def test_the_most_similar_past_proposals_come_first_by_their_chinese_text(index):
    near = index.similar(Query(title="关于完善垃圾分类收运体系的建议"), k=3)
    assert [s.proposal.proposal_id for s in near[:2]] == ["a2", "a1"]  # 垃圾分类, then more
    assert near[0].score > near[1].score > 0
    assert all(0 < s.score <= 1 for s in near)
    assert len(index.past) == 8  # the proposal nobody handled is not in the index


def test_topics_alone_find_the_proposals_on_that_topic(index):
    near = index.similar(Query(topics=("住房",)))
    assert {s.proposal.proposal_id for s in near} == {"b1", "b2"}


def test_the_lead_suggested_is_who_led_the_similar_ones_with_scores(index):
    suggestion = index.suggest(Query(title="关于垃圾分类和河道水环境治理的提案",
                                     topics=("生态环境",)), top=3)
    assert suggestion.lead[0].bureau == "env"
    assert suggestion.lead[0].support == 3
    assert 0.5 < suggestion.lead[0].score <= 1
    assert sum(b.score for b in suggestion.lead) <= 1 + 1e-9
    assert [b.score for b in suggestion.lead] == sorted((b.score for b in suggestion.lead),
                                                        reverse=True)
    # co-handlers come from the similar ones' co-handlers, never the suggested lead
    assert {b.bureau for b in suggestion.co} >= {"hous", "civil"}
    assert "env" not in {b.bureau for b in suggestion.co}
    assert suggestion.based_on == 8
    body = suggestion.as_dict({"env": {"name": "生态环境局", "name_en": "Ecology"}})
    assert body["lead"][0] == {"bureau": "env", "name": "生态环境局", "name_en": "Ecology",
                               "score": round(suggestion.lead[0].score, 4), "support": 3}
    assert body["similar"][0]["leads"] == ["env"]


def test_nothing_similar_suggests_nothing(index):
    assert index.suggest(Query(title="天气")).lead == []  # no character in common
    assert index.suggest(Query()).similar == []  # nothing to compare
    empty = RoutingIndex.build([])
    assert empty.suggest(Query(title="关于垃圾分类的提案")).lead == []
    assert empty.suggest(Query(title="关于垃圾分类的提案")).based_on == 0


def test_a_proposal_is_not_its_own_neighbour(index):
    near = index.similar(Query.of(HISTORY[0]), exclude="a1")
    assert "a1" not in {s.proposal.proposal_id for s in near}
    assert index.similar(Query.of(HISTORY[0]))[0].proposal.proposal_id == "a1"


def test_ties_are_broken_by_id_so_the_answer_is_deterministic():
    twins = [past("t2", "关于同一件事的提案", ("b",)), past("t1", "关于同一件事的提案", ("a",))]
    suggestion = RoutingIndex.build(twins).suggest(Query(title="关于同一件事的提案"))
    assert [s.proposal.proposal_id for s in suggestion.similar] == ["t1", "t2"]
    assert [b.bureau for b in suggestion.lead] == ["a", "b"]


def test_a_bureau_that_returned_a_proposal_is_not_learnt_as_its_handler():
    s = given(*bureaus, submit(title="关于加强专利保护的提案"),
              assign(lead=["sh-hrss"], co=["sh-jrj"]), return_("sh-hrss"),
              reassign(add_lead=["sh-ipa"]), reassign(remove=["sh-jrj"], add_co=["sh-stcsm"]))
    (learnt,) = past_from_streams([s.streams[P]])
    assert (learnt.leads, learnt.cos) == (("sh-ipa",), ("sh-stcsm",))
    assert learnt.title == "关于加强专利保护的提案" and learnt.topics == ("运营交易",)
    suggestion = RoutingIndex.build([learnt]).suggest(Query(title="关于专利保护的建议"))
    assert [b.bureau for b in suggestion.lead] == ["sh-ipa"]


def test_hits_count_any_lead_of_a_split_proposal():
    assert hit(("a", "b"), ["c", "b", "d"], 3) and not hit(("a", "b"), ["c", "b"], 1)
    assert not hit(("a",), [], 3)
    assert most_frequent_leads(HISTORY)[:2] == ["env", "fin"]  # 3, then 2 (ties by id)


@pytest.fixture(scope="module")
def routed_past() -> list[PastProposal]:
    lines = map(to_jsonl, generate_history(500, seed=31, years=(2017, 2019), bureaus=12,
                                           routing_noise=0.2))
    ledger, problems = run_history(lines)
    assert problems == []
    return past_from_streams(s for s in ledger.streams.values()
                             if s[0].type == "ProposalSubmitted")


def test_the_backtest_beats_the_naive_baseline_on_a_topic_routed_history(routed_past):
    result = backtest(routed_past, [2019]).as_dict()
    (year,) = result["years"]
    assert year["year"] == 2019 and year["tested"] > 100 and year["trained_on"] > 250
    assert result["top3"] >= result["top1"] > result["baseline_top3"] >= result["baseline_top1"]
    assert result["top3"] > result["baseline_top3"] + 0.3


def test_the_backtest_finds_nothing_to_learn_once_the_leads_are_shuffled(routed_past):
    # the same proposals with their handlers dealt out at random: text says nothing any more
    rng = random.Random(3)
    handlers = [(p.leads, p.cos) for p in routed_past]
    rng.shuffle(handlers)
    shuffled = [replace(p, leads=leads, cos=cos) for p, (leads, cos) in zip(routed_past, handlers)]
    result = backtest(shuffled, [2019]).as_dict()
    assert result["top3"] < result["baseline_top3"] + 0.1


def test_a_routed_history_is_accepted_whole_and_its_leads_follow_the_topics():
    lines = generate_history(400, seed=5, years=(2018, 2019), bureaus=14, routing_noise=0.0)
    ledger, problems = run_history(map(to_jsonl, lines))
    assert problems == []
    assigns = [x for x in lines if x["type"] == "assign"]
    submits = {x.get("proposal") or f"{x['year']}-{x['kind']}-{x['number']}": x
               for x in lines if x["type"] == "submit" and x["level"] == "municipal"}
    on_topic = Counter(TOPIC_BUREAUS[submits[a["proposal"]]["topics"][0]] == a["lead"][0]
                       for a in assigns if a["proposal"] in submits)
    assert on_topic[False] == 0 and on_topic[True] > 250
    assert all(x["summary"] for x in submits.values())  # worded from the phrase bank


def test_routing_noise_sends_that_share_elsewhere_and_returns_some():
    lines = generate_history(600, seed=6, years=(2018, 2019), bureaus=14, routing_noise=0.3)
    assert run_history(map(to_jsonl, lines))[1] == []
    submits = {f"{x['year']}-{x['kind']}-{x['number']}": x for x in lines
               if x["type"] == "submit" and x["level"] == "municipal" and "proposal" not in x}
    first = [(TOPIC_BUREAUS[submits[a["proposal"]]["topics"][0]], a["lead"][0])
             for a in lines if a["type"] == "assign" and a["proposal"] in submits]
    off = sum(right != lead for right, lead in first) / len(first)
    assert 0.2 < off < 0.36  # 0.3, less those sent at random to the right bureau anyway
    returned = [x for x in lines if x["type"] == "return"]
    assert len(returned) > 0.06 * len(first)  # a third of the misrouted, and the usual 4%
    with pytest.raises(ValueError):
        generate_history(5, seed=1, routing_noise=1.5)


# --- the command -------------------------------------------------------------------------------
def test_banli_routing_backtest_prints_the_shares(capsys):
    from apps.cli import main

    assert main(["routing", "backtest", "--proposals", "300", "--years", "2018-2019",
                 "--bureaus", "10", "--seed", "9"]) == 0
    text = capsys.readouterr().out
    assert "top 3" in text and "主办单位在前 3 位建议中" in text and "2019:" in text
    assert main(["routing", "backtest", "--proposals", "300", "--years", "2018-2019",
                 "--bureaus", "10", "--seed", "9", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["tested"] > 100 and result["top3"] > result["baseline_top3"]
    assert f"{100 * result['top3']:.1f}%" in text  # the text says the same


def test_banli_routing_backtest_over_a_history_file(tmp_path, capsys):
    from apps.cli import main

    path = tmp_path / "h.jsonl"
    path.write_text("".join(map(to_jsonl, generate_history(
        240, seed=4, years=(2017, 2019), routing_noise=0.1))), encoding="utf-8")
    assert main(["routing", "backtest", "--history", str(path), "--test-years", "2018-2019",
                 "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [y["year"] for y in result["years"]] == [2018, 2019]
    assert result["years"][1]["trained_on"] > result["years"][0]["trained_on"]
    assert result["history"] == str(path)


def test_banli_routing_backtest_refuses_what_it_cannot_measure(tmp_path, capsys):
    from apps.cli import main

    assert main(["routing", "backtest", "--history", str(tmp_path / "none.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["routing", "backtest", "--proposals", "50", "--years", "2020"]) == 2
    assert "two years" in capsys.readouterr().err
    assert main(["routing", "backtest", "--routing-noise", "2"]) == 2
    assert "routing noise" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["routing", "backtest", "--help"])
    assert "--routing-noise" in capsys.readouterr().out
