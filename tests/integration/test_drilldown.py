"""Every number traced to its items: for each measure, the items the reporting service lists
equal the reference's, and their count is the report's number; the league table is one report
per bureau."""
from __future__ import annotations

from datetime import date

import pytest

from banli.demo.generate import generate_history, to_jsonl
from banli.demo.model import MODEL_FILE
from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import MEASURES, RATE_MEASURES, Report, Scope, report_items, select
from banli.history import reference_report, run_history

from tests.integration.test_differential import MODEL_SCOPES, fresh_system, load


def numbers_by_measure(report: Report) -> dict[str, int]:
    """The report's counts, named as the measures that list their items."""
    numbers = {"replied": report.replies, "feedback_by_self": report.feedback_by_self}
    for kind, roles in report.assignments.items():
        numbers.update({f"{kind}.{role}": n for role, n in roles.model_dump().items()})
    for group in ("results", "disclosure", "feedback", "feedback_channels"):
        prefix = {"results": "result"}.get(group, group)
        numbers.update({f"{prefix}.{k}": n for k, n in getattr(report, group).items()})
    return numbers


def assert_items_trace_the_report(report: Report | dict, items: list[dict]) -> None:
    """Every count is the number of its measure's items; every rate's fraction is its items'
    (numerator: those counted, denominator: all) and each is its measures' counts."""
    report = Report.model_validate(report)  # the API's JSON is the model's too
    assert len({i["proposal_id"] for i in items}) == report.proposals
    for measure, number in numbers_by_measure(report).items():
        assert len(select(items, measure)) == number, measure
    assert set(report.rates) == set(report.fractions) == set(RATE_MEASURES)
    for rate, fraction in report.fractions.items():
        behind = select(items, rate)
        counted = sum(i["counted"] for i in behind)
        assert (fraction.numerator, fraction.denominator) == (counted, len(behind)), rate
        assert report.rates[rate] == (counted / len(behind) if behind else None), rate
        numerator, denominator = RATE_MEASURES[rate]
        assert (len(select(items, numerator)), len(select(items, denominator))) == (counted,
                                                                                   len(behind))


def key(items: list[dict]) -> list[tuple]:
    return sorted((i["proposal_id"], i["bureau"], tuple(sorted(i.items(), key=str))) for i in items)


def test_model_items_equal_the_reference_and_trace_every_number(system):
    lines = MODEL_FILE.read_text(encoding="utf-8").splitlines()
    load(system, lines)
    ledger, _ = run_history(lines)
    for scope in MODEL_SCOPES:
        for name, profile in PROFILES.items():
            ledger.profile = profile
            expected = report_items(ledger.proposals_as_of(scope.as_of), scope, profile)
            actual = system.reporting.items(scope, profile)
            assert key(actual) == key(expected), (scope, name)
            assert_items_trace_the_report(reference_report(ledger, scope), actual)


def test_the_model_disclosure_review_is_in_the_items(system):
    """7 replies first left undisclosed; on review 2 in full and 3 as summaries (the model)."""
    load(system, MODEL_FILE.read_text(encoding="utf-8").splitlines())
    scope = Scope(bureau="sh-ipa", years=(2018, 2020), as_of=date(2020, 11, 20))
    replies = select(system.reporting.items(scope, PROFILES["default"]), "replied")
    first_closed = [i for i in replies if i["first_disclosure"] in ("withheld", "exempt")]
    assert len(first_closed) == 7
    now = sorted(i["disclosure"] for i in first_closed)
    assert now.count("full") == 2 and now.count("summary") == 3


def test_unknown_measure_is_refused():
    with pytest.raises(KeyError):
        select([], "nonsense")
    assert "on_time_lead" in MEASURES


@pytest.mark.slow
def test_generated_league_and_items_equal_the_reference(tmp_path, chdb_dsn):
    lines = [to_jsonl(line) for line in generate_history(160, seed=77, noise=0.02)]
    system = fresh_system(tmp_path, chdb_dsn)
    try:
        load(system, lines)
        ledger, _ = run_history(lines)
        profile = PROFILES["default"]
        for as_of in (date(2019, 6, 30), date(2020, 12, 31)):
            scope = Scope(bureau=None, years=(2018, 2020), as_of=as_of)
            league = system.reporting.league(scope, profile)
            proposals = list(ledger.proposals_as_of(as_of))
            bureaus = {i["bureau"] for i in report_items(proposals, scope, profile)}
            assert set(league) == bureaus and len(bureaus) > 3
            for bureau, report in league.items():
                one = scope.model_copy(update={"bureau": bureau})
                assert report == reference_report(ledger, one), bureau
                items = system.reporting.items(one, profile)
                assert key(items) == key(report_items(proposals, one, profile))
                assert_items_trace_the_report(report, items)
    finally:
        system.stop()
        system.reporting.drop()
