"""Bureaus as offices name them, and reorganisations (机构改革): short and former names, renames,
mergers that hand the open duties to the successor, splits by handing duties over. Given what
happened, when a command comes, then these events (or this rejection)."""
from __future__ import annotations

from datetime import date, datetime

from banli.domain import events as e
from banli.domain.timing.deadlines import DEFAULT_PROFILE
from banli.domain.proposal import Bureau, Proposal, fold
from banli.domain.views.rates import Scope, compute_report
from banli.domain.reorganisation import handover_command
from banli.domain.types import SHANGHAI, business_date

from .scenario import (
    COORDINATOR, P, Q, acknowledge, assign, bureaus, clerk, event, given, register_bureau, reply,
    submit, submit_opinion,
)

SUBMITTED = (*bureaus, submit())
# sh-jrj merged into sh-stcsm on 1 March 2020
MERGED = (*SUBMITTED, assign(lead=["sh-jrj"], co=["sh-hrss"], at="2020-02-20"),
          {"type": "merge_bureau", "bureau": "sh-jrj", "into": "sh-stcsm", "at": "2020-03-01"})


def merge_bureau(bureau: str, into: str, **more):
    return {"type": "merge_bureau", "bureau": bureau, "into": into, **more}


def rename_bureau(bureau: str, name: str, **more):
    return {"type": "rename_bureau", "bureau": bureau, "name": name, **more}


def hand_over(bureau: str, to: str, proposal: str = P, **more):
    return {"type": "hand_over", "proposal": proposal, "bureau": bureau, "to": to, **more}


# --- names -----------------------------------------------------------------------------------
def test_a_bureau_is_registered_with_its_short_and_former_names():
    then = given().when(register_bureau(
        "sh-fgw", "上海市发展和改革委员会", short_names=["市发展改革委", "上海市发展和改革委员会", " 市发改委"],
        former_names=["上海市发展计划委员会"]))
    then.then_events(event("BureauRegistered", short_names=["市发展改革委", "市发改委"],
                           former_names=["上海市发展计划委员会"]))
    bureau = then.scenario.state("bureau:sh-fgw")
    assert isinstance(bureau, Bureau) and bureau.short_names == ("市发展改革委", "市发改委")


def test_a_rename_takes_effect_on_its_date_and_the_old_names_become_former_names():
    s = given(register_bureau("sh-kw", "上海市科学技术委员会", short_names=["市科委"],
                              at="2018-01-02"))
    s.when(rename_bureau("sh-kw", "上海市科学技术局", name_en="Science and Technology Bureau",
                         short_names=["市科技局"], at="2019-07-01")).then_events(
        event("BureauRenamed", name="上海市科学技术局", short_names=["市科技局"]))
    bureau = s.state("bureau:sh-kw")
    assert isinstance(bureau, Bureau)
    assert (bureau.name, bureau.short_names) == ("上海市科学技术局", ("市科技局",))
    assert bureau.former_names == ("上海市科学技术委员会", "市科委")
    assert bureau.named_on(date(2019, 6, 30)).name == "上海市科学技术委员会"
    assert bureau.named_on(date(2017, 1, 1)).name == "上海市科学技术委员会"  # before any: the first
    assert bureau.named_on(date(2019, 7, 1)).name == "上海市科学技术局"
    assert s.directory.bureau_name("sh-kw") == ("上海市科学技术局", "Science and Technology Bureau")


def test_a_rename_without_short_names_keeps_them():
    s = given(register_bureau("sh-kw", "上海市科学技术委员会", short_names=["市科委"]))
    s.when(rename_bureau("sh-kw", "上海市科学技术局")).then_events(
        event("BureauRenamed", short_names=["市科委"]))


def test_a_rename_must_change_a_name():
    given(register_bureau("sh-kw", "上海市科学技术委员会")).when(
        rename_bureau("sh-kw", "上海市科学技术委员会")).then_rejected("name_unchanged", bureau="sh-kw")


def test_an_unknown_bureau_is_neither_renamed_nor_merged():
    given(*bureaus).when(rename_bureau("sh-x", "某局")).then_rejected("unknown_bureau",
                                                                    bureau="sh-x")
    given(*bureaus).when(merge_bureau("sh-x", "sh-ipa")).then_rejected("unknown_bureau",
                                                                      bureau="sh-x")
    given(*bureaus).when(merge_bureau("sh-ipa", "sh-x")).then_rejected("unknown_bureau",
                                                                      bureau="sh-x")


def test_a_bureau_s_records_follow_each_other():
    given(register_bureau("sh-kw", "甲", at="2019-01-02")).when(
        rename_bureau("sh-kw", "乙", at="2018-12-31")).then_rejected("out_of_order")


# --- mergers ---------------------------------------------------------------------------------
def test_a_merger_is_recorded_on_the_merged_bureau_s_stream():
    then = given(*bureaus).when(merge_bureau("sh-jrj", "sh-stcsm", at="2020-03-01"))
    [merged] = then.then_events(event("BureauMerged", bureau="sh-jrj", into="sh-stcsm"))
    assert merged.proposal_id == "bureau:sh-jrj"
    assert then.scenario.directory.merged_into("sh-jrj") == ("sh-stcsm", merged.occurred_at)


def test_a_bureau_is_merged_once_into_another_standing_bureau():
    given(*bureaus).when(merge_bureau("sh-jrj", "sh-jrj")).then_rejected(
        "merge_into_itself", bureau="sh-jrj")
    given(*MERGED).when(merge_bureau("sh-jrj", "sh-ipa")).then_rejected(
        "bureau_merged", bureau="sh-jrj", successor="sh-stcsm")
    given(*MERGED).when(merge_bureau("sh-ipa", "sh-jrj")).then_rejected(
        "bureau_merged", bureau="sh-jrj", successor="sh-stcsm")
    given(*MERGED).when(rename_bureau("sh-jrj", "新名")).then_rejected("bureau_merged")


def test_a_merged_bureau_takes_no_new_duties():
    given(*MERGED, submit("21002")).when(assign(Q, lead=["sh-jrj"])).then_rejected(
        "bureau_merged", bureau="sh-jrj", successor="sh-stcsm")


def test_a_merged_bureau_s_clerk_records_nothing_more():
    then = given(*MERGED).when(acknowledge("sh-jrj", actor=clerk("sh-jrj")))
    refusal = then.then_rejected("bureau_merged", bureau="sh-jrj", successor="sh-stcsm")
    assert "上海市科学技术委员会" in refusal.message and "2020年3月1日" in refusal.message


def test_the_successor_acts_on_the_duty_it_took_over_from_the_merger_s_date():
    then = given(*MERGED).on("2020-03-10T12:00").when(
        reply("sh-stcsm", actor=clerk("sh-stcsm"), at="2020-03-10"))
    handed, _ = then.then_events(
        event("DutyHandedOver", from_bureau="sh-jrj", to_bureau="sh-stcsm", merged=True),
        event("ReplyIssued", bureau="sh-stcsm"))
    assert business_date(handed.occurred_at) == date(2020, 3, 1)
    assert handed.actor.bureau == "sh-stcsm"  # recorded by the command that found it owed
    p = then.scenario.proposal()
    duty = p.assignments["sh-stcsm"]
    assert (duty.role, duty.assigned_on, duty.formerly) == ("lead", date(2020, 2, 20), ("sh-jrj",))
    assert p.assignments["sh-jrj"].status == "handed_over"
    assert p.assignments["sh-jrj"].handed_to == "sh-stcsm"


def test_the_successor_s_record_may_not_be_dated_before_the_handover():
    given(*MERGED).on("2020-03-10T12:00").when(
        reply("sh-stcsm", at="2020-02-25")).then_rejected("out_of_order")


def test_a_duty_recorded_on_after_the_merger_is_handed_over_after_that_record():
    s = given(*SUBMITTED, assign(lead=["sh-jrj"], at="2020-02-20"),
              acknowledge("sh-jrj", at="2020-03-05"),
              merge_bureau("sh-jrj", "sh-stcsm", at="2020-03-01"))
    then = s.when(reply("sh-stcsm", at="2020-03-06"))
    handed, _ = then.then_events(event("DutyHandedOver"), event("ReplyIssued"))
    assert business_date(handed.occurred_at) == date(2020, 3, 5)


def test_the_merger_s_handover_command_records_it_once():
    s = given(*MERGED)
    merger = s.streams["bureau:sh-jrj"][-1]
    command = handover_command(merger, P)
    assert command.at == merger.occurred_at and command.actor == merger.actor
    [handed] = s.when(command).then_events(event("DutyHandedOver", from_bureau="sh-jrj",
                                                 to_bureau="sh-stcsm", merged=True))
    assert handed.occurred_at == merger.occurred_at
    s.when(handover_command(merger, P).model_copy(update={"command_id": "again"})
           ).then_rejected("already_handed_over", bureau="sh-jrj", to="sh-stcsm")


def test_a_successor_merged_in_its_turn_hands_the_duty_on():
    s = given(*MERGED, merge_bureau("sh-stcsm", "sh-ipa", at="2020-04-01"))
    then = s.when(reply("sh-ipa", at="2020-04-02"))
    first, second, _ = then.then_events(
        event("DutyHandedOver", from_bureau="sh-jrj", to_bureau="sh-stcsm"),
        event("DutyHandedOver", from_bureau="sh-stcsm", to_bureau="sh-ipa"),
        event("ReplyIssued", bureau="sh-ipa"))
    assert then.scenario.proposal().assignments["sh-ipa"].formerly == ("sh-jrj", "sh-stcsm")


def test_a_successor_that_co_handled_takes_the_lead_s_duty():
    s = given(*SUBMITTED, assign(lead=["sh-jrj"], co=["sh-stcsm"], at="2020-02-20"),
              merge_bureau("sh-jrj", "sh-stcsm", at="2020-03-01"))
    s.when(reply("sh-stcsm", at="2020-03-02")).then_events(event("DutyHandedOver"),
                                                           event("ReplyIssued"))
    duty = s.proposal().assignments["sh-stcsm"]
    assert (duty.role, duty.formerly) == ("lead", ("sh-jrj",))


def test_a_successor_that_leads_keeps_its_duty_and_the_co_handler_s_ends():
    s = given(*SUBMITTED, assign(lead=["sh-stcsm"], co=["sh-jrj"], at="2020-02-20"),
              merge_bureau("sh-jrj", "sh-stcsm", at="2020-03-01"))
    s.when(submit_opinion("sh-stcsm", at="2020-03-02")).then_rejected("not_co")
    p = s.proposal()
    assert p.assignments["sh-stcsm"].role == "lead" and p.assignments["sh-stcsm"].formerly == ()


def test_each_duty_counts_for_the_bureau_that_held_it_as_of_the_date():
    s = given(*MERGED, reply("sh-stcsm", at="2020-03-10"))
    events = s.streams[P]

    def report(bureau: str, as_of: date):
        folded = fold(ev for ev in events if business_date(ev.occurred_at) <= as_of)
        assert isinstance(folded, Proposal)
        return compute_report([folded], Scope(bureau=bureau, years=(2020, 2020), as_of=as_of),
                              DEFAULT_PROFILE)

    before, after = date(2020, 2, 29), date(2020, 3, 1)
    assert report("sh-jrj", before).assignments["cppcc_proposal"].lead == 1
    assert report("sh-stcsm", before).assignments["cppcc_proposal"].lead == 0
    assert report("sh-jrj", after).assignments["cppcc_proposal"].lead == 0
    assert report("sh-stcsm", after).assignments["cppcc_proposal"].lead == 1
    assert report("sh-stcsm", date(2020, 3, 10)).replies == 1
    assert report(None, after).proposals == report(None, before).proposals == 1


# --- splits: handing one duty over ---------------------------------------------------------
def test_the_coordinator_hands_a_duty_over_with_its_history():
    s = given(*SUBMITTED, assign(lead=["sh-jrj"], at="2020-02-20"), acknowledge("sh-jrj"))
    s.when(hand_over("sh-jrj", "sh-ipa", at="2020-03-01", actor=COORDINATOR)).then_events(
        event("DutyHandedOver", from_bureau="sh-jrj", to_bureau="sh-ipa", merged=False))
    duty = s.proposal().assignments["sh-ipa"]
    assert duty.acknowledged and duty.formerly == ("sh-jrj",)
    s.when(hand_over("sh-jrj", "sh-hrss", at="2020-03-02")).then_rejected(
        "already_handed_over", bureau="sh-jrj", to="sh-ipa")


def test_a_duty_is_handed_over_to_another_standing_bureau_after_its_last_record():
    s = given(*SUBMITTED, assign(lead=["sh-jrj"], at="2020-02-20"))
    s.when(hand_over("sh-jrj", "sh-jrj")).then_rejected("hand_over_to_itself", bureau="sh-jrj")
    s.when(hand_over("sh-hrss", "sh-ipa")).then_rejected("not_assigned", bureau="sh-hrss")
    s.when(hand_over("sh-jrj", "sh-ipa", at="2020-02-19")).then_rejected("out_of_order")
    given(*MERGED, submit("21002"), assign(Q, lead=["sh-ipa"])).when(
        hand_over("sh-ipa", "sh-jrj", proposal=Q)).then_rejected("bureau_merged")
