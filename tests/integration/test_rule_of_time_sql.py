"""The rule of time, counted by ClickHouse: a split-handling history typed in bureau by bureau
(records dated before other bureaus' records recorded earlier) imported into the embedded store
reports, lists and drills down exactly as the same history sorted by date does in the
reference, at as-of dates before, on and after its last business day."""
from __future__ import annotations

from datetime import date, timedelta

from banli.demo.generate import generate_history, to_jsonl, typed_in_by_bureau
from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import RATE_MEASURES, Scope, report_items, select

from tests.integration.test_differential import assert_same, fresh_system, last_day, load
from tests.integration.test_drilldown import assert_items_trace_the_report, key
from tests.unit.test_rule_of_time import out_of_proposal_order


def test_a_history_typed_in_bureau_by_bureau_is_counted_as_the_sorted_one(tmp_path, chdb_dsn):
    lines = generate_history(150, seed=612, split=0.4)
    typed_in = typed_in_by_bureau(lines, seed=612)
    assert out_of_proposal_order(typed_in) > 50
    system = fresh_system(tmp_path, chdb_dsn)
    try:
        accepted, problems = load(system, [to_jsonl(line) for line in typed_in])
        assert problems == [] and accepted == len(lines)
        from banli.history import run_history
        ledger, _ = run_history(map(to_jsonl, lines))  # the sorted history, decided in memory
        last = last_day(ledger)
        days = [date(2018, 4, 1), date(2018, 9, 30), date(2019, 3, 15), date(2019, 12, 31),
                date(2020, 6, 30), last - timedelta(days=1), last, date(2099, 1, 1)]
        profile = PROFILES["default"]
        for day in days:
            for bureau in (None, "sh-ipa", "sh-hrss", "sh-jrj"):
                scope = Scope(bureau=bureau, years=(2018, 2020), as_of=day)
                assert_same(system, ledger, scope)
                expected = report_items(ledger.proposals_as_of(day), scope, profile)
                actual = system.reporting.items(scope, profile)
                assert key(actual) == key(expected), scope
                assert_items_trace_the_report(system.reporting.report(scope, profile), actual)
                for rate in RATE_MEASURES:
                    assert key(select(actual, rate)) == key(select(expected, rate))
    finally:
        system.stop()
        system.reporting.drop()
