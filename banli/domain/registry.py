"""The command registry: the only list of commands and events. Each command type is declared once,
by its Spec beside its decider (banli.domain.deciders: its class, the roles that may send it,
the events it may produce, the clock its business time follows, its HTTP route); this module
gathers them and derives the rest: the command union and its validator, the event union, its
validator and the current version of each event (what the logs decode), the dispatch of
`decide`. The permission table's command rows (banli.domain.permissions), the workflow routes
(banli.web.commands), the page's forms and the history's words (banli.domain.vocabulary), the
demo's commands (banli.demo.generate) and the tests' lists are derived from here too.

Adding a command touches four files: its class (commands.py), its events (events.py), its
decider with its Spec (deciders.py), and `evolve`'s case for each event (proposal.py), unless
the event declares that it changes nothing (`Event.changes_state`). README's checklist says the
same, and tests/integration/test_adding_a_command.py holds both to what a toy command needs.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from . import commands as c
from . import events as e
from .deciders import SPECS
from .spec import Spec


def _gathered(specs: list[Spec[Any]]) -> tuple[Spec[Any], ...]:
    """The Specs, each command type once."""
    seen: dict[str, Spec[Any]] = {}
    for spec in specs:
        if spec.type in seen:
            raise ValueError(f"two Specs decide {spec.type}")
        seen[spec.type] = spec
    return tuple(seen.values())


REGISTRY: tuple[Spec[Any], ...] = _gathered(SPECS.entries)
BY_CLASS: dict[type[c.Command], Spec[Any]] = {spec.command: spec for spec in REGISTRY}
BY_TYPE: dict[str, Spec[Any]] = {spec.type: spec for spec in REGISTRY}
COMMAND_TYPES: tuple[str, ...] = tuple(BY_TYPE)


def spec_of(command: c.Command) -> Spec[Any]:
    return BY_CLASS[type(command)]


# The command vocabulary as one validated union, discriminated by `type`. (For the type checker
# it is the common base: the union is made from the registry at run time.)
if TYPE_CHECKING:
    AnyCommand = c.Command
else:
    AnyCommand = Annotated[Union[tuple(BY_CLASS)], Field(discriminator="type")]
COMMAND_ADAPTER: TypeAdapter[c.Command] = TypeAdapter(AnyCommand)


def parse_command(data: dict[str, Any] | str | bytes) -> c.Command:
    """Validate a command from a dict or JSON text; raises pydantic.ValidationError."""
    if isinstance(data, (str, bytes)):
        return COMMAND_ADAPTER.validate_json(data)
    return COMMAND_ADAPTER.validate_python(data)


# --- events -----------------------------------------------------------------------------------
# Every event some command may produce, in the registry's order: the events the logs hold.
EVENT_CLASSES: tuple[type[e.Event], ...] = tuple(dict.fromkeys(
    event for spec in REGISTRY for event in spec.events))
EVENT_TYPES: dict[str, type[e.Event]] = {cls.model_fields["type"].default: cls
                                         for cls in EVENT_CLASSES}
if TYPE_CHECKING:
    AnyEvent = e.Event
else:
    AnyEvent = Annotated[Union[EVENT_CLASSES], Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[e.Event] = TypeAdapter(AnyEvent)
CURRENT_VERSION: dict[str, int] = {
    name: cls.model_fields["schema_version"].default for name, cls in EVENT_TYPES.items()}


def load_event(data: dict[str, Any] | str | bytes) -> e.Event:
    """Read a stored event (dict or JSON) of any known version as the current model."""
    if not isinstance(data, dict):
        if (event := _load_current(data)) is not None:
            return event
        return EVENT_ADAPTER.validate_python(e.upcast(json.loads(data)))
    return EVENT_ADAPTER.validate_python(e.upcast(data))


def _load_current(text: str | bytes) -> e.Event | None:
    """The event in `text` parsed and validated in one pass by pydantic-core (replay reads every
    event of the log, and this is twice as fast as json.loads + validate_python), when it needs
    no upcasting; else None, and the caller takes the long way (which also reports the errors
    of JSON that does not validate). The version is the one `upcast` would see: the stored
    `schema_version`, or 1 when the JSON has none (the model's default may be later)."""
    try:
        event: e.Event = EVENT_ADAPTER.validator.validate_json(text)
    except ValidationError:
        return None
    version = event.schema_version if "schema_version" in event.__pydantic_fields_set__ else 1
    return None if (event.type, version) in e.UPCASTERS else event
