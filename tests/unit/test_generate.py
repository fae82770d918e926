"""The demo history generator: deterministic, complete in its vocabulary, accepted whole by the
kernel, and its noise refused line for line without changing any report."""
from __future__ import annotations

import io
import json
from collections import Counter
from contextlib import redirect_stdout
from datetime import date

import pytest

from banli.demo.generate import (MODELLED, generate_history, iter_entries, iter_history, main,
                                 to_jsonl)
from banli.domain.registry import COMMAND_TYPES
from banli.domain.timing.deadlines import PROFILES, add_months
from banli.domain.proposal import Proposal
from banli.domain.views.rates import Scope
from banli.history import reference_report, run_history

SIZE, SEED = 400, 7


@pytest.fixture(scope="module")
def entries():
    return list(iter_entries(SIZE, SEED, noise=0.1))


@pytest.fixture(scope="module")
def clean():
    return generate_history(SIZE, SEED)


@pytest.fixture(scope="module")
def ledger(clean):
    ledger, problems = run_history(map(to_jsonl, clean))
    assert problems == []
    return ledger


def test_the_same_seed_gives_the_same_history_and_another_seed_another():
    assert generate_history(50, 7) == generate_history(50, 7)
    assert generate_history(50, 7) != generate_history(50, 8)
    assert generate_history(0, 7) == generate_history(0, 8)  # just the bureaus


@pytest.fixture(scope="module")
def reorganised():
    return generate_history(SIZE, SEED, reorganise=True)


def test_every_command_type_occurs(clean, reorganised):
    reorganising = {"rename_bureau", "merge_bureau", "hand_over"}
    assert {line["type"] for line in clean} == set(COMMAND_TYPES) - reorganising
    assert {line["type"] for line in reorganised} == set(COMMAND_TYPES)
    assert MODELLED <= set(COMMAND_TYPES)  # the rest would be sent as their examples


def test_a_reorganised_history_is_accepted_whole_and_moves_the_merged_bureau_s_duties(
        reorganised):
    lines = [to_jsonl(line) for line in reorganised]
    for profile in PROFILES.values():
        assert run_history(lines, profile)[1] == []
    ats = [line["at"] for line in reorganised]
    assert ats == sorted(ats)
    ledger, _ = run_history(lines)
    merger = next(x for x in reorganised if x["type"] == "merge_bureau")
    handed = [ev for s in ledger.streams.values() for ev in s if ev.type == "DutyHandedOver"]
    assert {(ev.from_bureau, ev.to_bureau) for ev in handed if ev.merged} == {
        (merger["bureau"], merger["into"])}
    assert any(not ev.merged for ev in handed)  # the split
    after = [x for x in reorganised if x["at"] >= merger["at"] and x["type"] != "register_bureau"]
    assert all(f'"{merger["bureau"]}"' not in json.dumps(x) for x in after if x is not merger)


def test_lines_are_commands_in_business_time_order_without_an_actor(clean):
    assert all(isinstance(line, dict) and "actor" not in line for line in clean)
    assert all(line["at"].endswith("+08:00") for line in clean)
    ats = [line["at"] for line in clean]
    assert ats == sorted(ats)
    assert [line["type"] for line in clean[:8]] == ["register_bureau"] * 8
    assert sum(line["type"] == "submit" for line in clean) == SIZE


def test_every_clean_line_is_accepted_under_every_profile(clean):
    lines = [to_jsonl(line) for line in clean]
    for profile in PROFILES.values():
        assert run_history(lines, profile)[1] == []


def test_the_history_covers_the_cases_the_report_distinguishes(clean, ledger):
    submits = [x for x in clean if x["type"] == "submit"]
    assert {x["kind"] for x in submits} == {"npc_suggestion", "cppcc_proposal"}
    assert {x["level"] for x in submits} == {"national", "provincial", "municipal", "district"}
    assert {x["year"] for x in submits} == {2018, 2019, 2020}
    assert any("proposal" in x for x in submits)
    assigns = [x for x in clean if x["type"] == "assign"]
    assert any(len(x["lead"]) == 2 for x in assigns)  # split handling
    assert any(x["co"] for x in assigns) and any(not x["co"] for x in assigns)
    reassigns = [x for x in clean if x["type"] == "reassign"]
    for change in ("add_lead", "add_co", "remove"):
        assert any(change in x for x in reassigns), change
    assert {x["stage"] for x in clean if x["type"] == "log_contact"} == {
        "before", "during", "after"}
    assert {x["disclosure"] for x in clean if x["type"] == "decide_disclosure"} == {
        "full", "summary", "withheld", "exempt"}
    assert {x["satisfaction"] for x in clean if x["type"] == "record_feedback"} == {
        "satisfied", "basically_satisfied", "dissatisfied"}

    duties = [(p, a) for p in ledger.states.values() if isinstance(p, Proposal)
              for a in p.assignments.values()]
    leads = [a for p, a in duties if a.role == "lead" and a.active and p.status == "open"]
    cos = [a for p, a in duties if a.role == "co" and a.active and p.status == "open"]
    assert any(a.first_reply_on and a.first_reply_on <= a.due for a in leads)
    assert any(a.first_reply_on and a.first_reply_on > a.due for a in leads)  # late
    assert any(not a.replies for a in leads)  # never replied
    assert any(a.replies == 2 for a in leads)  # reopened and replied again
    assert any(a.extensions for a in leads)
    assert all(a.due <= add_months(a.assigned_on, 6) for a in leads if a.extensions)
    assert any(a.first_opinion_on and a.first_opinion_on > a.due for a in cos)  # late
    assert any(not a.opinions for a in cos)  # never
    assert any(a.status == "returned" for _, a in duties)
    assert any(a.status == "removed" for _, a in duties)
    assert {p.status for p, _ in duties} == {"open", "withdrawn", "merged"}
    revised = [x for x in clean if x["type"] == "decide_disclosure"]
    assert len(revised) > len({(x["proposal"], x["bureau"]) for x in revised})  # revised later


def test_noise_is_refused_line_for_line(entries):
    lines = [to_jsonl(line) for line, _ in entries]
    injected = [(n, code) for n, (_, code) in enumerate(entries, start=1) if code]
    assert len(injected) > 200
    assert {code for _, code in injected} >= {
        "invalid", "unknown_proposal", "wrong_bureau", "duplicate_proposal", "duplicate_number",
        "not_assigned", "not_lead", "extension_too_long"}
    assert any(isinstance(line, str) for line, _ in entries)  # broken JSON as raw text
    _, problems = run_history(lines)
    assert [(p.line, p.code) for p in problems] == injected


def test_noise_changes_no_report(entries, clean, ledger):
    assert [line for line, code in entries if code is None] == clean
    noisy, _ = run_history(to_jsonl(line) for line, _ in entries)
    for scope in (
        Scope(bureau=None, years=(2018, 2020), as_of=date(2023, 1, 1)),
        Scope(bureau="sh-ipa", years=(2018, 2020), as_of=date(2020, 11, 20)),
        Scope(bureau="sh-hrss", years=(2019, 2019), as_of=date(2019, 6, 30)),
        Scope(bureau=None, years=(2020, 2020), as_of=date(2020, 12, 31), kind="npc_suggestion"),
        Scope(bureau=None, years=(2018, 2020), as_of=date(2021, 6, 30), level="district"),
    ):
        assert reference_report(noisy, scope) == reference_report(ledger, scope)
        assert reference_report(ledger, scope).proposals > 0


def test_the_cli_prints_the_history_as_json_lines():
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--proposals", "30", "--seed", "5", "--noise", "0.2"]) == 0
    printed = out.getvalue().splitlines(keepends=True)
    assert printed == [to_jsonl(line) for line in iter_history(30, 5, noise=0.2)]
    assert json.loads(printed[0])["type"] == "register_bureau"


def test_other_years_and_more_bureaus():
    lines = generate_history(60, 1, years=(2021, 2021), bureaus=15)
    counts = Counter(line["type"] for line in lines)
    assert counts["register_bureau"] == 15 and counts["submit"] == 60
    assert {line["year"] for line in lines if line["type"] == "submit"} == {2021}
    assert run_history(map(to_jsonl, lines))[1] == []
