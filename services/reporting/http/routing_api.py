"""The routing suggestions' routes (交办参考, services/reporting/projections/suggestions.py): for a new
proposal, or a submitted one about to be assigned. A process without the projections (the
distributed intake over a chDB only the reporting service may open) mounts them with no
suggester and answers 503, naming the service that has them."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from banli.domain.types import Kind, ShortText, Text
from banli.routing import Query as RoutingQuery
from banli.web.commands import not_found
from banli.web.deps import CurrentActor, ProposalPath, permit
from banli.web.schemas import READ, action, errors

from . import schemas as out
from .deps import Routing

router = APIRouter(prefix="/api", tags=["routing"],
                   responses={**READ, **errors(503, e503="this process cannot read the "
                                                         "projections (`routing_unavailable`)")})


class RoutingRequest(BaseModel):
    """What a proposal is about: the fields of its `submit` (at least a title, a summary or a
    topic)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(max_length=500)] = ""
    summary: Text = ""
    topics: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50)
    kind: Kind | None = None
    affiliation: ShortText = ""
    limit: int = Field(5, ge=1, le=20, description="how many proposals and bureaus to show")


@router.post("/routing/suggest",
             summary="Routing suggestions for a new proposal: similar past proposals, "
                     "suggested lead and co-handlers with scores",
             response_model=out.Suggestions, openapi_extra=action("read:routing"),
             responses=errors(413))
async def suggest(body: RoutingRequest, actor: CurrentActor,
                  suggester: Routing) -> dict[str, Any]:
    permit(actor, "read:routing")
    query = RoutingQuery(title=body.title, summary=body.summary, topics=tuple(body.topics),
                         kind=body.kind, affiliation=body.affiliation)
    if query.empty:
        raise HTTPException(422, detail={"code": "nothing_to_route",
                                         "message": "请至少提供标题、摘要或类别",
                                         "message_en": "give a title, a summary or topics"})
    return await run_in_threadpool(suggester.suggest, query, body.limit)


@router.get("/proposals/{proposal_id}/suggestions",
            summary="Routing suggestions for a submitted proposal (itself left out)",
            response_model=out.ProposalSuggestions, openapi_extra=action("read:routing"),
            responses=errors(404, e404="no such proposal (`unknown_proposal`)"))
async def suggestions_for(proposal_id: ProposalPath, actor: CurrentActor, suggester: Routing,
                          limit: Annotated[int, Query(ge=1, le=20)] = 5) -> dict[str, Any]:
    permit(actor, "read:routing")
    past = await run_in_threadpool(suggester.past, proposal_id)
    if past is None:
        raise not_found(proposal_id)
    answer = await run_in_threadpool(suggester.suggest, RoutingQuery.of(past), limit,
                                     proposal_id)
    return {"proposal_id": proposal_id, "leads": list(past.leads), "cos": list(past.cos),
            **answer}
