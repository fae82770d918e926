"""Working days: China's calendar (the `chinese-calendar` package) in the rules that count
working days — the window to return an assignment and the deadline to publish a reply — around
the Spring Festival and National Day holidays and their adjusted working days (调休)."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from banli.domain.timing.deadlines import DEFAULT_PROFILE, Profile
from banli.domain.decide import decide
from banli.domain.proposal import Context
from banli.domain.timing.workdays import (
    NO_CALENDAR, OutsideCalendar, TableCalendar, add_working_days, past_working_days,
)
from banli.domain.views.explain import explain_proposal
from banli.workcalendar import (
    CalendarBook, NoticeError, build_calendar, check_replacing, china_calendar, official_years,
    package_calendar, parse_notice, remove_notice, save_notice,
)

from .scenario import (
    P, assign, bureaus, decide_disclosure, event, given, reply, return_, submit,
)

CAL = china_calendar()


def assigned_on(day: str, **more):
    return (*bureaus, submit(), assign(co=["sh-hrss"], at=day, **more))


# --- the calendar ----------------------------------------------------------------------------
def test_the_calendar_is_the_packages_day_for_day_where_the_package_has_the_notice():
    package = package_calendar()
    day, last = date(package.first_year, 1, 1), date(package.last_year, 12, 31)
    while day <= last:
        assert CAL.is_working_day(day) == chinese_calendar.is_workday(day), day
        assert not CAL.is_provisional(day)
        day += timedelta(days=1)
    assert CAL.name.startswith("chinese-calendar ")


def test_spring_festival_2020_is_off_and_the_sunday_before_it_is_worked():
    assert CAL.is_working_day(date(2020, 1, 19))  # a Sunday, worked in exchange (调休)
    assert not any(CAL.is_working_day(date(2020, 1, 24) + timedelta(days=k)) for k in range(10))
    assert CAL.is_working_day(date(2020, 2, 3))


def test_national_day_2020_is_off_and_two_weekend_days_are_worked():
    assert CAL.is_working_day(date(2020, 9, 27)) and CAL.is_working_day(date(2020, 10, 10))
    assert not any(CAL.is_working_day(date(2020, 10, 1) + timedelta(days=k)) for k in range(8))


@pytest.mark.parametrize("start, days, expected", [
    (date(2020, 1, 17), 10, date(2020, 2, 7)),    # through Spring Festival, 19 Jan worked
    (date(2020, 1, 23), 1, date(2020, 2, 3)),     # the eve: the next working day is 3 Feb
    (date(2024, 2, 8), 10, date(2024, 2, 28)),    # 2024: 18 Feb (a Sunday) worked
    (date(2020, 9, 25), 10, date(2020, 10, 15)),  # through National Day, 27 Sep and 10 Oct worked
    (date(2020, 9, 25), 20, date(2020, 10, 29)),
    (date(2020, 9, 30), 1, date(2020, 10, 9)),
    (date(2020, 3, 6), 0, date(2020, 3, 6)),
])
def test_working_days_are_counted_after_the_start(start, days, expected):
    assert add_working_days(CAL, start, days) == expected


def test_a_day_the_calendar_has_no_data_for_is_an_error_not_a_guess():
    with pytest.raises(OutsideCalendar) as raised:
        add_working_days(CAL, date(CAL.last_year, 12, 20), 20)
    assert raised.value.day == date(CAL.last_year + 1, 1, 1)
    with pytest.raises(OutsideCalendar):
        CAL.is_working_day(date(CAL.first_year - 1, 6, 1))
    with pytest.raises(OutsideCalendar):
        NO_CALENDAR.is_working_day(date(2020, 6, 1))


def test_past_working_days_asks_the_calendar_only_up_to_the_day():
    year_end = TableCalendar(name="2020 only", first_year=2020, last_year=2020)
    assert not past_working_days(year_end, date(2020, 12, 28), 10, date(2020, 12, 31))
    assert past_working_days(CAL, date(2020, 1, 17), 10, date(2020, 2, 8))
    assert not past_working_days(CAL, date(2020, 1, 17), 10, date(2020, 2, 7))
    assert past_working_days(CAL, date(2020, 3, 6), 0, date(2020, 3, 7))


# --- the return window -----------------------------------------------------------------------
def test_a_return_within_ten_working_days_over_spring_festival_is_taken():
    # 17 Jan 2020 + 10 working days is 7 Feb: counting weekdays alone would close it on 31 Jan
    given(*assigned_on("2020-01-17")).when(return_("sh-ipa", at="2020-02-07")).then_events(
        event("AssignmentReturned", bureau="sh-ipa"))


def test_a_return_after_ten_working_days_is_refused():
    rejection = given(*assigned_on("2020-01-17")).when(
        return_("sh-hrss", at="2020-02-08")).then_rejected(
        "return_window_closed", bureau="sh-hrss", days=10, assigned="2020-01-17",
        deadline="2020-02-07")
    assert "10 个工作日" in rejection.message and "2020年2月7日" in rejection.message
    assert "7 February 2020" in rejection.message_en


def test_the_return_window_over_national_day_counts_the_adjusted_saturday():
    # 25 Sep 2020 + 10 working days is 15 Oct (27 Sep and 10 Oct worked, 1-8 Oct off)
    scenario = given(*assigned_on("2020-09-25"))
    scenario.when(return_("sh-hrss", at="2020-10-15")).then_events(
        event("AssignmentReturned", bureau="sh-hrss"))
    scenario.when(return_("sh-ipa", at="2020-10-16")).then_rejected(
        "return_window_closed", deadline="2020-10-15")


def test_a_profile_sets_the_return_window():
    five = Profile(name="five", return_working_days=5)
    given(*assigned_on("2020-09-25"), profile=five).when(
        return_("sh-ipa", at="2020-10-10")).then_rejected("return_window_closed",
                                                          deadline="2020-10-09")


def test_a_return_on_a_day_the_calendar_does_not_cover_is_refused_clearly():
    last = CAL.last_year
    pid = f"{last}-cppcc_proposal-21001"
    scenario = given(*bureaus, submit(year=last), assign(pid, at=f"{last}-12-20"))
    late = return_("sh-ipa", proposal=pid, at=f"{last + 1}-01-04")
    rejection = scenario.when(late).then_rejected(
        "calendar_not_covered", day=f"{last + 1}-01-01", first=CAL.first_year, last=last)
    assert CAL.name in rejection.message_en


def test_without_a_calendar_the_kernel_refuses_rather_than_counting_weekdays():
    scenario = given(*assigned_on("2020-03-02"))
    command = scenario.command(return_("sh-ipa", at="2020-03-03"))
    outcome = decide(scenario.state(P), command, Context(recorded_at=command.at,
                                                         directory=scenario.directory))
    assert outcome.code == "calendar_not_covered" and outcome.details["calendar"] == "none"


# --- the disclosure deadline ------------------------------------------------------------------
def test_a_reply_is_due_for_publication_twenty_working_days_after_it():
    assert DEFAULT_PROFILE.disclosure_due(CAL, date(2020, 9, 25)) == date(2020, 10, 29)
    assert DEFAULT_PROFILE.disclosure_due(CAL, date(2020, 1, 17)) == date(2020, 2, 21)


def test_the_state_knows_when_the_latest_reply_was_published():
    scenario = given(*assigned_on("2020-08-03"), reply("sh-ipa", at="2020-09-25"),
                     decide_disclosure("sh-ipa", "withheld", at="2020-10-09"))
    duty = scenario.proposal().assignments["sh-ipa"]
    assert (duty.last_reply_on, duty.published_on) == (date(2020, 9, 25), None)
    scenario.given(decide_disclosure("sh-ipa", "summary", at="2020-10-20"),
                   decide_disclosure("sh-ipa", "full", at="2020-11-02"))
    duty = scenario.proposal().assignments["sh-ipa"]
    assert duty.published_on == date(2020, 10, 20)  # on time: due 29 Oct


# --- years without a published notice: provisional, then the notice loaded ---------------------
NOTICE_2027 = Path(__file__).resolve().parents[2] / "deploy" / "calendar" / "notice-2027.example.json"


def test_a_year_without_a_notice_counts_its_statutory_holidays_provisionally():
    assert not CAL.is_provisional(date(package_calendar().last_year, 12, 31))
    assert CAL.is_provisional(date(2027, 3, 1))
    # 2027 without a notice: the Spring Festival days (5-10 Feb), no weekend day worked
    assert not CAL.is_working_day(date(2027, 2, 8)) and not CAL.is_working_day(date(2027, 2, 5))
    assert CAL.is_working_day(date(2027, 2, 11))
    assert not CAL.is_working_day(date(2027, 2, 20))  # a Saturday: nothing known to be worked
    assert add_working_days(CAL, date(2027, 1, 29), 10) == date(2027, 2, 18)


def test_a_return_window_spanning_the_new_year_is_counted_and_marked_provisional():
    last = package_calendar().last_year  # 2026 with chinese-calendar 1.11
    pid = f"{last}-cppcc_proposal-21001"
    scenario = given(*bureaus, submit(year=last, at=f"{last}-12-01"),
                     assign(pid, co=["sh-hrss"], at=f"{last}-12-24"))
    deadline = add_working_days(CAL, date(last, 12, 24), 10)
    assert deadline.year == last + 1
    scenario.when(return_("sh-hrss", proposal=pid, at=deadline.isoformat())).then_events(
        event("AssignmentReturned"))
    late = (deadline + timedelta(days=1 if deadline.weekday() < 4 else 3)).isoformat()
    scenario.when(return_("sh-ipa", proposal=pid, at=late)).then_rejected(
        "return_window_closed", deadline=deadline.isoformat())
    explained = explain_proposal(scenario.streams[pid], DEFAULT_PROFILE, CAL, date(last, 12, 28))
    window = explained["assignments"][0]["return_window"]
    assert window["due"] == deadline.isoformat() and window["provisional"] is True


def test_a_loaded_notice_replaces_the_provisional_year():
    [table] = parse_notice(NOTICE_2027.read_bytes())
    calendar = build_calendar([table])
    assert not calendar.is_provisional(date(2027, 3, 1))
    assert calendar.is_working_day(date(2027, 2, 20))  # a Saturday worked in exchange
    assert not calendar.is_working_day(date(2027, 2, 11))  # the extended holiday
    assert add_working_days(calendar, date(2027, 1, 29), 10) == date(2027, 2, 20)
    assert "notices 2027" in calendar.name and table.source.startswith("通知 notice 示例")


@pytest.mark.parametrize("notice, problem", [
    ({"year": 2027, "holidays": ["2026-12-31"]}, "outside 2027"),
    ({"year": 2027, "holidays": ["2027-02-05..2027-02-11"], "workdays": ["2027-02-07"]},
     "both a day off and a working day"),
    ({"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-02-16"]}, "a weekday"),
    ({"year": 2027, "holidays": ["2027-02-30"]}, "not a date"),
    ({"year": 2027, "holidays": ["2027-02-11..2027-02-05"]}, "not a valid range"),
    ({"year": 1900, "holidays": ["1900-01-01"]}, "1950-2100"),
    ({"year": 2027, "holidays": []}, "no days off"),
    ({"year": 2027, "holidays": ["2027-01-01"], "note": "x"}, "unknown fields"),
    ([{"year": 2027, "holidays": ["2027-01-01"]}, {"year": 2027, "holidays": ["2027-01-02"]}],
     "given twice"),
])
def test_a_notice_file_is_checked_before_it_counts(notice, problem):
    with pytest.raises(NoticeError) as refused:
        parse_notice(json.dumps(notice))
    assert any(problem in p for p in refused.value.problems), refused.value.problems
    with pytest.raises(NoticeError, match="JSON"):
        parse_notice(b"\xff not json")


def test_a_notice_that_is_no_json_or_names_no_year_is_refused_without_a_traceback():
    for data, problem in ((b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
                          (b'{"year": ' + b"9" * 5000 + b"}", "not valid JSON"),
                          (b"[]", "no year"), (b"[[]]", "each year is a JSON object")):
        with pytest.raises(NoticeError) as refused:
            parse_notice(data)
        assert any(problem in p for p in refused.value.problems), refused.value.problems


def published_2020(extra: str | None = None) -> bytes:
    """The State Council's notice for 2020 as the package has it (its days off, its weekend
    days worked), with a correction: one more day off."""
    package = package_calendar()
    off = sorted(d.isoformat() for d in package.holidays if d.year == 2020)
    worked = sorted(d.isoformat() for d in package.adjusted_workdays if d.year == 2020)
    return json.dumps({"year": 2020, "source": "更正", "holidays": off + ([extra] if extra else []),
                       "workdays": worked}).encode()


def test_a_published_year_is_replaced_only_where_the_operator_names_it(tmp_path):
    every_year = json.dumps([{"year": y, "holidays": [f"{y}-01-01"]} for y in range(1950, 2101)])
    tables = parse_notice(every_year)  # well formed: 151 years
    with pytest.raises(NoticeError) as refused:
        check_replacing(tables)
    official = [y for y in range(1950, 2101) if y in official_years()]
    assert len(refused.value.problems) == len(official) >= 23  # 2004-2026 at least
    assert all("--replace" in p for p in refused.value.problems)
    with pytest.raises(NoticeError, match="2020"):
        save_notice(tmp_path, published_2020("2020-07-06"))
    assert not (tmp_path / "2020.json").exists()
    with pytest.raises(NoticeError, match="2019, to be replaced, is not in the notice"):
        save_notice(tmp_path, published_2020("2020-07-06"), replace=[2019, 2020])
    save_notice(tmp_path, published_2020("2020-07-06"), replace=[2020])
    book = CalendarBook(tmp_path, check_every=0)
    assert not book.current().is_working_day(date(2020, 7, 6))  # the correction counts
    assert remove_notice(tmp_path, 2020) and not remove_notice(tmp_path, 2020)
    assert book.current().is_working_day(date(2020, 7, 6))  # the package's again
    assert book.current().years[2020].source == package_calendar().name


def test_the_calendar_command_loads_and_takes_back_notices(tmp_path, capsys):
    from apps.cli import main

    data = ["--data-dir", str(tmp_path / "data")]
    nested = tmp_path / "nested.json"
    nested.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"[]")
    every = tmp_path / "every.json"
    every.write_text(json.dumps([{"year": y, "holidays": [f"{y}-01-01"]}
                                 for y in range(1950, 2101)]))
    for path, problem in ((nested, "nested too deep"), (empty, "no year"),
                          (every, "--replace 2020")):
        assert main(["calendar", "load", str(path), *data]) == 1, path
        err = capsys.readouterr().err
        assert problem in err and "Traceback" not in err, err
    assert not (tmp_path / "data" / "calendar").exists()
    corrected = tmp_path / "2020.json"
    corrected.write_bytes(published_2020("2020-07-06"))
    assert main(["calendar", "load", str(corrected), *data]) == 1
    assert main(["calendar", "load", str(corrected), "--replace", "2020", *data]) == 0
    assert main(["calendar", "load", str(NOTICE_2027), *data]) == 0
    capsys.readouterr()
    assert main(["calendar", "show", "--years", "2020", *data]) == 0
    assert "2020: 正式 published — 通知 notice 更正" in capsys.readouterr().out
    assert main(["calendar", "unload", "2020", *data]) == 0
    assert main(["calendar", "unload", "2020", *data]) == 1
    assert "no notice for 2020 is loaded" in capsys.readouterr().err
    assert main(["calendar", "show", "--years", "2020-2027", *data]) == 0
    shown = capsys.readouterr().out
    assert "2020: 正式 published — chinese-calendar" in shown
    assert "2027: 正式 published — 通知 notice" in shown  # the other notice stays


def test_a_running_process_takes_a_notice_saved_beside_it(tmp_path):
    book = CalendarBook(tmp_path / "calendar", check_every=0)
    assert book.current().is_provisional(date(2027, 5, 1)) and book.loaded() == []
    save_notice(tmp_path / "calendar", NOTICE_2027.read_bytes())
    assert (tmp_path / "calendar" / "2027.json").stat().st_mode & 0o777 == 0o600
    assert not book.current().is_provisional(date(2027, 5, 1))
    assert [t.year for t in book.loaded()] == [2027]
    (tmp_path / "calendar" / "2027.json").write_text("{broken")
    assert not book.current().is_provisional(date(2027, 5, 1))  # the good one still counts
    assert book.error and "JSON" in book.error


def test_the_calendar_command_loads_and_shows_a_notice(tmp_path, capsys):
    from apps.cli import main

    data = tmp_path / "data"
    assert main(["calendar", "show", "--data-dir", str(data), "--years", "2027"]) == 0
    assert "2027: 暂定 provisional" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"year": 2027, "holidays": ["2026-01-01"]}))
    assert main(["calendar", "load", str(bad), "--data-dir", str(data)]) == 1
    assert "outside 2027" in capsys.readouterr().err
    assert main(["calendar", "load", str(NOTICE_2027), "--data-dir", str(data)]) == 0
    assert main(["calendar", "show", "--data-dir", str(data), "--years", "2027"]) == 0
    assert "2027: 正式 published — 通知 notice" in capsys.readouterr().out
