"""A rename and a merger across a year end (机构改革), through the embedded system: each duty counts
for the bureau that held it as of the report's date, in the reference fold and in the ClickHouse
projections alike, also after a replay; the reconciler records the merger's handovers on every
proposal; the successor's clerk works on the duties it took over, the merged bureau's clerk
records nothing more; the page and the documents name each bureau as it was named then."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from apps.embedded import EmbeddedSystem
from apps.local import import_commands
from banli.demo.generate import generate_history, to_jsonl
from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import Scope
from banli.history import reference_report, run_history
from banli.settings import Settings
from tests.conftest import SECRET

# generate_history(reorganise=True): sh-jw renamed on 1 July 2019, sh-wsjkw merged into
# sh-wsjkw-new on 1 January 2020, one of its duties handed to another bureau the moment before
GONE, NEW, RENAMED = "sh-wsjkw", "sh-wsjkw-new", "sh-jw"
YEAR_END = (date(2019, 12, 31), date(2020, 1, 1))


@pytest.fixture(scope="module")
def history():
    lines = [to_jsonl(line) for line in generate_history(160, seed=2020, reorganise=True)]
    ledger, problems = run_history(lines)
    assert problems == []
    return lines, ledger


@pytest.fixture
def loaded(tmp_path, chdb_dsn, history):
    lines, ledger = history
    name = uuid.uuid4().hex[:12]
    system = EmbeddedSystem(Settings(data_dir=tmp_path / name, clickhouse_dsn=chdb_dsn,
                                     clickhouse_database=f"r_{name}", secret=SECRET)).start()
    try:
        accepted, _, problems = import_commands(system.handle, lines)
        assert (accepted, problems) == (len(lines), [])
        assert system.settle(120)
        yield system, ledger
    finally:
        system.stop()
        system.reporting.drop()


def split_target(ledger) -> str:
    [handed] = [ev for s in ledger.streams.values() for ev in s
                if ev.type == "DutyHandedOver" and not ev.merged]
    return handed.to_bureau


def reports_agree(system, ledger, bureaus) -> None:
    days = (date(2019, 6, 30), date(2019, 7, 1), *YEAR_END, date(2020, 6, 30),
            date(2020, 12, 31), date(2099, 1, 1))
    for day in days:
        for bureau in bureaus:
            for years in ((2018, 2020), (day.year, day.year) if day.year <= 2020 else (2020, 2020)):
                scope = Scope(bureau=bureau, years=years, as_of=day)
                assert system.reporting.report(scope, PROFILES["default"]) == (
                    reference_report(ledger, scope)), scope


def handled(report) -> int:
    return sum(r.lead + r.co for r in report.assignments.values())


def test_each_duty_counts_for_the_bureau_that_held_it_as_of_the_date(loaded):
    system, ledger = loaded
    split = split_target(ledger)
    reports_agree(system, ledger, (GONE, NEW, RENAMED, split, None))
    # the merged bureau's open duties are its successor's from the merger on
    store, profile = system.reporting, PROFILES["default"]
    before, after = YEAR_END
    gone_before = handled(store.report(Scope(bureau=GONE, years=(2018, 2020), as_of=before),
                                       profile))
    gone_after = handled(store.report(Scope(bureau=GONE, years=(2018, 2020), as_of=after),
                                      profile))
    new_before = handled(store.report(Scope(bureau=NEW, years=(2018, 2020), as_of=before),
                                      profile))
    new_after = handled(store.report(Scope(bureau=NEW, years=(2018, 2020), as_of=after),
                                     profile))
    assert gone_before > 0 and new_before == 0
    assert gone_after == 0 and new_after > 0
    # every duty the merged bureau held then went on: to the successor or to the split's
    everyone = Scope(bureau=None, years=(2018, 2020), as_of=after)
    assert store.report(everyone, profile).proposals == store.report(
        everyone.model_copy(update={"as_of": before}), profile).proposals
    # the reconciler recorded the handovers the reference records at once, each once
    log_handed = sorted((x.event.proposal_id, x.event.from_bureau, x.event.to_bureau)
                        for chunk in system.log.read_all(0) for x in chunk
                        if x.event.type == "DutyHandedOver")
    ref_handed = sorted((ev.proposal_id, ev.from_bureau, ev.to_bureau)
                        for s in ledger.streams.values() for ev in s
                        if ev.type == "DutyHandedOver")
    assert log_handed == ref_handed and len(ref_handed) > 1
    assert store.owed_handovers() == []


def test_the_reference_and_the_projections_agree_after_a_replay(loaded):
    system, ledger = loaded
    assert system.replayer.run().state == "done"
    reports_agree(system, ledger, (GONE, NEW, split_target(ledger), None))


def test_reports_name_a_bureau_as_it_was_named_then_and_say_so(loaded):
    system, _ = loaded
    store = system.reporting
    then, now = store.bureau_names(date(2019, 6, 30)), store.bureau_names(date(2020, 6, 30))
    assert then[RENAMED]["name"] == "上海市教育委员会" and now[RENAMED]["name"] == "上海市教育局"
    assert then[RENAMED]["lineage"] is None
    assert now[RENAMED]["lineage"] == "原上海市教育委员会"
    assert now[NEW]["lineage"] == "2020年1月1日起承接原上海市卫生健康委员会的办理工作"
    assert now[NEW]["lineage_en"].startswith("took over Shanghai Municipal Health Commission's")
    assert now[GONE]["lineage"] == "2020年1月1日并入上海市卫生健康委员会（新组建）"
    assert then[GONE]["lineage"] is None and then[GONE]["merged_into"] == NEW
    assert store.bureau_names()[RENAMED]["former_names"] == ["上海市教育委员会"]
