"""Routing suggestions (交办参考): for a new proposal, or a submitted one about to be assigned,
the most similar past proposals and suggested lead and co-handling bureaus, learnt from who
handled the similar ones (`banli.routing`). For coordinators (who assign), overseers and
admins. Reporting owns them: they read its projections.

The index is built from the projections (every proposal's text and current handlers) and
rebuilt when they have moved on. Their routes are in routing_api."""
from __future__ import annotations

import threading
from typing import Any, Callable

from banli.routing import PastProposal, Query as RoutingQuery, RoutingIndex, Suggestion

from .lineage import routing_history


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
