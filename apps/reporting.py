"""reporting's composition root: the faust worker and the reporting API in one process (chDB
allows one engine per process; with a ClickHouse server they could run apart)."""
from __future__ import annotations

import threading

import faust
from starlette.concurrency import run_in_threadpool

from banli.auth import authority
from banli.domain.deadlines import get_profile
from banli.domain.proposal import fold
from banli.eventlog.kafka import ensure_topics
from banli.settings import Settings
from banli.web.app import build_app
from banli.web.serve import ThreadedServer
from banli.workcalendar import CalendarBook
from services.reporting.deps import ReportingPorts
from services.reporting.routing_api import router as routing_router
from services.reporting.sheets_api import PreviewBook, ProjectedRecords, router as sheets_router
from services.reporting.suggestions import Suggester
from banli.clock import system_clock

from services.reporting.api import router
from services.reporting.deadlines_api import router as deadlines_router
from services.reporting.documents_api import router as documents_router
from services.reporting.live import LiveFeed
from services.reporting.page import router as page_router
from services.reporting.reminders import Outbox, ReminderService, WebhookSender
from services.reporting.replay import KafkaSource, Replayer
from services.reporting.store import ReportingStore
from services.reporting.worker import build_worker, history_loader


def create_api(settings: Settings, store: ReportingStore, projector=None,
               calendars: CalendarBook | None = None):
    replayer = Replayer(store, lambda: KafkaSource(settings.kafka_bootstrap, settings.topics.events),
                        projector.pause if projector else threading.Lock(),
                        lambda db: history_loader(store, db))
    load = history_loader(store)
    if projector is not None:  # the worker of this very process pushes what it projects
        live = LiveFeed(store, lambda: projector.inserted, pushed=True)
        projector.projection.listeners.append(live.push)
    else:
        live = LiveFeed(store)

    async def states(proposal_id: str):
        return fold(await run_in_threadpool(load, proposal_id, 2**31))

    async def settle() -> None:  # the log is Kafka: reads see what is projected so far
        return None

    async def status() -> dict:
        events = await run_in_threadpool(store.count_events)
        return {"projected_events": events,
                "inserted_by_this_worker": projector.inserted if projector else None}

    return build_app("Banli reporting",
                     [router, documents_router, deadlines_router, routing_router, sheets_router,
                      page_router],
                     ReportingPorts(
                         authority=authority(settings), clock=system_clock, settle=settle,
                         calendars=calendars or CalendarBook(settings.calendar_dir,
                                                             settings.calendar_notices),
                         status=status, reporting=store, live=live, replayer=replayer,
                         states=states, routing=Suggester(lambda: store),
                         records=ProjectedRecords(store, load), previews=PreviewBook()),
                     settings, signin=True)


def run(settings: Settings) -> int:
    ensure_topics(settings.kafka_bootstrap, settings.topic_partitions, settings.topics)
    calendars = CalendarBook(settings.calendar_dir, settings.calendar_notices)
    store = ReportingStore(settings.dsn, settings.clickhouse_database, calendars.current,
                           settings.late_entry_working_days)
    app, projector = build_worker(settings, store)
    http = ThreadedServer(create_api(settings, store, projector, calendars), settings.host,
                          settings.port).start()
    print(f"banli reporting listening on http://{settings.host}:{settings.port}", flush=True)
    reminders = start_reminders(settings, store, calendars)
    worker = faust.Worker(app, loglevel="WARNING", quiet=True, redirect_stdouts=False)
    try:
        worker.execute_from_commandline()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    finally:
        if reminders is not None:
            reminders.stop()
        http.stop()
    return 0


def start_reminders(settings: Settings, store: ReportingStore, calendars: CalendarBook
                    ) -> ReminderService | None:
    """Reminders from the projections this process keeps, when a webhook receives them (one
    reporting process per outbox: its data dir's)."""
    if not settings.webhook_url:
        return None
    service = ReminderService(store, Outbox(settings.outbox_path),
                              WebhookSender(settings.webhook_url), get_profile(settings.profile),
                              calendars.current, system_clock, settings.reminder_interval_s)
    service.start()
    return service
