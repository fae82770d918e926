"""reporting's own ports and their dependencies: the projections' store, the live feed, the
replayer, the proposals' states and the routing suggestions.

A process that mounts reporting's routers (the reporting service, the embedded system, intake
for routing suggestions) builds `ReportingPorts`; routes receive each adapter through an alias
here, and a port the process lacks answers 503 `not_served`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Awaitable, Callable

from fastapi import Depends, HTTPException

from banli.domain.timing.deadlines import DEFAULT_PROFILE, Profile
from banli.domain.permissions import Parties, knows
from banli.domain.proposal import Proposal, State, fold
from banli.domain.types import Actor
from banli.eventlog import Stored
from banli.settings import Settings
from banli.sheets.records import Records
from banli.web.commands import not_found
from banli.web.deps import AppPorts, CurrentActor, Ports, not_served

from .answer_cache import AnswerCache
from .live import LiveFeed
from ..projections.replay import Replayer
from ..projections.store import ReportingStore
from ..projections.suggestions import Suggester

if TYPE_CHECKING:
    from .previews import PreviewBook


@dataclass(frozen=True)
class DocumentOptions:
    """What year-end documents print besides their numbers: the page's address their figures
    link to (None: the request's), and the office issuing a document of all bureaus (zh, en;
    None: banli.documents.DEFAULT_OFFICE)."""

    public_url: str | None = None
    office: tuple[str, str] | None = None

    @classmethod
    def of(cls, settings: Settings) -> "DocumentOptions":
        from banli.documents import office_named

        return cls(public_url=settings.public_url,
                   office=office_named(settings.office_name, settings.office_name_en))


@dataclass
class ReportingPorts(Ports):
    """`profile` is the deadline profile the process decides by (BANLI_PROFILE): what a
    bureau's work asks depends on it (review: drafts, sign-offs, approvals), and whether
    co-handlers sign drafts off (then they read them). `dashboards` keeps the dashboard's
    answers by the projections' position (answer_cache.py); None: computed for each request."""

    reporting: ReportingStore | None = None
    live: LiveFeed | None = None
    replayer: Replayer | None = None
    states: Callable[[str], Awaitable[State]] | None = None
    # a proposal's events with their positions, in seq order, read from the log where the
    # process has it (embedded: the SQLite store, through its (stream, seq) index), else from
    # the projected history (reporting over Kafka: where its states are folded from). It
    # blocks: call it in a worker thread (`readable` is called there).
    stream: Callable[[str], list[Stored]] | None = None
    routing: Suggester | None = None
    records: Records | None = None       # what spreadsheet previews read
    previews: PreviewBook | None = None  # the previews this process keeps
    documents: DocumentOptions = field(default_factory=DocumentOptions)
    profile: Profile = DEFAULT_PROFILE
    dashboards: AnswerCache | None = None


async def _ports(ports: AppPorts) -> ReportingPorts:
    if not isinstance(ports, ReportingPorts):
        raise not_served("统计查询", "reporting")
    return ports


Served = Annotated[ReportingPorts, Depends(_ports)]


async def _reporting(ports: Served, actor: CurrentActor) -> ReportingStore:
    """The store, once the projections have what the log had (after the token is checked)."""
    if ports.reporting is None:
        raise not_served("统计查询", "reporting")
    await ports.settle()
    return ports.reporting


async def _live(ports: Served) -> LiveFeed:
    if ports.live is None:
        raise not_served("实时动态", "the live feed")
    return ports.live


async def _replayer(ports: Served) -> Replayer:
    if ports.replayer is None:
        raise not_served("投影重建", "replays")
    return ports.replayer


async def _states(ports: Served) -> Callable[[str], Awaitable[State]]:
    if ports.states is None:
        raise not_served("建议提案状态", "proposal states")
    return ports.states


async def _stream(ports: Served) -> Callable[[str], list[Stored]]:
    if ports.stream is None:
        raise not_served("建议提案状态", "proposal states")
    return ports.stream


async def _routing(ports: Served, actor: CurrentActor) -> Suggester:
    if ports.routing is None:
        raise HTTPException(503, detail={
            "code": "routing_unavailable",
            "message": "本服务无法读取历史投影，请向 reporting 服务（默认 8003 端口）请求交办参考",
            "message_en": "this service cannot read the projections: ask the reporting service "
                          "(port 8003 by default) for routing suggestions"})
    await ports.settle()
    return ports.routing


async def _cosigned(ports: Served) -> bool:
    """Whether co-handlers sign the lead's draft off here (the profile's review has `cosign`):
    then they read it (banli.domain.permissions.Parties)."""
    return "cosign" in ports.profile.review


def readable(actor: Actor, stream: Callable[[str], list[Stored]], proposal_id: str,
             cosign: bool, action: str = "read:proposal"
             ) -> tuple[list[Stored], Proposal, Parties]:
    """A proposal's events (`stream`: the port `ReportingPorts.stream`), its state folded from
    them once and its parties, where `actor` may know of it under `action`
    (banli.domain.permissions.knows: a clerk's bureau has had a duty on it, a filer filed it);
    else the 404 of an id never used, whatever it is. It blocks: call it in a worker thread."""
    events = stream(proposal_id)
    state = fold(s.event for s in events) if events else None
    if not isinstance(state, Proposal) or not knows(actor, action, state):
        raise not_found(proposal_id)
    return events, state, Parties.of(state, cosign)


async def _dashboards(ports: Served) -> AnswerCache | None:
    return ports.dashboards


async def _documents(ports: Served) -> DocumentOptions:
    return ports.documents


async def _profile(ports: Served) -> Profile:
    return ports.profile


Reporting = Annotated[ReportingStore, Depends(_reporting)]
ServerProfile = Annotated[Profile, Depends(_profile)]
Cosigned = Annotated[bool, Depends(_cosigned)]
Documents = Annotated[DocumentOptions, Depends(_documents)]
Live = Annotated[LiveFeed, Depends(_live)]
Replay = Annotated[Replayer, Depends(_replayer)]
States = Annotated[Callable[[str], Awaitable[State]], Depends(_states)]
Stream = Annotated[Callable[[str], list[Stored]], Depends(_stream)]
Routing = Annotated[Suggester, Depends(_routing)]
Dashboards = Annotated[AnswerCache | None, Depends(_dashboards)]
