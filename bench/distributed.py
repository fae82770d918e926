"""The distributed figures, over a real broker: end-to-end throughput from intake's HTTP to
reporting, freshness at a steady rate, and replay from `banli.events`; each beside a bare
kafka-python relay (produce → consume → produce → consume) moving the same messages."""
from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from banli.auth import issue_token
from banli.domain.types import Actor
from apps.local import Progress

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- HTTP ------------------------------------------------------------------------------------
class Api:
    """A signed-in HTTP client on one service (stdlib only)."""

    def __init__(self, url: str, secret: str, role: str = "importer"):
        self.url = url
        self.auth = f"Bearer {issue_token(secret, Actor(user=f'bench-{role}', role=role), 86400)}"

    def call(self, method: str, path: str, body: bytes | None = None,
             content_type: str = "application/json", timeout: float = 3600) -> tuple[int, Any]:
        request = urllib.request.Request(f"{self.url}{path}", data=body, method=method, headers={
            "Authorization": self.auth, "Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def get(self, path: str) -> Any:
        status, body = self.call("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body}")
        return body


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up: {log.read_text()[-2000:]}")


class Service:
    """`banli <name>` as a process of its own."""

    def __init__(self, args: list[str], env: dict[str, str], work: Path, name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = work / f"{name}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "apps.cli", *args, "--port", str(self.port)], env=env,
            cwd=ROOT, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)

    def wait(self) -> "Service":
        wait_healthy(self.url, self.proc, self.log)
        return self

    def peak_rss_mb(self) -> float:
        """The process's peak resident set (VmHWM), in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- the stack ------------------------------------------------------------------------------
class Stack:
    """intake, handling and reporting over the broker, with topics of their own."""

    def __init__(self, bootstrap: str, work: Path, partitions: int):
        tag = uuid.uuid4().hex[:8]
        self.work = work
        self.secret = secrets.token_urlsafe(32)  # a weak BANLI_SECRET is refused
        self.prefix = f"bench{tag}."
        self.env = {**os.environ, "BANLI_KAFKA_BOOTSTRAP": bootstrap, "BANLI_SECRET": self.secret,
                    "BANLI_TOPIC_PREFIX": self.prefix, "BANLI_APP_ID": f"bench{tag}",
                    "BANLI_TOPIC_PARTITIONS": str(partitions), "BANLI_REPLY_TIMEOUT_S": "60",
                    "PYTHONUNBUFFERED": "1"}
        self.services: dict[str, Service] = {}

    def start(self) -> "Stack":
        for name in ("reporting", "handling", "intake"):
            self.services[name] = Service([name, "--data-dir", str(self.work / name)], self.env,
                                          self.work, name)
        for service in self.services.values():
            service.wait()
        return self

    def api(self, name: str, role: str = "importer") -> Api:
        return Api(self.services[name].url, self.secret, role)

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()


def wait_projected(reporting: Api, events: int, timeout: float = 3600,
                   label: str = "projected in reporting", busy=lambda: False) -> float:
    """Poll reporting's status until it holds `events` events; returns when it did. While
    `busy()` (the import is still being answered) it asks twice a second, then 20 times:
    each answer counts the projected events with a FINAL query, which on 2 cores takes CPU
    from the services measured."""
    progress = Progress(events, label)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        projected = reporting.get("/api/status").get("projected_events") or 0
        progress.update(projected)
        if projected >= events:
            progress.update(projected, force=True)
            return time.perf_counter()
        time.sleep(0.5 if busy() else 0.05)
    raise RuntimeError(f"reporting stopped at {projected} of {events} events")


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spy(pid: int, out: Path) -> subprocess.Popen | None:
    """py-spy sampling a service until stopped (SIGINT), when py-spy is installed."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--format", "raw", "--rate", "50",
                             "--nonblocking", *(["--idle"] if os.environ.get("BENCH_SPY_IDLE") else []), "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize(raw: Path, top: int = 12) -> str:
    """py-spy's collapsed stacks as the functions with the most samples of their own, and the
    most samples below them (inclusive)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        frames, n = stack.split(";"), int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    share = lambda n: f"{100 * n / max(total, 1):5.1f}%"  # noqa: E731
    lines = [f"{total} samples (50/s, busy threads only)", "", "own time:"]
    lines += [f"  {share(n)}  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "inclusive:"]
    lines += [f"  {share(n)}  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


def end_to_end(stack: Stack, history: Path, expected_events: int,
               profile_dir: Path | None = None, broker_pid: int | None = None
               ) -> dict[str, Any]:
    """The history through intake's bulk import, until reporting holds every event (with
    py-spy on each service when `profile_dir` is given). Also the CPU each service (and the
    broker, when its pid is given) used meanwhile, per command: the figure's ratio says how
    far from the relay, this says which process to look at."""
    spies = {name: spy(service.proc.pid, profile_dir / f"e2e_{name}.raw")
             for name, service in stack.services.items()} if profile_dir else {}
    pids = {name: service.proc.pid for name, service in stack.services.items()}
    if broker_pid is not None:
        pids["broker"] = broker_pid
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    try:
        found = _end_to_end(stack, history, expected_events)
        found["cpu_ms_per_command"] = {
            name: 1000 * (cpu_seconds(pid) - before[name]) / found["commands"]
            for name, pid in pids.items()}
        return found
    finally:
        for name, proc in spies.items():
            if proc is None:
                continue
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
            raw = profile_dir / f"e2e_{name}.raw"
            if raw.exists():
                (profile_dir / f"e2e_{name}.txt").write_text(summarize(raw), encoding="utf-8")


def _end_to_end(stack: Stack, history: Path, expected_events: int) -> dict[str, Any]:
    body = history.read_bytes()
    commands = body.count(b"\n")
    reporting = stack.api("reporting", "overseer")
    answer: dict[str, Any] = {}

    def post() -> None:
        status, answer["body"] = stack.api("intake").call(
            "POST", "/api/import", body, "application/x-ndjson")
        answer["status"] = status

    start = time.perf_counter()
    poster = threading.Thread(target=post)
    poster.start()
    done = wait_projected(reporting, expected_events, label="end to end (intake → reporting)",
                          busy=poster.is_alive)
    poster.join()
    if answer["status"] != 200:
        raise RuntimeError(f"import: {answer['status']} {answer['body']}")
    elapsed = done - start
    return {"commands": commands, "events": expected_events, "seconds": elapsed,
            "commands_per_s": commands / elapsed, "import": {
                k: v for k, v in answer["body"].items() if k != "problems"}}


# --- freshness -------------------------------------------------------------------------------
def steady(rate: float, seconds: float, send) -> None:
    """Call `send(i)` at `rate` per second for `seconds`, on time even when one call is slow."""
    count = int(rate * seconds)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, i)


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "n": len(ordered)}


def freshness(stack: Stack, rate: float, seconds: float) -> dict[str, Any]:
    """New proposals submitted through intake at a steady rate; for each, from intake's 201
    (the events are in the log) to its submit arriving in reporting's live feed (`/api/live`,
    what the oversight page shows). One reader follows the feed, so nothing is polled per
    proposal. A feed frame that arrives before the sender has read its 201 counts as no lag."""
    intake, reporting = stack.api("intake", "coordinator"), stack.api("reporting", "overseer")
    accepted: dict[str, float] = {}
    seen: dict[str, float] = {}
    tag = uuid.uuid4().hex[:6]
    total = int(rate * seconds)
    feed = LiveReader(reporting)
    feed.start()
    if not feed.ready.wait(60):
        raise RuntimeError("reporting's live feed did not answer")

    def send(i: int) -> None:
        number = f"{tag}{i:06d}"
        body = json.dumps({"kind": "cppcc_proposal", "year": 2026, "number": number,
                           "title": "关于提升办理时效的提案", "filers": [{"name": "王芳"}],
                           "affiliation": "经济界别", "topics": ["营商环境"]}).encode()
        status, answer = intake.call("POST", "/api/proposals", body, timeout=120)
        if status == 201:
            accepted[answer["events"][0]["proposal_id"]] = time.perf_counter()

    print(f"freshness (ours): {total} submits at {rate:g}/s", file=sys.stderr, flush=True)
    steady(rate, seconds, send)
    feed.wait_for(lambda: set(accepted) <= set(feed.arrived), timeout=120)
    feed.stop()
    seen = {pid: feed.arrived[pid] for pid in accepted if pid in feed.arrived}
    lags = [max(0.0, seen[pid] - accepted[pid]) for pid in seen]
    return {"sent": total, "accepted": len(accepted), "measured": len(lags),
            **percentiles(lags)}


class LiveReader(threading.Thread):
    """Follows reporting's `/api/live` (server-sent events) and notes when each proposal's
    first event arrives."""

    def __init__(self, api: "Api"):
        super().__init__(daemon=True)
        self.api = api
        self.arrived: dict[str, float] = {}
        self.ready = threading.Event()
        self.changed = threading.Condition()
        self._response = None

    def run(self) -> None:
        request = urllib.request.Request(f"{self.api.url}/api/live",
                                         headers={"Authorization": self.api.auth})
        try:
            with urllib.request.urlopen(request, timeout=3600) as self._response:
                for raw in self._response:
                    self.ready.set()
                    line = raw.decode("utf-8")
                    if not line.startswith("data:"):
                        continue
                    now = time.perf_counter()
                    with self.changed:
                        for event in json.loads(line[5:]).get("events", []):
                            self.arrived.setdefault(event["proposal_id"], now)
                        self.changed.notify_all()
        except (OSError, ValueError, AttributeError):
            pass  # closed by stop() (http.client then reads from None), or the service gone

    def wait_for(self, done, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(done, timeout)

    def stop(self) -> None:
        if self._response is not None:
            self._response.close()


# --- the bare relay ---------------------------------------------------------------------------
def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
    try:
        admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    finally:
        admin.close()


def _consumer(bootstrap: str, topic: str, group: str) -> KafkaConsumer:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                             auto_offset_reset="earliest", enable_auto_commit=True,
                             max_poll_records=2000)
    return consumer


def _relay(bootstrap: str, source: str, target: str, group: str, count: int, out: str) -> None:
    """consume `source` → produce `target`, flushing after each poll, until `count` moved;
    writes the CPU time it used from the first message on."""
    consumer = _consumer(bootstrap, source, group)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    moved, first = 0, None
    while moved < count:
        for records in consumer.poll(timeout_ms=500).values():
            if first is None:
                first = time.process_time()
            for record in records:
                producer.send(target, key=record.key, value=record.value)
                moved += 1
        producer.flush()
    Path(out).write_text(json.dumps(time.process_time() - (first or 0)))
    consumer.close()
    producer.close()


def _sink(bootstrap: str, source: str, group: str, count: int, out: str) -> None:
    """consume `source` until `count` arrived; writes each message's arrival time (and,
    beside it, the CPU time it used from the first message on)."""
    consumer = _consumer(bootstrap, source, group)
    arrived: dict[str, float] = {}
    first = None
    while len(arrived) < count:
        for records in consumer.poll(timeout_ms=500).values():
            now = time.time()
            if first is None:
                first = time.process_time()
            for record in records:
                arrived.setdefault(record.key.decode(), now)
    cpu = time.process_time() - (first or 0)
    consumer.close()
    Path(out).write_text(json.dumps(arrived))
    Path(f"{out}.cpu").write_text(json.dumps(cpu))


class Relay:
    """A bare produce → consume → produce → consume pipeline: a relay process and a sink
    process, fed from here."""

    def __init__(self, bootstrap: str, partitions: int, work: Path, count: int):
        tag = uuid.uuid4().hex[:8]
        self.bootstrap, self.count = bootstrap, count
        self.a, self.b = f"relay{tag}.a", f"relay{tag}.b"
        self.out = work / f"relay{tag}.json"
        create_topics(bootstrap, [self.a, self.b], partitions)
        ctx = multiprocessing.get_context("spawn")
        self.procs = [
            ctx.Process(target=_relay, args=(bootstrap, self.a, self.b, f"relay{tag}", count,
                                              f"{self.out}.relay-cpu")),
            ctx.Process(target=_sink, args=(bootstrap, self.b, f"sink{tag}", count,
                                             str(self.out))),
        ]
        for proc in self.procs:
            proc.start()
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1)
        time.sleep(5)  # let both consumers join their groups before the clock starts

    def wait(self, timeout: float = 3600) -> dict[str, float]:
        for proc in self.procs:
            proc.join(timeout)
            if proc.exitcode != 0:
                raise RuntimeError(f"relay process exited {proc.exitcode}")
        self.producer.close()
        return json.loads(self.out.read_text())

    def cpu_seconds(self) -> dict[str, float]:
        """The CPU time the relay and the sink used from their first message (once `wait`
        returned)."""
        return {"relay": json.loads(Path(f"{self.out}.relay-cpu").read_text()),
                "sink": json.loads(Path(f"{self.out}.cpu").read_text())}


def relay_throughput(bootstrap: str, partitions: int, work: Path, history: Path
                     ) -> dict[str, Any]:
    """The history's lines (one message per command, keyed as commands are) through the relay."""
    lines = history.read_bytes().splitlines()
    relay = Relay(bootstrap, partitions, work, len(lines))
    progress = Progress(len(lines), "bare relay")
    start = time.time()  # the sink stamps arrivals with time.time() too
    for i, line in enumerate(lines):
        relay.producer.send(relay.a, key=str(i).encode(), value=line)
        progress.update(i)
    relay.producer.flush()
    arrived = relay.wait()
    progress.update(len(lines), force=True)
    elapsed = max(arrived.values()) - start
    cpu = {name: 1000 * seconds / len(lines) for name, seconds in relay.cpu_seconds().items()}
    return {"messages": len(lines), "seconds": elapsed, "messages_per_s": len(lines) / elapsed,
            "cpu_ms_per_message": cpu}


def relay_freshness(bootstrap: str, partitions: int, work: Path, rate: float, seconds: float
                    ) -> dict[str, Any]:
    """Messages the size of a submit at the same steady rate; from the broker's ack of the
    first produce to the sink's poll."""
    total = int(rate * seconds)
    relay = Relay(bootstrap, partitions, work, total)
    acked: dict[str, float] = {}
    payload = json.dumps({"type": "submit", "kind": "cppcc_proposal", "year": 2026,
                          "title": "关于提升办理时效的提案", "filers": [{"name": "王芳"}],
                          "affiliation": "经济界别", "topics": ["营商环境"]},
                         ensure_ascii=False).encode()

    def send(i: int) -> None:
        key = str(i)
        relay.producer.send(relay.a, key=key.encode(), value=payload).get(timeout=60)
        acked[key] = time.time()

    print(f"freshness (bare relay): {total} messages at {rate:g}/s", file=sys.stderr, flush=True)
    steady(rate, seconds, send)
    arrived = relay.wait()
    lags = [arrived[k] - acked[k] for k in acked if k in arrived]
    return {"sent": total, **percentiles(lags)}


# --- replay from Kafka -------------------------------------------------------------------------
def publish_events(bootstrap: str, topic: str, partitions: int, store_path: Path) -> int:
    """The embedded store's events onto a topic, keyed by proposal, as handling writes them."""
    create_topics(bootstrap, [topic], partitions)
    db = sqlite3.connect(store_path)
    total = db.execute("SELECT count(*) FROM events").fetchone()[0]
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                             batch_size=256 * 1024)
    progress = Progress(total, "events onto Kafka")
    sent = 0
    for stream, data in db.execute("SELECT stream, data FROM events ORDER BY position"):
        producer.send(topic, key=stream.encode(), value=data.encode())
        sent += 1
        progress.update(sent)
    producer.flush()
    producer.close()
    progress.update(sent, force=True)
    return sent


def replay_kafka(bootstrap: str, topic: str, work: Path, profile_dir: Path | None,
                 ceiling_events: int, rounds: int = 1) -> dict[str, Any]:
    """Runs in a process of its own: replay `topic` into a fresh chDB, then the ceiling."""
    from services.reporting.projections.replay import KafkaSource
    from services.reporting.projections.store import ReportingStore
    from services.reporting.projections.worker import history_loader

    from .embedded import replay_stage

    store = ReportingStore(f"chdb:///{work / 'kafka-replay'}", "banli")
    source = KafkaSource(bootstrap, topic)
    try:
        return replay_stage(source, store, lambda db: history_loader(store, db), "kafka",
                            profile_dir, ceiling_events, rounds)
    finally:
        source.close()
