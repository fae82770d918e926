"""reporting's composition root: the faust worker and the reporting API in one process (chDB
allows one engine per process; with a ClickHouse server they could run apart)."""
from __future__ import annotations

import asyncio
import threading
from functools import partial
from typing import Sequence

import faust
from starlette.concurrency import run_in_threadpool

from banli.auth import authority
from apps.blobs import blob_store
from banli.blobs.letters import Letters
from banli.domain.commands import Command
from banli.domain.proposal import fold
from banli.eventlog.kafka import ensure_topics
from banli.settings import Settings
from banli.eventlog.kafka_bus import KafkaBus
from banli.web.app import build_app
from banli.web.about import router as about_router
from banli.web.commands import command_routes, poll_router
from banli.web.letters import LetterCheckingBus, router as letters_router
from banli.web.serve import ThreadedServer
from banli.workcalendar import CalendarBook
from services.reporting.http.deps import DocumentOptions, ReportingPorts
from services.reporting.http.routing_api import router as routing_router
from services.reporting.http.previews import PreviewBook, ProjectedRecords
from services.reporting.http.sheets_api import router as sheets_router
from services.reporting.projections.suggestions import Suggester
from banli.clock import system_clock

from services.reporting.http.api import router
from services.reporting.http.deadlines_api import router as deadlines_router
from services.reporting.http.documents_api import router as documents_router
from services.reporting.http.filers_api import router as filers_router
from services.reporting.http.intake_api import router as intake_review_router
from services.reporting.projections.freshness import ConsumerLag
from services.reporting.http.letters_api import router as letters_download_router
from services.reporting.http.answer_cache import AnswerCache
from services.reporting.http.live import LiveFeed
from services.reporting.http.page import router as page_router
from services.reporting.http.work_api import router as work_router
from services.reporting.reminders import Outbox, ReminderService, WebhookSender
from services.reporting.reorganisation import Reconciler
from services.reporting.projections.replay import KafkaSource, Replayer
from services.reporting.projections.store import ReportingStore
from services.reporting.projections.worker import build_worker, history_loader, stored_history


def create_api(settings: Settings, store: ReportingStore, projector=None,
               calendars: CalendarBook | None = None, bus: KafkaBus | None = None,
               lag: ConsumerLag | None = None):
    """The reporting service's API and page. With `bus` it also takes the page's commands
    (assigning, supervising, the bureaus' workflow) and sends them through Kafka's command path
    as intake does, so the page does on the distributed deployment all it does on `banli
    serve`; with `lag` its status says how far the projections are behind banli.events."""
    replayer = Replayer(store, lambda: KafkaSource(settings.kafka_bootstrap, settings.topics.events),
                        projector.pause if projector else threading.Lock(),
                        lambda db: history_loader(store, db))
    load = history_loader(store)
    if projector is not None:  # the worker of this very process pushes what it projects
        live = LiveFeed(store, lambda: projector.inserted, pushed=True,
                        recheck=settings.live_recheck_s, pace=settings.live_pace_s)
        projector.projection.listeners.append(live.push)
        if not store.intervals_complete():  # a store made before the report's intervals
            replayer.start()
    else:
        live = LiveFeed(store, recheck=settings.live_recheck_s, pace=settings.live_pace_s)

    async def states(proposal_id: str):
        return fold(await run_in_threadpool(load, proposal_id, 2**31))

    async def settle() -> None:  # the log is Kafka: reads see what is projected so far
        return None

    async def filer_accounts(account: str) -> list[str]:
        return await run_in_threadpool(store.filers_of_account, account)

    async def projected() -> object:
        """The marks in the projections' tables, written last in each batch by whichever
        worker projected it (several may share a ClickHouse server); with none (a store
        before the intervals) a value equal to no other, so nothing is kept."""
        marks = await run_in_threadpool(store.marks)
        return (tuple(sorted(marks.items())), store.exchanges) if marks else object()

    async def status() -> dict:
        events = await run_in_threadpool(store.count_events)
        answer: dict = {"projected_events": events,
                        "inserted_by_this_worker": projector.inserted if projector else None,
                        "lag": None}
        if lag is not None:
            try:
                answer.update(await run_in_threadpool(lag))
            except Exception as exc:  # the broker away for a while: say so, do not fail
                answer["freshness_error"] = f"{type(exc).__name__}: {exc}"
        return answer

    letters = Letters(blob_store(settings), settings.max_letter_bytes)
    commands = [command_routes("intake", "handling", any_command=True), letters_router,
                poll_router] if bus else []
    return build_app("Banli reporting",
                     [router, documents_router, deadlines_router, work_router, routing_router,
                      sheets_router, letters_download_router, filers_router, about_router,
                      intake_review_router, *commands, page_router],
                     ReportingPorts(
                         authority=authority(settings), clock=system_clock, settle=settle,
                         bus=LetterCheckingBus(bus, letters) if bus else None, letters=letters,
                         calendars=calendars or CalendarBook(settings.calendar_dir,
                                                             settings.calendar_notices),
                         status=status, reporting=store, live=live, replayer=replayer,
                         states=states, stream=partial(stored_history, store),
                         routing=Suggester(lambda: store),
                         records=ProjectedRecords(store, load),
                         previews=PreviewBook.from_settings(settings),
                         clerk_backdate_days=settings.clerk_backdate_days,
                         documents=DocumentOptions.of(settings),
                         profile=settings.rules(),
                         filer_accounts=filer_accounts,
                         bureaus=lambda: run_in_threadpool(store.bureau_records),
                         dashboards=AnswerCache(projected)),
                     settings, signin=True, on_stop=[live.close])


def run(settings: Settings) -> int:
    ensure_topics(settings.kafka_bootstrap, settings.topic_partitions, settings.topics)
    calendars = CalendarBook(settings.calendar_dir, settings.calendar_notices)
    store = ReportingStore(settings.dsn, settings.clickhouse_database, calendars.current,
                           settings.late_entry_working_days)
    app, projector = build_worker(settings, store)
    bus = KafkaBus(settings.kafka_bootstrap, settings.reply_timeout_s, settings.topics)
    lag = ConsumerLag(settings.kafka_bootstrap, settings.topics.events,
                      f"{settings.app_id}-reporting")
    http = ThreadedServer(create_api(settings, store, projector, calendars, bus, lag),
                          settings.host, settings.port, settings.access_log).start()
    print(f"banli reporting listening on http://{settings.host}:{settings.port}", flush=True)
    reminders = start_reminders(settings, store, calendars)
    reconciler = Reconciler(store, lambda commands: asyncio.run(_send_all(bus, commands)))
    projector.projection.listeners.append(reconciler.wake)
    reconciler.start()
    worker = faust.Worker(app, loglevel="WARNING", quiet=True, redirect_stdouts=False)
    try:
        worker.execute_from_commandline()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    finally:
        if reminders is not None:
            reminders.stop()
        reconciler.stop()
        http.stop()
        bus.close()
        lag.close()
    return 0


async def _send_all(bus: KafkaBus, commands: Sequence[Command]) -> None:
    """Send the commands through Kafka's command path (the answers are the log's: a handover
    not answered within the bus's timeout is decided all the same)."""
    await asyncio.gather(*(bus.send(command) for command in commands))


def start_reminders(settings: Settings, store: ReportingStore, calendars: CalendarBook
                    ) -> ReminderService | None:
    """Reminders from the projections this process keeps, when a webhook receives them (one
    reporting process per outbox: its data dir's)."""
    if not settings.webhook_url:
        return None
    service = ReminderService(store, Outbox(settings.outbox_path),
                              WebhookSender(settings.webhook_url), settings.rules(),
                              calendars.current, system_clock, settings.reminder_interval_s)
    service.start()
    return service
