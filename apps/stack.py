"""The distributed deployment on one machine (`banli stack`, `make stack`), as `banli serve`
(`make run`) is the embedded one: a Kafka broker from the cached distribution
(deploy/kafka/broker.sh, as `make kafka`), the topics, the three services as processes
(reporting, handling, intake) sharing one letters' store, the demo history on a first start, and
the page's address with demo tokens; Ctrl-C (or SIGTERM) stops everything it started, the services
first, then the broker.

The end-to-end tests start their deployments with the same `Stack` (tests/e2e/stack.py), on the
session's broker under a topic prefix of their own."""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

import httpx

ROOT = Path(__file__).resolve().parent.parent
BROKER_SH = ROOT / "deploy" / "kafka" / "broker.sh"
# reporting first: it serves the page, and its worker joins the group before commands arrive
SERVICES = ("reporting", "handling", "intake")
STACK_FILE = "stack.json"  # where a running stack says its addresses (and its pid)


def default_stack_dir() -> Path:
    """The stack's own data: beside the embedded system's ($XDG_DATA_HOME/banli-stack, else
    ~/.local/share/banli-stack)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "banli-stack"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """One service (`banli <args>`) as a process of its own, its output in `log`. It runs in a
    session of its own: Ctrl-C reaches the stack, which stops the services in order."""

    def __init__(self, name: str, args: list[str], env: dict, log: Path, port: int):
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "apps.cli", *args], env=env,
                                     cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_healthy(self, timeout: float = 120) -> "Service":
        """Waits for its /healthz; raises with its log's tail if it exits or never answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not come up:\n{self.tail()}")

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


class Stack:
    """intake, handling and reporting over the broker at `bootstrap`, each with its data dir
    under `root` (`<name><index>`), one letters' store they share (`root/letters`, as
    docker-compose.yml's volume), one signing secret and one auth dir (`root/auth`: a token
    revoked is revoked everywhere). `topic_prefix` and `app_id` let several
    stacks share a broker (the tests'); `env` adds or overrides BANLI_* settings (the profile,
    the identity provider ...)."""

    def __init__(self, bootstrap: str, root: Path, partitions: int = 4, *,
                 secret: str | None = None, topic_prefix: str = "", app_id: str = "banli",
                 env: dict[str, str] | None = None):
        self.root = root
        self.bootstrap = bootstrap
        self.secret = secret or f"stack-{secrets.token_urlsafe(32)}"
        self.env = {**os.environ, "BANLI_KAFKA_BOOTSTRAP": bootstrap, "BANLI_SECRET": self.secret,
                    "BANLI_TOPIC_PREFIX": topic_prefix, "BANLI_APP_ID": app_id,
                    "BANLI_TOPIC_PARTITIONS": str(partitions),
                    "BANLI_LETTERS_DIR": str(root / "letters"),
                    "BANLI_AUTH_DIR": str(root / "auth"), "PYTHONUNBUFFERED": "1",
                    **(env or {})}
        self.services: list[Service] = []

    def start(self, name: str, index: int = 0, data: str | None = None,
              port: int | None = None) -> Service:
        """Starts one service (not waiting for it): `banli <name>` on `port` (a free one by
        default), its data in `root/<data>` (default `<name><index>`)."""
        port = port or free_port()
        data_dir = self.root / (data or f"{name}{index}")
        service = Service(f"{name}{index}", [name, "--data-dir", str(data_dir), "--port",
                                             str(port)], self.env,
                          self.root / f"{name}{index}.log", port)
        self.services.append(service)
        return service

    def start_all(self, ports: dict[str, int] | None = None) -> dict[str, Service]:
        """The topics, then the three services, each up (its /healthz answering)."""
        from banli.eventlog.kafka import Topics, ensure_topics

        ensure_topics(self.bootstrap, int(self.env["BANLI_TOPIC_PARTITIONS"]),
                      Topics(self.env["BANLI_TOPIC_PREFIX"]))
        started = {name: self.start(name, port=(ports or {}).get(name)) for name in SERVICES}
        for service in started.values():
            service.wait_healthy()
        return started

    def stop(self) -> None:
        """Stops every service started, SIGTERM then SIGKILL after 30 s."""
        for service in self.services:
            try:
                service.terminate(timeout=30)
            except subprocess.TimeoutExpired:
                service.kill()

    def token(self, actor, hours: float = 12) -> str:
        from banli.auth import issue_token

        return issue_token(self.secret, actor, int(hours * 3600))

    def events_in_log(self) -> int:
        """How many events banli.events holds (its partitions' end offsets)."""
        import warnings

        from banli.eventlog.kafka import Topics, partitions_of

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            from kafka import KafkaConsumer
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                                 enable_auto_commit=False)
        try:
            tps = partitions_of(consumer, Topics(self.env["BANLI_TOPIC_PREFIX"]).events)
            return sum(consumer.end_offsets(tps).values())
        finally:
            consumer.close()

    def load(self, lines: Iterable[str]) -> dict:
        """Sends a history's commands through banli.commands as intake's import does, each
        line as it is (its actor's act, as `banli serve --demo` loads it); answers intake's
        counts and problems."""
        from banli.eventlog.kafka import Topics
        from banli.eventlog.kafka_bus import KafkaBus
        from banli.history import read_commands
        from services.intake.api import import_commands

        async def send() -> dict:
            bus = KafkaBus(self.bootstrap, 30, Topics(self.env["BANLI_TOPIC_PREFIX"]))
            try:
                return await import_commands(bus, read_commands(lines))
            finally:
                bus.close()

        return asyncio.run(send())


class Broker:
    """A broker of deploy/kafka/broker.sh (Apache's jars, cached by `make kafka-fetch`) on
    `port`, its data kept in `directory` from one start to the next."""

    def __init__(self, port: int, directory: Path):
        self.port, self.directory = port, directory

    def _run(self, *args: str) -> str:
        done = subprocess.run(["bash", str(BROKER_SH), *args, "--dir", str(self.directory)],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              start_new_session=True)
        if done.returncode != 0:
            raise RuntimeError(f"broker.sh {args[0]} failed:\n{done.stderr.strip()}")
        return done.stdout.strip()

    def start(self) -> str:
        """Starts it (or finds it running) and answers its bootstrap address."""
        self.directory.mkdir(parents=True, exist_ok=True)
        return self._run("start", "--port", str(self.port), "--keep").splitlines()[-1]

    def stop(self) -> None:
        self._run("stop")


def stored_secret(root: Path) -> str:
    """BANLI_SECRET where set; else the stack's own, made on its first start and kept in
    `root/secret` (0600), so that tokens hold from one start to the next."""
    if os.environ.get("BANLI_SECRET"):
        return os.environ["BANLI_SECRET"]
    path = root / "secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def demo_lines() -> Iterable[str]:
    """The demo history `banli serve --demo` loads: the model report's, then the generated
    spread of the other bureaus' work."""
    from banli.demo.generate import demo_history
    from banli.demo.model import MODEL_FILE

    yield from MODEL_FILE.read_text(encoding="utf-8").splitlines()
    yield from demo_history()


def run(root: Path, demo: bool = False, kafka_port: int = 9092, free_ports: bool = False,
        partitions: int = 4) -> int:
    """`banli stack`: starts everything, says where the page is, and waits for Ctrl-C (or
    SIGTERM, or a service that dies: its log's tail is printed and the rest stopped, exit 1).
    BANLI_KAFKA_BOOTSTRAP names a broker already running instead of starting one; other
    BANLI_* variables reach the services (BANLI_OIDC_*, BANLI_PROFILE ...); the services listen
    on their usual ports (banli.settings.SERVICE_PORTS), or on free ones."""
    from banli.settings import SERVICE_PORTS

    root.mkdir(parents=True, exist_ok=True)
    # Ctrl-C, and SIGTERM as Ctrl-C, whatever the caller left (a shell's background job starts
    # with SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    broker = None
    bootstrap = os.environ.get("BANLI_KAFKA_BOOTSTRAP", "").strip()
    stack: Stack | None = None
    try:
        if not bootstrap:
            print(f"正在启动 Kafka (starting the broker on 127.0.0.1:{kafka_port}) …", flush=True)
            broker = Broker(kafka_port, root / "kafka")
            bootstrap = broker.start()
        stack = Stack(bootstrap, root, partitions, secret=stored_secret(root),
                      topic_prefix=os.environ.get("BANLI_TOPIC_PREFIX", ""),
                      app_id=os.environ.get("BANLI_APP_ID", "banli"))
        ports = None if free_ports else SERVICE_PORTS
        print("正在启动三个服务 (starting reporting, handling, intake) …", flush=True)
        services = stack.start_all(ports)
        if demo and stack.events_in_log() == 0:
            print("首次启动，正在载入演示数据 (loading demo data)…", flush=True)
            loaded = stack.load(demo_lines())
            print(f"载入 {loaded['accepted']} 条 (loaded {loaded['accepted']} commands, "
                  f"{len(loaded['problems'])} refused)", flush=True)
        announce(stack, services, bootstrap, demo)
        while all(s.proc.poll() is None for s in stack.services):
            time.sleep(0.5)
        dead = next(s for s in stack.services if s.proc.poll() is not None)
        print(f"{dead.name} exited {dead.proc.returncode}:\n{dead.tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("正在停止 (stopping) …", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"banli stack: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut this short
        if stack is not None:
            stack.stop()
        if broker is not None:
            broker.stop()
        (root / STACK_FILE).unlink(missing_ok=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def announce(stack: Stack, services: dict[str, Service], bootstrap: str, demo: bool) -> None:
    """Prints where everything is (and, with the demo, its tokens and a signed-in link), and
    writes it to `root/stack.json` for scripts."""
    from apps.local import DEMO_ACTORS, DEMO_TOKEN_HOURS

    page = f"{services['reporting'].url}/app/"
    (stack.root / STACK_FILE).write_text(json.dumps({
        "pid": os.getpid(), "page": page, "bootstrap": bootstrap,
        **{name: {"url": s.url, "pid": s.proc.pid} for name, s in services.items()}}))
    lines = [f"Banli 办理 (distributed) is running: the page at {page}",
             f"  broker {bootstrap}; " + ", ".join(
                 f"{name} {s.url}" for name, s in services.items()),
             f"  data and logs: {stack.root}"]
    if demo:
        tokens = {name: stack.token(actor, DEMO_TOKEN_HOURS) for name, actor in DEMO_ACTORS.items()}
        lines.append(f"demo tokens, valid {DEMO_TOKEN_HOURS} hours (Authorization: Bearer …):")
        lines += [f"  {name}: {token}" for name, token in tokens.items()]
        lines.append(f"oversight page 督办看板 (signed in as the demo overseer): {page}"
                     f"?years=2020&as_of=2020-11-20#token={tokens['overseer']}")
    else:
        lines.append(f"sign in with a token: BANLI_SECRET=$(cat {stack.root / 'secret'}) "
                     f"BANLI_AUTH_DIR={stack.root / 'auth'} banli token issue --user … --role …")
    lines.append("Ctrl-C stops the services and the broker.")
    print("\n".join(lines), flush=True)
