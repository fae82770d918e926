"""The public command vocabulary (DOMAIN.md): one frozen model per `type` (their union, who may
send each and what decides it are in banli.domain.registry)."""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from .types import (
    Actor,
    AreaCode,
    BureauId,
    ContactMethod,
    ContactStage,
    Day,
    DisclosureChoice,
    FeedbackChannel,
    FilerId,
    FilerKind,
    Frozen,
    Instant,
    Kind,
    LetterFile,
    Level,
    ProposalId,
    Result,
    Satisfaction,
    ShortText,
    Text,
)
from .words import Input, Labels

def _type_required(schema: dict[str, Any]) -> None:
    """A command's `type` has a default in Python; in a body it says which command it is."""
    if "type" in schema.get("properties", {}):
        schema["required"] = ["type", *[n for n in schema.get("required", []) if n != "type"]]


class Command(Frozen):
    """Fields every command carries. `command_id`, `at` and `actor` are filled by the adapter
    that receives the command when the caller leaves them out (a new id, now, the signed-in
    user); the kernel itself never invents them. `actor` is whose act it is; `recorded_by` who
    entered it, when that is someone else (an importer bringing in another's act: see
    `entered_by`), set by the adapter from the signed-in user, never taken from a body."""

    model_config = ConfigDict(json_schema_extra=_type_required)
    if TYPE_CHECKING:  # each command's own Literal field
        type: str

    # The words of the fields every command has, and of those many share (a command's own
    # `labels` may name one otherwise: a co-handler's `bureau` signs a draft off).
    labels: ClassVar[Labels] = Labels(
        "指令", "command", type=("指令类型", "command type"), command_id=("指令编号", "command id"),
        at=("发生时间", "business time"), actor=("操作人", "actor"), proposal=("建议提案", "proposal"),
        bureau=("承办单位", "bureau"), reason=("理由", "reason"), note=("说明", "note"),
        summary=("内容摘要", "summary"), comment=("意见", "comment"), result=("办理结果", "result"),
        reply_due=("答复期限", "reply due"), opinion_due=("会办意见期限", "opinion due"),
        signed_by=("签发人", "signed by"), letter=("答复函", "reply letter"),
        recorded_by=("录入人", "recorded by"))

    command_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    at: Instant | None = None
    actor: Actor | None = None
    recorded_by: Actor | None = Field(default=None, exclude_if=lambda value: value is None)

    @property
    def business_time(self) -> datetime:
        """`at`, which `decide` fills in (the time it is decided) before any decider reads it."""
        assert self.at is not None, "decide gives every command its business time first"
        return self.at

    @property
    def stream(self) -> str:
        """The aggregate the command is decided against (the Kafka key, the log's stream)."""
        proposal: str = self.__dict__["proposal"]  # every other command names one
        return proposal

    @property
    def touches(self) -> tuple[str, ...]:
        """The bureaus whose duties this command records on (their clocks it follows)."""
        bureau = self.__dict__.get("bureau")
        return (bureau,) if bureau else ()


FilerName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Filer(Frozen):
    """One of a proposal's filers, by name, and by their id in the filer registry where it is
    known (without one, `submit` links the one registered filer of that name and affiliation)."""

    labels: ClassVar[Labels] = Labels("提出人", "filer", name=("姓名", "name"),
                                      id=("代表委员编号", "filer id"))

    name: FilerName
    id: FilerId | None = None


class FilerLink(Frozen):
    """A registered filer linked to a proposal, under the name the proposal lists them by
    (default: the name they are registered under)."""

    labels: ClassVar[Labels] = Labels("提出人", "filer", id=("代表委员编号", "filer id"),
                                      name=("建议提案所列姓名", "name on the proposal"))

    id: FilerId
    name: FilerName | None = None


BureauName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# A bureau's other names: its short names (简称, 市发展改革委) or the names it had before
BureauNames = Annotated[list[BureauName], Field(max_length=20)]


class RegisterBureau(Command):
    """A bureau as offices name it: its full name, its short names (简称) and, where it had
    others before Banli knew it, its former names (imports resolve all of them)."""

    type: Literal["register_bureau"] = "register_bureau"
    labels: ClassVar[Labels] = Labels(
        "登记承办单位", "register a bureau", bureau=("单位代码", "bureau id"), name=("单位名称", "name"),
        name_en=("英文名称", "English name"), short_names=("简称", "short names"),
        former_names=("曾用名", "former names"))
    bureau: BureauId
    name: BureauName
    name_en: ShortText = ""
    short_names: BureauNames = Field(default_factory=list)
    former_names: BureauNames = Field(default_factory=list)

    @property
    def stream(self) -> str:
        return bureau_stream(self.bureau)


class RenameBureau(Command):
    """A bureau's new full name (and English name), from its business time `at` on: the old
    name becomes a former name. `short_names`, when given, replace the short names (the old
    ones become former names too); left out, they stay."""

    type: Literal["rename_bureau"] = "rename_bureau"
    labels: ClassVar[Labels] = Labels(
        "单位更名", "rename a bureau", name=("新名称", "new name"),
        name_en=("新英文名称", "new English name"), short_names=("新简称", "new short names"))
    bureau: BureauId
    name: BureauName
    name_en: ShortText = ""
    short_names: BureauNames | None = None

    @property
    def stream(self) -> str:
        return bureau_stream(self.bureau)


class MergeBureau(Command):
    """A reorganisation (机构改革): `bureau` is merged into `into` from its business time `at`
    on. Its open duties go to `into` from then (recorded on each proposal: DutyHandedOver), it
    takes no further records, and reports after that date count its duties under `into`.
    Several bureaus merging are one command each; a split is handing some duties over
    (`hand_over`) and merging the bureau into the one that takes the rest."""

    type: Literal["merge_bureau"] = "merge_bureau"
    labels: ClassVar[Labels] = Labels(
        "机构合并", "merge a bureau", bureau=("并出单位", "bureau merged"),
        into=("并入单位", "merged into"))
    bureau: BureauId
    into: BureauId

    @property
    def stream(self) -> str:
        return bureau_stream(self.bureau)


class RegisterFiler(Command):
    """A deputy or member in Banli's filer registry (代表委员名册): their id, name, delegation
    or sector (代表团/界别), term (届次) and the sign-in account that maps to them."""

    type: Literal["register_filer"] = "register_filer"
    labels: ClassVar[Labels] = Labels(
        "登记代表委员", "register a filer", filer=("代表委员编号", "filer id"), name=("姓名", "name"),
        kind=("类别", "kind"), affiliation=("代表团或界别", "delegation or sector"),
        term=("届次", "term"), account=("登录账号", "sign-in account"))
    filer: FilerId
    name: FilerName
    kind: FilerKind = "person"
    affiliation: ShortText = ""
    term: Annotated[str, StringConstraints(max_length=50)] = ""
    account: Annotated[str, StringConstraints(max_length=128)] = ""

    @property
    def stream(self) -> str:
        return filer_stream(self.filer)


class Submit(Command):
    type: Literal["submit"] = "submit"
    labels: ClassVar[Labels] = Labels(
        "登记建议提案", "submit", proposal=("建议提案编号", "proposal id"), kind=("类型", "kind"),
        level=("层级", "level"), year=("年度", "year"), number=("案号", "number"), title=("标题", "title"),
        filers=("提出人", "filers"), affiliation=("代表团或界别", "delegation or sector"),
        topics=("类别", "topics"), key_item=("重点督办件", "key item"),
        filer_kind=("提出者类别", "filed by"), area=("领域", "area"),
        review=("审查后立案", "review before filing"))
    proposal: ProposalId | None = None
    kind: Kind
    level: Level = "municipal"
    year: int = Field(ge=1949, le=2200)
    number: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
    title: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    filers: list[Filer] = Field(default_factory=list, max_length=500)
    affiliation: ShortText = ""
    topics: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50
    )
    summary: Text = ""
    key_item: bool = False
    # Who filed it: a person (the default: members' proposals, 委员提案) or, where the lead filer
    # (the first) is a collective, its kind (集体提案). Left out of the JSON at its default, as
    # the fields below, so that a submit reads and fingerprints as it did before them.
    filer_kind: FilerKind = Field(default="person", exclude_if=lambda value: value == "person")
    area: AreaCode | None = Field(default=None, exclude_if=lambda value: value is None)
    # Received for the office's review (审查立案) rather than filed on submit: assigned only once
    # filed (file_proposal).
    review: bool = Field(default=False, exclude_if=lambda value: not value)

    @property
    def proposal_id(self) -> str:
        """The id given by the caller, or `{year}-{kind}-{number}` (prefixed by a non-municipal
        level)."""
        if self.proposal:
            return self.proposal
        derived = f"{self.year}-{self.kind}-{self.number}"
        return derived if self.level == "municipal" else f"{self.level}-{derived}"

    @property
    def natural_key(self) -> str:
        return natural_key(self.level, self.kind, self.year, self.number)

    @property
    def stream(self) -> str:
        return self.proposal_id


class LinkFilers(Command):
    """The coordinator links a proposal's filers, named on it, to the registry (a proposal
    recorded before they were registered names them only): each filer by id, under the name
    the proposal lists them by."""

    type: Literal["link_filers"] = "link_filers"
    labels: ClassVar[Labels] = Labels("关联提出人", "link filers",
                                      filers=("代表委员编号", "filer ids"))
    proposal: ProposalId
    filers: list[FilerLink] = Field(min_length=1, max_length=500)


class Assign(Command):
    type: Literal["assign"] = "assign"
    labels: ClassVar[Labels] = Labels(
        "交办", "assign", lead=("主办单位", "lead bureaus"), co=("会办单位", "co-handling bureaus"))
    proposal: ProposalId
    lead: list[BureauId] = Field(max_length=50)
    co: list[BureauId] = Field(default_factory=list, max_length=100)
    reply_due: Day | None = None
    opinion_due: Day | None = None


class Acknowledge(Command):
    type: Literal["acknowledge"] = "acknowledge"
    labels: ClassVar[Labels] = Labels("签收", "acknowledge")
    proposal: ProposalId
    bureau: BureauId


class Return(Command):
    type: Literal["return"] = "return"
    labels: ClassVar[Labels] = Labels("退回", "return", reason=("退回理由", "reason for returning"))
    proposal: ProposalId
    bureau: BureauId
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class Reassign(Command):
    type: Literal["reassign"] = "reassign"
    labels: ClassVar[Labels] = Labels(
        "调整交办", "reassign", add_lead=("增加主办单位", "add lead bureaus"),
        add_co=("增加会办单位", "add co-handling bureaus"), remove=("撤销承办单位", "remove bureaus"))
    proposal: ProposalId
    add_lead: list[BureauId] = Field(default_factory=list, max_length=50)
    add_co: list[BureauId] = Field(default_factory=list, max_length=100)
    remove: list[BureauId] = Field(default_factory=list, max_length=150)
    reply_due: Day | None = None
    opinion_due: Day | None = None

    @property
    def touches(self) -> tuple[str, ...]:
        return (*self.remove, *self.add_lead, *self.add_co)

    @model_validator(mode="after")
    def _changes_something(self) -> "Reassign":
        if not (self.add_lead or self.add_co or self.remove):
            raise ValueError("reassign needs add_lead, add_co or remove")
        return self


class LogContact(Command):
    type: Literal["log_contact"] = "log_contact"
    labels: ClassVar[Labels] = Labels(
        "沟通", "log a contact", stage=("沟通阶段", "stage"), method=("沟通方式", "method"),
        note=("沟通情况", "what was said"))
    proposal: ProposalId
    bureau: BureauId
    stage: ContactStage
    method: ContactMethod
    note: Text = ""


class SubmitOpinion(Command):
    type: Literal["submit_opinion"] = "submit_opinion"
    labels: ClassVar[Labels] = Labels(
        "提交会办意见", "submit an opinion", bureau=("会办单位", "co-handling bureau"),
        summary=("会办意见", "opinion"))
    proposal: ProposalId
    bureau: BureauId
    summary: Text = ""


class Reply(Command):
    """The lead's reply, with its signed letter (答复函) when it has one: a file uploaded before
    (POST /api/proposals/{id}/letters), named here by its SHA-256."""

    type: Literal["reply"] = "reply"
    labels: ClassVar[Labels] = Labels(
        "答复", "reply", bureau=("主办单位", "lead bureau"), summary=("答复内容摘要", "summary of the reply"))
    proposal: ProposalId
    bureau: BureauId
    result: Result
    summary: Text = ""
    signed_by: ShortText | None = None
    letter: LetterFile | None = None


class DraftReply(Command):
    """A lead's reply drafted for review: co-handlers sign it off (会签) when the profile asks,
    the bureau's leader approves and issues it (签发). A new draft replaces the old one and
    its sign-offs."""

    type: Literal["draft_reply"] = "draft_reply"
    labels: ClassVar[Labels] = Labels(
        "起草答复", "draft the reply", bureau=("主办单位", "lead bureau"),
        summary=("答复稿摘要", "summary of the draft"))
    proposal: ProposalId
    bureau: BureauId
    result: Result
    summary: Text = ""


class SignOffReply(Command):
    """A co-handler (`bureau`) signs off the draft reply of the lead `lead` (会签), with an
    optional remark."""

    type: Literal["sign_off_reply"] = "sign_off_reply"
    labels: ClassVar[Labels] = Labels(
        "会签", "sign off the draft", bureau=("会签单位", "co-handler signing"),
        lead=("主办单位", "lead bureau"), remark=("会签意见", "remark"))
    proposal: ProposalId
    bureau: BureauId
    lead: BureauId
    remark: Text = ""

    @property
    def touches(self) -> tuple[str, ...]:
        return (self.bureau, self.lead)  # its own duty, and the lead's draft it signs


class RegradeReply(Command):
    """The coordinator changes the result class of a draft reply under review, with a reason."""

    type: Literal["regrade_reply"] = "regrade_reply"
    labels: ClassVar[Labels] = Labels(
        "调整结果类别", "regrade the draft", bureau=("主办单位", "lead bureau"),
        result=("调整后的办理结果", "new result"), reason=("调整理由", "reason"))
    proposal: ProposalId
    bureau: BureauId
    result: Result
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class ApproveReply(Command):
    """The lead bureau's leader approves the draft (签发): the reply is issued, with the signed
    letter when it has one (as `Reply.letter`)."""

    type: Literal["approve_reply"] = "approve_reply"
    labels: ClassVar[Labels] = Labels("签发", "approve and issue", bureau=("主办单位", "lead bureau"))
    proposal: ProposalId
    bureau: BureauId
    signed_by: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    letter: LetterFile | None = None


class DecideDisclosure(Command):
    type: Literal["decide_disclosure"] = "decide_disclosure"
    labels: ClassVar[Labels] = Labels(
        "公开决定", "decide disclosure", bureau=("主办单位", "lead bureau"),
        disclosure=("公开方式", "disclosure"), reason=("不公开理由", "reason if not disclosed"),
        url=("公开网址", "URL"))
    proposal: ProposalId
    bureau: BureauId
    disclosure: DisclosureChoice
    reason: Text = ""
    url: Annotated[str, StringConstraints(max_length=2000), Input("text")] | None = None


class RecordFeedback(Command):
    """The filer's satisfaction with `bureau`'s reply, as received through `channel` (online,
    a paper form, a phone call). Who typed it in is the command's actor: a bureau recording
    its own satisfaction is shown in the report (代表被满意)."""

    type: Literal["record_feedback"] = "record_feedback"
    labels: ClassVar[Labels] = Labels(
        "意见反馈", "record feedback", bureau=("主办单位", "lead bureau"),
        satisfaction=("满意度", "satisfaction"), comment=("反馈意见", "comment"),
        channel=("反馈渠道", "channel"))
    proposal: ProposalId
    bureau: BureauId
    satisfaction: Satisfaction
    comment: Text = ""
    channel: FeedbackChannel | None = None


class Reopen(Command):
    type: Literal["reopen"] = "reopen"
    labels: ClassVar[Labels] = Labels(
        "重新办理", "reopen", bureau=("主办单位", "lead bureau"), reason=("重新办理理由", "reason"),
        reply_due=("重新答复期限", "new reply due"))
    proposal: ProposalId
    bureau: BureauId
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    reply_due: Day


class ReviseResult(Command):
    type: Literal["revise_result"] = "revise_result"
    labels: ClassVar[Labels] = Labels(
        "修订办理结果", "revise the result", bureau=("主办单位", "lead bureau"),
        result=("新的办理结果", "new result"), note=("跟踪落实情况", "follow-up"))
    proposal: ProposalId
    bureau: BureauId
    result: Result
    note: Text = ""


class ExtendDeadline(Command):
    type: Literal["extend_deadline"] = "extend_deadline"
    labels: ClassVar[Labels] = Labels(
        "批准延期", "extend the deadline", bureau=("主办单位", "lead bureau"),
        reply_due=("延期后的答复期限", "new reply due"), reason=("延期理由", "reason"))
    proposal: ProposalId
    bureau: BureauId
    reply_due: Day
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class RequestExtension(Command):
    """A lead bureau asks the coordinator for a later reply date (申请延期), with a reason: the
    coordinator approves it (`extend_deadline`, which settles it) or denies it
    (`deny_extension`). A new request replaces one still pending."""

    type: Literal["request_extension"] = "request_extension"
    labels: ClassVar[Labels] = Labels(
        "申请延期", "request an extension", bureau=("主办单位", "lead bureau"),
        reply_due=("申请的答复期限", "reply due requested"), reason=("申请理由", "reason"))
    proposal: ProposalId
    bureau: BureauId
    reply_due: Day
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class DenyExtension(Command):
    """The coordinator refuses a bureau's pending extension request, with a reason: its reply
    date stays."""

    type: Literal["deny_extension"] = "deny_extension"
    labels: ClassVar[Labels] = Labels(
        "不同意延期", "deny the extension", bureau=("主办单位", "lead bureau"),
        reason=("不同意的理由", "reason"))
    proposal: ProposalId
    bureau: BureauId
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class Supervise(Command):
    type: Literal["supervise"] = "supervise"
    labels: ClassVar[Labels] = Labels(
        "督办", "supervise", bureau=("被督办单位", "bureau supervised"), note=("督办意见", "note"))
    proposal: ProposalId
    bureau: BureauId | None = None
    note: Text = ""


class MarkKeyItem(Command):
    """The coordinator marks a proposal as a key item (重点督办件), or takes the mark off
    (`key`: false), with a reason."""

    type: Literal["mark_key_item"] = "mark_key_item"
    labels: ClassVar[Labels] = Labels(
        "重点督办件标记", "mark a key item", key=("列为重点督办件", "key item"),
        reason=("理由", "reason"))
    proposal: ProposalId
    key: bool = True
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class HandOver(Command):
    """One bureau's duty on a proposal goes, with its history, to another bureau (`to`) from
    the business time `at` on: a reorganisation's handover (a merged bureau's, sent for each of
    its open duties) or a split's (the coordinator hands a duty to the bureau that takes that
    part of the work). Unlike a reassignment the duty goes on: its deadlines, replies and
    results are the new holder's."""

    type: Literal["hand_over"] = "hand_over"
    labels: ClassVar[Labels] = Labels(
        "职责移交", "hand a duty over", bureau=("移交单位", "bureau handing over"),
        to=("接收单位", "bureau taking over"))
    proposal: ProposalId
    bureau: BureauId
    to: BureauId

    @property
    def touches(self) -> tuple[str, ...]:
        return (self.bureau, self.to)
# --- the office's review of what it received (审查立案) -------------------------------------
class FileProposal(Command):
    """The office files a proposal received for review (立案), in an area where it gives one
    (分类; else the area it was received in)."""

    type: Literal["file_proposal"] = "file_proposal"
    labels: ClassVar[Labels] = Labels("立案", "file", area=("领域", "area"))
    proposal: ProposalId
    area: AreaCode | None = None


BodyName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class DeclineFiling(Command):
    """The office does not file a proposal received for review (不立案) and passes it on, as an
    opinion (转为意见和建议), to the bodies concerned (`referred_to`, by name), with its reason."""

    type: Literal["decline_filing"] = "decline_filing"
    labels: ClassVar[Labels] = Labels(
        "不立案（转为意见和建议）", "decline to file (pass on as an opinion)",
        referred_to=("转送单位", "passed on to"), reason=("不立案理由", "reason"))
    proposal: ProposalId
    referred_to: list[BodyName] = Field(min_length=1, max_length=50)
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class RequestRevision(Command):
    """The office returns a proposal received for review to its filer for revision (退回修改),
    saying what to revise: it waits for the filer's `resubmit`."""

    type: Literal["request_revision"] = "request_revision"
    labels: ClassVar[Labels] = Labels("退回修改", "return for revision",
                                      reason=("修改意见", "what to revise"))
    proposal: ProposalId
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class Resubmit(Command):
    """A proposal returned for revision, resubmitted by its filer (or the office for them): its
    title, summary, topics and area as revised (a field left out stays as it was). The review
    starts again, on its own clock."""

    type: Literal["resubmit"] = "resubmit"
    labels: ClassVar[Labels] = Labels(
        "修改后重新提交", "resubmit", title=("标题", "title"), topics=("类别", "topics"),
        area=("领域", "area"), summary=("内容摘要", "summary"), note=("修改说明", "what changed"))
    proposal: ProposalId
    title: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    summary: Text | None = None
    topics: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] | None = Field(
        default=None, max_length=50)
    area: AreaCode | None = None
    note: Text = ""


class Withdraw(Command):
    type: Literal["withdraw"] = "withdraw"
    labels: ClassVar[Labels] = Labels("撤回", "withdraw", reason=("撤回理由", "reason"))
    proposal: ProposalId
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class Merge(Command):
    type: Literal["merge"] = "merge"
    labels: ClassVar[Labels] = Labels("并案", "merge", into=("并入", "merged into"))
    proposal: ProposalId
    into: ProposalId


def fingerprint(command: Command) -> str:
    """What a sender asked for, as a digest: the command without the id it carries and the
    sender the edge put on it (its actor; for a command entered on another's behalf, who
    entered it: the actor it names is then part of what was asked). The same sender resending
    the same command (an idempotent retry) gives the same fingerprint; a used id with another
    body does not."""
    global _last_fingerprint
    last = _last_fingerprint
    if last[0] is command:
        return last[1]
    body = command.model_dump_json(exclude=_NOT_ASKED if command.recorded_by is None
                                   else _NOT_ASKED_ON_BEHALF)
    found = hashlib.sha256(body.encode()).hexdigest()
    _last_fingerprint = (command, found)
    return found


# The last command fingerprinted and its digest: the handling loop asks for a command's
# fingerprint, then the log asks again as it records the outcome (encoding the command twice
# was a tenth of an append). Commands are frozen, and the tuple holds the command itself, so
# an identical object is the same command; the tuple is swapped whole (safe across threads).
_last_fingerprint: tuple[object, str] = (None, "")


_NOT_ASKED = {"command_id", "actor"}
_NOT_ASKED_ON_BEHALF = {"command_id", "recorded_by"}


def fingerprint_before(command: Command) -> str | None:
    """The fingerprint the code before some fields gave the same command, where it differs
    from `fingerprint`: a record of then answers the command sent again now (the same file
    imported again), not refused command_id_conflict. The fields: `letter` on a reply or an
    approval and a filer's `id` on a submission (9f4d12d and earlier), a bureau's
    `short_names` and `former_names` (7929cb3 and earlier); the JSON then had no such keys.
    None where it cannot differ, or where the command uses such a field (it could not have been
    asked then)."""
    omitted: dict[str, Any] = {}
    if isinstance(command, (Reply, ApproveReply)):
        if command.letter is not None:
            return None
        omitted["letter"] = True
    if isinstance(command, Submit) and command.filers:
        if any(filer.id is not None for filer in command.filers):
            return None
        omitted["filers"] = {"__all__": {"id"}}
    if isinstance(command, RegisterBureau):
        if command.short_names or command.former_names:
            return None
        omitted.update(short_names=True, former_names=True)
    if not omitted:
        return None
    asked = _NOT_ASKED if command.recorded_by is None else _NOT_ASKED_ON_BEHALF
    body = command.model_dump_json(exclude={**dict.fromkeys(asked, True), **omitted})
    return hashlib.sha256(body.encode()).hexdigest()


def recorder_of(command: Command) -> Actor | None:
    """Who entered the command: `recorded_by`, else its actor (who entered it themselves)."""
    return command.recorded_by or command.actor


def sender_of(command: Command) -> str:
    """Whose command id it is: ids are scoped to the one who sends them (actor_key), the one
    who entered the command (recorder_of), not an actor it names on another's behalf."""
    recorder = recorder_of(command)
    return actor_key(recorder) if recorder is not None else ""


_C = TypeVar("_C", bound=Command)


def entered_by(command: _C, signed_in: Actor) -> _C:
    """The command as `signed_in` enters it: `recorded_by` is the signed-in user where the
    command's actor is someone else (an import line naming the actor whose act it records), and
    none where the actor is the signed-in user. Whatever `recorded_by` the body carried is
    replaced: who entered a command is the edge's to say, never the caller's. The edge decides
    beforehand whether `signed_in` may name another actor at all (permissions.may_record_for);
    the kernel checks it again (banli.domain.decide)."""
    recorded_by = None if command.actor in (None, signed_in) else signed_in
    if recorded_by == command.recorded_by:
        return command
    return command.model_copy(update={"recorded_by": recorded_by})


def actor_key(actor: Actor) -> str:
    """One sender: a user, in the role and for the bureau its token names."""
    return f"{actor.role}:{actor.user}@{actor.bureau or ''}"


def bureau_stream(bureau: str) -> str:
    return f"bureau:{bureau}"


def filer_stream(filer: str) -> str:
    return f"filer:{filer}"


def natural_key(level: str, kind: str, year: int, number: str) -> str:
    return f"{level}/{kind}/{year}/{number}"
