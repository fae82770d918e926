"""Rejections: a refused command is an answer with a stable code and a bilingual message."""
from __future__ import annotations

from typing import Any

from .types import Frozen

# code -> (zh, en) message templates, formatted with the rejection's details.
MESSAGES: dict[str, tuple[str, str]] = {
    "unknown_proposal": ("建议提案 {proposal} 不存在", "unknown proposal {proposal}"),
    "duplicate_proposal": ("建议提案 {proposal} 已登记", "proposal {proposal} is already submitted"),
    "duplicate_number": (
        "{key} 已登记为 {existing}", "{key} is already submitted as {existing}"),
    "unknown_bureau": ("承办单位 {bureau} 未登记", "bureau {bureau} is not registered"),
    "duplicate_bureau": ("承办单位 {bureau} 已登记", "bureau {bureau} is already registered"),
    "no_lead": ("至少需要一个主办单位", "at least one lead bureau is required"),
    "duplicate_role": (
        "承办单位 {bureau} 在同一件中只能承担一个角色",
        "bureau {bureau} can hold only one role on a proposal"),
    "already_assigned": (
        "建议提案 {proposal} 已交办，调整请用 reassign",
        "proposal {proposal} is already assigned; use reassign"),
    "not_assigned": (
        "承办单位 {bureau} 未承办 {proposal}", "bureau {bureau} has no assignment on {proposal}"),
    "already_active": (
        "承办单位 {bureau} 已在承办 {proposal}", "bureau {bureau} already handles {proposal}"),
    "not_lead": ("只有主办单位可以答复 {proposal}", "only a lead bureau may do this on {proposal}"),
    "not_co": ("只有会办单位可以提交会办意见", "only a co-handling bureau submits an opinion"),
    "already_replied": (
        "{bureau} 已答复 {proposal}，再次答复需先重新办理",
        "{bureau} has already replied to {proposal}; a further reply needs reopen"),
    "not_replied": ("{bureau} 尚未答复 {proposal}", "{bureau} has not replied to {proposal}"),
    "not_dissatisfied": (
        "只有代表委员不满意时才能重新办理", "reopen needs a dissatisfied feedback first"),
    "already_acknowledged": ("{bureau} 已签收", "{bureau} has already acknowledged"),
    "extension_too_long": (
        "延期不得超过交办后 6 个月（最迟 {limit}）",
        "an extension may not go beyond 6 months after assignment ({limit})"),
    "extension_not_later": (
        "新的答复期限 {reply_due} 须晚于现期限 {current}",
        "the new due date {reply_due} must be later than {current}"),
    "due_before_assignment": (
        "期限 {due} 早于交办日期 {assigned}", "due date {due} is before the assignment {assigned}"),
    "cannot_remove_replied": (
        "{bureau} 已答复，不能移除", "{bureau} has replied and cannot be removed"),
    "cannot_return_after_reply": (
        "{bureau} 已答复或提交意见，不能退回",
        "{bureau} has already replied or sent its opinion and cannot return it"),
    "return_window_closed": (
        "退回须在交办后 {days} 个工作日内（{assigned} 交办，最迟 {deadline}），{bureau} 已逾期",
        "a return must come within {days} working days of the assignment on {assigned} "
        "(by {deadline}); {bureau} is too late"),
    "calendar_not_covered": (
        "工作日历 {calendar} 只有 {first}—{last} 年的数据，无法计算 {day} 的工作日",
        "the working-day calendar {calendar} covers {first}-{last} only, not {day}"),
    "review_required": (
        "按 {profile} 口径，答复须先起草{steps}后签发，不能直接答复",
        "under profile {profile} a reply is drafted, {steps_en} and approved, not issued directly"),
    "no_draft": ("{bureau} 尚无待审核的答复草稿", "{bureau} has no draft reply under review"),
    "cosign_pending": (
        "会办单位 {pending} 尚未会签，不能签发",
        "co-handlers {pending} have not signed the draft off; it cannot be approved yet"),
    "already_signed_off": (
        "{bureau} 已会签 {lead} 的答复草稿", "{bureau} has already signed off {lead}'s draft"),
    "regrade_unchanged": (
        "答复草稿已是 {result_class} 类", "the draft is already of class {result_class}"),
    "closed": (
        "建议提案 {proposal} 已{status}，不再办理",
        "proposal {proposal} is {status_en} and takes no further commands"),
    "merge_target": ("不能并入 {into}", "cannot merge into {into}"),
    "out_of_order": (
        "业务时间 {at} 早于其所依据的{what}（{last}）",
        "business time {at} is before {what_en} at {last}, which it follows"),
    "future_business_time": (
        "业务时间 {at} 晚于今天（{today}），不能预先记录",
        "business time {at} is later than today ({today}); nothing is recorded ahead"),
    "backdated_too_far": (
        "经办人只能补录 {limit} 天内的记录（本条业务日期 {at}，已过 {days} 天）；"
        "更早的记录须由交办单位（coordinator）或导入（importer）角色录入",
        "a clerk may record up to {limit} days back (this record is dated {at}, {days} days "
        "ago); older records need the coordinator or importer role"),
    "forbidden": ("{role} 无权执行 {command}", "a {role} may not {command}"),
    "wrong_bureau": (
        "{user} 只能代表 {own} 办理，不能代表 {bureau}",
        "{user} acts for {own} only, not for {bureau}"),
    "missing_actor": ("命令缺少操作人", "the command has no actor"),
    "not_recorder": (
        "{role} 无权代他人录入记录（本条以 {user} 的名义）",
        "a {role} may not enter records of others' acts (this one names {user})"),
    "claimed_actor": (
        "代为录入的记录不能以{role_zh}（{role}）的名义：{role_zh}的记录只能由本人录入",
        "a record entered on another's behalf may not name an {role} as its actor: an "
        "{role}'s records are their own to enter"),
    "command_id_conflict": (
        "该指令编号已被使用，不能用于另一条指令；请为新指令使用新的编号",
        "this command id is already used for another command; give a new command a new id"),
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
# (the hints go with the messages where a refusal carries its hint)
MESSAGES.update({code: (zh, en) for code, (zh, en, *_) in FILER_MESSAGES.items()})

# Refusals given by the event log's adapters rather than by `decide` (a used command id).
ADAPTER_CODES = frozenset({"command_id_conflict"})


class Rejection(Frozen):
    """A command the rules refuse. `code` is stable for programs; the messages are for people."""

    code: str
    message: str
    message_en: str
    details: dict[str, Any] = {}

    @classmethod
    def of(cls, code: str, **details: Any) -> "Rejection":
        zh, en = MESSAGES[code]
        return cls(code=code, message=zh.format(**details), message_en=en.format(**details),
                   details={k: _plain(v) for k, v in details.items()})


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
