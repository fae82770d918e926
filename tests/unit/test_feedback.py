"""Feedback you can trust: each feedback records its channel and who recorded it, and the report
shows how much of a bureau's satisfaction that bureau recorded itself (代表被满意)."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from banli.domain.registry import parse_command
from banli.domain.events import FeedbackRecorded
from banli.domain.registry import CURRENT_VERSION, load_event
from banli.domain.views.rates import Scope, compute_report, report_items, select
from banli.domain.timing.deadlines import DEFAULT_PROFILE
from banli.domain.proposal import evolve
from banli.domain.types import FEEDBACK_RECORDERS, Actor

from .scenario import (
    COORDINATOR, IMPORTER, P, Q, assign, bureaus, clerk, event, given, record_feedback, reply,
    submit,
)

ANSWERED = (*bureaus, submit(), submit("21002"),
            assign(P, lead=["sh-ipa", "sh-jrj"], at="2020-02-20"),
            assign(Q, lead=["sh-ipa"], at="2020-02-21"),
            reply("sh-ipa", at="2020-04-10"), reply("sh-jrj", at="2020-04-10"),
            reply("sh-ipa", proposal=Q, at="2020-04-11"))


def test_feedback_records_its_channel_and_its_recorder():
    then = given(*ANSWERED).when(record_feedback("sh-ipa", "satisfied", channel="paper",
                                                 actor=clerk("sh-ipa")))
    [recorded] = then.then_events(event("FeedbackRecorded", satisfaction="satisfied",
                                        channel="paper"))
    assert recorded.actor.bureau == "sh-ipa" and recorded.schema_version == 2
    duty = then.scenario.proposal().assignments["sh-ipa"]
    assert (duty.feedback_channel, duty.feedback_by_self) == ("paper", True)


def test_feedback_recorded_by_the_coordinator_is_not_the_bureaus_own():
    scenario = given(*ANSWERED, record_feedback("sh-ipa", channel="online", actor=COORDINATOR))
    duty = scenario.proposal().assignments["sh-ipa"]
    assert (duty.feedback_channel, duty.feedback_by_self) == ("online", False)


def test_the_latest_feedback_decides_channel_and_recorder():
    scenario = given(*ANSWERED, record_feedback("sh-ipa", channel="phone", actor=clerk("sh-ipa")),
                     record_feedback("sh-ipa", "basically_satisfied", channel="online",
                                     actor=COORDINATOR))
    duty = scenario.proposal().assignments["sh-ipa"]
    assert (duty.feedback, duty.feedback_channel, duty.feedback_by_self) == (
        "basically_satisfied", "online", False)


def test_a_channel_is_one_of_online_paper_phone():
    with pytest.raises(ValidationError):
        parse_command(record_feedback("sh-ipa", channel="wechat", command_id="x"))
    assert parse_command(record_feedback("sh-ipa")).channel is None  # not stated


def test_the_report_shows_the_share_a_bureau_recorded_itself():
    scenario = given(
        *ANSWERED,
        record_feedback("sh-ipa", "satisfied", channel="phone", actor=clerk("sh-ipa")),
        record_feedback("sh-jrj", "dissatisfied", channel="paper", actor=COORDINATOR),
        record_feedback("sh-ipa", "satisfied", proposal=Q, actor=COORDINATOR))
    states = [scenario.proposal(P), scenario.proposal(Q)]
    mine = compute_report(states, Scope(bureau="sh-ipa", years=(2020, 2020),
                                        as_of=date(2020, 12, 31)), DEFAULT_PROFILE)
    assert mine.feedback_by_self == 1
    assert mine.feedback_channels == {"online": 0, "paper": 0, "phone": 1, "unstated": 1}
    assert mine.rates["self_recorded_feedback"] == 1 / 2
    everyone = Scope(bureau=None, years=(2020, 2020), as_of=date(2020, 12, 31))
    report = compute_report(states, everyone, DEFAULT_PROFILE)
    assert report.rates["self_recorded_feedback"] == 1 / 3
    assert report.feedback_channels["paper"] == 1
    items = report_items(states, everyone, DEFAULT_PROFILE)
    assert [(i["proposal_id"], i["bureau"]) for i in select(items, "feedback_by_self")] == [
        (P, "sh-ipa")]
    assert len(select(items, "self_recorded_feedback")) == 3


def test_without_feedback_the_share_is_null():
    scenario = given(*ANSWERED)
    report = compute_report([scenario.proposal()], Scope(bureau="sh-ipa", years=(2020, 2020),
                                                         as_of=date(2020, 12, 31)),
                            DEFAULT_PROFILE)
    assert report.rates["self_recorded_feedback"] is None


V1_FEEDBACK = {
    "type": "FeedbackRecorded", "schema_version": 1,
    "event_id": "6f1c2d9e-0000-5000-8000-000000000002",
    "proposal_id": "2018-cppcc_proposal-21001", "seq": 6,
    "occurred_at": "2018-06-10T10:00:00+08:00", "recorded_at": "2018-06-10T10:05:00+08:00",
    "actor": {"user": "clerk@sh-ipa", "bureau": "sh-ipa", "role": "clerk"},
    "command_id": "legacy-19", "bureau": "sh-ipa", "satisfaction": "satisfied",
}


def test_a_v1_feedback_loads_as_v2_with_its_channel_unknown():
    loaded = load_event(V1_FEEDBACK)
    assert isinstance(loaded, FeedbackRecorded)
    assert (loaded.schema_version, loaded.channel, loaded.satisfaction) == (2, None, "satisfied")
    assert CURRENT_VERSION["FeedbackRecorded"] == 2
    assert load_event(loaded.model_dump(mode="json")) == loaded


# --- who recorded it: the filer, the office, the bureau itself ------------------------------------
def test_each_feedback_says_who_recorded_it():
    scenario = given(*ANSWERED,
                     record_feedback("sh-ipa", actor=clerk("sh-ipa")),
                     record_feedback("sh-jrj", actor=COORDINATOR))
    duties = scenario.proposal().assignments
    assert (duties["sh-ipa"].feedback_recorder, duties["sh-ipa"].feedback_by_self) == (
        "bureau", True)
    assert (duties["sh-jrj"].feedback_recorder, duties["sh-jrj"].feedback_by_self) == (
        "office", False)


def test_feedback_an_importer_brought_in_is_not_the_bureaus_own():
    """The importer typed it in, whoever's act the line names: it is not the bureau's own entry
    (代表被满意 cannot be laundered through an import)."""
    then = given(*ANSWERED).when(record_feedback("sh-ipa", actor=clerk("sh-ipa"),
                                                 recorded_by=IMPORTER))
    [recorded] = then.then_events(event("FeedbackRecorded"))
    assert recorded.actor.bureau == "sh-ipa" and recorded.recorded_by.role == "importer"
    duty = then.scenario.proposal().assignments["sh-ipa"]
    assert (duty.feedback_recorder, duty.feedback_by_self) == ("office", False)


def test_a_filers_own_feedback_is_the_filers():
    """Filers record nothing yet (the workbench gives them the right): their event, as the log
    would hold it, folds as the filer's."""
    scenario = given(*ANSWERED, record_feedback("sh-ipa", actor=clerk("sh-ipa")))
    [bureaus_own] = scenario.streams[P][-1:]
    filers = bureaus_own.model_copy(update={
        "seq": bureaus_own.seq + 1, "event_id": "filer-1",
        "actor": Actor(user="deputy-zhang", role="filer")})
    duty = evolve(scenario.proposal(), filers).assignments["sh-ipa"]
    assert (duty.feedback_recorder, duty.feedback_by_self) == ("filer", False)
    report = compute_report([evolve(scenario.proposal(), filers)],
                            Scope(bureau="sh-ipa", years=(2020, 2020), as_of=date(2020, 12, 31)),
                            DEFAULT_PROFILE)
    assert report.feedback_recorders == {"filer": 1, "office": 0, "bureau": 0}


def test_the_report_splits_feedback_by_who_recorded_it():
    scenario = given(
        *ANSWERED,
        record_feedback("sh-ipa", actor=clerk("sh-ipa")),
        record_feedback("sh-jrj", actor=COORDINATOR),
        record_feedback("sh-ipa", proposal=Q, actor=clerk("sh-ipa"), recorded_by=IMPORTER))
    states = [scenario.proposal(P), scenario.proposal(Q)]
    everyone = Scope(bureau=None, years=(2020, 2020), as_of=date(2020, 12, 31))
    report = compute_report(states, everyone, DEFAULT_PROFILE)
    assert report.feedback_recorders == {"filer": 0, "office": 2, "bureau": 1}
    assert report.feedback_by_self == 1 and report.rates["self_recorded_feedback"] == 1 / 3
    items = report_items(states, everyone, DEFAULT_PROFILE)
    assert [(i["proposal_id"], i["bureau"]) for i in select(items, "feedback_recorders.office")
            ] == [(P, "sh-jrj"), (Q, "sh-ipa")]
    assert sum(len(select(items, f"feedback_recorders.{who}")) for who in FEEDBACK_RECORDERS
               ) == len(select(items, "feedback_any"))
