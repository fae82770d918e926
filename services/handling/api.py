"""handling's HTTP API: the bureaus' workflow commands, a proposal's state, a command's fate."""
from __future__ import annotations

from fastapi import APIRouter

from banli.domain import commands as c
from banli.web.commands import RESPONSES, body_model, respond, stamp
from banli.web.deps import Bus, CurrentActor, ProposalPath

router = APIRouter(prefix="/api", tags=["handling"])

# path segment -> the command it posts
WORKFLOW: dict[str, type[c.Command]] = {
    "reply": c.Reply, "opinion": c.SubmitOpinion, "disclosure": c.DecideDisclosure,
    "feedback": c.RecordFeedback, "contacts": c.LogContact, "acknowledge": c.Acknowledge,
    "return": c.Return, "reopen": c.Reopen, "revise-result": c.ReviseResult,
    "extend-deadline": c.ExtendDeadline, "supervise": c.Supervise,
    # review before a reply goes out: draft, co-handlers' sign-off (会签), the coordinator's
    # regrade, the leader's approval (签发) that issues it
    "reply/draft": c.DraftReply, "reply/sign-off": c.SignOffReply,
    "reply/regrade": c.RegradeReply, "reply/approve": c.ApproveReply,
}


def _workflow_route(segment: str, command: type[c.Command]) -> None:
    Body = body_model(command)
    command_type = command.model_fields["type"].default

    async def post(proposal_id: ProposalPath, body: Body, actor: CurrentActor, bus: Bus):  # type: ignore[valid-type]
        cmd = stamp({**body.model_dump(exclude_unset=True, mode="json"), "type": command_type,
                     "proposal": proposal_id}, actor)
        return respond(await bus.send(cmd), cmd.command_id)

    post.__name__ = f"post_{command_type}"
    post.__annotations__["body"] = Body  # a local: the PEP 563 string "Body" cannot resolve
    router.add_api_route(f"/proposals/{{proposal_id}}/{segment}", post, methods=["POST"],
                         status_code=201, responses=RESPONSES,
                         summary=f"{segment}: the `{command_type}` command")


for _segment, _command in WORKFLOW.items():
    _workflow_route(_segment, _command)
