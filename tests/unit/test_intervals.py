"""Validity intervals (services/reporting/projections/intervals.py) against the reference fold, without
ClickHouse: the rows a projection writes, batch by batch, added up at a date as the report's
query adds them (INTERVAL_COUNTS), make the reference's report at every date; the lines followed
event by event are the lines folded by definition; and that holds when records arrive out of
business order, across a proposal's duties (the rule of time) and, recorded against the rules,
within one duty (an event landing in the middle of a duty's timeline)."""
from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import example, given, settings, strategies as st

from banli.demo.generate import generate_history, to_jsonl, typed_in_by_bureau
from banli.domain import events as ev
from banli.domain.timing.deadlines import PROFILES
from banli.domain.proposal import Proposal, fold
from banli.domain.views.rates import Scope
from banli.domain.types import business_date
from banli.history import MemoryLedger, reference_report, run_history
from services.reporting.projections import intervals
from services.reporting.projections.intervals import (INTERVAL_COLUMNS, OPEN, Tally, advance,
                                          changed_duties, changes, follow, head_of, lines_of,
                                          rows_of, tallies_of)

from tests.unit.test_rule_of_time import out_of_proposal_order

BUREAUS = (None, "sh-ipa", "sh-hrss", "sh-jrj")


def written(streams: dict[str, list[ev.Event]], batch: int) -> Counter:
    """What a projection writes to report_intervals for these streams, fed in log order (the
    streams interleaved) in batches of `batch` events: each batch's changes, added up."""
    log = list(_interleaved(streams))
    table: Counter = Counter()
    followed: dict[str, tuple] = {}
    for start in range(0, len(log), batch):
        first: dict[str, object] = {}
        for event in log[start:start + batch]:
            state, lines = followed.get(event.proposal_id, (None, None))
            first.setdefault(event.proposal_id, lines)
            after = fold([event], state)
            earlier = streams[event.proposal_id][:event.seq - 1]
            lines = advance(lines, state, after, event, changed_duties(state, after),
                            lambda earlier=earlier: list(earlier))
            followed[event.proposal_id] = (after, lines)
        for stream, before in first.items():
            state, lines = followed[stream]
            if isinstance(state, Proposal):
                table.update(changes(before, lines, head_of(state)))
    return Counter({key: n for key, n in table.items() if n})


def _interleaved(streams: dict[str, list[ev.Event]]):
    """The streams' events as one log: round robin, each stream in its order."""
    queues = [list(events) for events in streams.values()]
    while queues:
        for queue in list(queues):
            yield queue.pop(0)
            if not queue:
                queues.remove(queue)


def at(table: Counter, scope: Scope) -> list[dict]:
    """queries.INTERVAL_COUNTS, in Python: the rows holding on the scope's date, in scope, added
    up by what the report asks of them."""
    groups: Counter = Counter()
    for key, n in table.items():
        row = dict(zip(INTERVAL_COLUMNS, (*key, n)))
        if not (row["valid_from"] <= scope.as_of < row["valid_to"]
                and scope.years[0] <= row["year"] <= scope.years[1]
                and scope.bureau in (None, row["bureau"])
                and scope.level in (None, row["level"]) and scope.kind in (None, row["kind"])):
            continue
        groups[(row["bureau"], row["what"], row["cell"], row["due_after"] < scope.as_of,
                row["occurred_on"], row["recorded_on"], row["imported"])] += n
    names = ("bureau", "what", "cell", "past_due", "occurred_on", "recorded_on", "imported")
    return [{**dict(zip(names, group)), "n": n} for group, n in groups.items() if n]


def report_at(table: Counter, scope: Scope, ledger: MemoryLedger, profile: str = "default"):
    tally = tallies_of(at(table, scope), False, scope.bureau is not None).get("", Tally())
    return tally.report(scope, PROFILES[profile], ledger.calendar,
                        ledger.late_entry_working_days)


def league_at(table: Counter, scope: Scope, ledger: MemoryLedger) -> dict:
    return {bureau: tally.report(scope.model_copy(update={"bureau": bureau}),
                                 PROFILES["default"], ledger.calendar,
                                 ledger.late_entry_working_days)
            for bureau, tally in tallies_of(at(table, scope), True, False).items()}


def dates_of(ledger: MemoryLedger) -> list[date]:
    """Every business date of the events, the days around them, and far ahead."""
    days = {business_date(e.occurred_at) for s in ledger.streams.values() for e in s}
    return sorted({d + timedelta(days=k) for d in days for k in (-1, 0, 1)} | {date(2099, 1, 1)})


def assert_reports_match(table: Counter, ledger: MemoryLedger, days, bureaus=BUREAUS,
                         reference: MemoryLedger | None = None) -> None:
    reference = reference or ledger
    for day in days:
        for bureau in bureaus:
            scope = Scope(bureau=bureau, years=(2018, 2020), as_of=day)
            assert report_at(table, scope, ledger) == reference_report(reference, scope), scope


def definition(streams: dict[str, list[ev.Event]]) -> Counter:
    """The rows of every stream's lines folded by definition (intervals.lines_of)."""
    table: Counter = Counter()
    for events in streams.values():
        state = fold(events)
        if isinstance(state, Proposal):
            table.update(rows_of(lines_of(events), head_of(state)))
    return table


def test_a_generated_history_reports_as_the_reference_at_every_date():
    lines = [to_jsonl(line) for line in generate_history(60, seed=20240611, noise=0.05)]
    ledger, _ = run_history(lines)
    table = written(ledger.streams, batch=37)
    assert table == definition(ledger.streams)
    days = dates_of(ledger)
    assert_reports_match(table, ledger, days[::5])
    for scope in (Scope(bureau=None, years=(2019, 2019), as_of=date(2019, 12, 31),
                        kind="cppcc_proposal"),
                  Scope(bureau=None, years=(2018, 2020), as_of=date(2020, 6, 30),
                        level="municipal")):
        assert report_at(table, scope, ledger) == reference_report(ledger, scope)
    scope = Scope(bureau=None, years=(2018, 2020), as_of=date(2020, 6, 30))
    league = league_at(table, scope, ledger)
    assert len(league) > 5
    for bureau, report in league.items():
        assert report == reference_report(ledger, scope.model_copy(update={"bureau": bureau}))


def test_the_batches_do_not_matter():
    lines = [to_jsonl(line) for line in generate_history(40, seed=7)]
    ledger, _ = run_history(lines)
    tables = [written(ledger.streams, batch) for batch in (1, 10, 333, 10_000)]
    assert all(table == tables[0] for table in tables)


def test_a_history_typed_in_bureau_by_bureau_reports_as_the_sorted_one():
    """Split handling typed in bureau by bureau: records dated before other duties' records
    recorded earlier, a return moving a proposal's end back, a co-handler's sign-off dated
    before the lead's later records (the lines folded again)."""
    lines = generate_history(80, seed=612, split=0.4)
    typed_in = typed_in_by_bureau(lines, seed=612)
    assert out_of_proposal_order(typed_in) > 30
    ledger, problems = run_history(map(to_jsonl, typed_in))
    assert problems == []
    sorted_ledger, _ = run_history(map(to_jsonl, lines))
    table = written(ledger.streams, batch=50)
    assert table == definition(ledger.streams)
    assert_reports_match(table, ledger, dates_of(sorted_ledger)[::4], reference=sorted_ledger)


def _events(proposal: str = "p-1") -> list[ev.Event]:
    """A proposal decided by the kernel: submitted, assigned to a lead and a co-handler, the
    lead contacts the filer, replies, discloses; the co-handler gives its opinion."""
    day = "2019-03-{:02d}T10:00:00+08:00".format
    commands = [
        {"type": "register_bureau", "bureau": "b-lead", "name": "主办", "at": day(1)},
        {"type": "register_bureau", "bureau": "b-co", "name": "会办", "at": day(1)},
        {"type": "submit", "proposal": proposal, "kind": "cppcc_proposal", "year": 2019,
         "number": "1", "title": "题", "filers": [{"name": "甲"}], "at": day(2)},
        {"type": "assign", "proposal": proposal, "lead": ["b-lead"], "co": ["b-co"],
         "at": day(3)},
        {"type": "log_contact", "proposal": proposal, "bureau": "b-lead", "stage": "before",
         "method": "phone", "note": "", "at": day(5)},
        {"type": "submit_opinion", "proposal": proposal, "bureau": "b-co", "summary": "",
         "at": day(8)},
        {"type": "reply", "proposal": proposal, "bureau": "b-lead", "result": "solved",
         "at": day(12)},
        {"type": "decide_disclosure", "proposal": proposal, "bureau": "b-lead",
         "disclosure": "full", "at": day(15)},
    ]
    ledger, problems = run_history([json.dumps(c, ensure_ascii=False) for c in commands])
    assert problems == []
    return ledger.streams[proposal]


def _recorded_in(order: list[ev.Event]) -> list[ev.Event]:
    """The events recorded in this order: their seqs renumbered."""
    return [event.model_copy(update={"seq": i}) for i, event in enumerate(order, start=1)]


def _ledger(streams: dict[str, list[ev.Event]]) -> MemoryLedger:
    return MemoryLedger(streams=streams)  # its states folded from these events


def test_a_record_dated_before_a_later_one_of_its_duty_splits_its_interval():
    """Against the rule of time (as an older log may hold it): the lead's contact of the 5th is
    recorded after its reply of the 12th. As of the 5th to the 11th the duty is contacted and not
    replied; from the 12th, replied and (the contact recorded after the reply) not contacted
    before it. The contact lands in the middle of the duty's timeline and splits its piece."""
    events = _events()
    contact = next(e for e in events if e.type == "ContactLogged")
    late = _recorded_in([e for e in events if e is not contact] + [contact])
    streams = {"p-1": late}
    before = follow(late[:-1])[1].duties["b-lead"].pieces
    after = follow(late)[1].duties["b-lead"].pieces
    assert [day.day for day, _ in before] == [3, 12, 15]
    assert [day.day for day, _ in after] == [3, 5, 12, 15]  # the piece of the 3rd, split
    table = written(streams, batch=1)
    assert table == definition(streams)
    ledger = _ledger(streams)
    days = [date(2019, 3, d) for d in range(1, 20)]
    assert_reports_match(table, ledger, days, bureaus=(None, "b-lead", "b-co"))
    scope = Scope(bureau="b-lead", years=(2019, 2019), as_of=date(2019, 3, 6))
    assert report_at(table, scope, ledger).replies == 0  # the reply of the 12th is ahead


def test_a_return_recorded_after_a_later_one_moves_the_proposals_end_back():
    """Both duties return; the co-handler's return of the 10th is recorded first, the lead's of
    the 6th after it. The proposal was counted until the 10th, not the 6th."""
    day = "2019-03-{:02d}T10:00:00+08:00".format
    ledger, problems = run_history([json.dumps(c, ensure_ascii=False) for c in [
        {"type": "register_bureau", "bureau": "b-lead", "name": "主办", "at": day(1)},
        {"type": "register_bureau", "bureau": "b-co", "name": "会办", "at": day(1)},
        {"type": "submit", "proposal": "p-2", "kind": "cppcc_proposal", "year": 2019,
         "number": "2", "title": "题", "filers": [{"name": "甲"}], "at": day(2)},
        {"type": "assign", "proposal": "p-2", "lead": ["b-lead"], "co": ["b-co"], "at": day(3)},
        {"type": "return", "proposal": "p-2", "bureau": "b-co", "reason": "不属职责",
         "at": day(10)},
        {"type": "return", "proposal": "p-2", "bureau": "b-lead", "reason": "不属职责",
         "at": day(6)},
    ]])
    assert problems == []
    streams = {"p-2": ledger.streams["p-2"]}
    for batch in (1, 2, 10):
        table = written(streams, batch)
        assert table == definition(streams)
        ends = [key[0] for key in table if key[3] == "proposal"]
        assert ends == [date(2019, 3, 10)]
        assert_reports_match(table, ledger, [date(2019, 3, d) for d in range(1, 14)],
                             bureaus=(None, "b-lead", "b-co"))


def test_under_the_rule_of_time_a_duty_changes_only_at_its_end(monkeypatch):
    """The kernel dates every record on or after the latest record of each duty it touches (a
    sign-off the lead's too), so for the logs Banli writes no duty's lines are folded again,
    however the bureaus type their records in; a proposal's runs still change before its end
    (a duty assigned or ending before other duties' records recorded earlier)."""
    refolds = []
    monkeypatch.setattr(intervals, "lines_of",
                        lambda events: refolds.append(len(events)) or lines_of(events))
    lines = generate_history(150, seed=909, split=0.5)
    ledger, problems = run_history(map(to_jsonl, typed_in_by_bureau(lines, seed=909)))
    assert problems == []
    assert sum(e.type == "ReplySignedOff" for s in ledger.streams.values() for e in s) > 5
    moved = 0  # proposals' runs changed by an event dated before the proposal's latest record
    for stream, events in ledger.streams.items():
        state = lines_before = None
        for event in events:
            after = fold([event], state)
            lines_after = advance(lines_before, state, after, event,
                                  changed_duties(state, after), lambda: [])
            if isinstance(state, Proposal):
                delta = changes(lines_before, lines_after, head_of(after))
                moved += (event.occurred_at < state.latest_record_at()
                          and any(key[3] == "proposal" for key in delta))
            state, lines_before = after, lines_after
    assert refolds == []
    assert moved > 0


STRUCTURAL = {"ProposalSubmitted", "ProposalAssigned", "ProposalReassigned", "ReplyDrafted",
              "ReplySignedOff", "ReplyRegraded", "ReplyApproved", "ProposalWithdrawn",
              "ProposalMerged", "BureauRegistered"}


def shuffled(events: list[ev.Event], rng: random.Random) -> list[ev.Event]:
    """The stream recorded in another order, against the rule of time: each bureau record moved
    anywhere after the assignment that gave its bureau the duty (what evolve needs), the rest in
    their order."""
    structural = STRUCTURAL | ({"ReplyIssued"} if any(
        e.type == "ReplyDrafted" for e in events) else set())  # a sign-off needs its draft
    order = [e for e in events if e.type in structural]
    for event in events:
        if event.type in structural:
            continue
        bureau = event.__dict__.get("bureau")
        earliest = 1 + max((i for i, e in enumerate(order) if e.type in (
            "ProposalAssigned", "ProposalReassigned") and bureau in _bureaus_of(e)), default=0)
        order.insert(rng.randint(earliest, len(order)), event)
    return _recorded_in(order)


def _bureaus_of(event: ev.Event) -> set[str]:
    return {duty.bureau for duty in getattr(event, "duties", getattr(event, "added", ()))}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
# a second feedback, dated before the first and typed in after it, changes no current cell but
# the cells as of the days between them
@example(seed=27689)
def test_records_recorded_in_any_order_report_as_the_fold_as_of_each_date(seed):
    rng = random.Random(seed)
    ledger, _ = run_history(map(to_jsonl, generate_history(6, seed=seed % 1000, split=0.4)))
    streams = {pid: shuffled(events, rng) for pid, events in ledger.streams.items()
               if isinstance(ledger.states[pid], Proposal)}
    table = written(streams, batch=rng.choice([1, 3, 50]))
    assert table == definition(streams)
    shuffled_ledger = _ledger(streams)
    days = sorted({business_date(e.occurred_at) for s in streams.values() for e in s})
    assert_reports_match(table, shuffled_ledger, days, bureaus=(None, "sh-ipa", "sh-hrss"))


def test_rows_never_end_before_they_begin_and_still_holding_ones_end_open():
    ledger, _ = run_history(map(to_jsonl, generate_history(30, seed=3)))
    table = written(ledger.streams, batch=20)
    assert all(n > 0 for n in table.values())
    assert all(key[2] < key[0] for key in table)
    assert any(key[0] == OPEN for key in table)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_cells_count_as_the_reference_in_every_profile(profile):
    lines = [to_jsonl(line) for line in generate_history(40, seed=99)]
    ledger, _ = run_history(lines)
    ledger.profile = PROFILES[profile]
    table = written(ledger.streams, batch=100)
    for day in (date(2019, 6, 30), date(2020, 12, 31)):
        scope = Scope(bureau=None, years=(2018, 2020), as_of=day)
        assert report_at(table, scope, ledger, profile) == reference_report(ledger, scope)
