"""Routing lineage and days lost to misrouting (banli.domain.views.routing_lineage), the reference
the reporting SQL is held to."""
from __future__ import annotations

from datetime import date

from banli.domain.views.routing_lineage import Misrouted, misrouting, routing_lineage

from .scenario import (
    COORDINATOR,
    P,
    acknowledge,
    assign,
    bureaus,
    clerk,
    given,
    reassign,
    return_,
    submit,
    submit_opinion,
    withdraw,
)


Q19 = "2019-cppcc_proposal-19001"


def routed():
    """P: lead sh-hrss returns it after 3 days and sh-ipa leads; co sh-jrj removed unheard
    after 10 days, co sh-stcsm removed after its opinion. Q (2019): sh-ipa returns it after
    2 days, is assigned again later, and the proposal is withdrawn."""
    return given(
        *bureaus,
        submit(at="2020-01-10"), assign(lead=["sh-hrss"], co=["sh-jrj", "sh-stcsm"],
                                        at="2020-01-20"),
        acknowledge("sh-hrss", at="2020-01-21"),
        return_("sh-hrss", at="2020-01-23", actor=clerk("sh-hrss")),
        reassign(add_lead=["sh-ipa"], at="2020-01-27", actor=COORDINATOR),
        submit_opinion("sh-stcsm", at="2020-01-28"),
        reassign(remove=["sh-jrj", "sh-stcsm"], at="2020-01-30"),
        submit("19001", year=2019, at="2019-02-01"),
        assign(Q19, lead=["sh-ipa"], at="2019-02-11"),
    )


def with_q(s):
    return s.given(return_("sh-ipa", proposal=Q19, at="2019-02-13"),
                   reassign(Q19, add_lead=["sh-jrj"], at="2019-02-14"),
                   reassign(Q19, add_co=["sh-ipa"], at="2019-02-20"),
                   return_("sh-ipa", proposal=Q19, at="2019-02-22"),
                   withdraw(Q19, at="2019-03-01"))


def test_the_lineage_lists_each_assignment_return_and_reassignment_with_its_time():
    s = routed()
    steps = routing_lineage(s.streams[P])
    assert [st.action for st in steps] == ["assigned", "returned", "reassigned", "reassigned"]
    assert [st.occurred_at.date() for st in steps] == [
        date(2020, 1, 20), date(2020, 1, 23), date(2020, 1, 27), date(2020, 1, 30)]
    first, back, again, removal = steps
    assert [(d.bureau, d.role) for d in first.started] == [
        ("sh-hrss", "lead"), ("sh-jrj", "co"), ("sh-stcsm", "co")]
    assert back.actor.bureau == "sh-hrss" and back.reason == "不属于本单位职责"
    (ended,) = back.ended
    assert (ended.bureau, ended.role, ended.how, ended.days, ended.handled) == (
        "sh-hrss", "lead", "returned", 3, False)
    assert [d.bureau for d in again.started] == ["sh-ipa"] and again.actor.role == "coordinator"
    assert [(d.bureau, d.how, d.days, d.handled) for d in removal.ended] == [
        ("sh-jrj", "removed", 10, False), ("sh-stcsm", "removed", 10, True)]
    assert [st.seq for st in steps] == sorted(st.seq for st in steps)


def test_a_lineage_without_routing_changes_is_its_assignment_alone():
    s = given(*bureaus, submit(), assign())
    (only,) = routing_lineage(s.streams[P])
    assert only.action == "assigned" and only.ended == ()
    assert routing_lineage(given(*bureaus, submit()).streams[P]) == []


def test_days_lost_count_each_unhandled_end_against_the_bureau_that_held_it():
    s = with_q(routed())
    streams = [s.streams[P], s.streams[Q19]]
    assert misrouting(streams, (2019, 2020), date(2020, 12, 31)) == [
        Misrouted(bureau="sh-hrss", returned=1, as_lead=1, days_lost=3),
        # Q: returned as lead (2 days), then as co (2 days), withdrawn later: still lost
        Misrouted(bureau="sh-ipa", returned=2, as_lead=1, as_co=1, days_lost=4),
        Misrouted(bureau="sh-jrj", removed=1, as_co=1, days_lost=10),
        # sh-stcsm gave its opinion before it was removed: not misrouted
    ]
    assert misrouting(streams, (2019, 2020), date(2020, 12, 31))[1].bounced == 2


def test_misrouting_as_of_a_date_for_some_years_and_one_bureau():
    s = with_q(routed())
    streams = [s.streams[P], s.streams[Q19]]
    assert misrouting(streams, (2020, 2020), date(2020, 1, 29)) == [
        Misrouted(bureau="sh-hrss", returned=1, as_lead=1, days_lost=3)]  # removal not yet
    assert misrouting(streams, (2019, 2019), date(2019, 2, 20)) == [
        Misrouted(bureau="sh-ipa", returned=1, as_lead=1, days_lost=2)]
    assert misrouting(streams, (2019, 2020), date(2020, 12, 31), "sh-jrj") == [
        Misrouted(bureau="sh-jrj", removed=1, as_co=1, days_lost=10)]
    assert misrouting(streams, (2021, 2022), date(2022, 12, 31)) == []
    assert misrouting(streams, (2019, 2020), date(2019, 1, 1)) == []
