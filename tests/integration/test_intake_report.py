"""The office's report (审查立案情况, issue 25 §4) counted from the projections (chDB through
clickhouse-connect) equals the reference fold's, item for item, and on a generated year prints
the national CPPCC's 2025 table exactly: 5,890 received; 5,002 filed, 262 merged, 626 not filed;
4,531 members' (90.6%) and 471 collective (9.4%); economy 2,133 (42.6%), politics 419 (8.4%),
culture 459 (9.2%), society 1,387 (27.7%), ecology 604 (12.1%)."""
from __future__ import annotations

import json
import uuid
from datetime import date

import pytest

from apps.embedded import EmbeddedSystem
from apps.local import import_commands
from banli.demo.generate import generate_history, to_jsonl
from banli.demo.intake_year import AS_OF, iter_year
from banli.demo.model import MODEL_FILE
from banli.domain.timing.deadlines import DEFAULT_PROFILE
from banli.domain.views.intake_report import (IntakeScope, check_sums, intake_items, select)
from banli.history import reference_intake_report, run_history
from banli.settings import Settings
from tests.conftest import SECRET

YEAR = IntakeScope(years=(2025, 2025), as_of=AS_OF, profile="default")
TABLE = {
    "received": 5890, "filed": 5002, "merged": 262, "not_filed": 626,
    "members": (4531, 90.6), "collective": (471, 9.4),
    "area.economy": (2133, 42.6), "area.politics": (419, 8.4), "area.culture": (459, 9.2),
    "area.society": (1387, 27.7), "area.ecology": (604, 12.1)}


def fresh_system(tmp_path, chdb_dsn) -> EmbeddedSystem:
    name = uuid.uuid4().hex[:12]
    return EmbeddedSystem(Settings(data_dir=tmp_path / name, clickhouse_dsn=chdb_dsn,
                                   clickhouse_database=f"i_{name}", secret=SECRET)).start()


def load(system: EmbeddedSystem, lines: list[str]):
    """Import the lines as `banli import` does, in batches."""
    return import_commands(system.handle, lines, handle_batch=system.handling.handle_batch)


@pytest.fixture(scope="module")
def year(tmp_path_factory, chdb_dsn):
    """The generated year, imported into an embedded system, and decided in memory."""
    lines = [json.dumps(line, ensure_ascii=False) for line in iter_year()]
    system = fresh_system(tmp_path_factory.mktemp("year"), chdb_dsn)
    accepted, _, problems = load(system, lines)
    assert system.settle(120)
    assert (accepted, problems) == (len(lines), [])
    ledger, refused = run_history(lines)
    assert refused == []
    yield system, ledger
    system.stop()
    system.reporting.drop()


def printed(report) -> dict:
    parts = {p.measure: (p.count, p.share) for p in [*report.filers, *report.areas]}
    outcomes = {p.measure: p.count for p in report.outcomes}
    return {"received": report.received, **outcomes, **parts}


def test_the_national_cppcc_2025_table_from_the_store_and_the_reference(year):
    system, ledger = year
    stored = system.reporting.intake_report(YEAR, DEFAULT_PROFILE)
    reference = reference_intake_report(ledger, YEAR)
    assert stored == reference
    check_sums(stored)
    found = printed(stored)
    assert {k: found[k] for k in TABLE} == TABLE
    assert (found["withdrawn"], found["pending"], found["awaiting_revision"]) == (0, 0, 0)
    # the review's own figures: some returned and resubmitted, a few decided late
    assert stored.returned > 100 and 0 < stored.timeliness.late < 100
    assert stored.timeliness.fraction.denominator == 5890
    # the handling figures beside them, the bureaus' report for the same scope
    assert stored.handling is not None and stored.handling.proposals == 5002
    assert stored.handling.replies > 900


def test_every_number_drills_down_to_its_items(year):
    system, ledger = year
    report = system.reporting.intake_report(YEAR, DEFAULT_PROFILE)
    items = system.reporting.intake_items(YEAR)
    assert items == intake_items(ledger.proposals_as_of(YEAR.as_of), YEAR)
    for name, count in report.counts.items():
        assert len(select(items, name)) == count, name
    timeliness = select(items, "review_timeliness")
    assert (sum(i["counted"] for i in timeliness), len(timeliness)) == (
        report.timeliness.fraction.numerator, report.timeliness.fraction.denominator)
    merged = select(items, "merged")
    assert all(i["merged_into"] and i["review"] == "merged" for i in merged)
    assert all(i["referred_to"] for i in select(items, "not_filed"))


@pytest.mark.parametrize("as_of", [date(2025, 3, 3), date(2025, 3, 7), date(2025, 3, 20),
                                   date(2025, 4, 10)])
def test_during_the_review_the_store_agrees_with_the_reference(year, as_of):
    """Mid-review: some proposals still awaiting review (some overdue), some with their filers."""
    system, ledger = year
    scope = YEAR.model_copy(update={"as_of": as_of})
    stored = system.reporting.intake_report(scope, DEFAULT_PROFILE)
    assert stored == reference_intake_report(ledger, scope)
    check_sums(stored)
    if as_of == date(2025, 3, 20):
        assert stored.counts["pending"] and stored.counts["awaiting_revision"]
    if as_of == date(2025, 4, 10):
        assert stored.counts["review_overdue"]


def test_the_review_queue_lists_what_awaits_review_or_its_filer(year):
    system, _ = year
    scope = YEAR.model_copy(update={"as_of": date(2025, 3, 20)})
    queue = system.reporting.intake_items(scope, queue=True)
    assert queue and {i["review"] for i in queue} == {"pending", "returned"}
    counted = system.reporting.intake_report(scope, DEFAULT_PROFILE).counts
    assert len(queue) == counted["pending"] + counted["awaiting_revision"]


def test_a_history_without_review_events_is_filed_on_submit(tmp_path, chdb_dsn):
    """The model year-end report's history: every proposal received is filed, by a person, in no
    area; nothing in the review's timeliness."""
    lines = MODEL_FILE.read_text(encoding="utf-8").splitlines()
    system = fresh_system(tmp_path, chdb_dsn)
    try:
        load(system, lines)
        assert system.settle(60)
        ledger, _ = run_history(lines)
        scope = IntakeScope(years=(2018, 2020), as_of=date(2020, 11, 20), profile="default")
        stored = system.reporting.intake_report(scope, DEFAULT_PROFILE)
        assert stored == reference_intake_report(ledger, scope)
        merged_or_withdrawn = stored.counts["merged"] + stored.counts["withdrawn"]
        assert merged_or_withdrawn == 0
        assert stored.counts["filed"] == stored.received == stored.counts["members"]
        assert stored.counts["area.none"] == stored.received
        assert stored.counts["reviewed"] == 0 and stored.timeliness.rate is None
    finally:
        system.stop()
        system.reporting.drop()


def test_a_generated_history_with_reviews_agrees(tmp_path, chdb_dsn):
    lines = [to_jsonl(line) for line in generate_history(300, 11)]
    system = fresh_system(tmp_path, chdb_dsn)
    try:
        accepted, _, problems = load(system, lines)
        assert system.settle(60) and problems == []
        ledger, _ = run_history(lines)
        for as_of in (date(2018, 6, 30), date(2019, 12, 31), date(2021, 1, 1)):
            scope = IntakeScope(years=(2018, 2020), as_of=as_of, profile="default")
            stored = system.reporting.intake_report(scope, DEFAULT_PROFILE)
            assert stored == reference_intake_report(ledger, scope), as_of
            check_sums(stored)
        assert stored.counts["reviewed"] and stored.counts["not_filed"]
    finally:
        system.stop()
        system.reporting.drop()
