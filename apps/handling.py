"""handling's composition root: the command worker, with the bureaus' workflow API beside it."""
from __future__ import annotations

import logging
import signal

from banli.auth import authority
from apps.blobs import blob_store
from banli.blobs.letters import Letters
from banli.eventlog.kafka import ensure_topics
from banli.eventlog.kafka_bus import KafkaBus
from banli.settings import Settings
from banli.web.app import build_app
from banli.web.deps import Ports
from banli.web.commands import poll_router
from banli.web.letters import LetterCheckingBus, router as letters_router
from banli.web.serve import ThreadedServer

from services.handling.api import router
from banli.clock import system_clock
from services.handling.worker import Handler


def run(settings: Settings, serve_http: bool = True) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # the worker tells what it takes over and how long that took (banli.eventlog.kafka_log)
    said = logging.StreamHandler()
    said.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.getLogger("banli.handling").addHandler(said)
    logging.getLogger("banli.handling").setLevel(logging.INFO)
    ensure_topics(settings.kafka_bootstrap, settings.topic_partitions, settings.topics)
    handler = Handler(settings)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: handler.stop())
    http = None
    if serve_http:
        bus = KafkaBus(settings.kafka_bootstrap, settings.reply_timeout_s, settings.topics)
        letters = Letters(blob_store(settings), settings.max_letter_bytes)
        api = build_app("Banli handling", [router, letters_router, poll_router],
                        Ports(authority=authority(settings), clock=system_clock,
                              bus=LetterCheckingBus(bus, letters), letters=letters,
                              clerk_backdate_days=settings.clerk_backdate_days),
                        settings)
        http = ThreadedServer(api, settings.host, settings.port, settings.access_log).start()
        print(f"banli handling listening on http://{settings.host}:{settings.port}", flush=True)
    try:
        handler.run()  # runs until SIGTERM/SIGINT, then stops cleanly
    finally:
        if http is not None:
            http.stop()
    return 0
