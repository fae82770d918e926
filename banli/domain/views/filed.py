"""What a filer reads of the proposals they filed (`GET /api/my/proposals`, 我的建议/我的提案): each
proposal with its status, the office's review of it (filed, merged into which, not filed and
passed on to whom, returned for revision and why), the bureaus handling it and their due dates,
the contacts logged with the filer, and the replies with their letters, each with its latest
rating and whether the filer may rate it now. Built from a proposal's events, of which only
those its filers read count (`Event.shown_to`: never drafts, opinions, returns or
supervision). Pure."""
from __future__ import annotations

from datetime import date
from typing import Literal, Mapping, Sequence

from .. import events as e
from ..proposal import Assignment, Proposal, feedback_recorder, fold
from ..types import (ContactMethod, ContactStage, DutyProgress, FeedbackRecorder, FiledStatus,
                     Frozen, Kind, Letter, Level, Result, ReviewState, Role, Satisfaction,
                     business_date)
from ..wording import item_number


class FiledDuty(Frozen):
    """A bureau handling the item: its role, its due date (a lead's reply, after extensions, or
    the new one of a reopening; a co-handler's opinion), where it stands, whether it signed for
    it, the date of its latest reply."""

    bureau: str
    role: Role
    due: date
    status: DutyProgress
    acknowledged: bool
    replied_on: date | None


class FiledContact(Frozen):
    bureau: str
    on: date
    stage: ContactStage
    method: ContactMethod


class FiledFeedback(Frozen):
    """The latest rating of a reply, and who recorded it (the filer, the office, the bureau)."""

    satisfaction: Satisfaction
    comment: str
    on: date
    recorder: FeedbackRecorder


class FiledReply(Frozen):
    """A lead's reply, with its letter; `may_rate`: the filer may rate it now (it is the
    bureau's latest reply, not reopened since, on an open item the bureau still leads)."""

    bureau: str
    on: date
    result: Result
    summary: str
    letter: Letter | None
    feedback: FiledFeedback | None
    may_rate: bool


ReviewStep = Literal["received", "returned", "resubmitted", "filed", "merged", "not_filed"]


class FiledReviewStep(Frozen):
    """One step of the office's review as its filer reads it: received (and the review's due
    date), returned for revision (why), resubmitted, filed (in which area), merged (into which:
    its number where known), not filed (passed on to whom, why)."""

    step: ReviewStep
    on: date
    review_due: date | None = None
    reason: str = ""
    referred_to: list[str] = []
    area: str = ""
    merged_into: str | None = None
    merged_into_display: str | None = None
    merged_into_display_en: str | None = None


class FiledItem(Frozen):
    proposal_id: str
    filers: list[str] = []  # their names, the lead filer first
    display: str
    display_en: str
    kind: Kind
    level: Level
    year: int
    number: str
    title: str
    status: FiledStatus
    filed_as: Literal["lead", "co_signer"]
    review: ReviewState
    review_steps: list[FiledReviewStep]
    may_resubmit: bool  # returned for revision: its filer resubmits it (`resubmit`)
    duties: list[FiledDuty]
    contacts: list[FiledContact]
    replies: list[FiledReply]


Numbers = Mapping[str, tuple[str, str]]  # a proposal's number in words (zh, en), by id


def filed_items(histories: Mapping[str, Sequence[e.Event]], filer: str,
                numbers: Numbers = {}) -> list[FiledItem]:
    """The items `filer` filed among these proposals' histories (each proposal's events in
    order), newest year first, then by number; each named by its number with its kind and
    level, and its year where they span years (banli.domain.wording). `numbers` names the
    proposals theirs were merged into (another's, which the filer reads no more of)."""
    states = {pid: fold(events) for pid, events in histories.items()}
    filed = [(pid, state) for pid, state in states.items()
             if isinstance(state, Proposal) and state.filed_by(filer)]
    with_year = len({state.year for _, state in filed}) > 1
    items = [_item(state, histories[pid], filer, with_year, numbers) for pid, state in filed
             if isinstance(state, Proposal)]
    return sorted(items, key=lambda i: (-i.year, i.kind, i.level, i.number.zfill(12)))


def filed_item(events: Sequence[e.Event], numbers: Numbers = {}) -> FiledItem | None:
    """One proposal as its lead filer reads it (the review's letter to its filers: 一件一函),
    from its events; None for a stream that is not a proposal."""
    p = fold(events)
    if not isinstance(p, Proposal):
        return None
    return _item(p, events, None, True, numbers)


def _item(p: Proposal, events: Sequence[e.Event], filer: str | None, with_year: bool,
          numbers: Numbers) -> FiledItem:
    display, display_en = item_number(p.kind, p.level, p.year, p.number, with_year)
    duties = sorted((d for d in p.assignments.values() if d.active),
                    key=lambda d: (d.role != "lead", d.bureau))
    return FiledItem(
        proposal_id=p.id, filers=list(p.filers), display=display, display_en=display_en,
        kind=p.kind, level=p.level,
        year=p.year, number=p.number, title=p.title, status=_status(p, duties),
        filed_as="lead" if filer is None or p.filer_ids.index(filer) == 0 else "co_signer",
        review=p.review, review_steps=review_steps(events, numbers),
        may_resubmit=p.review == "returned" and p.status == "open",
        duties=[_duty(d) for d in duties],
        contacts=[FiledContact(bureau=ev.bureau, on=business_date(ev.occurred_at),
                               stage=ev.stage, method=ev.method)
                  for ev in events if isinstance(ev, e.ContactLogged)],
        replies=_replies(p, events))


def _status(p: Proposal, duties: list[Assignment]) -> FiledStatus:
    if p.status != "open":
        return p.status
    if p.review == "pending":
        return "under_review"
    if p.review == "returned":
        return "returned_for_revision"
    leads = [d for d in duties if d.role == "lead"]
    if not leads:
        return "awaiting_assignment"
    return "replied" if all(not d.awaiting_reply for d in leads) else "handling"


def review_steps(events: Sequence[e.Event], numbers: Numbers = {}) -> list[FiledReviewStep]:
    """The office's review of a proposal, step by step, from its events (none for a proposal
    filed on submit). A merge is a review step only while the proposal awaited review."""
    steps: list[FiledReviewStep] = []
    under_review = False
    for ev in events:
        on = business_date(ev.occurred_at)
        match ev:
            case e.ProposalReceived():
                steps.append(FiledReviewStep(step="received", on=on, review_due=ev.review_due))
            case e.RevisionRequested():
                steps.append(FiledReviewStep(step="returned", on=on, reason=ev.reason))
            case e.ProposalResubmitted():
                steps.append(FiledReviewStep(step="resubmitted", on=on,
                                             review_due=ev.review_due))
            case e.ProposalFiled():
                steps.append(FiledReviewStep(step="filed", on=on, area=ev.area))
            case e.FilingDeclined():
                steps.append(FiledReviewStep(step="not_filed", on=on, reason=ev.reason,
                                             referred_to=list(ev.referred_to)))
            case e.ProposalMerged() if under_review:
                zh, en = numbers.get(ev.into, (None, None))
                steps.append(FiledReviewStep(step="merged", on=on, merged_into=ev.into,
                                             merged_into_display=zh, merged_into_display_en=en))
        under_review = bool(steps) and steps[-1].step in ("received", "returned", "resubmitted")
    return steps


def _duty(d: Assignment) -> FiledDuty:
    reopened = d.role == "lead" and d.awaiting_reply and d.replies > 0
    status: DutyProgress = ("reopened" if reopened else "replied"
                            if d.role == "lead" and d.replies else "handling")
    return FiledDuty(bureau=d.bureau, role=d.role,
                     due=d.reopen_due if reopened and d.reopen_due else d.due, status=status,
                     acknowledged=d.acknowledged, replied_on=d.last_reply_on)


def _replies(p: Proposal, events: Sequence[e.Event]) -> list[FiledReply]:
    """Each reply, with the latest feedback recorded on it (before the bureau's next reply)."""
    replies: list[FiledReply] = []
    latest: dict[str, int] = {}  # bureau -> its latest reply's place in `replies`
    for ev in events:
        if isinstance(ev, e.ReplyIssued):
            latest[ev.bureau] = len(replies)
            replies.append(FiledReply(bureau=ev.bureau, on=business_date(ev.occurred_at),
                                      result=ev.result, summary=ev.summary, letter=ev.letter,
                                      feedback=None, may_rate=False))
        elif isinstance(ev, e.FeedbackRecorded) and ev.bureau in latest:
            rated = FiledFeedback(satisfaction=ev.satisfaction, comment=ev.comment,
                                  on=business_date(ev.occurred_at),
                                  recorder=feedback_recorder(ev, ev.bureau))
            at = latest[ev.bureau]
            replies[at] = replies[at].model_copy(update={"feedback": rated})
    for bureau, at in latest.items():
        duty = p.duty(bureau)
        if p.status == "open" and duty is not None and duty.role == "lead" and (
                not duty.awaiting_reply):
            replies[at] = replies[at].model_copy(update={"may_rate": True})
    return replies
