"""The embedded composition root: one process, the local event store, chDB, all three APIs."""
from __future__ import annotations

import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from services.handling.api import router as handling_router
from banli.clock import system_clock
from services.intake.api import router as intake_router
from services.reporting.http.deps import DocumentOptions, ReportingPorts
from services.reporting.http.routing_api import router as routing_router
from services.reporting.http.previews import PreviewBook
from services.reporting.http.sheets_api import router as sheets_router
from services.reporting.projections.suggestions import Suggester
from services.reporting.http.api import router as reporting_router
from services.reporting.http.deadlines_api import router as deadlines_router
from services.reporting.http.documents_api import router as documents_router
from services.reporting.http.filers_api import router as filers_router
from services.reporting.http.intake_api import router as intake_review_router
from services.reporting.http.letters_api import router as letters_download_router
from services.reporting.http.answer_cache import AnswerCache
from services.reporting.http.live import LiveFeed
from services.reporting.http.page import router as page_router
from services.reporting.http.work_api import router as work_router
from services.reporting.projections.process import embedded_projector
from services.reporting.reminders import Outbox, ReminderService, WebhookSender
from services.reporting.reorganisation import Reconciler
from services.reporting.projections.replay import Replayer, SqliteSource
from services.reporting.projections.store import ReportingStore

from banli.auth import authority, secure_dir
from apps.blobs import blob_store
from banli.blobs.letters import Letters
from banli.domain.commands import Command
from banli.domain.proposal import Bureau
from banli.sheets.records import registered
from banli.domain.proposal import State
from banli.eventlog import Outcome
from banli.eventlog.repository import Repository
from banli.eventlog.sqlite import SqliteEventStore
from banli.handling import Handling
from banli.settings import Settings
from banli.workcalendar import CalendarBook
from banli.web.app import build_app
from banli.web.about import router as about_router
from banli.web.commands import poll_router
from banli.web.letters import LetterCheckingBus, router as letters_router


@dataclass(frozen=True)
class StoreRecords:
    """What spreadsheet previews read (banli.sheets.records.Records) of the embedded store: the
    bureaus, natural keys and filer registry of its directory, the proposals' filers not linked
    yet, the states its repository folds."""

    store: SqliteEventStore
    repository: Repository

    def bureau_names(self) -> dict[str, tuple[str, str]]:
        return self.store.bureau_names()

    def owner_of(self, natural_key: str) -> str | None:
        return self.store.owner_of(natural_key)

    def state(self, stream: str) -> State:
        return self.repository.state(stream)

    def filers(self) -> dict[str, dict[str, str]]:
        return self.store.filers()

    def unlinked(self, name: str, affiliation: str) -> list[str]:
        return self.store.unlinked(name, affiliation)


class EmbeddedSystem:
    """The event store, the handling loop, the projections and the projector (a child process
    of the server's, or a thread: Settings.projector_process), wired."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] = system_clock,
                 projector_process: bool = False):
        """`projector_process`: the rows built in a child process (what `banli serve` asks,
        Settings.projector_process) rather than a thread. Off for everything else that opens
        the system (the CLI's one-shot commands, scripts, the tests' systems): a spawned child
        imports the main module again, which a script without a main guard would run twice."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.clock = clock
        secure_dir(settings.data_dir)
        self.authority = authority(settings)
        self.profile = settings.rules()
        self.log = SqliteEventStore(settings.store_path)
        self.repository = Repository(self.log, settings.state_cache)
        self.letters = Letters(blob_store(settings), settings.max_letter_bytes)
        self.calendars = CalendarBook(settings.calendar_dir, settings.calendar_notices)
        self.reporting = ReportingStore(settings.dsn, settings.clickhouse_database,
                                        self.calendars.current, settings.late_entry_working_days)
        self.projector = embedded_projector(self.log, self.reporting, settings.store_path,
                                            settings.projection_batch, projector_process)
        self.handling = Handling(self.repository, self.log, self.profile, self.calendars, clock,
                                 settings.clerk_backdate_days,
                                 on_durable=lambda outcomes: self.projector.notify())
        self.replayer = Replayer(self.reporting, lambda: SqliteSource(self.log),
                                 self.projector.pause,
                                 lambda db: (lambda stream, seq: self.log.load_before(stream, seq)))
        # a merged bureau's open duties go to its successor (the projections say which)
        self.reconciler = Reconciler(self.reporting,
                                     lambda commands: self.handling.handle_batch(list(commands)))
        self.projector.projection.listeners.append(self.reconciler.wake)
        self.reminders: ReminderService | None = None
        if settings.webhook_url:  # reminders go out only where someone receives them
            self.reminders = ReminderService(
                self.reporting, Outbox(settings.outbox_path), WebhookSender(settings.webhook_url),
                self.profile, self.calendars.current, clock, settings.reminder_interval_s,
                settle=self.settle)

    def start(self) -> "EmbeddedSystem":
        """Catch the projections up with the log and keep following it (idempotent). A store
        made before the report's intervals is rebuilt by a replay, in the background."""
        if not self.projector.running:
            self.projector.catch_up()
            self.projector.start()
            self.reconciler.start()
            if not self.reporting.intervals_complete():
                self.replayer.start()
            if self.reminders is not None:
                self.reminders.start()
        return self

    def stop(self) -> None:
        if self.reminders is not None:
            self.reminders.stop()
        self.reconciler.stop()
        self.projector.stop()

    def caught_up(self) -> "EmbeddedSystem":
        """The projections caught up with the log, with what a merger implies (its handovers
        recorded and projected), without starting the threads: a report of the CLI's."""
        self.projector.catch_up()
        if self.reconciler.run_once():
            self.projector.catch_up()
        return self

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until everything appended so far is projected (read-your-writes), with what
        it implies: the handovers of a merger recorded and projected too."""
        deadline = time.monotonic() + timeout
        while True:
            head = self.log.head()
            if not self.projector.wait_for(head, max(0.0, deadline - time.monotonic())):
                return False
            if not self.reconciler.wait_idle(max(0.0, deadline - time.monotonic())):
                return False
            if self.log.head() == head:
                return True

    def handle(self, command: Command) -> Outcome:
        return self.handling.handle(command)

    def status(self) -> dict:
        """How far the projections are behind the log, and whether they agree with it."""
        head, count = self.log.head(), self.log.count()
        projected = self.projector.position
        return {"log_head": head, "log_events": count, "projected_position": projected,
                "projected_events": self.reporting.count_events(), "lag": head - projected,
                "projector_error": repr(self.projector.error) if self.projector.error else None}


class EmbeddedBus:
    def __init__(self, system: EmbeddedSystem):
        self.system = system

    async def send(self, command: Command) -> Outcome:
        return await run_in_threadpool(self.system.handle, command)

    async def outcome(self, sender: str, command_id: str) -> Outcome | None:
        return await run_in_threadpool(self.system.log.outcome, sender, command_id)


def create_app(system: EmbeddedSystem) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(system.start)
        try:
            yield
        finally:
            await run_in_threadpool(system.stop)

    async def states(proposal_id: str):
        return await run_in_threadpool(system.repository.state, proposal_id)

    async def settle() -> None:
        await run_in_threadpool(system.settle)

    async def status() -> dict[str, Any]:
        return await run_in_threadpool(system.status)

    async def filer_accounts(account: str) -> list[str]:
        return await run_in_threadpool(system.reporting.filers_of_account, account)

    async def bureaus() -> Mapping[str, Bureau | tuple[str, str]]:
        return await run_in_threadpool(registered, StoreRecords(system.log, system.repository))

    async def projected() -> tuple[int, int]:  # this process's projector is the only writer
        return system.projector.position, system.reporting.exchanges

    live = LiveFeed(system.reporting, lambda: system.projector.position, pushed=True,
                    recheck=system.settings.live_recheck_s,
                    pace=system.settings.live_pace_s)
    system.projector.projection.listeners.append(live.push)
    return build_app(
        "Banli (embedded)",
        [intake_router, routing_router, handling_router, reporting_router, documents_router,
         deadlines_router, work_router, sheets_router, letters_router, letters_download_router,
         poll_router, about_router, filers_router, intake_review_router, page_router],
        ReportingPorts(authority=system.authority, clock=system.clock, settle=settle,
                       bus=LetterCheckingBus(EmbeddedBus(system), system.letters),
                       letters=system.letters, calendars=system.calendars, status=status,
                       reporting=system.reporting, live=live, replayer=system.replayer,
                       states=states, stream=system.log.history,
                       routing=Suggester(lambda: system.reporting),
                       records=StoreRecords(system.log, system.repository),
                       previews=PreviewBook.from_settings(system.settings),
                       clerk_backdate_days=system.settings.clerk_backdate_days,
                       documents=DocumentOptions.of(system.settings),
                       profile=system.profile, filer_accounts=filer_accounts,
                       bureaus=bureaus, dashboards=AnswerCache(projected)),
        system.settings, lifespan, signin=True, on_stop=[live.close])
