"""The office's review of what it received (审查立案, issue 25 §1): received → filed, merged, not
filed (passed on as an opinion) or returned for revision and resubmitted; only a filed proposal
is assigned; a proposal submitted without review is filed on submit, as before. Collective
filers and areas are recorded with the proposal (§2, §3)."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from banli.domain.timing.deadlines import FIVE_AREAS, Area, Profile
from banli.domain.views.filed import filed_items
from banli.domain.proposal import fold
from banli.domain.registry import load_event
from tests.unit.scenario import (COORDINATOR, OVERSEER, P, Q, assign, bureaus, clerk, event,
                                 given, merge, reply, submit, supervise, withdraw)

ZHANG = "d-zhang"


def received(number: str = "21001", **more):
    return submit(number, review=True, **more)


def file_(proposal: str = P, **more):
    return {"type": "file_proposal", "proposal": proposal, **more}


def decline(proposal: str = P, to=("市发展改革委", "浦东新区人民政府"), **more):
    return {"type": "decline_filing", "proposal": proposal, "referred_to": list(to),
            "reason": "属于具体事务，转有关单位参考", **more}


def request_revision(proposal: str = P, **more):
    return {"type": "request_revision", "proposal": proposal, "reason": "请补充具体措施", **more}


def resubmit(proposal: str = P, **more):
    return {"type": "resubmit", "proposal": proposal, **more}


def filer(filer_id: str = ZHANG) -> dict:
    return {"user": filer_id, "role": "filer", "filer": filer_id}


REGISTERED = ({"type": "register_filer", "filer": ZHANG, "name": "张伟",
               "affiliation": "无党派人士界别"},)


# --- filed on submit, as before ---------------------------------------------------------------
def test_a_proposal_submitted_without_review_is_filed_on_submit_and_assigned_as_before():
    scenario = given(*bureaus)
    scenario.when(submit()).then_events(event("ProposalSubmitted"))
    p = scenario.proposal()
    assert (p.review, p.received_on, p.review_due, p.filer_kind, p.area) == (
        "filed", None, None, "person", "")
    scenario.when(assign()).then_events(event("ProposalAssigned"))


def test_a_submit_without_the_new_fields_reads_as_before():
    """No new key in the command's JSON (a command's fingerprint, which a retry of a command
    sent before must match); a submitted event written before them reads as a person's, in no
    area."""
    scenario = given(*bureaus)
    then = scenario.when(submit())
    assert not {"review", "filer_kind", "area"} & set(then.command.model_dump(mode="json"))
    old = then.outcome[0].model_dump(mode="json")
    del old["filer_kind"], old["area"]
    assert load_event(old) == then.outcome[0]


# --- received, then the review's outcomes -----------------------------------------------------
def test_a_received_proposal_awaits_review_on_the_profiles_clock_and_is_not_assigned():
    scenario = given(*bureaus)
    scenario.when(received(at="2020-01-15")).then_events(
        event("ProposalSubmitted"), event("ProposalReceived", review_due="2020-02-12"))
    p = scenario.proposal()  # 15 working days after 15 January 2020, the Spring Festival off
    assert (p.review, p.received_on, p.review_due) == ("pending", date(2020, 1, 15),
                                                        date(2020, 2, 12))
    scenario.when(assign()).then_rejected("not_filed_yet", proposal=P)


def test_the_review_clock_is_a_profile_setting():
    quick = Profile(name="quick", intake_review_working_days=5)
    scenario = given(*bureaus, profile=quick)
    scenario.when(received(at="2020-03-02")).then_events(
        event("ProposalSubmitted"), event("ProposalReceived", review_due="2020-03-09"))


def test_filed_in_an_area_then_assigned():
    scenario = given(*bureaus, received(area="society"))
    scenario.when(file_(area="economy")).then_events(event("ProposalFiled", area="economy"))
    p = scenario.proposal()
    assert (p.review, p.area, p.reviewed_on) == ("filed", "economy", p.reviewed_on)
    scenario.when(assign()).then_events(event("ProposalAssigned"))
    scenario.when(file_()).then_rejected("not_under_review", state="已立案")


def test_filing_without_an_area_keeps_the_one_it_was_received_in():
    scenario = given(*bureaus, received(area="culture"))
    scenario.when(file_()).then_events(event("ProposalFiled", area="culture"))


def test_areas_are_the_years_list_in_the_profile():
    scenario = given(*bureaus)
    scenario.when(received(area="defence")).then_rejected("unknown_area", area="defence")
    party = Profile(name="with_party", areas_by_year={
        2020: (*FIVE_AREAS, Area(code="party", zh="党的建设", en="Party building"))})
    scenario = given(*bureaus, profile=party)
    scenario.when(received(area="party")).then_events(event("ProposalSubmitted", area="party"),
                                                      event("ProposalReceived"))
    scenario.when(received("21002", year=2021, area="party")).then_rejected("unknown_area")


def test_not_filed_is_passed_on_as_an_opinion_and_closes_the_proposal():
    scenario = given(*bureaus, received())
    scenario.when(decline()).then_events(event(
        "FilingDeclined", referred_to=["市发展改革委", "浦东新区人民政府"]))
    p = scenario.proposal()
    assert (p.review, p.status, p.referred_to) == (
        "not_filed", "not_filed", ("市发展改革委", "浦东新区人民政府"))
    refused = scenario.when(assign()).then_rejected("closed")
    assert "已不立案" in refused.message and "not filed" in refused.message_en
    scenario.when(supervise()).then_rejected("closed")


def test_merged_under_review_is_the_reviews_outcome_merged_after_filing_is_not():
    scenario = given(*bureaus, submit("21002"), received())
    scenario.when(merge(into=Q)).then_events(event("ProposalMerged", into=Q))
    assert (scenario.proposal().review, scenario.proposal().status) == ("merged", "merged")
    later = given(*bureaus, submit("21002"), received(), file_())
    later.when(merge(into=Q)).then_events(event("ProposalMerged"))
    assert (later.proposal().review, later.proposal().status) == ("filed", "merged")


def test_returned_for_revision_then_resubmitted_by_its_filer_then_filed():
    scenario = given(*bureaus, *REGISTERED, received(filers=[{"name": "张伟", "id": ZHANG}],
                                                     at="2020-03-02"))
    scenario.when(request_revision(at="2020-03-05")).then_events(
        event("RevisionRequested", reason="请补充具体措施"))
    assert (scenario.proposal().review, scenario.proposal().returns) == ("returned", 1)
    scenario.when(file_()).then_rejected("not_under_review", state="退回修改")
    scenario.when(assign()).then_rejected("not_filed_yet")
    scenario.when(resubmit(title="关于构建知识产权运营平台的建议（修改稿）", topics=["运营交易", "金融"],
                           actor=filer(), at="2020-03-09")).then_events(
        event("ProposalResubmitted", title="关于构建知识产权运营平台的建议（修改稿）",
              review_due="2020-03-30"))
    p = scenario.proposal()
    assert (p.review, p.received_on, p.title, p.topics) == (
        "pending", date(2020, 3, 9), "关于构建知识产权运营平台的建议（修改稿）", ("运营交易", "金融"))
    scenario.when(resubmit(actor=filer())).then_rejected("not_returned", state="待审查")
    scenario.when(file_(at="2020-03-20")).then_events(event("ProposalFiled"))
    scenario.when(assign()).then_events(event("ProposalAssigned"))


def test_who_reviews_and_who_resubmits():
    scenario = given(*bureaus, *REGISTERED, received())
    for actor in (clerk("sh-ipa"), OVERSEER, filer()):
        scenario.when(file_(actor=actor)).then_rejected("forbidden")
        scenario.when(decline(actor=actor)).then_rejected("forbidden")
        scenario.when(request_revision(actor=actor)).then_rejected("forbidden")
    scenario.when(request_revision(actor=COORDINATOR)).then_events(event("RevisionRequested"))
    # a filer resubmits only what they filed (张伟, linked on submit by name and sector):
    # another's proposal is unknown to them
    scenario.given({"type": "register_filer", "filer": "d-li", "name": "李娜"})
    scenario.when(resubmit(actor=filer("d-li"))).then_rejected("unknown_proposal")
    scenario.when(resubmit(actor=clerk("sh-ipa"))).then_rejected("forbidden")
    scenario.when(resubmit(actor=COORDINATOR)).then_events(event("ProposalResubmitted"))


def test_a_review_follows_the_rule_of_time():
    scenario = given(*bureaus, received(at="2020-03-02"))
    scenario.when(file_(at="2020-03-01")).then_rejected("out_of_order")


def test_withdrawn_under_review_keeps_its_review_state():
    scenario = given(*bureaus, received())
    scenario.when(withdraw()).then_events(event("ProposalWithdrawn"))
    assert (scenario.proposal().review, scenario.proposal().status) == ("pending", "withdrawn")


def test_a_collective_filer_is_recorded_with_the_proposal():
    scenario = given(*bureaus)
    scenario.when(received(filers=[{"name": "民盟市委"}], filer_kind="party")).then_events(
        event("ProposalSubmitted", filer_kind="party"), event("ProposalReceived"))
    assert scenario.proposal().filer_kind == "party"
    with pytest.raises(ValidationError):
        scenario.when(received("21002", filer_kind="club"))


def test_a_collective_filer_signs_in_through_the_filer_role():
    scenario = given(*bureaus, {"type": "register_filer", "filer": "minmeng", "name": "民盟市委",
                                "kind": "party", "affiliation": "民盟市委", "account": "minmeng"},
                     received(filers=[{"name": "民盟市委", "id": "minmeng"}], filer_kind="party"),
                     request_revision())
    scenario.when(resubmit(actor=filer("minmeng"))).then_events(event("ProposalResubmitted"))
    assert scenario.state("filer:minmeng").kind == "party"


# --- what the filer reads ------------------------------------------------------------------------
def test_the_filer_reads_each_review_step_and_its_outcome():
    scenario = given(*bureaus, *REGISTERED, submit("21002"),
                     received(filers=[{"name": "张伟", "id": ZHANG}]), request_revision(),
                     resubmit(actor=filer()), file_(area="economy"), assign(),
                     received("21003", filers=[{"name": "张伟", "id": ZHANG}]), decline(
                         "2020-cppcc_proposal-21003"),
                     received("21004", filers=[{"name": "张伟", "id": ZHANG}]),
                     merge("2020-cppcc_proposal-21004", into=Q))
    items = {i.number: i for i in filed_items(scenario.streams, ZHANG, {
        Q: ("2020年市政协提案 21002", "2020 municipal CPPCC proposal 21002")})}
    filed = items["21001"]
    assert (filed.status, filed.review) == ("handling", "filed")
    assert [s.step for s in filed.review_steps] == ["received", "returned", "resubmitted",
                                                    "filed"]
    assert filed.review_steps[1].reason == "请补充具体措施" and filed.review_steps[3].area == "economy"
    assert [d.bureau for d in filed.duties] == ["sh-ipa"]
    declined = items["21003"]
    assert (declined.status, declined.review) == ("not_filed", "not_filed")
    assert declined.review_steps[-1].referred_to == ["市发展改革委", "浦东新区人民政府"]
    merged = items["21004"]
    assert (merged.status, merged.review_steps[-1].step) == ("merged", "merged")
    assert merged.review_steps[-1].merged_into_display == "2020年市政协提案 21002"
    scenario.when(request_revision("2020-cppcc_proposal-21005")).then_rejected("unknown_proposal")


def test_the_filer_may_resubmit_only_while_returned():
    scenario = given(*bureaus, *REGISTERED, received(filers=[{"name": "张伟", "id": ZHANG}]),
                     request_revision())
    [item] = filed_items(scenario.streams, ZHANG)
    assert (item.status, item.may_resubmit) == ("returned_for_revision", True)
    scenario.given(resubmit(actor=filer()))
    [item] = filed_items(scenario.streams, ZHANG)
    assert (item.status, item.may_resubmit) == ("under_review", False)


def test_folding_the_events_again_gives_the_same_state():
    scenario = given(*bureaus, received(area="ecology"), request_revision(), resubmit(),
                     file_(), assign(), reply("sh-ipa"))
    assert fold(scenario.streams[P]) == scenario.proposal()
