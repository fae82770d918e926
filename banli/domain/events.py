"""Events: what happened, in the past tense, never changed, each with its name and its fields'
names for people (`labels`; a field it leaves out takes the words of the same field of the
command that records it). Old versions are upcast on read. The union of events, which the logs
decode (`load_event`), is derived from the registry (banli.domain.registry)."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Literal

from pydantic import Field

from .types import (
    Actor,
    BureauId,
    ContactMethod,
    ContactStage,
    DisclosureChoice,
    FeedbackChannel,
    FilerKind,
    Frozen,
    Kind,
    Letter,
    Level,
    Result,
    Role,
    Satisfaction,
)
from .words import Labels

# Who reads an event besides the oversight roles and the bureaus it is about (the bureau whose
# duty it records, or, for the proposal's own records, every bureau with a duty on it): the
# proposal's filers, its lead bureaus (a co-handler's opinion, written for the lead's reply),
# the co-handlers asked to sign the lead's draft off (a profile with `cosign`). Decided by
# banli.domain.permissions.event_for.
Reader = Literal["filers", "leads", "cosigners"]


class Event(Frozen):
    """The envelope every event carries (DOMAIN.md): identity, order, both clocks, the actor
    (whose act it was), who recorded it when that was someone else (`recorded_by`: an importer
    bringing in another's act; none when the actor entered it, as for every event written
    before it, whose JSON it leaves as it was) and the command that caused it."""

    event_id: str
    proposal_id: str
    seq: int = Field(ge=1)
    schema_version: int = 1
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    recorded_by: Actor | None = Field(default=None, exclude_if=lambda value: value is None)
    command_id: str
    if TYPE_CHECKING:  # each event's own Literal field (an annotation here would move it)
        type: str

    labels: ClassVar[Labels] = Labels(
        "事件", "event", type=("事件类型", "event type"), event_id=("事件编号", "event id"),
        proposal_id=("建议提案", "proposal"), seq=("序号", "sequence"),
        schema_version=("格式版本", "schema version"), occurred_at=("发生时间", "occurred at"),
        recorded_at=("记录时间", "recorded at"), actor=("操作人", "actor"),
        command_id=("指令编号", "command id"), recorded_by=("录入人", "recorded by"))
    # Whether the state after it differs from the state before it in more than its version and
    # the clocks of the records it is on: `evolve` has a case for each event that does, and one
    # path for all that do not (they say False here).
    changes_state: ClassVar[bool] = True
    # Its audience beyond oversight and the bureaus it is about (`Reader`): none, unless it
    # says (internal: drafts, sign-offs, approvals, regrades, returns, supervision ...).
    shown_to: ClassVar[tuple[Reader, ...]] = ()


ENVELOPE_FIELDS = frozenset(Event.model_fields) | {"type"}


class BureauRegistered(Event):
    """Schema v2 added the bureau's `short_names` (简称) and `former_names` (none in v1)."""

    type: Literal["BureauRegistered"] = "BureauRegistered"
    labels: ClassVar[Labels] = Labels("单位登记", "bureau registered")
    schema_version: int = 2
    bureau: BureauId
    name: str
    name_en: str = ""
    short_names: list[str] = Field(default_factory=list)
    former_names: list[str] = Field(default_factory=list)


class BureauRenamed(Event):
    """The bureau's name from the event's business time on; `short_names` its short names from
    then (the names it had before are its former names)."""

    type: Literal["BureauRenamed"] = "BureauRenamed"
    labels: ClassVar[Labels] = Labels("单位更名", "bureau renamed")
    bureau: BureauId
    name: str
    name_en: str = ""
    short_names: list[str] = Field(default_factory=list)


class BureauMerged(Event):
    """`bureau` merged into `into` from the event's business time on (机构改革)."""

    type: Literal["BureauMerged"] = "BureauMerged"
    labels: ClassVar[Labels] = Labels("机构合并", "bureau merged")
    bureau: BureauId
    into: BureauId


class FilerRegistered(Event):
    """A deputy or member entered in the filer registry (its stream is `filer:{id}`)."""

    type: Literal["FilerRegistered"] = "FilerRegistered"
    labels: ClassVar[Labels] = Labels("代表委员登记", "filer registered")
    filer: str
    name: str
    kind: FilerKind = "person"
    affiliation: str = ""
    term: str = ""
    account: str = ""


class ProposalSubmitted(Event):
    """Schema v2 added `filer_ids`, beside `filers` (their names), the id of each in the filer
    registry (None: not linked; every filer of a v1 event)."""

    type: Literal["ProposalSubmitted"] = "ProposalSubmitted"
    labels: ClassVar[Labels] = Labels("提交", "submitted", filer_ids=("代表委员编号", "filer ids"))
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    schema_version: int = 2
    kind: Kind
    level: Level
    year: int
    number: str
    title: str
    filers: list[str] = Field(default_factory=list)
    filer_ids: list[str | None] = Field(default_factory=list)
    affiliation: str = ""
    topics: list[str] = Field(default_factory=list)
    summary: str = ""
    key_item: bool = False
    # the lead filer's kind (a collective's: 集体提案) and the area it was received in (an event
    # written before them has neither: a person's, in no area)
    filer_kind: FilerKind = "person"
    area: str = ""


class LinkedFiler(Frozen):
    labels: ClassVar[Labels] = Labels("提出人", "filer", name=("建议提案所列姓名", "name on the proposal"),
                                      id=("代表委员编号", "filer id"))

    name: str
    id: str


class FilersLinked(Event):
    """Filers the proposal names linked to the registry (`link_filers`): each name, its id."""

    type: Literal["FilersLinked"] = "FilersLinked"
    labels: ClassVar[Labels] = Labels("关联提出人", "filers linked")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    filers: list[LinkedFiler]


class Duty(Frozen):
    """One bureau's duty as assigned: its role and its deadline (reply for a lead, opinion for a
    co-handler), fixed at assignment so that later profile changes never rewrite history."""

    labels: ClassVar[Labels] = Labels(
        "承办任务", "duty", bureau=("承办单位", "bureau"), role=("承办角色", "role"), due=("期限", "due"))

    bureau: BureauId
    role: Role
    due: date


class ProposalAssigned(Event):
    type: Literal["ProposalAssigned"] = "ProposalAssigned"
    labels: ClassVar[Labels] = Labels("交办", "assigned", duties=("承办任务", "duties"))
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    duties: list[Duty]


class AssignmentAcknowledged(Event):
    type: Literal["AssignmentAcknowledged"] = "AssignmentAcknowledged"
    labels: ClassVar[Labels] = Labels("签收", "acknowledged")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    bureau: BureauId


class AssignmentReturned(Event):
    type: Literal["AssignmentReturned"] = "AssignmentReturned"
    labels: ClassVar[Labels] = Labels("退回", "returned")
    bureau: BureauId
    reason: str


class ProposalReassigned(Event):
    type: Literal["ProposalReassigned"] = "ProposalReassigned"
    labels: ClassVar[Labels] = Labels(
        "重新交办", "reassigned", added=("新增承办任务", "duties added"),
        removed=("撤销的承办单位", "bureaus removed"))
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    added: list[Duty] = Field(default_factory=list)
    removed: list[BureauId] = Field(default_factory=list)


class ContactLogged(Event):
    type: Literal["ContactLogged"] = "ContactLogged"
    labels: ClassVar[Labels] = Labels("沟通", "contact logged")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    bureau: BureauId
    stage: ContactStage
    method: ContactMethod
    note: str = ""


class OpinionSubmitted(Event):
    type: Literal["OpinionSubmitted"] = "OpinionSubmitted"
    labels: ClassVar[Labels] = Labels("会办意见", "opinion submitted")
    shown_to: ClassVar[tuple[Reader, ...]] = ("leads",)  # the reply is written from it
    bureau: BureauId
    summary: str = ""


class ReplyIssued(Event):
    """Schema v2 added `signed_by` (签发人) and names results; v1 carried the letter grade. v3
    added `letter`, the signed letter's file (None: issued without one, as every earlier reply)."""

    type: Literal["ReplyIssued"] = "ReplyIssued"
    labels: ClassVar[Labels] = Labels("答复", "reply issued")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)  # with its letter
    schema_version: int = 3
    bureau: BureauId
    result: Result
    summary: str = ""
    signed_by: str | None = None
    letter: Letter | None = None


class ReplyDrafted(Event):
    type: Literal["ReplyDrafted"] = "ReplyDrafted"
    labels: ClassVar[Labels] = Labels("答复起草", "reply drafted")
    shown_to: ClassVar[tuple[Reader, ...]] = ("cosigners",)  # to be signed off
    bureau: BureauId
    result: Result
    summary: str = ""


class ReplySignedOff(Event):
    """A co-handler (`bureau`) signed off the lead's (`lead`) draft (会签)."""

    type: Literal["ReplySignedOff"] = "ReplySignedOff"
    labels: ClassVar[Labels] = Labels("会签", "draft signed off")
    shown_to: ClassVar[tuple[Reader, ...]] = ("leads",)  # whose draft it signs
    bureau: BureauId
    lead: BureauId
    remark: str = ""


class ReplyRegraded(Event):
    """The coordinator changed the result class of `bureau`'s draft from `previous`."""

    type: Literal["ReplyRegraded"] = "ReplyRegraded"
    labels: ClassVar[Labels] = Labels(
        "结果调整", "draft regraded", previous=("原办理结果", "previous result"))
    shown_to: ClassVar[tuple[Reader, ...]] = ("cosigners",)  # the draft they sign off
    bureau: BureauId
    result: Result
    previous: Result
    reason: str


class ReplyApproved(Event):
    """The lead bureau's leader approved the draft (签发); a ReplyIssued follows it."""

    type: Literal["ReplyApproved"] = "ReplyApproved"
    labels: ClassVar[Labels] = Labels("签发", "reply approved")
    changes_state: ClassVar[bool] = False  # the ReplyIssued after it does
    bureau: BureauId
    signed_by: str


class DisclosureDecided(Event):
    type: Literal["DisclosureDecided"] = "DisclosureDecided"
    labels: ClassVar[Labels] = Labels("公开决定", "disclosure decided")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    bureau: BureauId
    disclosure: DisclosureChoice
    reason: str = ""
    url: str | None = None


class FeedbackRecorded(Event):
    """Schema v2 added `channel` (online, paper, phone; None: not stated, as in v1)."""

    type: Literal["FeedbackRecorded"] = "FeedbackRecorded"
    labels: ClassVar[Labels] = Labels("意见反馈", "feedback recorded")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    schema_version: int = 2
    bureau: BureauId
    satisfaction: Satisfaction
    comment: str = ""
    channel: FeedbackChannel | None = None


class HandlingReopened(Event):
    type: Literal["HandlingReopened"] = "HandlingReopened"
    labels: ClassVar[Labels] = Labels("重新办理", "handling reopened")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    bureau: BureauId
    reason: str
    reply_due: date


class ResultRevised(Event):
    type: Literal["ResultRevised"] = "ResultRevised"
    labels: ClassVar[Labels] = Labels("结果修订", "result revised")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    bureau: BureauId
    result: Result
    note: str = ""


class DeadlineExtended(Event):
    type: Literal["DeadlineExtended"] = "DeadlineExtended"
    labels: ClassVar[Labels] = Labels("延期", "deadline extended")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    bureau: BureauId
    reply_due: date
    reason: str


class ExtensionRequested(Event):
    """A lead bureau asked for a later reply date; pending until the coordinator extends the
    deadline or denies it (or the bureau replies)."""

    type: Literal["ExtensionRequested"] = "ExtensionRequested"
    labels: ClassVar[Labels] = Labels("申请延期", "extension requested")
    bureau: BureauId
    reply_due: date
    reason: str


class ExtensionDenied(Event):
    """The coordinator refused the bureau's pending request for `reply_due`."""

    type: Literal["ExtensionDenied"] = "ExtensionDenied"
    labels: ClassVar[Labels] = Labels(
        "不同意延期", "extension denied", reply_due=("申请的答复期限", "reply due requested"))
    bureau: BureauId
    reply_due: date
    reason: str


class ProposalSupervised(Event):
    type: Literal["ProposalSupervised"] = "ProposalSupervised"
    labels: ClassVar[Labels] = Labels("督办", "supervised")
    bureau: BureauId | None = None
    note: str = ""


class KeyItemMarked(Event):
    """The proposal became a key item (重点督办件, `key`), or stopped being one."""

    type: Literal["KeyItemMarked"] = "KeyItemMarked"
    labels: ClassVar[Labels] = Labels("重点督办件标记", "key item marked")
    key: bool
    reason: str


class DutyHandedOver(Event):
    """`from_bureau`'s duty went to `to_bureau`, with its history, from the event's business
    time on: a reorganisation's (`merged`: `from_bureau` was merged into `to_bureau`) or a
    split's. Where `to_bureau` already had a duty on the proposal the two are one from then:
    the lead's (the one handed over, if it was the lead and the other a co-handler's; else the
    one `to_bureau` had). Recorded by the office, never a bureau's own record: it names its
    bureaus otherwise than `bureau`, and every bureau on the proposal reads it."""

    type: Literal["DutyHandedOver"] = "DutyHandedOver"
    labels: ClassVar[Labels] = Labels(
        "职责移交", "duty handed over", from_bureau=("移交单位", "from"),
        to_bureau=("接收单位", "to"), merged=("因机构合并", "by a merger"))
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    from_bureau: BureauId
    to_bureau: BureauId
    merged: bool = False
# --- the office's review (审查立案) ------------------------------------------------------------
# A proposal submitted without review is filed on submit (a history without these events means
# that); one received for review waits for the office's decision: filed, merged (ProposalMerged
# while under review), not filed, or returned to its filer for revision and resubmitted.
class ProposalReceived(Event):
    """The proposal, just submitted, awaits the office's review, due by `review_due`."""

    type: Literal["ProposalReceived"] = "ProposalReceived"
    labels: ClassVar[Labels] = Labels("收到待审查", "received for review",
                                      review_due=("审查期限", "review due"))
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    review_due: date


class ProposalFiled(Event):
    type: Literal["ProposalFiled"] = "ProposalFiled"
    labels: ClassVar[Labels] = Labels("立案", "filed")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    area: str = ""


class FilingDeclined(Event):
    """Not filed (不立案): passed on as an opinion to the bodies named."""

    type: Literal["FilingDeclined"] = "FilingDeclined"
    labels: ClassVar[Labels] = Labels("不立案", "not filed")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    referred_to: list[str]
    reason: str


class RevisionRequested(Event):
    type: Literal["RevisionRequested"] = "RevisionRequested"
    labels: ClassVar[Labels] = Labels("退回修改", "returned for revision")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    reason: str


class ProposalResubmitted(Event):
    """Resubmitted after revision: what changed (None: unchanged), and the new review's due
    date."""

    type: Literal["ProposalResubmitted"] = "ProposalResubmitted"
    labels: ClassVar[Labels] = Labels("重新提交", "resubmitted",
                                      review_due=("审查期限", "review due"))
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    title: str | None = None
    summary: str | None = None
    topics: list[str] | None = None
    area: str | None = None
    note: str = ""
    review_due: date


class ProposalWithdrawn(Event):
    type: Literal["ProposalWithdrawn"] = "ProposalWithdrawn"
    labels: ClassVar[Labels] = Labels("撤回", "withdrawn")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    reason: str


class ProposalMerged(Event):
    type: Literal["ProposalMerged"] = "ProposalMerged"
    labels: ClassVar[Labels] = Labels("并案", "merged")
    shown_to: ClassVar[tuple[Reader, ...]] = ("filers",)
    into: str


# --- upcasting -------------------------------------------------------------------------------
# (type, version) -> a function from that version's dict to the next version's dict.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


_GRADES = {"A": "solved", "B": "planned", "C": "deferred", "D": "reference"}


@upcaster("ReplyIssued", 1)
def _reply_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 replies stored the result as the letter grade (A-D) of the paper forms and had no
    signer; v2 names the result and records `signed_by` (unknown for old replies)."""
    data = dict(data)
    grade = data.get("result")
    data["result"] = _GRADES.get(grade, grade) if isinstance(grade, str) else grade
    data.setdefault("signed_by", None)
    data["schema_version"] = 2
    return data


@upcaster("ReplyIssued", 2)
def _reply_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """v2 replies had no letter's file: None, never guessed."""
    data = dict(data)
    data.setdefault("letter", None)
    data["schema_version"] = 3
    return data


@upcaster("ProposalSubmitted", 1)
def _submitted_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 named its filers only: none is linked to the registry (`link_filers` links them)."""
    data = dict(data)
    data.setdefault("filer_ids", [None] * len(data.get("filers") or []))
    data["schema_version"] = 2
    return data


@upcaster("BureauRegistered", 1)
def _bureau_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 registered a bureau's full name only: no short or former names."""
    data = dict(data)
    data.setdefault("short_names", [])
    data.setdefault("former_names", [])
    data["schema_version"] = 2
    return data


@upcaster("FeedbackRecorded", 1)
def _feedback_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 feedback did not say how it was received: its channel is unknown (None), never
    guessed."""
    data = dict(data)
    data.setdefault("channel", None)
    data["schema_version"] = 2
    return data


def upcast(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored event dict up to the current schema, one version at a time."""
    event_type: str = data.get("type", "")
    version: int = data.get("schema_version", 1)
    while (event_type, version) in UPCASTERS:
        data = UPCASTERS[(event_type, version)](data)
        version = data["schema_version"]
    return data


def event_payload(event: Event) -> dict[str, Any]:
    """The event's own data, without the envelope."""
    return event.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS))
