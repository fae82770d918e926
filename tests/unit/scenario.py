"""Given / when / then for the kernel, so that a test reads like the rule it checks:

    given(bureaus, submit(), assign(lead=["sh-ipa"], co=["sh-hrss"]))
        .when(reply("sh-hrss", "solved"))
        .then_rejected("not_lead")

Commands are written as the dicts of DOMAIN.md's vocabulary. A command without `at` happens
an hour after the one before it (from 15 January 2020); `at="2020-02-20"` means 10:00 that day
in Shanghai. Without `actor` the importer acts. Command ids are numbered, so scenarios are
deterministic, and `recorded_at` is the business time, as in the history importer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from banli.domain.registry import parse_command
from banli.domain import commands as c
from banli.domain.timing.deadlines import DEFAULT_PROFILE, Profile
from banli.domain.events import Event, event_payload
from banli.domain.decide import decide
from banli.domain.proposal import Context, MemoryDirectory, Proposal, State, evolve
from banli.domain.rejections import Rejection
from banli.domain.types import SHANGHAI
from banli.domain.timing.workdays import Calendar
from banli.workcalendar import china_calendar

P = "2020-cppcc_proposal-21001"  # the proposal of most scenarios
Q = "2020-cppcc_proposal-21002"  # another one, for merges
START = datetime(2020, 1, 15, 9, 0, tzinfo=SHANGHAI)

IMPORTER = {"user": "importer", "role": "importer"}
ADMIN = {"user": "admin", "role": "admin"}
COORDINATOR = {"user": "coordinator", "role": "coordinator"}
OVERSEER = {"user": "overseer", "role": "overseer"}


def clerk(bureau: str) -> dict[str, Any]:
    return {"user": f"clerk@{bureau}", "bureau": bureau, "role": "clerk"}


# --- the vocabulary ----------------------------------------------------------------------
def register_bureau(bureau: str, name: str | None = None, **more: Any) -> dict[str, Any]:
    return {"type": "register_bureau", "bureau": bureau, "name": name or f"{bureau} 局", **more}


BUREAUS = ("sh-ipa", "sh-hrss", "sh-stcsm", "sh-jrj")
NAMES = {  # the bureaus' names, as refusals name them
    "sh-ipa": ("上海市知识产权局", "Shanghai Intellectual Property Administration"),
    "sh-hrss": ("上海市人力资源和社会保障局", "Shanghai Human Resources and Social Security Bureau"),
    "sh-stcsm": ("上海市科学技术委员会", "Shanghai Science and Technology Commission"),
    "sh-jrj": ("上海市地方金融监督管理局", "Shanghai Financial Regulatory Bureau"),
}
bureaus = tuple(register_bureau(b, NAMES[b][0], name_en=NAMES[b][1])
                for b in BUREAUS)  # given(*bureaus, ...)


def submit(number: str = "21001", kind: str = "cppcc_proposal", year: int = 2020,
           **more: Any) -> dict[str, Any]:
    return {"type": "submit", "kind": kind, "year": year, "number": number,
            "title": "关于构建知识产权流转平台的建议", "filers": [{"name": "张伟"}],
            "affiliation": "无党派人士界别", "topics": ["运营交易"], **more}


def assign(proposal: str = P, lead: tuple[str, ...] | list[str] = ("sh-ipa",),
           co: tuple[str, ...] | list[str] = (), **more: Any) -> dict[str, Any]:
    return {"type": "assign", "proposal": proposal, "lead": list(lead), "co": list(co), **more}


def reassign(proposal: str = P, **changes: Any) -> dict[str, Any]:
    return {"type": "reassign", "proposal": proposal, **changes}


def _by(type_: str, bureau: str, proposal: str = P, **fields: Any) -> dict[str, Any]:
    """A bureau's command on a proposal."""
    return {"type": type_, "proposal": proposal, "bureau": bureau, **fields}


def acknowledge(bureau: str, **more: Any) -> dict[str, Any]:
    return _by("acknowledge", bureau, **more)


def return_(bureau: str, reason: str = "不属于本单位职责", **more: Any) -> dict[str, Any]:
    return _by("return", bureau, reason=reason, **more)


def log_contact(bureau: str, stage: str = "before", method: str = "visit",
                **more: Any) -> dict[str, Any]:
    return _by("log_contact", bureau, stage=stage, method=method, **more)


def submit_opinion(bureau: str, summary: str = "会办意见", **more: Any) -> dict[str, Any]:
    return _by("submit_opinion", bureau, summary=summary, **more)


def reply(bureau: str, result: str = "solved", **more: Any) -> dict[str, Any]:
    return _by("reply", bureau, result=result, **more)


def decide_disclosure(bureau: str, disclosure: str = "full", **more: Any) -> dict[str, Any]:
    return _by("decide_disclosure", bureau, disclosure=disclosure, **more)


def record_feedback(bureau: str, satisfaction: str = "satisfied", **more: Any) -> dict[str, Any]:
    return _by("record_feedback", bureau, satisfaction=satisfaction, **more)


def reopen(bureau: str, reply_due: str = "2020-12-31", reason: str = "代表不满意",
           **more: Any) -> dict[str, Any]:
    return _by("reopen", bureau, reply_due=reply_due, reason=reason, **more)


def revise_result(bureau: str, result: str = "solved", note: str = "已采纳",
                  **more: Any) -> dict[str, Any]:
    return _by("revise_result", bureau, result=result, note=note, **more)


def extend_deadline(bureau: str, reply_due: str, reason: str = "需多部门协调",
                    **more: Any) -> dict[str, Any]:
    return _by("extend_deadline", bureau, reply_due=reply_due, reason=reason, **more)


def request_extension(bureau: str, reply_due: str, reason: str = "需要跨部门调研",
                      **more: Any) -> dict[str, Any]:
    return _by("request_extension", bureau, reply_due=reply_due, reason=reason, **more)


def deny_extension(bureau: str, reason: str = "请按期答复", **more: Any) -> dict[str, Any]:
    return _by("deny_extension", bureau, reason=reason, **more)


def mark_key_item(proposal: str = P, key: bool = True, reason: str = "市领导关注",
                  **more: Any) -> dict[str, Any]:
    return {"type": "mark_key_item", "proposal": proposal, "key": key, "reason": reason,
            **more}


def supervise(proposal: str = P, **more: Any) -> dict[str, Any]:
    return {"type": "supervise", "proposal": proposal, **more}


def withdraw(proposal: str = P, reason: str = "代表撤回", **more: Any) -> dict[str, Any]:
    return {"type": "withdraw", "proposal": proposal, "reason": reason, **more}


def merge(proposal: str = P, into: str = Q, **more: Any) -> dict[str, Any]:
    return {"type": "merge", "proposal": proposal, "into": into, **more}


def event(type_: str, **payload: Any) -> dict[str, Any]:
    """An expected event: its type and the payload fields that matter (JSON values)."""
    return {"type": type_, **payload}


# --- the scenario --------------------------------------------------------------------------
@dataclass
class Scenario:
    """Streams of events decided and folded in memory, like the history importer."""

    profile: Profile = DEFAULT_PROFILE
    streams: dict[str, list[Event]] = field(default_factory=dict)
    states: dict[str, State] = field(default_factory=dict)
    directory: MemoryDirectory = field(default_factory=MemoryDirectory)
    clock: datetime = START
    issued: int = 0
    calendar: Calendar = field(default_factory=china_calendar)
    today: datetime | None = None  # the system clock; None: each command's own business time

    def command(self, data: dict[str, Any]) -> c.Command:
        """The command, with an id, an actor and a business time where the test left them out."""
        data = dict(data)
        self.issued += 1
        data.setdefault("command_id", f"cmd-{self.issued}")
        data.setdefault("actor", IMPORTER)
        if "at" not in data:
            self.clock += timedelta(hours=1)
            data["at"] = self.clock.isoformat()
        elif isinstance(data["at"], str) and len(data["at"]) == 10:
            data["at"] = f"{data['at']}T10:00:00+08:00"
        command = parse_command(data)
        if command.at is not None:
            self.clock = max(self.clock, command.at)
        return command

    def context(self, command: c.Command) -> Context:
        return Context(recorded_at=self.today or command.at or START, profile=self.profile,
                       directory=self.directory, calendar=self.calendar)

    def on(self, moment: str) -> "Scenario":
        """From now on the system clock reads `moment` (ISO 8601, Shanghai when no offset):
        commands are recorded then, whatever their business time."""
        parsed = datetime.fromisoformat(moment)
        self.today = parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)
        return self

    def decide(self, command: c.Command) -> list[Event] | Rejection:
        return decide(self.states.get(command.stream), command, self.context(command))

    def apply(self, stream: str, events: list[Event]) -> None:
        state = self.states.get(stream)
        for e in events:
            state = evolve(state, e)
            self.directory.observe(e)
        self.streams.setdefault(stream, []).extend(events)
        self.states[stream] = state

    def given(self, *commands: dict[str, Any]) -> "Scenario":
        for data in commands:
            command = self.command(data)
            outcome = self.decide(command)
            if isinstance(outcome, Rejection):
                raise AssertionError(f"given {data} was refused: [{outcome.code}] "
                                     f"{outcome.message_en}")
            self.apply(command.stream, outcome)
        return self

    def when(self, data: dict[str, Any] | c.Command) -> "Then":
        command = data if isinstance(data, c.Command) else self.command(data)
        outcome = self.decide(command)
        if not isinstance(outcome, Rejection):
            self.apply(command.stream, outcome)
        return Then(self, command, outcome)

    def state(self, stream: str = P) -> State:
        return self.states.get(stream)

    def proposal(self, stream: str = P) -> Proposal:
        state = self.states[stream]
        assert isinstance(state, Proposal)
        return state


def given(*commands: dict[str, Any], profile: Profile = DEFAULT_PROFILE) -> Scenario:
    return Scenario(profile=profile).given(*commands)


@dataclass
class Then:
    scenario: Scenario
    command: c.Command
    outcome: list[Event] | Rejection

    def then_events(self, *expected: dict[str, Any]) -> list[Event]:
        """The command was accepted with these events, in order; each expected event names its
        type and any payload fields to check."""
        assert not isinstance(self.outcome, Rejection), (
            f"refused: [{self.outcome.code}] {self.outcome.message_en}")
        got = [{"type": e.type, **event_payload(e)} for e in self.outcome]
        assert [g["type"] for g in got] == [x["type"] for x in expected], got
        for g, x in zip(got, expected):
            assert {k: g.get(k) for k in x} == x, g
        return self.outcome

    def then_rejected(self, code: str, **details: Any) -> Rejection:
        """The command was refused with this code (and these details)."""
        assert isinstance(self.outcome, Rejection), (
            f"accepted: {[e.type for e in self.outcome]}, expected [{code}]")
        assert self.outcome.code == code, f"[{self.outcome.code}] {self.outcome.message_en}"
        assert {k: self.outcome.details.get(k) for k in details} == details, self.outcome.details
        return self.outcome
