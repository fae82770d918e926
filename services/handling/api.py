"""handling's HTTP API: the bureaus' workflow commands, a proposal's state, a command's fate."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from banli.domain import commands as c
from banli.domain.proposal import Proposal
from banli.web.commands import body_model, not_found, respond, stamp
from banli.web.deps import Bus, Clock, CurrentActor, forbid
from services.intake.api import RESPONSES

router = APIRouter(prefix="/api", tags=["handling"])

# path segment -> the command it posts
WORKFLOW: dict[str, type[c.Command]] = {
    "reply": c.Reply, "opinion": c.SubmitOpinion, "disclosure": c.DecideDisclosure,
    "feedback": c.RecordFeedback, "contacts": c.LogContact, "acknowledge": c.Acknowledge,
    "return": c.Return, "reopen": c.Reopen, "revise-result": c.ReviseResult,
    "extend-deadline": c.ExtendDeadline, "supervise": c.Supervise,
}


def _workflow_route(segment: str, command: type[c.Command]) -> None:
    Body = body_model(command)
    command_type = command.model_fields["type"].default

    async def post(proposal_id: str, body: Body, actor: CurrentActor, bus: Bus,  # type: ignore[valid-type]
                   clock: Clock):
        cmd = stamp({**body.model_dump(exclude_unset=True, mode="json"), "type": command_type,
                     "proposal": proposal_id}, actor, clock)
        return respond(await bus.send(cmd), cmd.command_id)

    post.__name__ = f"post_{command_type}"
    router.add_api_route(f"/proposals/{{proposal_id}}/{segment}", post, methods=["POST"],
                         status_code=201, responses=RESPONSES,
                         summary=f"{segment}: the `{command_type}` command")


for _segment, _command in WORKFLOW.items():
    _workflow_route(_segment, _command)


@router.get("/proposals/{proposal_id}", summary="A proposal's current state")
async def proposal_state(proposal_id: str, request: Request, actor: CurrentActor) -> dict[str, Any]:
    state = await request.app.state.states(proposal_id)
    if not isinstance(state, Proposal):
        raise not_found(proposal_id)
    data = state.model_dump(mode="json")
    if actor.role == "clerk":
        if actor.bureau not in state.assignments:
            raise forbid(f"{actor.bureau} 未承办 {proposal_id}",
                         f"{actor.bureau} has no assignment on {proposal_id}")
        data["assignments"] = {actor.bureau: data["assignments"][actor.bureau]}
    return data


@router.get("/commands/{command_id}", summary="A command's outcome (after a 202)",
            responses={404: {"description": "not decided (yet)"}, **RESPONSES})
async def command_outcome(command_id: str, actor: CurrentActor, bus: Bus):
    outcome = await bus.outcome(command_id)
    if outcome is None:
        raise HTTPException(404, detail={"code": "pending", "message": "尚未处理或不存在",
                                         "message_en": "not decided yet, or unknown"})
    if actor.role == "clerk" and outcome.events and any(
            s.event.actor.bureau != actor.bureau for s in outcome.events):
        raise forbid("不能查看其他单位的命令", "a clerk sees its own bureau's commands only")
    return respond(outcome)
