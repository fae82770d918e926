"""Rejections: a refused command is an answer with a stable code, a bilingual message saying why,
and a bilingual hint saying what to do about it, each declared once per code (MESSAGES).

The texts are formatted from the rejection's details. Where a detail is a day or a time, the
texts give it in words (2020年3月1日 / 1 March 2020); `decide` has them name bureaus by their names
and the proposal by its number (`Rejection.named`), while the details keep the ids and ISO dates
programs read."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Callable, Mapping

from pydantic import Field

from .types import Frozen
from .wording import day_words

# code -> (message, message_en, hint, hint_en): why it was refused and what to do, formatted
# with the rejection's details.
MESSAGES: dict[str, tuple[str, str, str, str]] = {
    "unknown_proposal": (
        "建议提案 {proposal} 不存在", "unknown proposal {proposal}",
        "请核对编号：经办人只能看到本单位承办过的建议提案",
        "check the number: a clerk sees only the items its bureau has handled"),
    "duplicate_proposal": (
        "建议提案 {proposal} 已登记", "proposal {proposal} is already submitted",
        "无需再次登记，请在已登记的该件上继续办理",
        "nothing to submit again: carry on with the proposal already there"),
    "duplicate_number": (
        "{key} 已登记为 {existing}", "{key} is already submitted as {existing}",
        "请核对层级、类型、年度和案号：同一编号只能登记一次",
        "check the level, kind, year and number: a number is submitted once"),
    "unknown_bureau": (
        "承办单位 {bureau} 未登记", "bureau {bureau} is not registered",
        "请核对单位代码，或先登记该承办单位", "check the bureau's id, or register the bureau first"),
    "duplicate_bureau": (
        "承办单位 {bureau} 已登记", "bureau {bureau} is already registered",
        "无需再次登记", "nothing to do: it is registered"),
    "bureau_merged": (
        "{bureau} 已于 {at} 并入 {successor}，不再办理", "{bureau} was merged into {successor} on "
        "{at} and records nothing more",
        "其承办任务已移交 {successor}：请以 {successor} 的名义办理（使用 {successor} 的账号）",
        "its duties are {successor}'s now: act for {successor} (with a {successor} account)"),
    "merge_into_itself": (
        "{bureau} 不能并入其自身", "{bureau} cannot be merged into itself",
        "请选择并入的另一单位", "choose the bureau it goes into"),
    "name_unchanged": (
        "{bureau} 的名称和简称没有变化", "{bureau}'s names are unchanged",
        "无需更名", "nothing to rename"),
    "already_handed_over": (
        "{bureau} 在 {proposal} 的承办任务已移交 {to}", "{bureau}'s duty on {proposal} has "
        "already gone to {to}",
        "无需再次移交：请由 {to} 继续办理", "nothing to hand over again: {to} carries on with it"),
    "hand_over_to_itself": (
        "{bureau} 不能把承办任务移交给自身", "{bureau} cannot hand its duty over to itself",
        "请选择接收的另一单位", "choose the bureau taking it over"),
    "no_lead": (
        "至少需要一个主办单位", "at least one lead bureau is required",
        "请至少指定一个主办单位", "name at least one lead bureau"),
    "duplicate_role": (
        "承办单位 {bureau} 在同一件中只能承担一个角色",
        "bureau {bureau} can hold only one role on a proposal",
        "请把 {bureau} 只列为主办或会办之一", "list {bureau} as a lead or as a co-handler, not both"),
    "already_assigned": (
        "建议提案 {proposal} 已交办，调整请用 reassign",
        "proposal {proposal} is already assigned; use reassign",
        "请用“调整交办”增加或撤销承办单位", "use reassign to add or remove bureaus"),
    "not_assigned": (
        "承办单位 {bureau} 未承办 {proposal}", "bureau {bureau} has no assignment on {proposal}",
        "请核对承办单位；如该单位应当承办，请交办单位先调整交办",
        "check the bureau; if it should handle this, the coordinator adds it by reassign"),
    "already_active": (
        "承办单位 {bureau} 已在承办 {proposal}", "bureau {bureau} already handles {proposal}",
        "无需再次交办该单位", "nothing to add: it handles it already"),
    "not_lead": (
        "只有主办单位可以答复 {proposal}", "only a lead bureau may do this on {proposal}",
        "请由主办单位办理；会办单位请提交会办意见",
        "the lead bureau does this; a co-handler sends its opinion"),
    "not_co": (
        "只有会办单位可以提交会办意见", "only a co-handling bureau submits an opinion",
        "主办单位请直接起草或答复", "a lead bureau drafts or replies instead"),
    "already_replied": (
        "{bureau} 已答复 {proposal}，再次答复需先重新办理",
        "{bureau} has already replied to {proposal}; a further reply needs reopen",
        "代表委员不满意时，请先“重新办理”再答复；办理结果有变化请用“修订办理结果”",
        "after a dissatisfied feedback, reopen first; to record a changed result, revise it"),
    "not_replied": (
        "{bureau} 尚未答复 {proposal}", "{bureau} has not replied to {proposal}",
        "请先答复，再办理此项", "reply first, then do this"),
    "not_dissatisfied": (
        "只有代表委员不满意时才能重新办理", "reopen needs a dissatisfied feedback first",
        "代表委员反馈“不满意”后才能重新办理；办理结果有变化请用“修订办理结果”",
        "reopen follows a dissatisfied feedback; to record a changed result, revise it"),
    "already_acknowledged": (
        "{bureau} 已签收", "{bureau} has already acknowledged",
        "无需再次签收，请继续办理", "nothing to do: carry on with the item"),
    "extension_too_long": (
        "延期不得超过交办后 6 个月（最迟 {limit}）",
        "an extension may not go beyond 6 months after assignment ({limit})",
        "请选择 {limit} 或更早的日期", "choose {limit} or earlier"),
    "extension_not_later": (
        "新的答复期限 {reply_due} 须晚于现期限 {current}",
        "the new due date {reply_due} must be later than {current}",
        "请选择晚于 {current} 的日期", "choose a day after {current}"),
    "due_before_assignment": (
        "期限 {due} 早于交办日期 {assigned}", "due date {due} is before the assignment {assigned}",
        "请选择 {assigned} 或之后的日期", "choose {assigned} or later"),
    "cannot_remove_replied": (
        "{bureau} 已答复，不能移除", "{bureau} has replied and cannot be removed",
        "已答复的单位保留在该件中；可增加其他承办单位",
        "a bureau that replied stays on it; add other bureaus instead"),
    "cannot_return_after_reply": (
        "{bureau} 已答复或提交意见，不能退回",
        "{bureau} has already replied or sent its opinion and cannot return it",
        "请继续办理；如确属交办错误，请联系交办单位调整交办",
        "carry on with it; if it was misrouted, ask the coordinator to reassign it"),
    "return_window_closed": (
        "退回须在交办后 {days} 个工作日内（{assigned} 交办，最迟 {deadline}），{bureau} 已逾期",
        "a return must come within {days} working days of the assignment on {assigned} "
        "(by {deadline}); {bureau} is too late",
        "请签收并办理；如确属交办错误，请联系交办单位调整交办",
        "sign for it and handle it; if it was misrouted, ask the coordinator to reassign it"),
    "calendar_not_covered": (
        "工作日历 {calendar} 只有 {first}—{last} 年的数据，无法计算 {day} 的工作日",
        "the working-day calendar {calendar} covers {first}-{last} only, not {day}",
        "请管理员载入该年度的节假日通知（banli calendar load）",
        "ask an administrator to load that year's holiday notice (banli calendar load)"),
    "review_required": (
        "按 {profile} 口径，答复须先起草{steps}后签发，不能直接答复",
        "under profile {profile} a reply is drafted, {steps_en} and approved, not issued directly",
        "请先“起草答复”，会签后由领导“签发”",
        "draft the reply, have it signed off, then approve it"),
    "no_draft": (
        "{bureau} 尚无待审核的答复草稿", "{bureau} has no draft reply under review",
        "请主办单位先起草答复", "the lead bureau drafts the reply first"),
    "cosign_pending": (
        "会办单位 {pending} 尚未会签，不能签发",
        "co-handlers {pending} have not signed the draft off; it cannot be approved yet",
        "请等 {pending} 会签后再签发", "wait for {pending} to sign the draft off"),
    "already_signed_off": (
        "{bureau} 已会签 {lead} 的答复草稿", "{bureau} has already signed off {lead}'s draft",
        "无需再次会签", "nothing to do: it is signed off"),
    "regrade_unchanged": (
        "答复草稿已是 {result_class} 类", "the draft is already of class {result_class}",
        "请选择另一个结果类别", "choose another class"),
    "no_extension_request": (
        "{bureau} 没有待审批的延期申请", "{bureau} has no extension request pending",
        "无需处理：承办单位申请延期后才能审批", "nothing to decide: no extension is pending"),
    "key_item_unchanged": (
        "建议提案 {proposal} {now}重点督办件", "proposal {proposal} {now_en} a key item already",
        "无需再次标记", "nothing to change"),
    "closed": (
        "建议提案 {proposal} 已{status}，不再办理",
        "proposal {proposal} is {status_en} and takes no further commands",
        "该件无需再办理", "nothing more is done on it"),
    "merge_target": (
        "不能并入 {into}", "cannot merge into {into}",
        "请选择另一件未撤回、未并案的建议提案", "choose another open proposal"),
    "out_of_order": (
        "业务时间 {at} 早于其所依据的{what}（{last}）",
        "business time {at} is before {what_en} at {last}, which it follows",
        "请把业务时间改为 {last} 或之后", "date it {last} or later"),
    "future_business_time": (
        "业务时间 {at} 晚于今天（{today}），不能预先记录",
        "business time {at} is later than today ({today}); nothing is recorded ahead",
        "请选择今天或更早的日期", "choose today or an earlier day"),
    "backdated_too_far": (
        "经办人只能补录 {limit} 天内的记录（本条业务日期 {at}，已过 {days} 天）；"
        "更早的记录须由交办单位（coordinator）或导入（importer）角色录入",
        "a clerk may record up to {limit} days back (this record is dated {at}, {days} days "
        "ago); older records need the coordinator or importer role",
        "请交办单位或数据导入人员录入这条记录", "ask the coordinator or an importer to enter it"),
    "forbidden": (
        "{role_zh}无权执行“{command}”", "a {role} may not {command}",
        "此项不属于您的角色，请由有权限的人员办理", "it is not your role's: ask someone whose it is"),
    "wrong_bureau": (
        "{user} 只能代表 {own} 办理，不能代表 {bureau}",
        "{user} acts for {own} only, not for {bureau}",
        "请以本单位（{own}）的名义办理", "act for your own bureau ({own})"),
    "missing_actor": (
        "命令缺少操作人", "the command has no actor",
        "请登录后再提交", "sign in and send it again"),
    "not_recorder": (
        "{role} 无权代他人录入记录（本条以 {user} 的名义）",
        "a {role} may not enter records of others' acts (this one names {user})",
        "请以本人名义录入，或由数据导入人员代为录入",
        "enter it as yourself, or have an importer enter it"),
    "claimed_actor": (
        "代为录入的记录不能以{role_zh}（{role}）的名义：{role_zh}的记录只能由本人录入",
        "a record entered on another's behalf may not name an {role} as its actor: an "
        "{role}'s records are their own to enter",
        "请由{role_zh}本人录入", "the {role} enters it themselves"),
    "command_id_conflict": (
        "该指令编号已被使用，不能用于另一条指令；请为新指令使用新的编号",
        "this command id is already used for another command; give a new command a new id",
        "请重新打开表单再提交（新表单有新的指令编号）",
        "open the form again and send it (a new form has a new command id)"),
}


# The filer registry's refusals and a filer's own: (message, message_en, hint, hint_en).
FILER_MESSAGES: dict[str, tuple[str, str, str, str]] = {
    "duplicate_filer": (
        "代表委员 {filer} 已登记", "filer {filer} is already registered",
        "无需再次登记", "nothing to do: they are registered"),
    "unknown_filer": (
        "代表委员 {filer} 未登记", "filer {filer} is not registered",
        "请核对代表委员编号，或先导入代表委员名册",
        "check the filer's id, or import the register of deputies and members first"),
    "account_taken": (
        "登录账号 {account} 已对应代表委员 {owner}",
        "the account {account} is already filer {owner}'s",
        "请核对登录账号：一个账号只对应一位代表委员", "check the account: one account is one filer's"),
    "already_linked": (
        "建议提案 {proposal} 的这些提出人均已关联",
        "every one of these filers is linked to proposal {proposal} already",
        "无需再次关联", "nothing to do: they are linked"),
    "not_a_filer_name": (
        "建议提案 {proposal} 的提出人中没有尚未关联的“{name}”",
        "proposal {proposal} names no filer '{name}' not linked yet",
        "请填写该件所列的提出人姓名", "give the name the proposal lists the filer by"),
    "filer_backdated": (
        "代表委员本人的记录以当天为业务日期（本条为 {at}，今天是 {today}）",
        "a filer's own records are dated today (this one is dated {at}, today is {today})",
        "请不填业务时间，或填今天", "leave the business time out, or give today"),
}
# The office's review of what it received (审查立案).
REVIEW_MESSAGES: dict[str, tuple[str, str, str, str]] = {
    "not_filed_yet": (
        "建议提案 {proposal} 尚未立案（{state}），不能交办",
        "proposal {proposal} is not filed ({state_en}) and cannot be assigned",
        "请先审查：立案后再交办", "review it first: it is assigned once filed"),
    "not_under_review": (
        "建议提案 {proposal} 不在待审查状态（{state}）",
        "proposal {proposal} is not awaiting review ({state_en})",
        "只能对待审查的建议提案立案、不立案或退回修改；退回修改的须提出人重新提交后再审查",
        "only a proposal awaiting review is filed, declined or returned; one returned for "
        "revision is reviewed again once resubmitted"),
    "not_returned": (
        "建议提案 {proposal} 未被退回修改（{state}），不能重新提交",
        "proposal {proposal} was not returned for revision ({state_en}); nothing to resubmit",
        "只有退回修改的建议提案可以重新提交", "only a proposal returned for revision is resubmitted"),
    "unknown_area": (
        "{year} 年度没有领域“{area}”（可选：{areas}）",
        "{year} has no area '{area}' (its areas: {areas_en})",
        "请从该年度的领域中选择", "choose one of the year's areas"),
}
# (each with its hint, as every refusal carries one)
MESSAGES.update(FILER_MESSAGES)
MESSAGES.update(REVIEW_MESSAGES)

# Refusals given by the event log's adapters rather than by `decide` (a used command id).
ADAPTER_CODES = frozenset({"command_id_conflict"})

# The details that name bureaus (each a bureau's id; `pending`: ids joined by ", "), and those
# whose values `Rejection.named` is given words for (the proposal, another proposal, a command).
BUREAU_DETAILS = frozenset({"bureau", "lead", "own", "successor", "to"})
BUREAU_LIST_DETAILS = frozenset({"pending"})
WORDED_DETAILS = frozenset({"proposal", "into", "command"})

# A bureau's names (zh, en) by its id, or None for a bureau not registered.
Names = Callable[[str], tuple[str, str] | None]


class Rejection(Frozen):
    """A command the rules refuse. `code` is stable for programs, and so are `details` (ids,
    ISO dates); the messages (why) and hints (what to do) are for people."""

    code: str
    message: str
    message_en: str
    hint: str = ""
    hint_en: str = ""
    details: dict[str, Any] = Field({}, description=(
        "ids and ISO dates for programs, as the refusal's rule gives them (its `code` says "
        "which): open, one object for every rule"))

    @classmethod
    def of(cls, code: str, **details: Any) -> "Rejection":
        plain = {k: _plain(v) for k, v in details.items()}
        return cls(code=code, details=plain, **_texts(code, plain, _no_names, {}))

    def named(self, bureaus: Names, words: Mapping[str, tuple[str, str]]) -> "Rejection":
        """The same refusal, its texts naming each bureau by its name (where `bureaus` knows it)
        and each proposal or command `words` has words for by those words; `details` stay."""
        if self.code not in MESSAGES:
            return self
        return self.model_copy(update=_texts(self.code, self.details, bureaus, words))


def _no_names(bureau: str) -> tuple[str, str] | None:
    return None


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _texts(code: str, details: Mapping[str, Any], bureaus: Names,
           words: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """The message and the hint of `code`, in both languages, from plain details."""
    zh, en, *hint = MESSAGES[code]
    hint_zh, hint_en = (hint + ["", ""])[:2]  # a code declared without one has none (a test fails)
    shown = [{key: _shown(key, value, lang, bureaus, words) for key, value in details.items()}
             for lang in (0, 1)]
    return {"message": zh.format(**shown[0]), "message_en": en.format(**shown[1]),
            "hint": hint_zh.format(**shown[0]), "hint_en": hint_en.format(**shown[1])}


def _shown(key: str, value: Any, lang: int, bureaus: Names,
           words: Mapping[str, tuple[str, str]]) -> Any:
    """A detail as the texts of language `lang` (0: zh, 1: en) show it."""
    if not isinstance(value, str):
        return value
    if key in BUREAU_DETAILS:
        return _name(value, lang, bureaus)
    if key in BUREAU_LIST_DETAILS:
        return ("、", ", ")[lang].join(_name(b, lang, bureaus) for b in value.split(", ") if b)
    if key in WORDED_DETAILS and value in words:
        return words[value][lang]
    if _ISO_DAY.match(value):
        return day_words(date.fromisoformat(value))[lang]
    if _ISO_TIME.match(value):
        try:
            return day_words(datetime.fromisoformat(value))[lang]
        except ValueError:
            return value
    return value


def _name(bureau: str, lang: int, bureaus: Names) -> str:
    """A bureau's name in that language (its Chinese name where it has no English one), or its
    id where it has none."""
    names = bureaus(bureau)
    if names is None:
        return bureau
    return names[lang] or names[0] or bureau


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
