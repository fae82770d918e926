"""The feedback channel and the bureau's own share of its satisfaction, counted by ClickHouse over
the projections, equal the reference report's, field for field (and item for item)."""
from __future__ import annotations

import json
from datetime import date

from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import Scope, report_items
from banli.history import reference_report, run_history

from tests.integration.test_differential import assert_same, load
from tests.integration.test_drilldown import assert_items_trace_the_report, key

P, Q = "2020-cppcc_proposal-00001", "2020-npc_suggestion-00001"
COORDINATOR = {"user": "coord", "role": "coordinator"}


def clerk(bureau: str) -> dict:
    return {"user": f"clerk@{bureau}", "bureau": bureau, "role": "clerk"}


def line(at: str, type_: str, **fields) -> str:
    return json.dumps({"type": type_, "at": f"{at}T10:00:00+08:00", **fields},
                      ensure_ascii=False)


HISTORY = [
    line("2020-01-02", "register_bureau", bureau="sh-ipa", name="上海市知识产权局"),
    line("2020-01-02", "register_bureau", bureau="sh-hrss", name="上海市人社局"),
    line("2020-01-10", "submit", kind="cppcc_proposal", year=2020, number="00001", title="一"),
    line("2020-01-10", "submit", kind="npc_suggestion", year=2020, number="00001", title="二"),
    line("2020-02-20", "assign", proposal=P, lead=["sh-ipa", "sh-hrss"]),
    line("2020-02-20", "assign", proposal=Q, lead=["sh-ipa"]),
    line("2020-04-10", "reply", proposal=P, bureau="sh-ipa", result="solved"),
    line("2020-04-10", "reply", proposal=P, bureau="sh-hrss", result="planned"),
    line("2020-04-12", "reply", proposal=Q, bureau="sh-ipa", result="solved"),
    line("2020-05-01", "record_feedback", proposal=P, bureau="sh-ipa", satisfaction="satisfied",
         channel="phone", actor=clerk("sh-ipa")),
    line("2020-05-02", "record_feedback", proposal=P, bureau="sh-hrss",
         satisfaction="dissatisfied", channel="paper", actor=COORDINATOR),
    line("2020-05-03", "record_feedback", proposal=Q, bureau="sh-ipa", satisfaction="satisfied",
         actor=clerk("sh-ipa")),
    # the latest feedback counts: sh-hrss's item is now its own, by phone
    line("2020-06-01", "record_feedback", proposal=P, bureau="sh-hrss",
         satisfaction="basically_satisfied", channel="phone", actor=clerk("sh-hrss")),
]


def test_feedback_channels_and_self_recorded_share_match_the_reference(system):
    accepted, problems = load(system, HISTORY)
    assert (accepted, problems) == (len(HISTORY), [])
    # typed in on the system's day, as the system took it
    ledger, _ = run_history(HISTORY, clock=lambda command: system.clock(),
                            clerk_backdate_days=system.settings.clerk_backdate_days)
    scopes = [Scope(bureau=b, years=(2020, 2020), as_of=d)
              for b in ("sh-ipa", "sh-hrss", None)
              for d in (date(2020, 5, 2), date(2020, 12, 31))]
    for scope in scopes:
        assert_same(system, ledger, scope)
        expected = report_items(ledger.proposals_as_of(scope.as_of), scope, PROFILES["default"])
        actual = system.reporting.items(scope, PROFILES["default"])
        assert key(actual) == key(expected), scope
        assert_items_trace_the_report(reference_report(ledger, scope), actual)
    mine = system.reporting.report(Scope(bureau="sh-ipa", years=(2020, 2020),
                                         as_of=date(2020, 12, 31)), PROFILES["default"])
    assert mine.feedback_by_self == 2 and mine.rates["self_recorded_feedback"] == 1.0
    assert mine.feedback_channels == {"online": 0, "paper": 0, "phone": 1, "unstated": 1}
    early = system.reporting.report(Scope(bureau="sh-hrss", years=(2020, 2020),
                                          as_of=date(2020, 5, 2)), PROFILES["default"])
    assert (early.feedback_by_self, early.feedback_channels["paper"]) == (0, 1)
