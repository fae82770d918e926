"""Value types shared by commands, events and state: the glossary of DOMAIN.md as types."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      StringConstraints, WithJsonSchema)

from .words import Choices, Input

# China has kept one offset, without daylight saving, since 1991: a fixed zone keeps the domain
# free of tz databases.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

Kind = Literal["npc_suggestion", "cppcc_proposal"]
Level = Literal["national", "provincial", "municipal", "district"]
Role = Literal["lead", "co"]
Result = Literal["solved", "planned", "deferred", "reference"]
DisclosureChoice = Literal["full", "summary", "withheld", "exempt"]
Satisfaction = Literal["satisfied", "basically_satisfied", "dissatisfied"]
FeedbackChannel = Literal["online", "paper", "phone"]
# Who recorded a feedback: the filer themselves, the office (交办单位, or anyone but the bureau),
# or the bureau that handled it (代表被满意: what the platforms warn against).
FeedbackRecorder = Literal["filer", "office", "bureau"]
ContactStage = Literal["before", "during", "after"]
ContactMethod = Literal["phone", "visit", "meeting", "online", "letter"]
ActorRole = Literal["coordinator", "clerk", "overseer", "admin", "importer", "filer"]
# What a filer is: a person (a deputy or a member, with co-signers), or a collective: a party
# (党派), a people's organisation (人民团体), a sector (界别), a special committee (专门委员会) or
# a member group (委员小组, a deputies' delegation). A collective proposal is one whose lead
# filer is a collective; the office's report counts members' against collective proposals.
FilerKind = Literal["person", "party", "people_organisation", "sector", "special_committee",
                    "member_group"]
# Where a received proposal stands in the office's review (审查立案): filed (立案; every proposal
# submitted without review is filed on submit), awaiting review (pending), returned to its filer
# for revision (returned), merged into another (并案), not filed and turned into an opinion for
# the bodies concerned (not_filed: 不立案，转为意见和建议).
ReviewState = Literal["filed", "pending", "returned", "merged", "not_filed"]
# Where an item a filer filed stands, and each bureau's duty on it, in the filer's words.
FiledStatus = Literal["under_review", "returned_for_revision", "not_filed",
                      "awaiting_assignment", "handling", "replied", "withdrawn", "merged"]
DutyProgress = Literal["handling", "replied", "reopened"]
# What a duty owes, under the code each list gives it: the work list's kinds (banli.domain.views.work),
# the deadlines list's (a reply, a reply again after reopening, an opinion) and the reminders'
# (banli.domain.views.reminders: `return`, `disclosure`).
OwedKind = Literal["acknowledge", "contact", "reply", "re-reply", "opinion", "draft", "sign_off",
                   "approve", "rehandle", "disclose", "feedback", "return", "disclosure"]
# A deadline's colour: red once overdue, yellow when due within ten days.
Colour = Literal["yellow", "red"]
# How a bureau's record was entered (banli.domain.views.rates.entry_kind).
EntryKind = Literal["late", "imported", "on_time"]

KINDS: tuple[Kind, ...] = ("npc_suggestion", "cppcc_proposal")
ROLES: tuple[Role, ...] = ("lead", "co")
RESULTS: tuple[Result, ...] = ("solved", "planned", "deferred", "reference")
DISCLOSURES: tuple[DisclosureChoice, ...] = ("full", "summary", "withheld", "exempt")
SATISFACTIONS: tuple[Satisfaction, ...] = ("satisfied", "basically_satisfied", "dissatisfied")
FEEDBACK_CHANNELS: tuple[FeedbackChannel, ...] = ("online", "paper", "phone")
FEEDBACK_RECORDERS: tuple[FeedbackRecorder, ...] = ("filer", "office", "bureau")
FILER_KINDS: tuple[FilerKind, ...] = ("person", "party", "people_organisation", "sector",
                                     "special_committee", "member_group")
COLLECTIVE_KINDS: tuple[FilerKind, ...] = FILER_KINDS[1:]
REVIEW_STATES: tuple[ReviewState, ...] = ("filed", "pending", "returned", "merged", "not_filed")

RESULT_CLASS = {"solved": "A", "planned": "B", "deferred": "C", "reference": "D"}

# The words of each choice, once for its type, whatever command or event carries it: the page's
# selects and the history read them (GET /api/vocabulary).
CHOICES: tuple[Choices, ...] = (
    Choices("kind", Kind, {"npc_suggestion": ("人大代表建议", "NPC suggestion"),
                           "cppcc_proposal": ("政协提案", "CPPCC proposal")}),
    Choices("level", Level, {"national": ("全国", "national"), "provincial": ("省级", "provincial"),
                             "municipal": ("市级", "municipal"), "district": ("区级", "district")}),
    Choices("role", Role, {"lead": ("主办", "lead"), "co": ("会办", "co-handler")}),
    Choices("result", Result, {
        "solved": ("A 已解决或采纳", "A: solved or adopted"),
        "planned": ("B 正在解决或列入计划", "B: being solved or planned"),
        "deferred": ("C 因条件限制待以后解决", "C: deferred by constraints"),
        "reference": ("D 留作参考", "D: kept for reference")}),
    Choices("disclosure", DisclosureChoice, {
        "full": ("全文公开", "full text"), "summary": ("摘要公开", "summary"),
        "withheld": ("不公开", "withheld"), "exempt": ("依法不公开", "exempt by law")}),
    Choices("satisfaction", Satisfaction, {
        "satisfied": ("满意", "satisfied"), "basically_satisfied": ("基本满意", "basically satisfied"),
        "dissatisfied": ("不满意", "dissatisfied")}),
    Choices("channel", FeedbackChannel, {"online": ("网上", "online"), "paper": ("书面", "paper form"),
                                         "phone": ("电话", "phone")}),
    Choices("contact_stage", ContactStage, {"before": ("办前", "before handling"),
                                            "during": ("办中", "during handling"),
                                            "after": ("办后", "after the reply")}),
    Choices("contact_method", ContactMethod, {
        "phone": ("电话", "phone"), "visit": ("走访", "visit"), "meeting": ("座谈", "meeting"),
        "online": ("网络", "online"), "letter": ("信函", "letter")}),
    Choices("actor_role", ActorRole, {
        "coordinator": ("交办协调", "coordinator"), "clerk": ("承办人员", "clerk"),
        "overseer": ("督查督办", "overseer"), "admin": ("系统管理员", "administrator"),
        "importer": ("数据导入", "importer"), "filer": ("代表委员", "deputy or member")}),
    Choices("feedback_recorder", FeedbackRecorder, {
        "filer": ("代表委员本人", "the filer"), "office": ("交办单位", "the office"),
        "bureau": ("承办单位自行录入", "the bureau itself")}),
    Choices("filer_kind", FilerKind, {
        "person": ("代表委员个人", "a deputy or member"), "party": ("党派", "a party"),
        "people_organisation": ("人民团体", "a people's organisation"),
        "sector": ("界别", "a sector"), "special_committee": ("专门委员会", "a special committee"),
        "member_group": ("委员小组或代表团", "a member group or delegation")}),
    Choices("review", ReviewState, {
        "filed": ("已立案", "filed"), "pending": ("待审查", "awaiting review"),
        "returned": ("退回修改", "returned for revision"), "merged": ("并案", "merged"),
        "not_filed": ("不立案，转为意见和建议", "not filed: passed on as an opinion")}),
    Choices("filed_status", FiledStatus, {
        "under_review": ("审查中", "under review"),
        "returned_for_revision": ("退回修改", "returned to you for revision"),
        "not_filed": ("不立案，已转为意见和建议", "not filed: passed on as an opinion"),
        "awaiting_assignment": ("待交办", "awaiting assignment"), "handling": ("办理中", "being handled"),
        "replied": ("已答复", "replied"), "withdrawn": ("已撤回", "withdrawn"),
        "merged": ("已并案", "merged")}),
    Choices("duty_progress", DutyProgress, {
        "handling": ("办理中", "being handled"), "replied": ("已答复", "replied"),
        "reopened": ("重新办理中", "being handled again")}),
    Choices("owed", OwedKind, {
        "acknowledge": ("签收或退回", "sign for or return"), "contact": ("沟通", "contact the filer"),
        "reply": ("答复", "reply"), "re-reply": ("重新答复", "reply again"),
        "opinion": ("会办意见", "opinion"), "draft": ("起草答复", "draft the reply"),
        "sign_off": ("会签", "sign off the draft"), "approve": ("签发", "approve the reply"),
        "rehandle": ("重新办理", "handle again"), "disclose": ("公开决定", "decide disclosure"),
        "feedback": ("意见反馈", "feedback"), "return": ("签收或退回", "sign for or return"),
        "disclosure": ("答复公开", "publish the reply")}),
    Choices("colour", Colour, {"red": ("逾期", "overdue"), "yellow": ("临期", "due soon")}),
    Choices("entry", EntryKind, {"late": ("逾期补录", "entered late"),
                                 "imported": ("批量导入", "imported"),
                                 "on_time": ("按时录入", "entered on time")}),
)


def _not_a_registry_stream(value: str) -> str:
    """`bureau:{id}` and `filer:{id}` name a bureau's and a filer's own streams; a proposal by
    such a name would shadow one."""
    if value.startswith(("bureau:", "filer:")):
        raise ValueError("a proposal id may not start with 'bureau:' or 'filer:'")
    return value


BureauId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
                     Input("bureau")]
ProposalId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"),
                       AfterValidator(_not_a_registry_stream), Input("proposal")]
# A filer's id in Banli's filer registry (register_filer): as a bureau's, letters, digits, . _ -
FilerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
# An area (领域: 经济, 政治 ...) by its code; which codes a year has is the profile's (Profile.areas).
AreaCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$"), Input("area")]
Text = Annotated[str, StringConstraints(max_length=20_000)]
ShortText = Annotated[str, StringConstraints(max_length=500)]


# The calendar the system keeps: wide enough for any real item (the first congresses sat in
# 1949), narrow enough for every store (ClickHouse's Date32 and DateTime64 end in 2299).
FIRST_DAY, LAST_DAY = date(1949, 1, 1), date(2199, 12, 31)


def _in_calendar(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"dates run from {FIRST_DAY} to {LAST_DAY}")
    return day


def _assume_shanghai(value: datetime) -> datetime:
    """A time without an offset is read as Shanghai time, the business clock of the domain."""
    value = value if value.tzinfo is not None else value.replace(tzinfo=SHANGHAI)
    _in_calendar(value.astimezone(SHANGHAI).date())
    return value


def _iso_8601(value: Any) -> Any:
    """Times and dates are ISO 8601 text (or already parsed): a number, or text that is one
    (a query's `recorded_by=0.5`), is not taken as unix time, which pydantic would otherwise
    do."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and _A_NUMBER.fullmatch(value)):
        raise ValueError("an ISO 8601 date or time, e.g. 2020-11-20 or 2020-11-20T10:00:00+08:00")
    return value


_A_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


# What the API's schema says of them: ISO 8601 text in the calendar's years, as patterns (JSON
# Schema has no range for dates), so that a schema-valid date is one the system takes. The
# patterns leave out 29 February, and a time's years stop short of the calendar's ends (where an
# offset could carry it past them in Shanghai): narrower than what is taken, never wider.
_MONTH_DAY = (r"((0[13578]|1[02])-(0[1-9]|[12]\d|3[01])|(0[469]|11)-(0[1-9]|[12]\d|30)"
              r"|02-(0[1-9]|1\d|2[0-8]))")
DAY_SCHEMA = {"type": "string", "format": "date",
              "pattern": f"^(19(49|[5-9]\\d)|2[01]\\d\\d)-{_MONTH_DAY}$",
              "description": "an ISO 8601 date from 1949-01-01 to 2199-12-31"}
INSTANT_SCHEMA = {  # ISO 8601 is wider than RFC 3339's date-time: no "format"
    "type": "string",
    "pattern": f"^(19[5-9]\\d|20\\d\\d|21[0-8]\\d|219[0-8])-{_MONTH_DAY}"
               r"T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-](0\d|1[0-3]):[0-5]\d)?$",
    "description": "an ISO 8601 time (without an offset: Shanghai time), its Shanghai date "
                   "from 1949-01-01 to 2199-12-31"}
# A span of years, first and last (as JSON: a list of two; OpenAPI's tools read lists better
# than tuples' prefixItems).
YearSpan = Annotated[tuple[int, int], WithJsonSchema({
    "type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2})]
Instant = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_assume_shanghai),
                    WithJsonSchema(INSTANT_SCHEMA)]
Day = Annotated[date, BeforeValidator(_iso_8601), AfterValidator(_in_calendar),
                WithJsonSchema(DAY_SCHEMA)]


def business_date(moment: datetime) -> date:
    """The calendar day, in Asia/Shanghai, on which a moment falls."""
    return moment.astimezone(SHANGHAI).date()


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_FrozenT = TypeVar("_FrozenT", bound=Frozen)
_set_slot = object.__setattr__


def replaced(model: _FrozenT, change: dict[str, Any]) -> _FrozenT:
    """`model.model_copy(update=change)` for a Frozen model, at half the cost: `evolve` copies
    the state and an assignment for every event, so this is on the hot path of deciding and of
    projecting. Like model_copy it does not validate `change` (only known fields, please), and
    the copy is indistinguishable from model_copy's: the same field values, the same fields set
    (the original's and the changed ones), no extra and no private attributes (Frozen forbids
    extra fields and declares no private ones)."""
    copy = object.__new__(type(model))
    values = model.__dict__.copy()
    values.update(change)
    _set_slot(copy, "__dict__", values)
    _set_slot(copy, "__pydantic_fields_set__", model.__pydantic_fields_set__ | change.keys())
    _set_slot(copy, "__pydantic_extra__", None)
    _set_slot(copy, "__pydantic_private__", None)
    return copy


# A reply's letter (答复函) is a file: PDF, Word (DOCX) or an image, its type read from its bytes.
LetterType = Literal["application/pdf", "image/png", "image/jpeg",
                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# A file's name as people gave it: no control characters and no path (it only labels a download).
FILE_NAME_PATTERN = r"^[^\x00-\x1f\x7f/\\]+$"
FileName = Annotated[str, StringConstraints(min_length=1, max_length=255,
                                            pattern=FILE_NAME_PATTERN)]


class Letter(Frozen):
    """A file in the blob store, named by the SHA-256 of its bytes: what an event carries of a
    reply's signed letter. The edge that takes the command has checked that the store holds
    these bytes, of this size and type (the kernel does no I/O)."""

    sha256: Sha256
    name: FileName
    media_type: LetterType
    size: int = Field(gt=0)


# A command's letter: a form asks for it as a file (uploaded first, then named by the command).
LetterFile = Annotated[Letter, Input("letter")]


class Actor(Frozen):
    """Who acted: a user, the bureau they act for (clerks), their role, and for a filer (a
    deputy or member signed in) their id in the filer registry. `filer` is left out of the JSON
    when None, so that every other actor reads and hashes as before it existed."""

    user: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    bureau: BureauId | None = None
    role: ActorRole
    filer: FilerId | None = Field(default=None, exclude_if=lambda value: value is None)


IMPORTER = Actor(user="importer", role="importer")
