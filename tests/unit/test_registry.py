"""The registry is the only list of commands and events: every command and event class is in it,
the unions and versions the logs decode come from it, every event is evolved or declared to
change nothing, every command, field, choice and event has its words in Chinese and English,
every command has a valid example, and a decider registered for another command is a type
error."""
from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from pydantic import BaseModel

from banli.domain import commands as c
from banli.domain import events as e
from banli.domain import proposal as proposal_module
from banli.domain.decide import earliest_date
from banli.domain.permissions import RIGHTS
from banli.domain.proposal import Assignment, Proposal, evolve
from banli.domain.registry import (
    AnyEvent, BY_TYPE, COMMAND_ADAPTER, CURRENT_VERSION, EVENT_ADAPTER, EVENT_CLASSES, EVENT_TYPES,
    REGISTRY, parse_command)
from banli.domain.types import CHOICES, SHANGHAI, Actor
from banli.domain.views.vocabulary import (
    _declared, choices_of, command_forms, envelope_words, event_descriptions, example, form_for)
from banli.domain.words import Labels
from tests.conftest import ROOT

HAN = re.compile(r"[\u4e00-\u9fff]")


def _subclasses(module: object, base: type) -> set[type]:
    return {cls for cls in vars(module).values()
            if isinstance(cls, type) and issubclass(cls, base) and cls is not base
            and cls.__module__ == base.__module__}


# --- one list -----------------------------------------------------------------------------------
def test_every_command_and_event_class_is_in_the_registry():
    assert {spec.command for spec in REGISTRY} == _subclasses(c, c.Command)
    assert set(EVENT_CLASSES) == _subclasses(e, e.Event)


def test_the_unions_and_versions_the_logs_read_come_from_the_registry():
    union = get_args(get_args(AnyEvent)[0])
    assert set(union) == set(EVENT_CLASSES) and e.BureauRegistered in union
    assert set(CURRENT_VERSION) == set(EVENT_TYPES) == {
        ev.model_fields["type"].default for spec in REGISTRY for ev in spec.events}
    assert CURRENT_VERSION["ReplyIssued"] == 3 and CURRENT_VERSION["BureauRegistered"] == 2
    assert set(COMMAND_ADAPTER.json_schema()["discriminator"]["mapping"]) == set(BY_TYPE)
    assert set(EVENT_ADAPTER.json_schema()["discriminator"]["mapping"]) == set(EVENT_TYPES)
    assert all(RIGHTS[spec.type] == spec.roles for spec in REGISTRY)


def _evolve_cases() -> set[str]:
    """The event classes `evolve` (and what it calls) matches on, read from proposal.py."""
    tree = ast.parse(inspect.getsource(proposal_module))
    return {node.cls.attr for node in ast.walk(tree)
            if isinstance(node, ast.MatchClass) and isinstance(node.cls, ast.Attribute)}


def test_every_event_has_an_evolve_case_or_is_declared_to_change_nothing():
    cases = _evolve_cases()
    for cls in EVENT_CLASSES:
        if cls.changes_state:
            assert cls.__name__ in cases, f"{cls.__name__}: no case in evolve"
        else:  # a case would contradict the declaration
            assert cls.__name__ not in cases, f"{cls.__name__} changes nothing, yet has a case"


def _event(cls: type[e.Event], bureau: str, at: datetime, seq: int) -> e.Event:
    """An event of `cls` on `bureau`'s duty: its own fields the plainest values."""
    data: dict[str, Any] = {
        "event_id": "x", "proposal_id": "P", "seq": seq, "occurred_at": at, "recorded_at": at,
        "actor": Actor(user="u", role="admin"), "command_id": "c"}
    for name, info in cls.model_fields.items():
        if name in data or not info.is_required():
            continue
        base = info.annotation
        data[name] = (bureau if name == "bureau" else get_args(base)[0]
                      if get_origin(base) is Literal else at.date() if base is date else "示例")
    return cls.model_validate(data)


def test_an_event_that_changes_nothing_moves_only_the_version_and_its_duty_clock():
    start = datetime(2020, 3, 1, 9, tzinfo=SHANGHAI)
    later = start + timedelta(days=5)
    duty = Assignment(bureau="b1", role="lead", assigned_on=start.date(), due=date(2020, 6, 1),
                      last_at=start)
    state = Proposal(id="P", kind="npc_suggestion", level="municipal", year=2020, number="1",
                     title="t", assignments={"b1": duty}, ever_assigned=True, version=2,
                     submitted_at=start, last_at=start)
    quiet = [cls for cls in EVENT_CLASSES if not cls.changes_state]
    assert quiet, "ReplyApproved is declared to change nothing: the ReplyIssued after it does"
    for cls in quiet:
        after = evolve(state, _event(cls, "b1", later, 3))
        assert isinstance(after, Proposal) and after.version == 3
        moved = after.assignments["b1"] if "bureau" in cls.model_fields else after
        assert moved.last_at == later
        assert after.model_copy(update={"version": 2, "last_at": state.last_at, "assignments": {
            "b1": after.assignments["b1"].model_copy(update={"last_at": start})}}) == state


# --- words ----------------------------------------------------------------------------------------
def _both(zh: str, en: str, what: str) -> None:
    assert HAN.search(zh), f"{what}: {zh!r} is not Chinese"
    assert en.strip() and not HAN.search(en), f"{what}: {en!r} is not English"


def test_every_command_field_choice_and_event_has_words_in_chinese_and_english():
    for form in command_forms():
        _both(form.title, form.title_en, form.type)
        for field in form.fields:
            _both(field.label, field.label_en, f"{form.type}.{field.name}")
            if field.input == "select":
                assert field.choices and field.choice_set
            for choice in field.choices:
                _both(choice.label, choice.label_en, f"{form.type}.{field.name}={choice.value}")
    for event in event_descriptions():
        _both(event.title, event.title_en, event.type)
        for field in [*event.fields, *(f for x in event.fields for f in x.fields)]:
            _both(field.label, field.label_en, f"{event.type}.{field.name}")
    for field in envelope_words():
        _both(field.label, field.label_en, f"Event.{field.name}")


def test_every_choice_type_labels_each_of_its_values_once():
    assert len({found.name for found in CHOICES}) == len(CHOICES)
    for found in CHOICES:
        assert set(found.labels) == set(get_args(found.type)), found.name
        for value, (zh, en) in found.labels.items():
            _both(zh, en, f"{found.name}={value}")


def _choice_fields(model: type[BaseModel]) -> list[str]:
    """The model's fields of a Literal type with more than one value (a choice)."""
    found = []
    for name, info in model.model_fields.items():
        args = [a for a in get_args(info.annotation) if a is not type(None)] or [info.annotation]
        literal = next((a for a in [info.annotation, *args] if get_origin(a) is Literal), None)
        if literal is not None and len(get_args(literal)) > 1:
            found.append((name, literal))
    return found


def test_every_choice_field_of_a_command_or_event_is_a_declared_choice_type():
    models = [spec.command for spec in REGISTRY] + list(EVENT_CLASSES) + [e.Duty]
    undeclared = [f"{m.__name__}.{name}" for m in models for name, literal in _choice_fields(m)
                  if choices_of(literal) is None]
    assert undeclared == [], "declare their words in banli.domain.types.CHOICES"


def test_no_words_are_declared_for_a_field_that_does_not_exist():
    every_command_field = {n for spec in REGISTRY for n in spec.command.model_fields}
    for model in [*(spec.command for spec in REGISTRY), *EVENT_CLASSES, e.Duty, c.Filer]:
        own = model.__dict__.get("labels")
        assert isinstance(own, Labels), f"{model.__name__} declares no labels"
        assert set(own.fields) <= set(model.model_fields), model.__name__
    assert set(c.Command.labels.fields) <= every_command_field
    assert set(e.Event.labels.fields) <= set(e.Event.model_fields) | {"type"}


def test_a_field_takes_its_own_words_then_its_base_classes_then_its_commands():
    assert _declared(c.SignOffReply, "bureau") == ("会签单位", "co-handler signing")
    assert _declared(c.Acknowledge, "bureau") == ("承办单位", "bureau")  # Command's
    described = {ev.type: {f.name: f for f in ev.fields} for ev in event_descriptions()}
    assert described["ContactLogged"]["stage"].label == "沟通阶段"  # LogContact's
    assert described["ContactLogged"]["stage"].choice_set == "contact_stage"
    assert described["ReplyRegraded"]["previous"].label_en == "previous result"


# --- forms ----------------------------------------------------------------------------------------
def test_a_form_says_who_fills_each_field():
    forms = {form.type: form for form in command_forms()}
    reply = {field.name: field for field in forms["reply"].fields}
    assert reply["type"].source == "fixed" and reply["type"].default == "reply"
    assert reply["actor"].source == "server" and reply["actor"].input is None
    assert reply["command_id"].source == "page" and reply["command_id"].input is None
    assert reply["proposal"].source == "item"
    assert reply["bureau"].source == "user" and reply["bureau"].input == "bureau"
    assert reply["result"].input == "select" and [ch.value for ch in reply["result"].choices] == [
        "solved", "planned", "deferred", "reference"]
    assert reply["result"].choices[0].label == "A 已解决或采纳"
    assert reply["summary"].input == "long_text" and reply["summary"].max_length == 20_000
    assert reply["at"].input == "datetime" and not reply["at"].required
    clerk = Actor(user="wang", bureau="sh-ipa", role="clerk")
    mine = {f.name: f for f in form_for(forms["reply"], clerk).fields}
    assert mine["bureau"].source == "own_bureau" and mine["bureau"].default == "sh-ipa"
    overseer = Actor(user="zhao", role="overseer")
    assert {f.name: f for f in form_for(forms["supervise"], overseer).fields}[
        "bureau"].source == "user"
    submit = {field.name: field for field in forms["submit"].fields}
    assert submit["proposal"].source == "user"  # a submit opens a proposal: it is on none
    assert submit["filers"].input == "texts" and submit["filers"].item_field == "name"
    assert submit["year"].input == "number" and (submit["year"].minimum, submit["year"].maximum
                                                 ) == (1949, 2200)
    assert submit["level"].default == "municipal" and submit["key_item"].input == "boolean"
    assign = {field.name: field for field in forms["assign"].fields}
    assert assign["lead"].input == "bureaus" and assign["lead"].max_items == 50
    assert assign["reply_due"].input == "date"


def test_a_clerk_may_date_a_record_only_so_far_back():
    today = date(2020, 11, 20)
    clerk = Actor(user="w", bureau="b", role="clerk")
    assert earliest_date(clerk, today, 30) == date(2020, 10, 21)
    assert earliest_date(Actor(user="c", role="coordinator"), today, 30) is None
    assert earliest_date(clerk, today, 10**9) == date(1949, 1, 1)  # the calendar's first day


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda spec: spec.type)
def test_every_command_has_a_valid_example(spec):
    body = example(spec.command, proposal="2020-npc_suggestion-1", bureau="sh-ipa",
                   day=date(2020, 5, 6))
    command = parse_command({**body, "type": spec.type, "command_id": "x"})
    assert type(command) is spec.command
    named = {f.name for f in next(f for f in command_forms() if f.type == spec.type).fields
             if f.input in ("bureau", "bureaus")}
    assert all(body[n] in ("sh-ipa", ["sh-ipa"]) for n in named if n in body)


# --- types ----------------------------------------------------------------------------------------
DECIDER = '''
from banli.domain import commands as c
from banli.domain import events as e
from banli.domain.envelope import Decision, Envelopes
from banli.domain.proposal import Context, Proposal
from banli.domain.spec import BUREAUS, Specs

SPECS = Specs()


@SPECS.decides(c.Reply, emits=(e.ReplyIssued,), roles=BUREAUS, clock="duty")
def reply(p: Proposal, cmd: c.{command}, ctx: Context, env: Envelopes) -> Decision:
    return []
'''


def test_a_decider_registered_for_another_command_is_a_type_error(tmp_path):
    """mypy (the project's settings) on two deciders registered for `reply`: the one that takes
    a Reply passes, the one that takes an Acknowledge is refused at its registration."""
    (tmp_path / "right.py").write_text(textwrap.dedent(DECIDER.format(command="Reply")))
    (tmp_path / "wrong.py").write_text(textwrap.dedent(DECIDER.format(command="Acknowledge")))
    mypy = Path(sys.executable).with_name("mypy")
    done = subprocess.run(
        [str(mypy), "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir",
         str(tmp_path / "cache"), str(tmp_path / "right.py"), str(tmp_path / "wrong.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, done.stdout + done.stderr
    assert errors[0].startswith(f"{tmp_path / 'wrong.py'}:11:")  # the decorator's line
    assert "incompatible type" in errors[0] and "Acknowledge" in errors[0]
    assert "expected \"Callable[[Any, Reply, Context, Envelopes]" in errors[0]
