"""The vocabulary as people read it and forms ask for it, derived from the registry and the words
declared beside each class (banli.domain.words): each command with its name and its fields as
a form needs them (label, input kind, required, limits, default, labelled choices, and who
fills the value in), each event with its name and its fields' names, each choice type with its
labels. `example` builds a valid body of any command from the same description (the
permission-matrix test and the demo generator use it). Pure.

A field's words are its own class's, else those of a base class (`Command` names the fields
many commands share); an event's field, else the same field of a command that records it.
"""
from __future__ import annotations

import functools
import types
from datetime import date, datetime
from typing import Annotated, Any, Iterator, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from .. import commands as c
from .. import events as e
from ..timing.deadlines import PROFILE_WORDS
from ..permissions import reach
from ..registry import BY_CLASS, COMMAND_ADAPTER, EVENT_CLASSES, REGISTRY
from ..spec import Clock, Reach, Spec
from ..types import CHOICES, Actor
from ..words import Choices, Input, InputKind, Labels, Name

# Who gives a field its value: the person filling the form in ("user"); the command's type
# ("fixed", its `default`); the page, a new id for each form it shows (kept across retries:
# `command_id`); the server, from the token (`actor`: whatever a body says is ignored); the
# proposal the form is opened on ("item"); the signed-in clerk's own bureau ("own_bureau": the
# only one the permission table lets it name).
Source = Literal["user", "fixed", "page", "server", "item", "own_bureau"]
Value = Union[str, int, float, bool, list[str], None]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Choice(_Model):
    value: str
    label: str
    label_en: str


class ChoiceSet(_Model):
    """A choice type's values with their words (`result`: solved, planned ...)."""

    name: str
    choices: list[Choice]


class FormField(_Model):
    """One field of a command as a form asks for it. `input` is None for a value no one types
    (type, actor, command_id). Limits: `min_length`/`max_length`/`pattern` of a text (of each
    line of `texts`), `minimum`/`maximum` of a number, `min_items`/`max_items` of a list.
    `texts` are sent as a list of strings, or, with `item_field`, of `{item_field: line}`."""

    name: str
    label: str
    label_en: str
    input: InputKind | None
    source: Source
    required: bool
    default: Value = None
    choice_set: str | None = None
    choices: list[Choice] = []
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    min_items: int | None = None
    max_items: int | None = None
    item_field: str | None = None


class CommandForm(_Model):
    """A command as the page offers it: its names, where it is sent (`route`, a path under /api
    besides POST /api/commands, which takes every command), whether it is sent on a proposal,
    the clock its business time follows, who may send it, the events it becomes, its fields."""

    type: str
    title: str
    title_en: str
    route: str | None
    service: Literal["intake", "handling"]
    on_proposal: bool
    clock: Clock
    roles: dict[str, Reach]
    events: list[str]
    fields: list[FormField]


class EventField(_Model):
    """An event's field as the history names it; `fields` are the names within each item of a
    list of records (a ProposalAssigned's duties)."""

    name: str
    label: str
    label_en: str
    choice_set: str | None = None
    fields: list[EventField] = []


class EventWords(_Model):
    type: str
    title: str
    title_en: str
    changes_state: bool
    fields: list[EventField]


# --- words ------------------------------------------------------------------------------------
def _declared(cls: type, name: str) -> Name | None:
    """The words `cls` or a base class declares for its field `name`."""
    for klass in cls.__mro__:
        labels = klass.__dict__.get("labels")
        if isinstance(labels, Labels) and name in labels.fields:
            return labels.fields[name]
    return None


def command_words(command: type[c.Command], name: str) -> Name:
    """The words of a command's field; KeyError if none are declared."""
    found = _declared(command, name)
    if found is None:
        raise KeyError(f"{command.__name__}.{name} has no labels")
    return found


def _recorders(event: type[e.Event]) -> list[type[c.Command]]:
    return [spec.command for spec in REGISTRY if event in spec.events]


def event_words(event: type[BaseModel], name: str) -> Name:
    """The words of an event's (or a record's within it) field: its own, else those of the
    same field of a command that records the event; KeyError if there are none."""
    found = _declared(event, name)
    for command in _recorders(event) if issubclass(event, e.Event) else []:
        found = found or _declared(command, name)
    if found is None:
        raise KeyError(f"{event.__name__}.{name} has no labels")
    return found


def choices_of(literal: object) -> Choices | None:
    """The declared words of a choice type (banli.domain.types.CHOICES), if it is one."""
    return next((found for found in CHOICES if found.type == literal), None)


def choice_sets() -> list[ChoiceSet]:
    """Every choice type's values with their words, and the deadline profiles' (`profile`)."""
    return [*(ChoiceSet(name=found.name, choices=_choices(found)) for found in CHOICES),
            ChoiceSet(name="profile", choices=[
                Choice(value=name, label=zh, label_en=en)
                for name, (zh, en) in PROFILE_WORDS.items()])]


def _choices(found: Choices) -> list[Choice]:
    return [Choice(value=value, label=found.labels[value][0], label_en=found.labels[value][1])
            for value in get_args(found.type)]


# --- the shape of a value ----------------------------------------------------------------------
def _split(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any]]:
    """The type without `| None` and Annotated, and its metadata (those given, then its own):
    whether a field may be left out is its `required`, not its type."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = args[0] if len(args) == 1 else annotation
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        return base, [*metadata, *extra]
    return annotation, list(metadata)


def _limits(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, StringConstraints):
            found.update({k: v for k, v in (("min_length", item.min_length),
                                            ("max_length", item.max_length),
                                            ("pattern", item.pattern)) if v is not None})
        elif isinstance(item, at.MinLen):
            found["min_length"] = item.min_length
        elif isinstance(item, at.MaxLen):
            found["max_length"] = item.max_length
        elif isinstance(item, at.Ge):
            found["minimum"] = item.ge
        elif isinstance(item, at.Le):
            found["maximum"] = item.le
    return found


def _marked(metadata: list[Any]) -> InputKind | None:
    return next((item.kind for item in metadata if isinstance(item, Input)), None)


def _shape(annotation: Any, metadata: list[Any]) -> dict[str, Any]:
    """How a form asks for a value of this type: its input kind, choices and limits."""
    base, metadata = _split(annotation, metadata)
    limits = _limits(metadata)
    if get_origin(base) is list:
        item, item_meta = _split(get_args(base)[0], [])
        items = {"min_items": limits.get("min_length"), "max_items": limits.get("max_length")}
        if _marked(item_meta) == "bureau":
            return {"input": "bureaus", **items}
        required = [(name, inner) for name, inner in item.model_fields.items()
                    if inner.is_required()] if isinstance(item, type) and issubclass(
                        item, BaseModel) else []
        if len(required) == 1:  # a record typed as a line: its one required field (a name)
            (name, inner), = required
            return {"input": "texts", "item_field": name, **items,
                    **_limits(list(inner.metadata))}
        return {"input": "texts", **items, **_limits(item_meta)}
    if get_origin(base) is Literal:
        found = choices_of(base)
        if found is None:
            return {"input": None}  # a fixed value: a command's type
        return {"input": "select", "choice_set": found.name, "choices": _choices(found)}
    kind = _marked(metadata)
    if kind is not None:
        return {"input": kind, **limits}
    if base is bool:
        return {"input": "boolean"}
    if base in (int, float):
        return {"input": "number", **limits}
    if base is datetime:
        return {"input": "datetime"}
    if base is date:
        return {"input": "date"}
    if base is str:  # a line, or a paragraph where it may be long
        return {"input": "long_text" if limits.get("max_length", 0) > 500 else "text", **limits}
    return {"input": None}  # a record the page does not type in (an actor)


# --- commands -------------------------------------------------------------------------------
_SOURCES: dict[str, Source] = {"type": "fixed", "actor": "server", "recorded_by": "server",
                               "command_id": "page"}


def _default(info: FieldInfo) -> Value:
    if info.is_required():
        return None
    value = info.get_default(call_default_factory=True)
    dumped: Value = TypeAdapter(Any).dump_python(value, mode="json")
    return dumped


def _form_field(spec: Spec[Any], name: str, info: FieldInfo) -> FormField:
    zh, en = command_words(spec.command, name)
    shape = _shape(info.annotation, list(info.metadata))
    source = _SOURCES.get(name)
    if source is not None:
        shape["input"] = None  # no one types it
    elif name == "proposal" and spec.on_proposal:
        source = "item"
    return FormField(name=name, label=zh, label_en=en, source=source or "user",
                     required=info.is_required(), default=_default(info), **shape)


def _field_order(command: type[c.Command]) -> list[str]:
    """The command's own fields first, then those every command has."""
    common = list(c.Command.model_fields)
    return ["type", *(n for n in command.model_fields if n not in common and n != "type"),
            *common]


@functools.cache
def command_forms() -> tuple[CommandForm, ...]:
    """Every command of the registry as a form describes it (for no one in particular)."""
    return tuple(CommandForm(
        type=spec.type, title=spec.title[0], title_en=spec.title[1], route=spec.route,
        service=spec.service, on_proposal=spec.on_proposal, clock=spec.clock,
        roles=dict(spec.roles), events=[ev.model_fields["type"].default for ev in spec.events],
        fields=[_form_field(spec, name, spec.command.model_fields[name])
                for name in _field_order(spec.command)])
        for spec in REGISTRY)


def form_for(form: CommandForm, actor: Actor) -> CommandForm:
    """The form as `actor` fills it in: a clerk's `bureau` is its own bureau, which the page
    fills in (the permission table lets it name no other)."""
    if reach(actor, form.type) != "own":
        return form
    fields = [field.model_copy(update={"source": "own_bureau", "default": actor.bureau})
              if field.name == "bureau" else field for field in form.fields]
    return form.model_copy(update={"fields": fields})


# --- events ---------------------------------------------------------------------------------
def _event_fields(model: type[BaseModel], names: Iterator[str]) -> list[EventField]:
    found = []
    for name in names:
        zh, en = event_words(model, name)
        base, _ = _split(model.model_fields[name].annotation, [])
        item = get_args(base)[0] if get_origin(base) is list else None
        nested = (_event_fields(item, iter(item.model_fields))
                  if isinstance(item, type) and issubclass(item, BaseModel) else [])
        literal = choices_of(base) if get_origin(base) is Literal else None
        found.append(EventField(name=name, label=zh, label_en=en, fields=nested,
                                choice_set=literal.name if literal else None))
    return found


@functools.cache
def envelope_words() -> tuple[EventField, ...]:
    """The fields every event carries (its envelope), named once."""
    return tuple(_event_fields(e.Event, iter(e.Event.model_fields)))


@functools.cache
def event_descriptions() -> tuple[EventWords, ...]:
    """Every event of the registry with its name and its own fields' names (the envelope's are
    `envelope_words`)."""
    return tuple(EventWords(
        type=cls.model_fields["type"].default, title=_own(cls).title[0],
        title_en=_own(cls).title[1], changes_state=cls.changes_state,
        fields=_event_fields(cls, (n for n in cls.model_fields if n not in e.ENVELOPE_FIELDS)))
        for cls in EVENT_CLASSES)


def _own(cls: type[e.Event]) -> Labels:
    """The event's own words (KeyError when it declares none: `Event`'s name is no event's)."""
    labels: Labels = cls.__dict__["labels"]
    return labels


# --- examples -------------------------------------------------------------------------------
def _candidates(field: FormField, proposal: str, bureau: str, day: date) -> list[Any]:
    """Values of the field's kind, the plainest first."""
    text = ["示例", "1", "example"]
    match field.input:
        case "select":
            return [choice.value for choice in field.choices]
        case "bureau":
            return [bureau]
        case "bureaus":
            return [[bureau]]
        case "proposal":
            return [proposal]
        case "date":
            return [day.isoformat()]
        case "datetime":
            return [f"{day.isoformat()}T09:00:00+08:00"]
        case "area":
            return ["economy"]
        case "boolean":
            return [False]
        case "number":
            return [n for n in (2020, field.minimum, field.maximum, 1, 0) if n is not None]
        case "texts":
            return [[{field.item_field: t} if field.item_field else t] for t in text]
    return text


def example(command: type[c.Command], *, proposal: str = "example-proposal",
            bureau: str = "example-bureau", day: date = date(2020, 12, 31),
            **given: Any) -> dict[str, Any]:
    """A valid body of `command` (without `type`, `command_id`, `actor` and `at`): each
    required field with the plainest value its kind takes (the first choice, `bureau` for a
    bureau, `[bureau]` for several, `proposal` for a proposal, `day` for a date ...), then
    `given`; the optional fields too when the required ones are not enough (a reassignment must
    change something). Valid for the command's schema, not necessarily for the rules: the
    decider may still refuse it. ValueError when no valid body comes of it."""
    form = next(f for f in command_forms() if f.type == BY_CLASS[command].type)
    typed = [f for f in form.fields  # what a person types, its business time aside
             if f.input is not None and f.name != "at" and f.name not in given]
    infos = command.model_fields
    chosen: dict[str, Any] = {}
    for field in typed:
        adapter = TypeAdapter(infos[field.name].rebuild_annotation())
        for value in _candidates(field, proposal, bureau, day):
            try:
                adapter.validate_python(value)
            except ValidationError:
                continue
            chosen[field.name] = value
            break
    for names in ({f.name for f in typed if f.required}, {f.name for f in typed}):
        body = {**{k: v for k, v in chosen.items() if k in names}, **given}
        try:
            COMMAND_ADAPTER.validate_python({**body, "type": form.type, "command_id": "example"})
        except ValidationError as exc:
            problem = exc
            continue
        return body
    raise ValueError(f"no valid example of {form.type}: {problem}")

