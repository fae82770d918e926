"""intake's composition root: the HTTP API over the Kafka command bus."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from banli.auth import authority
from apps.blobs import blob_store
from banli.blobs.letters import Letters
from banli.eventlog.kafka import ensure_topics
from banli.eventlog.kafka_bus import KafkaBus
from banli.clock import system_clock
from banli.settings import Settings
from banli.web.app import build_app
from banli.web.commands import poll_router
from banli.web.letters import LetterCheckingBus
from banli.web.serve import Server, run_in_foreground

from services.intake.api import router
from services.reporting.http.deps import ReportingPorts
from services.reporting.http.routing_api import router as routing_router
from services.reporting.projections.suggestions import Suggester


def create_app(settings: Settings) -> FastAPI:
    ensure_topics(settings.kafka_bootstrap, settings.topic_partitions, settings.topics)
    bus = KafkaBus(settings.kafka_bootstrap, settings.reply_timeout_s, settings.topics)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            yield
        finally:
            bus.close()

    # intake takes any command (/api/commands, imports): a reply naming a letter is checked
    # against the letters' store the services share (uploads go to handling or reporting)
    letters = Letters(blob_store(settings), settings.max_letter_bytes)
    return build_app("Banli intake", [router, routing_router, poll_router],
                     ReportingPorts(authority=authority(settings), clock=system_clock,
                                    bus=LetterCheckingBus(bus, letters), letters=letters,
                                    routing=suggester(settings), bureaus=bureaus(settings),
                                    clerk_backdate_days=settings.clerk_backdate_days),
                     settings, lifespan)


def suggester(settings: Settings) -> Suggester | None:
    """Routing suggestions read the projections: a ClickHouse server can be shared with the
    reporting service; chDB cannot (one engine per process), and then reporting serves them."""
    if not settings.dsn.startswith(("http://", "https://")):
        return None
    from services.reporting.projections.store import ReportingStore

    return Suggester(lambda: ReportingStore(settings.dsn, settings.clickhouse_database))


def bureaus(settings: Settings):
    """The registered bureaus' names, which imports resolve, read from the projections where
    intake can reach them (a ClickHouse server shared with reporting); else imports resolve the
    names their own lines register only, and name other bureaus by id."""
    if not settings.dsn.startswith(("http://", "https://")):
        return None
    from starlette.concurrency import run_in_threadpool

    from services.reporting.projections.store import ReportingStore

    store = ReportingStore(settings.dsn, settings.clickhouse_database)
    return lambda: run_in_threadpool(store.bureau_records)


def run(settings: Settings) -> int:
    app = create_app(settings)
    print(f"banli intake listening on http://{settings.host}:{settings.port}", flush=True)
    return run_in_foreground(Server(app, settings.host, settings.port, settings.access_log))
