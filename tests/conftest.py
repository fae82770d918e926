"""Fixtures shared by every test: one chDB engine per test process (chDB allows one), a fresh
database in it per embedded system, and a real HTTP server (uvicorn on a free port)."""
from __future__ import annotations

import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from banli.auth import issue_token
from banli.domain.types import Actor
from banli.settings import Settings
from banli.web.serve import Server

ROOT = Path(__file__).resolve().parent.parent
# The signing secret of the tests' systems: a real one's length and mix (a weak one is refused).
SECRET = "tests-Signing-Secret-0123456789-abcdefghijKLMN"


@pytest.fixture(scope="session")
def chdb_dsn(tmp_path_factory) -> str:
    return f"chdb:///{tmp_path_factory.mktemp('chdb')}"


@pytest.fixture
def settings(tmp_path, chdb_dsn) -> Settings:
    # The tests' clerks type in a year's work on one day (the fixed clock's 2020-11-20): the
    # limit on backdating is tested on its own, with the default (test_real_clock).
    return Settings(data_dir=tmp_path / "data", clickhouse_dsn=chdb_dsn,
                    clickhouse_database=f"t_{uuid.uuid4().hex[:12]}", secret=SECRET,
                    clerk_backdate_days=3650)


class FixedClock:
    """An injectable clock: starts at a given time, moves when told."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2020, 11, 20, 2, 0, tzinfo=timezone.utc))


@pytest.fixture
def system(settings, clock):
    from apps.embedded import EmbeddedSystem

    system = EmbeddedSystem(settings, clock=clock).start()
    yield system
    system.stop()
    system.reporting.drop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a thread: real HTTP for the tests."""

    def __init__(self, app):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = Server(app, "127.0.0.1", self.port, access_log=False)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def token_for(secret: str, role: str, bureau: str | None = None, user: str | None = None,
              filer: str | None = None) -> str:
    return issue_token(secret, Actor(user=user or f"test-{role}", bureau=bureau, role=role,
                                     filer=filer), 3600)


@pytest.fixture
def server(system):
    """The embedded app served over real HTTP; `server.client(role, bureau)` gives an httpx
    client signed in as that role (`filer=`: a filer's id in the registry)."""
    from apps.embedded import create_app

    app = create_app(system)
    with LiveServer(app) as live:
        clients: list[httpx.Client] = []

        def client(role: str | None = "coordinator", bureau: str | None = None,
                   token: str | None = None, filer: str | None = None) -> httpx.Client:
            headers = {}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            elif role is not None:
                headers["Authorization"] = (
                    f"Bearer {token_for(system.settings.secret, role, bureau, filer=filer)}")
            c = httpx.Client(base_url=live.url, headers=headers, timeout=60)
            clients.append(c)
            return c

        live.client = client
        live.system = system
        yield live
        for c in clients:
            c.close()


@pytest.fixture(scope="session")
def kafka_broker():
    """A real Kafka 4.x broker for the whole session (deploy/kafka/broker.sh): Apache's jars
    from Maven Central, KRaft, fresh data dir, free ports. `BANLI_KAFKA_BOOTSTRAP` points the
    tests at an external broker instead."""
    from tests.kafka_broker import KafkaBroker

    broker = KafkaBroker.start()
    try:
        yield broker
    finally:
        broker.cleanup()


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server for the whole session (deploy/s3proxy/s3proxy.sh: s3proxy's
    jars from Maven Central, filesystem backend, fresh data dir, free port).
    `BANLI_S3_ENDPOINT` points the tests at an external one instead."""
    from tests.s3_server import S3Server

    server = S3Server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def model(server):
    """The served embedded system with the model report's history imported."""
    from banli.demo.model import MODEL_FILE
    from apps.local import import_commands

    with MODEL_FILE.open(encoding="utf-8") as lines:
        import_commands(server.system.handle, lines)
    assert server.system.settle(30)
    return server


@pytest.fixture(scope="session")
def keycloak():
    """A real Keycloak 26 for the whole session (deploy/keycloak/keycloak.sh): the distribution
    from Maven Central in dev mode, realm `banli` imported (client banli-web, users wang, li,
    zhao, chen, qian, zhou, zhangwei, wangfang, sun), fresh data dir, free port. `BANLI_KEYCLOAK_URL` points the tests at an
    external server instead."""
    from tests.keycloak_server import KeycloakServer

    server = KeycloakServer.start()
    try:
        yield server
    finally:
        server.cleanup()
