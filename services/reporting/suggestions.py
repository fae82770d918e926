"""Routing suggestions (交办参考): for a new proposal, or a submitted one about to be assigned,
the most similar past proposals and suggested lead and co-handling bureaus, learnt from who
handled the similar ones (`banli.routing`). For coordinators (who assign), overseers and
admins. Reporting owns them: they read its projections.

The index is built from the projections (every proposal's text and current handlers) and
rebuilt when they have moved on. A process without the projections (the distributed intake over
a chDB that only the reporting service may open) mounts these routes with no suggester and
answers 503, naming the service that has them."""
from __future__ import annotations

import threading
from typing import Annotated, Any, Callable

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from banli.domain.types import Actor, Kind, ShortText, Text
from banli.routing import PastProposal, Query as RoutingQuery, RoutingIndex, Suggestion
from banli.web.commands import not_found
from banli.web.deps import CurrentActor, ProposalPath, permit

from .lineage import routing_history

router = APIRouter(prefix="/api", tags=["routing"])



class Suggester:
    """The routing index over a reporting store, rebuilt when the projections have moved on
    (their checkpoint, the highest projected log position). The store is opened on first use,
    so a process can start before ClickHouse does."""

    def __init__(self, open_store: Callable[[], Any]):
        self._open_store = open_store
        self._store: Any = None
        self._lock = threading.Lock()
        self._index = RoutingIndex.build([])
        self._position: int | None = None

    @property
    def store(self) -> Any:
        if self._store is None:
            self._store = self._open_store()
        return self._store

    def index(self) -> RoutingIndex:
        with self._lock:
            position = self.store.checkpoint()
            if position != self._position:
                self._index = RoutingIndex.build(routing_history(self.store))
                self._position = position
            return self._index

    def past(self, proposal_id: str) -> PastProposal | None:
        found = routing_history(self.store, proposal_id)
        return found[0] if found else None

    def suggest(self, query: RoutingQuery, limit: int, exclude: str | None = None
                ) -> dict[str, Any]:
        suggestion: Suggestion = self.index().suggest(query, top=limit, shown=limit,
                                                      exclude=exclude)
        return suggestion.as_dict(self.store.bureau_names())


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


def _may_route(actor: Actor) -> None:
    permit(actor, "read:routing")


def _suggester(request: Request) -> Suggester:
    suggester = getattr(request.app.state, "routing", None)
    if suggester is None:
        raise HTTPException(503, detail={
            "code": "routing_unavailable",
            "message": "本服务无法读取历史投影，请向 reporting 服务（默认 8003 端口）请求交办参考",
            "message_en": "this service cannot read the projections: ask the reporting service "
                          "(port 8003 by default) for routing suggestions"})
    return suggester


async def _settle(request: Request) -> None:
    settle = getattr(request.app.state, "settle", None)
    if settle is not None:
        await settle()


@router.post("/routing/suggest",
             summary="Routing suggestions for a new proposal: similar past proposals, "
                     "suggested lead and co-handlers with scores")
async def suggest(body: RoutingRequest, request: Request, actor: CurrentActor) -> dict[str, Any]:
    _may_route(actor)
    query = RoutingQuery(title=body.title, summary=body.summary, topics=tuple(body.topics),
                         kind=body.kind, affiliation=body.affiliation)
    if query.empty:
        raise HTTPException(422, detail={"code": "nothing_to_route",
                                         "message": "请至少提供标题、摘要或类别",
                                         "message_en": "give a title, a summary or topics"})
    suggester = _suggester(request)
    await _settle(request)
    return await run_in_threadpool(suggester.suggest, query, body.limit)


@router.get("/proposals/{proposal_id}/suggestions",
            summary="Routing suggestions for a submitted proposal (itself left out)")
async def suggestions_for(proposal_id: ProposalPath, request: Request, actor: CurrentActor,
                          limit: Annotated[int, Query(ge=1, le=20)] = 5) -> dict[str, Any]:
    _may_route(actor)
    suggester = _suggester(request)
    await _settle(request)
    past = await run_in_threadpool(suggester.past, proposal_id)
    if past is None:
        raise not_found(proposal_id)
    answer = await run_in_threadpool(suggester.suggest, RoutingQuery.of(past), limit,
                                     proposal_id)
    return {"proposal_id": proposal_id, "leads": list(past.leads), "cos": list(past.cos),
            **answer}
