"""The lists people read (banli.domain.views.lists) and the deadlines list (banli.domain.views.due_list):
every column and value has its words, a drill-down's columns fit what it counts, and what a
duty owes as of a date, with its days left counted to that date."""
from __future__ import annotations

from datetime import date
from typing import get_args

import pytest

from banli.domain.views import reminders, work
from banli.domain.timing.deadlines import PROFILE_WORDS, PROFILES
from banli.domain.views.due_list import listed, owed_of, urgent
from banli.domain.views.lists import (EVENT_TITLES, LISTS, columns_of, league_order, measure_columns,
                                row_words)
from banli.domain.views.rates import ITEM_MEASURES, MEASURE_WORDS, MEASURES, RATE_MEASURES
from banli.domain.registry import EVENT_TYPES
from banli.domain.types import OwedKind
from banli.domain.wording import CHOICE_WORDS

NAMES = {"sh-ipa": {"name": "上海市知识产权局", "name_en": "Shanghai IPA"}}


def test_every_value_a_list_shows_has_its_words():
    for name, columns in LISTS.items():
        assert len({c.key for c in columns}) == len(columns), name
        for c in columns:
            assert c.zh and c.en, (name, c.key)
            if c.kind == "choice":
                assert c.choice in CHOICE_WORDS or c.choice == "profile", (name, c.key)
    # what is owed, under every code a list gives it (the work list's, the reminders')
    owed = set(get_args(OwedKind))
    assert set(get_args(work.Owed)) <= owed and set(get_args(reminders.Owed)) <= owed
    assert set(CHOICE_WORDS["owed"]) == owed
    assert set(PROFILE_WORDS) == set(PROFILES)
    assert set(EVENT_TITLES) == set(EVENT_TYPES)


def test_every_number_and_rate_has_its_words():
    assert set(MEASURE_WORDS) == {*MEASURES, *ITEM_MEASURES, *RATE_MEASURES}
    for name, (zh, en) in MEASURE_WORDS.items():
        assert zh and en and en[0].isupper(), name
    assert MEASURE_WORDS["result.solved"] == ("A 已解决或采纳", "A: solved or adopted")
    assert MEASURE_WORDS["cppcc_proposal.co"] == ("政协提案·会办", "CPPCC proposal, co-handler")


@pytest.mark.parametrize("measure, more", [
    ("duties", ()), ("replied", ()), ("result.solved", ()),
    ("adoption", ("counted",)), ("on_time_reply", ("counted",)),
    ("contact", ("contacted", "counted")), ("contacted", ("contacted",)),
    ("satisfaction", ("feedback", "feedback_recorder", "counted")),
    ("feedback.dissatisfied", ("feedback", "feedback_recorder")),
    ("feedback_recorders.bureau", ("feedback", "feedback_recorder")),
])
def test_a_drilldown_shows_the_columns_that_fit_what_it_counts(measure, more):
    """计入分子 only where the items are a rate's denominator; what the number is about beside
    the base columns; the columns in the list's order."""
    keys = measure_columns(measure)
    base = ("display", "title", "bureau", "role", "assigned_on", "due", "answered_on", "result",
            "disclosure")
    assert keys == (*base, *more)
    assert [c.key for c in columns_of("items", keys)] == list(keys)


def test_a_row_in_words_in_chinese_and_english():
    row = {"display": "市政协提案 0007", "display_en": "municipal CPPCC proposal 0007",
           "proposal_id": "2020-cppcc_proposal-7", "title": "题", "bureau": "sh-ipa",
           "role": "co", "owed": "re-reply", "due": "2020-11-25", "days_left": -3,
           "result": "planned", "disclosure": None, "counted": False, "contacted": True,
           "type": "ReplyIssued", "actor": {"user": "wang", "role": "clerk"},
           "recorded_by": None, "entry": "late", "colour": "red"}
    columns = [*LISTS["owed"], *columns_of("items", ("result", "disclosure", "contacted",
                                                     "counted")),
               *columns_of("entries", ("type", "actor", "recorded_by", "entry")),
               *columns_of("reminders", ("colour",))]
    zh = row_words(columns, row, "zh", NAMES)
    assert zh == {"display": "市政协提案 0007", "title": "题", "bureau": "上海市知识产权局",
                  "role": "会办", "owed": "重新答复", "due": "2020-11-25", "days_left": -3,
                  "result": "B 正在解决或列入计划", "disclosure": None, "contacted": "是",
                  "counted": "否", "type": "答复", "actor": "wang", "recorded_by": "wang",
                  "entry": "逾期补录", "colour": "逾期"}
    en = row_words(columns, row, "en", NAMES)
    assert (en["display"], en["bureau"], en["role"], en["owed"], en["counted"], en["colour"]) == (
        "municipal CPPCC proposal 0007", "Shanghai IPA", "co-handler", "reply again", "no",
        "overdue")
    # a bureau the directory does not know shows its id; one with no English name its Chinese
    assert row_words(LISTS["misrouting"][:1], {"bureau": "sh-x"}, "en", NAMES) == {
        "bureau": "sh-x"}
    assert row_words(LISTS["misrouting"][:1], {"bureau": "sh-ipa"}, "en",
                     {"sh-ipa": {"name": "上海市知识产权局", "name_en": ""}}) == {
        "bureau": "上海市知识产权局"}


def test_the_league_is_ordered_by_on_time_reply_rate_then_bureau():
    assert league_order({"b": 0.5, "a": 0.5, "c": None, "d": 1.0, "e": 0.0}) == [
        "d", "a", "b", "e", "c"]


DUE = date(2020, 9, 1)


@pytest.mark.parametrize("role, awaiting, replies, opinions, reopen_due, owed", [
    ("lead", True, 0, 0, None, ("reply", DUE)),
    ("lead", False, 1, 0, None, None),                                 # replied
    ("lead", True, 1, 0, date(2020, 12, 1), ("re-reply", date(2020, 12, 1))),  # reopened
    ("co", False, 0, 0, None, ("opinion", DUE)),
    ("co", False, 0, 1, None, None),                                   # gave its opinion
])
def test_what_a_duty_owes(role, awaiting, replies, opinions, reopen_due, owed):
    assert owed_of(role, awaiting, replies, opinions, DUE, reopen_due) == owed


def duty(due: date) -> dict:
    return {"proposal_id": "2020-cppcc_proposal-7", "kind": "cppcc_proposal",
            "level": "municipal", "year": 2020, "number": "7", "title": "题", "bureau": "sh-ipa",
            "role": "lead", "assigned_on": date(2020, 6, 1), "due": due, "reopen_due": None,
            "replies": 0, "opinions": 0, "awaiting_reply": True}


@pytest.mark.parametrize("as_of, days_left, overdue, soon", [
    (date(2020, 9, 2), -1, True, False), (date(2020, 9, 1), 0, False, True),
    (date(2020, 8, 22), 10, False, True), (date(2020, 8, 21), 11, False, False),
])
def test_days_left_are_counted_to_the_as_of_date(as_of, days_left, overdue, soon):
    item = listed(duty(DUE), as_of)
    assert item is not None
    assert (item["days_left"], item["overdue"], item["due_soon"]) == (days_left, overdue, soon)
    assert urgent([item]) == ([item] if overdue or soon else [])
