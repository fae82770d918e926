"""Routing from history, the projections against the kernel: days lost to misrouting counted
by ClickHouse equal `banli.domain.routing_lineage.misrouting`, and the past proposals that
suggestions learn from equal `banli.routing.past_from_streams`, on generated histories."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from banli.demo.generate import generate_history, to_jsonl
from banli.domain.routing_lineage import misrouting, routing_lineage
from banli.history import run_history
from apps.local import import_commands
from banli.routing import past_from_streams
from services.reporting.projections import lineage as store_routing


@pytest.fixture(scope="module")
def history_lines():
    # Topic-driven routing with noise: plenty of returns, reassignments and removals.
    return [to_jsonl(line) for line in generate_history(
        260, seed=606, years=(2018, 2020), bureaus=10, noise=0.03, routing_noise=0.3)]


@pytest.fixture
def loaded(system, clock, history_lines):
    clock.now = datetime(2024, 1, 2, tzinfo=timezone.utc)  # after the history: none of it ahead
    _, _, problems = import_commands(system.handle, history_lines)
    assert system.settle(60)
    ledger, expected_problems = run_history(history_lines)
    assert len(problems) == len(expected_problems) > 0  # the noise was refused alike
    return system, ledger


def test_misrouting_in_sql_equals_the_reference(loaded):
    system, ledger = loaded
    streams = [s for s in ledger.streams.values() if s[0].type == "ProposalSubmitted"]
    full = misrouting(streams, (2018, 2020), date(2030, 1, 1))
    # the history exercises both ways an assignment ends unhandled, in both roles
    assert sum(m.returned for m in full) > 10 and sum(m.removed for m in full) > 3
    assert sum(m.as_lead for m in full) and sum(m.as_co for m in full)
    assert len(full) >= 5 and all(m.days_lost > 0 for m in full)
    cases = [((2018, 2020), date(2030, 1, 1), None), ((2019, 2019), date(2030, 1, 1), None),
             ((2018, 2020), date(2019, 3, 1), None), ((2018, 2020), date(2018, 2, 20), None),
             ((2018, 2020), date(2020, 12, 31), full[0].bureau),
             ((2020, 2020), date(2020, 6, 30), full[-1].bureau),
             ((2018, 2020), date(2030, 1, 1), "no-such-bureau")]
    for years, as_of, bureau in cases:
        expected = misrouting(streams, years, as_of, bureau)
        assert store_routing.misrouting(system.reporting, years, as_of, bureau) == expected, (
            years, as_of, bureau)


def test_lineage_from_the_projections_equals_the_kernels(loaded):
    system, ledger = loaded
    bounced = [pid for pid, s in ledger.streams.items()
               if any(ev.type in ("AssignmentReturned", "ProposalReassigned") for ev in s)]
    assert len(bounced) > 10
    for pid in bounced[:15]:
        steps = store_routing.lineage(system.reporting, pid)
        # the same steps; recorded_at is the system's clock there and the business time here
        assert [s.model_copy(update={"recorded_at": s.occurred_at}) for s in steps] == (
            routing_lineage(ledger.streams[pid]))
        assert all(s.recorded_at == system.clock() for s in steps)
        assert steps[0].action == "assigned" and len(steps) >= 2
    assert store_routing.lineage(system.reporting, "no-such-proposal") is None


def test_routing_history_in_sql_equals_the_reference(loaded):
    system, ledger = loaded
    expected = past_from_streams(s for s in ledger.streams.values()
                                 if s[0].type == "ProposalSubmitted")
    assert store_routing.routing_history(system.reporting) == expected
    assert any(p.summary for p in expected) and any(len(p.leads) == 2 for p in expected)
    assert any(not p.leads for p in expected)  # withdrawn before assignment, or not yet
    one = expected[len(expected) // 2]
    assert store_routing.routing_history(system.reporting, one.proposal_id) == [one]
