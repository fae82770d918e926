"""Differential tests: the report counted by ClickHouse over the projections equals the report
of the reference implementation (`banli report --history`), field for field."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from tests.conftest import SECRET
from banli.demo.generate import generate_history, to_jsonl
from banli.demo.model import MODEL_FILE
from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import Scope
from banli.domain.types import business_date
from apps.embedded import EmbeddedSystem
from banli.history import reference_report, run_history
from apps.local import import_commands
from banli.settings import Settings


def load(system: EmbeddedSystem, lines: list[str]):
    accepted, _, problems = import_commands(system.handle, lines)
    assert system.settle(60)
    return accepted, problems


def fresh_system(tmp_path, chdb_dsn) -> EmbeddedSystem:
    name = uuid.uuid4().hex[:12]
    return EmbeddedSystem(Settings(data_dir=tmp_path / name, clickhouse_dsn=chdb_dsn,
                                   clickhouse_database=f"d_{name}", secret=SECRET)).start()


def assert_same(system: EmbeddedSystem, ledger, scope: Scope, profile: str = "default"):
    ledger.profile = PROFILES[profile]
    expected = reference_report(ledger, scope)
    actual = system.reporting.report(scope, PROFILES[profile])
    assert actual == expected, scope


MODEL_SCOPES = [
    Scope(bureau="sh-ipa", years=(2020, 2020), as_of=date(2020, 11, 20)),
    Scope(bureau="sh-ipa", years=(2018, 2020), as_of=date(2020, 11, 20)),
    Scope(bureau="sh-ipa", years=(2018, 2019), as_of=date(2019, 12, 31)),
    Scope(bureau="sh-ipa", years=(2018, 2020), as_of=date(2018, 3, 5)),
    Scope(bureau="sh-hrss", years=(2018, 2020), as_of=date(2020, 11, 20)),
    Scope(bureau=None, years=(2018, 2020), as_of=date(2020, 12, 31)),
    Scope(bureau=None, years=(2019, 2019), as_of=date(2019, 4, 30), kind="cppcc_proposal"),
    Scope(bureau="sh-ipa", years=(2018, 2020), as_of=date(2020, 11, 20), level="national"),
    # after the last business day: read from each assignment's latest version
    Scope(bureau="sh-ipa", years=(2018, 2020), as_of=date(2030, 1, 1)),
    Scope(bureau=None, years=(2018, 2020), as_of=date(2030, 1, 1)),
]


def test_model_history_projections_match_the_reference(system):
    lines = MODEL_FILE.read_text(encoding="utf-8").splitlines()
    accepted, problems = load(system, lines)
    assert (accepted, problems) == (len(lines), [])
    ledger, _ = run_history(lines)
    for scope in MODEL_SCOPES:
        for profile in PROFILES:
            assert_same(system, ledger, scope, profile)


@pytest.mark.slow
@hsettings(max_examples=4, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), proposals=st.integers(100, 220), noise=st.sampled_from([0, 0.05]),
       as_ofs=st.lists(st.dates(date(2018, 1, 1), date(2022, 6, 30)), min_size=3, max_size=3),
       bureau=st.sampled_from([None, "sh-ipa", "sh-hrss", "sh-jrj", "sh-wsjkw", "sh-wsjkw-new"]),
       profile=st.sampled_from(sorted(PROFILES)),
       filters=st.sampled_from([{}, {"kind": "npc_suggestion"}, {"level": "municipal"},
                                {"kind": "cppcc_proposal", "level": "provincial"}]),
       reorganise=st.booleans())
def test_random_histories_projections_match_the_reference(
        tmp_path, chdb_dsn, seed, proposals, noise, as_ofs, bureau, profile, filters,
        reorganise):
    """Clean or noisy; with or without a reorganisation (a rename, a split's handover and
    sh-wsjkw merged into sh-wsjkw-new on 1 January 2020)."""
    history = generate_history(proposals, seed, noise=0 if reorganise else noise,
                               reorganise=reorganise)
    lines = [to_jsonl(line) for line in history]
    system = fresh_system(tmp_path, chdb_dsn)
    try:
        load(system, lines)
        ledger, _ = run_history(lines)
        counts = [sum(1 for s in ledger.streams.values() for ev in s if ev.type == t)
                  for t in ("ReplyIssued", "DisclosureDecided", "FeedbackRecorded")]
        assert all(counts), f"the history should exercise the whole lifecycle: {counts}"
        for as_of in as_ofs + [date(2020, 12, 31), last_day(ledger), date(2099, 1, 1)]:
            for years in ((2018, 2020), (as_of.year, as_of.year)):
                assert_same(system, ledger, Scope(bureau=bureau, years=years, as_of=as_of,
                                                  **filters), profile)
    finally:
        system.stop()
        system.reporting.drop()


def last_day(ledger) -> date:
    return max(business_date(ev.occurred_at) for s in ledger.streams.values() for ev in s)


def test_reports_from_the_intervals_and_from_every_version_match(tmp_path, chdb_dsn):
    """Reports read the validity intervals; with an audit clock they read every version; both
    match the reference, before, on and after the last business day. A store made before the
    intervals reports from every version until `banli replay` rebuilds it, then from them."""
    lines = [to_jsonl(line) for line in generate_history(120, seed=515)]
    system = fresh_system(tmp_path, chdb_dsn)
    try:
        load(system, lines)
        ledger, _ = run_history(lines)
        last = last_day(ledger)
        store = system.reporting
        days = (date(2019, 6, 30), last - timedelta(days=1), last, date(2099, 1, 1))
        audit = datetime(2299, 1, 1, tzinfo=timezone.utc)  # every record, read from the versions

        def check(recorded_by=None) -> None:
            for day in days:
                for bureau in (None, "sh-ipa"):
                    scope = Scope(bureau=bureau, years=(2018, 2020), as_of=day)
                    assert store.report(scope, PROFILES["default"], recorded_by) == (
                        reference_report(ledger, scope)), scope
        assert store.intervals_complete()
        check()
        check(recorded_by=audit)
        system.stop()
        store.command(f"DROP TABLE {store.db}.report_intervals")
        store.ensure_schema(store.db)  # as a store made before the intervals
        assert not store.intervals_complete() and store.checkpoint() == system.log.head()
        check()
        assert system.replayer.run().state == "done"
        assert store.intervals_complete()
        check()
    finally:
        system.stop()
        system.reporting.drop()


def test_every_day_of_a_year_matches(tmp_path, chdb_dsn):
    """As-of dates anywhere: every week of a busy year, for one bureau and for all."""
    lines = [to_jsonl(line) for line in generate_history(80, seed=20201120)]
    system = fresh_system(tmp_path, chdb_dsn)
    try:
        load(system, lines)
        ledger, _ = run_history(lines)
        day = date(2019, 1, 1)
        while day <= date(2020, 1, 10):
            for bureau in (None, "sh-ipa"):
                assert_same(system, ledger, Scope(bureau=bureau, years=(2018, 2020), as_of=day))
            day += timedelta(days=7)
    finally:
        system.stop()
        system.reporting.drop()
