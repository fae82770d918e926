"""Turning HTTP requests into commands and outcomes into responses, for every service.

The signed-in user is the command's actor (an `actor` in the body is ignored); `command_id`
is the caller's idempotency key when given, else a new one; a command without `at` happens when
it is decided (under its stream's lock: concurrent commands never refuse each other)."""
from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ..domain import commands as c
from ..domain.types import Actor
from ..eventlog import Outcome
from ..domain.permissions import allowed, reach
from ..domain.views.lists import LISTS
from ..domain.views.rates import MEASURE_WORDS, RATES
from ..domain.decide import earliest_date
from ..domain.registry import REGISTRY, AnyCommand, parse_command
from ..domain.spec import Spec
from ..domain.views.vocabulary import (ChoiceSet, CommandForm, EventField, EventWords, choice_sets,
                                 command_forms, envelope_words, event_descriptions, form_for)
from .deps import AppPorts, Bus, CurrentActor, ProposalPath, permit, today
from .schemas import COMMAND_RESPONSES, READ, Accepted, Refused, action, errors


def stamp(body: dict[str, Any], actor: Actor) -> c.Command:
    """Validate a command body on behalf of the signed-in actor (422 when malformed): the actor
    is the signed-in user, who entered it themselves (a body's `actor` and `recorded_by` are
    not taken)."""
    data = {**body, "actor": actor.model_dump(), "recorded_by": None}
    data["command_id"] = data.get("command_id") or f"http-{uuid.uuid4()}"
    try:
        return parse_command(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


def event_json(stored) -> dict[str, Any]:
    return {"position": stored.position, **stored.event.model_dump(mode="json")}


def respond(outcome: Outcome | None, command_id: str | None = None) -> JSONResponse:
    """201 with the events, 409 with the rejection, 202 while the decision is pending."""
    if outcome is None:
        return JSONResponse(status_code=202, content={
            "command_id": command_id, "status": "pending",
            "poll": f"/api/commands/{command_id}"})
    return JSONResponse(status_code=201 if outcome.rejection is None else 409,
                        content=outcome_body(outcome))


def outcome_body(outcome: Outcome) -> dict[str, Any]:
    if outcome.rejection is not None:
        return {"command_id": outcome.command_id, "accepted": False,
                "replayed": outcome.replayed, **outcome.rejection.model_dump(mode="json")}
    return {"command_id": outcome.command_id, "accepted": True, "replayed": outcome.replayed,
            "events": [event_json(s) for s in outcome.events]}


def body_model(command: type[c.Command], drop: tuple[str, ...] = ("type", "proposal", "actor")
               ) -> type[BaseModel]:
    """A request body for a resource route: the command's fields less those the route fills
    (and `recorded_by`, which only an import sets)."""
    fields: dict[str, Any] = {name: (f.annotation, f) for name, f in command.model_fields.items()
                              if name not in (*drop, "recorded_by")}
    return create_model(f"{command.__name__}Body", __config__=ConfigDict(extra="forbid"),
                        **fields)


def command_routes(*services: str, any_command: bool = False) -> APIRouter:
    """A router with one POST route for each command the registry routes to `services`
    (banli.domain.registry): its body is the command's fields less those the route fills in
    (the type, the actor, and the proposal named in the path); with `any_command`, also
    `POST /api/commands`, which takes any command of the vocabulary."""
    router = APIRouter(prefix="/api", tags=list(services))
    for spec in REGISTRY:
        if spec.route is not None and spec.service in services:
            _command_route(router, spec)
    if any_command:
        router.add_api_route("/commands", post_command, methods=["POST"], status_code=201,
                             response_model=Accepted, responses=COMMAND_RESPONSES,
                             openapi_extra=action("command"), tags=["commands"],
                             summary="Any command of the vocabulary (DOMAIN.md)")
    return router


def _command_route(router: APIRouter, spec: Spec[Any]) -> None:
    in_path = "{proposal_id}" in (spec.route or "")
    Body = body_model(spec.command, drop=("type", "actor", "proposal") if in_path
                      else ("type", "actor"))
    fixed = {"type": spec.type}

    # `body` is annotated below with the model made above: FastAPI reads __annotations__
    async def post_in_path(proposal_id: ProposalPath, body: Any, actor: CurrentActor, bus: Bus):
        cmd = stamp({**body.model_dump(exclude_unset=True, mode="json"), **fixed,
                     "proposal": proposal_id}, actor)
        return respond(await bus.send(cmd), cmd.command_id)

    async def post(body: Any, actor: CurrentActor, bus: Bus):
        cmd = stamp({**body.model_dump(exclude_unset=True, mode="json"), **fixed}, actor)
        return respond(await bus.send(cmd), cmd.command_id)

    endpoint = post_in_path if in_path else post
    endpoint.__name__ = f"post_{spec.type}"
    endpoint.__annotations__["body"] = Body  # a local: the PEP 563 string "Body" cannot resolve
    router.add_api_route(spec.route or "", endpoint, methods=["POST"], status_code=201,
                         response_model=Accepted, responses=COMMAND_RESPONSES,
                         summary=f"{spec.title[1]} ({spec.title[0]}): the `{spec.type}` command",
                         openapi_extra=action(spec.type))


def not_found(proposal_id: str) -> HTTPException:
    return HTTPException(404, detail={"code": "unknown_proposal",
                                      "message": f"建议提案 {proposal_id} 不存在",
                                      "message_en": f"unknown proposal {proposal_id}"})


async def post_command(command: AnyCommand, actor: CurrentActor, bus: Bus):
    """Any command of the vocabulary, its type in the body (the page sends its commands here)."""
    cmd = stamp(command.model_dump(exclude_unset=True, mode="json"), actor)
    return respond(await bus.send(cmd), cmd.command_id)


poll_router = APIRouter(prefix="/api", tags=["commands"], responses=READ)


class CommandEntry(CommandForm):
    may_send: bool = Field(description="whether the permission table lets you send it (for "
                                       "your own bureau only, where `bureau` is `own_bureau`)")


class RateEntry(BaseModel):
    name: str
    numerator: str
    denominator: str
    zh: str
    en: str


class MeasureEntry(BaseModel):
    """A number of the report (or a rate) by its name, with its words: a drill-down's title."""

    name: str
    label: str
    label_en: str


class ListColumnEntry(BaseModel):
    """A column of a list: the rows' key, its header, how its value is shown
    (banli.domain.views.lists) and, for a choice, which choice's words."""

    key: str
    label: str
    label_en: str
    kind: str
    choice: str | None


class ListEntry(BaseModel):
    name: str
    columns: list[ListColumnEntry]


class Vocabulary(BaseModel):
    """The words and forms of the command registry, for the signed-in user (README: "The
    vocabulary")."""

    today: date = Field(description="the server's business date (Asia/Shanghai): forms date "
                                    "their records today unless told otherwise")
    earliest: date | None = Field(description="the earliest business date you may give a "
                                              "record (a clerk: today less the server's "
                                              "clerk_backdate_days); null: no limit")
    commands: list[CommandEntry]
    events: list[EventWords]
    envelope: list[EventField] = Field(description="the fields every event carries")
    choices: list[ChoiceSet]
    rates: list[RateEntry]
    measures: list[MeasureEntry] = Field(description="every number of the report and rate, "
                                                     "with its words")
    lists: list[ListEntry] = Field(description="the lists' columns in order, with their "
                                               "headers: the page's tables and the lists' "
                                               "spreadsheets have these")


@poll_router.get("/vocabulary", summary="The command registry as forms and words: each command "
                                         "with its fields, labels, choices, limits and whether "
                                         "you may send it; each event with its words; the "
                                         "report's rates",
                 response_model=Vocabulary, openapi_extra=action("read:directory"))
async def command_vocabulary(actor: CurrentActor, ports: AppPorts) -> Vocabulary:
    """What the page offers a user: each command's form as this actor fills it in, with
    `may_send`; the dates it may give; each event and choice with its words; each rate with its
    names and the measures it divides (the page labels its cards with them)."""
    permit(actor, "read:directory")
    now = today(ports.clock)
    return Vocabulary(
        today=now, earliest=earliest_date(actor, now, ports.clerk_backdate_days),
        commands=[CommandEntry(**form_for(form, actor).model_dump(),
                               may_send=reach(actor, form.type) is not None)
                  for form in command_forms()],
        events=list(event_descriptions()), envelope=list(envelope_words()),
        choices=choice_sets(), rates=[RateEntry(**asdict(rate)) for rate in RATES],
        measures=[MeasureEntry(name=name, label=zh, label_en=en)
                  for name, (zh, en) in MEASURE_WORDS.items()],
        lists=[ListEntry(name=name, columns=[ListColumnEntry(
            key=c.key, label=c.zh, label_en=c.en, kind=c.kind, choice=c.choice) for c in columns])
            for name, columns in LISTS.items()])


@poll_router.get("/commands/{command_id}", summary="A command's outcome (after a 202)",
                 response_model=Accepted | Refused, openapi_extra=action("read:command"),
                 responses=errors(404, 503, e404="not decided yet, unknown, or not yours to "
                                                 "see (`pending`)"))
async def command_outcome(command_id: str, actor: CurrentActor, bus: Bus,
                          sender: Annotated[str | None, Query(
                              max_length=600, description="whose command it is, as "
                              "`role:user@bureau` (default: yours); another's only for a role "
                              "that reads every sender's commands (admin)")] = None):
    """The outcome of a command you sent, as the command's own answer would have given it, with
    200. Command ids are scoped to their sender: this is your command under that id (an admin
    names another sender with `sender`). A command not decided yet, unknown, or not yours to
    see is 404 alike: the answer reveals nothing of others' commands."""
    whose = sender if sender is not None else c.actor_key(actor)
    outcome = (await bus.outcome(whose, command_id)
               if allowed(actor, "read:command", sender=whose) else None)
    if outcome is None:
        raise HTTPException(404, detail={"code": "pending", "message": "尚未处理或不存在",
                                         "message_en": "not decided yet, or unknown"})
    return JSONResponse(status_code=200, content=outcome_body(outcome))
