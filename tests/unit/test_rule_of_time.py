"""The rule of time over whole histories: business time orders each duty's records, not the
whole proposal's. A split-handling history typed in bureau by bureau (each bureau's records in
its own order, one bureau after another's later-dated records) is accepted whole and reports,
lists and drills down exactly as the same history sorted by date, at any as-of date."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings, strategies as st

from banli.demo.generate import generate_history, to_jsonl, typed_in_by_bureau
from banli.domain.timing.deadlines import PROFILES
from banli.domain.proposal import fold
from banli.domain.views.rates import MEASURES, RATE_MEASURES, Scope, report_items, select
from banli.domain.types import business_date
from banli.history import reference_report, run_history

from .test_properties import PROFILE, clocks

BUREAUS = [None, "sh-ipa", "sh-hrss", "sh-stcsm", "sh-jrj"]


def _items(ledger, scope):
    key = lambda i: (i["proposal_id"], i["bureau"])  # noqa: E731
    return sorted(report_items(ledger.proposals_as_of(scope.as_of), scope, ledger.profile),
                  key=key)


def out_of_proposal_order(lines) -> int:
    """How many lines are dated before an earlier line of their proposal."""
    latest: dict[str, str] = {}
    count = 0
    for line in lines:
        if line["type"] in ("register_bureau", "register_filer"):
            continue
        key = line.get("proposal") or (line["year"], line["kind"], line["number"])
        count += key in latest and line["at"] < latest[key]
        latest[key] = max(latest.get(key, ""), line["at"])
    return count


@settings(parent=PROFILE, max_examples=max(PROFILE.max_examples // 4, 8))
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(20, 60),
       split=st.sampled_from([0.3, 0.6]),
       days=st.lists(st.integers(0, 4 * 366), min_size=6, max_size=6),
       profile=st.sampled_from(sorted(PROFILES)))
def test_a_history_typed_in_bureau_by_bureau_reports_as_the_sorted_one(seed, size, split, days,
                                                                        profile):
    lines = generate_history(size, seed, split=split)
    typed_in = typed_in_by_bureau(lines, seed)
    sorted_ledger, problems = run_history(map(to_jsonl, lines), PROFILES[profile])
    assert problems == []
    ledger, problems = run_history(map(to_jsonl, typed_in), PROFILES[profile])
    assert problems == [], problems[:3]  # nothing refused: the old rule refused these
    for stream, events in ledger.streams.items():
        assert fold(events) == ledger.states[stream]
        for clock, times in clocks(events).items():
            assert times == sorted(times), clock
    as_ofs = [date(2018, 1, 1) + timedelta(days=d) for d in days]
    last = max(business_date(s[-1].occurred_at) for s in ledger.streams.values())
    for as_of in [*as_ofs, last, last + timedelta(days=400)]:
        for bureau in BUREAUS:
            scope = Scope(bureau=bureau, years=(2018, 2020), as_of=as_of)
            assert reference_report(ledger, scope) == reference_report(sorted_ledger, scope)
            items, expected = _items(ledger, scope), _items(sorted_ledger, scope)
            assert items == expected
            for measure in [*MEASURES, *RATE_MEASURES]:
                assert select(items, measure) == select(expected, measure)


def test_typing_in_bureau_by_bureau_moves_records_before_other_bureaus_later_ones():
    lines = generate_history(200, 7, split=0.5)
    typed_in = typed_in_by_bureau(lines, 7)
    assert sorted(map(to_jsonl, typed_in)) == sorted(map(to_jsonl, lines))
    assert out_of_proposal_order(lines) == 0
    assert out_of_proposal_order(typed_in) > 100  # what the old rule refused
    _, problems = run_history(map(to_jsonl, typed_in))
    assert problems == []
