"""Invariants of the kernel over random histories: generated ones (banli.demo.generate, with and
without noise) with random commands, valid or not, slipped in anywhere.

For every command: deciding it twice against the same state gives the same events; a refused
command changes nothing; accepted events keep `seq` contiguous and survive a JSON round trip.
At the end, folding each stream's events from scratch rebuilds the state the ledger holds.

`BANLI_HYPOTHESIS=banli-thorough` runs many more examples than the default `banli-unit`.
"""
from __future__ import annotations

import copy
import os
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banli.demo.generate import generate_history, iter_entries, to_jsonl
from banli.domain.registry import COMMAND_TYPES
from banli.domain import commands as c
from banli.domain.registry import load_event
from banli.domain.decide import decide
from banli.domain.proposal import Context, MemoryDirectory, Proposal, fold
from banli.domain.views.rates import Scope
from banli.domain.rejections import Rejection
from banli.domain.types import SHANGHAI
from banli.history import LineProblem, MemoryLedger, read_commands, reference_report, run_history

settings.register_profile("banli-unit", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.register_profile("banli-thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
PROFILE = settings.get_profile(os.environ.get("BANLI_HYPOTHESIS", "banli-unit"))

BUREAUS = 4
BUREAU_IDS = ["sh-ipa", "sh-hrss", "sh-stcsm", "sh-jrj", "sh-nosuch"]
DATES = ["2018-01-01", "2018-03-01", "2018-05-20", "2018-08-20", "2018-12-31", "2019-06-01",
         "2020-03-01", "2020-05-20", "2020-08-20", "2021-06-01"]
ACTORS = [None, None, None, None,  # mostly the importer, so that much gets accepted
          {"user": "a", "role": "admin"}, {"user": "c", "role": "coordinator"},
          {"user": "o", "role": "overseer"},
          *({"user": f"clerk@{b}", "bureau": b, "role": "clerk"} for b in BUREAU_IDS[:3])]


# --- strategies ----------------------------------------------------------------------------
def _fields(draw, type_: str, proposals: list[str]) -> dict[str, Any]:
    """Fields for a command of this type: mostly sensible, sometimes wrong."""
    pick = lambda xs: draw(st.sampled_from(xs))  # noqa: E731
    bureau, proposal = pick(BUREAU_IDS), pick([*proposals * 3, "2020-cppcc_proposal-99999"])
    some_bureaus = lambda: draw(st.lists(st.sampled_from(BUREAU_IDS), max_size=3))  # noqa: E731
    match type_:
        case "register_bureau":
            return {"bureau": bureau, "name": "某局"}
        case "register_filer":
            return {"filer": pick(["filer-00", "filer-01", "d-x"]), "name": pick(["张伟", "王芳"]),
                    "account": pick(["", "filer00", "zhang"])}
        case "link_filers":
            return {"proposal": proposal,
                    "filers": [{"id": pick(["filer-00", "filer-01", "d-x"])}]}
        case "submit":
            return {"kind": pick(["npc_suggestion", "cppcc_proposal"]),
                    "level": pick(["municipal", "district"]), "year": pick([2018, 2019, 2020]),
                    "number": pick(["00001", "00002", "00003", "77777"]), "title": "标题",
                    **({"proposal": proposal} if draw(st.booleans()) else {}),
                    **({"review": True} if draw(st.booleans()) else {})}
        case "file_proposal":
            return {"proposal": proposal,
                    **({"area": pick(["economy", "nosuch"])} if draw(st.booleans()) else {})}
        case "decline_filing":
            return {"proposal": proposal, "referred_to": ["有关单位"], "reason": "不立案"}
        case "request_revision":
            return {"proposal": proposal, "reason": "请修改"}
        case "resubmit":
            return {"proposal": proposal, **({"title": "修改稿"} if draw(st.booleans()) else {})}
        case "assign":
            return {"proposal": proposal, "lead": some_bureaus(), "co": some_bureaus(),
                    **({"reply_due": pick(DATES)} if draw(st.booleans()) else {})}
        case "reassign":
            return {"proposal": proposal, "add_lead": some_bureaus(), "add_co": some_bureaus(),
                    "remove": some_bureaus()}
        case "acknowledge":
            return {"proposal": proposal, "bureau": bureau}
        case "return":
            return {"proposal": proposal, "bureau": bureau, "reason": "退回"}
        case "log_contact":
            return {"proposal": proposal, "bureau": bureau,
                    "stage": pick(["before", "during", "after"]), "method": "visit"}
        case "submit_opinion":
            return {"proposal": proposal, "bureau": bureau}
        case "reply" | "revise_result" | "draft_reply":
            return {"proposal": proposal, "bureau": bureau,
                    "result": pick(["solved", "planned", "deferred", "reference", "E"])}
        case "regrade_reply":
            return {"proposal": proposal, "bureau": bureau, "reason": "审核调整",
                    "result": pick(["solved", "planned", "deferred", "reference"])}
        case "sign_off_reply":
            return {"proposal": proposal, "bureau": bureau, "lead": pick(BUREAU_IDS)}
        case "approve_reply":
            return {"proposal": proposal, "bureau": bureau, "signed_by": "局长"}
        case "decide_disclosure":
            return {"proposal": proposal, "bureau": bureau,
                    "disclosure": pick(["full", "summary", "withheld", "exempt"])}
        case "record_feedback":
            return {"proposal": proposal, "bureau": bureau,
                    "satisfaction": pick(["satisfied", "basically_satisfied", "dissatisfied"])}
        case "reopen" | "extend_deadline":
            return {"proposal": proposal, "bureau": bureau, "reply_due": pick(DATES),
                    "reason": "原因"}
        case "supervise":
            return {"proposal": proposal, **({"bureau": bureau} if draw(st.booleans()) else {})}
        case "withdraw":
            return {"proposal": proposal, "reason": "撤回"}
        case "merge":
            return {"proposal": proposal, "into": pick([*proposals, "nosuch"])}
    return {"proposal": proposal}  # an unknown type


@st.composite
def random_command(draw, proposals: list[str], near: datetime) -> dict[str, Any]:
    type_ = draw(st.sampled_from([*COMMAND_TYPES, "approve"]))
    at = near + timedelta(minutes=draw(st.integers(-5 * 1440, 90 * 1440)))
    command = {"type": type_, **_fields(draw, type_, proposals), "at": at.isoformat()}
    if (actor := draw(st.sampled_from(ACTORS))) is not None:
        command["actor"] = actor
    return command


@st.composite
def histories(draw) -> list[str]:
    """A small generated history (clean or noisy) with random commands slipped in anywhere,
    each dated near the line it follows. JSON Lines."""
    seed = draw(st.integers(0, 2**32 - 1))
    size = draw(st.integers(0, 6))
    noise = draw(st.sampled_from([0.0, 0.0, 0.3]))
    lines: list[Any] = generate_history(size, seed, bureaus=BUREAUS, noise=noise)
    proposals = sorted({cmd.stream for _, cmd in read_commands(map(to_jsonl, lines))
                        if isinstance(cmd, c.Submit)})
    for _ in range(draw(st.integers(0, 25))):
        position = draw(st.integers(0, len(lines)))
        before = lines[position - 1] if position else None
        near = (datetime.fromisoformat(before["at"]) if isinstance(before, dict) and "at" in before
                else datetime(2018, 1, 2, 9, tzinfo=SHANGHAI))
        lines.insert(position, draw(random_command(proposals or ["2018-x"], near)))
    return [to_jsonl(line) for line in lines]


def clocks(events: list[Any]) -> dict[str, list[datetime]]:
    """The business times of a stream's records, per clock the rule of time keeps in order:
    each duty's (a bureau's records on it, and what others record on it) and the proposal's
    own (submission, assignments, supervision, closing)."""
    found: dict[str, list[datetime]] = {}
    for event in events:
        match event.type:
            case "ProposalAssigned" | "ProposalReassigned":
                duties = [d.bureau for d in getattr(event, "duties", getattr(event, "added", []))]
                names = ["proposal", *(f"duty:{b}" for b in [*duties,
                                                             *getattr(event, "removed", [])])]
            case "ProposalSupervised":
                names = ["proposal", *([f"duty:{event.bureau}"] if event.bureau else [])]
            case ("ProposalSubmitted" | "ProposalWithdrawn" | "ProposalMerged" | "BureauRegistered"
                  | "KeyItemMarked" | "FilerRegistered" | "ProposalReceived" | "ProposalFiled"
                  | "FilingDeclined" | "RevisionRequested" | "ProposalResubmitted"):
                names = ["proposal"]
            case "FilersLinked":  # who filed it: it follows the submission only, no clock
                names = []
            case "ReplySignedOff":
                names = [f"duty:{event.bureau}", f"duty:{event.lead}"]
            case _:
                names = [f"duty:{event.bureau}"]
        for name in names:
            found.setdefault(name, []).append(event.occurred_at)
    return found


# --- the properties ---------------------------------------------------------------------------
def snapshot(ledger: MemoryLedger) -> Any:
    return (copy.deepcopy(ledger.directory), {k: list(v) for k, v in ledger.streams.items()},
            dict(ledger.states))


@PROFILE
@given(histories())
def test_the_kernels_invariants_hold_over_any_history(lines):
    ledger = MemoryLedger()
    for _, command in read_commands(lines):
        if isinstance(command, LineProblem):
            continue
        state = ledger.states.get(command.stream)
        ctx = Context(recorded_at=command.at or datetime(2020, 1, 1, tzinfo=SHANGHAI),
                      directory=ledger.directory, calendar=ledger.calendar)
        before = snapshot(ledger)
        outcome = decide(state, command, ctx)
        assert decide(state, command, ctx) == outcome  # (d) deterministic
        assert snapshot(ledger) == before  # deciding is pure: the directory is only read
        assert ledger.execute(command) == outcome
        if isinstance(outcome, Rejection):
            assert snapshot(ledger) == before  # (c) a refused command changes nothing
            continue
        stream = ledger.streams[command.stream]
        assert [e.seq for e in stream] == list(range(1, len(stream) + 1))  # (b)
        for event in outcome:
            assert load_event(event.model_dump(mode="json")) == event  # (e)
            assert load_event(event.model_dump_json()) == event
            assert event.proposal_id == command.stream
            assert event.command_id == command.command_id
    directory = MemoryDirectory()
    for stream, events in ledger.streams.items():
        assert fold(events) == ledger.states[stream]  # (a) the events rebuild the state
        for clock, times in clocks(events).items():  # (f) the rule of time
            assert times == sorted(times), clock
        for event in events:
            directory.observe(event)
    assert directory == ledger.directory


@PROFILE
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(1, 12),
       years=st.sampled_from([(2018, 2020), (2019, 2019)]))
def test_a_generated_history_is_accepted_whole_and_its_noise_refused_exactly(seed, size, years):
    entries = list(iter_entries(size, seed, years=years, bureaus=BUREAUS, noise=0.3))
    clean = [to_jsonl(line) for line, expected in entries if expected is None]
    assert clean == [to_jsonl(line) for line in generate_history(size, seed, years, BUREAUS)]
    clean_ledger, problems = run_history(clean)
    assert problems == []
    noisy_ledger, problems = run_history(to_jsonl(line) for line, _ in entries)
    assert [(p.line, p.code) for p in problems] == [
        (n, expected) for n, (_, expected) in enumerate(entries, start=1) if expected]
    for scope in (Scope(bureau=None, years=years, as_of=date(years[1] + 2, 1, 1)),
                  Scope(bureau="sh-ipa", years=years, as_of=date(years[1], 6, 30))):
        assert reference_report(noisy_ledger, scope) == reference_report(clean_ledger, scope)
    for stream, events in noisy_ledger.streams.items():
        state = noisy_ledger.states[stream]
        assert fold(events) == state
        if isinstance(state, Proposal):
            assert state.status in ("open", "withdrawn", "merged", "not_filed")
