"""Failover and memory of the handling workers over a small and a large log: two workers share
the partitions, one is SIGKILLed, and the figure is the time from the kill to the first decision
the other makes on a partition that moved; then the survivor's peak RSS.

The large log is written straight onto the topics, as handling would have left it after deciding
the history (`write_log`): the history is decided in this process by the kernel (decide, evolve:
the same events handling makes), its events go onto `banli.events` in their streams' partitions,
each submit's claim onto `banli.keys`, each stream's snapshot (its final state, the offset of its
last event, its commands with their positions) onto `banli.snapshots`, and the handling group's
commits say that nothing of `banli.commands` is left and that the snapshots cover every event
(the events watermark). Deciding 2 million commands here takes a few minutes; routing them
through intake and handling would take an hour.

Then: worker A starts (its local cache built from the topics), a probe sends one `supervise` a
command at a steady rate to every partition through `banli.commands`, worker B starts and takes
its share, B is SIGKILLed, and the time to the first answer A gives on one of B's partitions
(the answer's timestamp, set by A's producer) is measured; until every one of B's partitions is
answered again is stated beside it. The consumer group's session timeout (how long the broker
waits for a member that stopped: BANLI_GROUP_SESSION_TIMEOUT_S, 6 s) is part of both.

Before the SIGKILL, the same measure for a clean stop: B is sent SIGTERM (a rolling restart),
drains, commits and leaves its group, so its partitions move without waiting for the session
timeout; then B starts again, takes its share, and is killed."""
from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
import uuid
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

from banli.demo.generate import iter_history, to_jsonl
from banli.domain import commands as c
from banli.domain.decide import decide
from banli.domain.timing.deadlines import DEFAULT_PROFILE
from banli.domain.proposal import Context, MemoryDirectory, evolve
from banli.domain.rejections import Rejection
from banli.domain.directory import as_pairs, directory_entries
from banli.eventlog.kafka import Topics, encode_event, ensure_topics, position_of
from banli.eventlog.kafka_log import commit_metadata, partition_for
from banli.eventlog.snapshots import Logged, Snapshot, encode_snapshot
from banli.history import read_commands
from banli.settings import Settings
from banli.workcalendar import china_calendar
from apps.local import Progress

from .distributed import Service, wait_healthy

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition

YEARS = (2018, 2021)


def write_log(bootstrap: str, topics: Topics, group: str, partitions: int, proposals: int,
              seed: int, bureaus: int) -> dict[str, Any]:
    """Decide a generated history in this process and write what handling would have written:
    events, claims, snapshots, and the group's commits. Returns counts and some proposal ids of
    each partition (for the probe)."""
    ensure_topics(bootstrap, partitions, topics)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                             batch_size=512 << 10,
                             client_id="bench-log-writer")
    calendar, directory = china_calendar(), MemoryDirectory()
    states: dict[str, Any] = {}
    positions: dict[str, dict[str, list[int]]] = defaultdict(dict)  # stream -> command -> ...
    senders: dict[str, str] = {}
    entries: dict[str, dict[str, str]] = defaultdict(dict)  # stream -> its directory entries
    events = commands = 0
    started = time.perf_counter()
    progress = Progress(proposals * 10, f"deciding {proposals:,} proposals onto the topics")

    def placed(stream: str, cid: str, index: int):
        def record(metadata) -> None:
            positions[stream][cid][index] = position_of(metadata.partition, metadata.offset)
        return record

    for _, command in read_commands(to_jsonl(line) for line in iter_history(
            proposals, seed, YEARS, bureaus)):
        if not isinstance(command, c.Command):
            continue
        commands += 1
        progress.update(commands)
        stream = command.stream
        decision = decide(states.get(stream), command, Context(
            recorded_at=command.at, profile=DEFAULT_PROFILE, directory=directory,
            calendar=calendar))
        if isinstance(decision, Rejection) or not decision:
            continue
        number = partition_for(stream, partitions)
        cid = command.command_id or ""
        if isinstance(command, c.Submit):
            producer.send(topics.keys, key=command.natural_key.encode(), value=json.dumps(
                {"key": command.natural_key, "proposal": stream, "command_id": cid}).encode())
        positions[stream][cid] = [0] * len(decision)
        senders[cid] = c.sender_of(command)
        state = states.get(stream)
        for index, event in enumerate(decision):
            state = evolve(state, event)
            directory.observe(event)
            entries[stream].update(as_pairs(directory_entries(event)))
            producer.send(topics.events, key=stream.encode(), value=encode_event(event),
                          partition=number).add_callback(placed(stream, cid, index))
            events += 1
        states[stream] = state
    producer.flush()
    progress.update(commands, force=True)
    decided_s = time.perf_counter() - started

    ends = {}
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             enable_auto_commit=False, client_id="bench-log-writer")
    try:
        tps = [TopicPartition(topics.events, n) for n in range(partitions)]
        ends = {tp.partition: at for tp, at in consumer.end_offsets(tps).items()}
        for stream, state in states.items():
            held = positions.pop(stream)
            last = max(p for ps in held.values() for p in ps)
            producer.send(topics.snapshots, key=stream.encode(), value=encode_snapshot(Snapshot(
                stream, state.version, last & ((1 << 40) - 1), state,
                {(senders[cid], cid): Logged(tuple(ps), None) for cid, ps in held.items()},
                entries[stream])), partition=partition_for(stream, partitions))
        producer.flush()
        commands_tps = [TopicPartition(topics.commands, n) for n in range(partitions)]
        consumer.assign(commands_tps)
        consumer.commit({tp: OffsetAndMetadata(0, commit_metadata(ends[tp.partition]), -1)
                         for tp in commands_tps})
    finally:
        consumer.close()
        producer.close()
    probes: dict[int, list[str]] = defaultdict(list)
    for stream in states:
        if not stream.startswith("bureau:") and len(probes[partition_for(stream, partitions)]) < 50:
            probes[partition_for(stream, partitions)].append(stream)
    return {"proposals": proposals, "commands": commands, "events": events,
            "streams": len(states), "seconds": time.perf_counter() - started,
            "decided_s": decided_s, "probes": dict(probes)}


class Probe(threading.Thread):
    """Sends a `supervise` to each partition in turn, `rate` a second, through banli.commands,
    and reads every answer on banli.command-results: (answer timestamp, partition, command)."""

    def __init__(self, bootstrap: str, topics: Topics, probes: dict[int, list[str]],
                 rate: float = 40.0):
        super().__init__(daemon=True)
        self.topics, self.probes, self.rate = topics, probes, rate
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1,
                                      client_id="bench-probe")
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                      client_id="bench-probe-results", fetch_max_wait_ms=20)
        tps = [TopicPartition(topics.results, n) for n in sorted(probes)]
        self.consumer.assign(tps)
        self.consumer.seek_to_end(*tps)
        for tp in tps:
            self.consumer.position(tp)
        self.answers: list[tuple[float, int, str]] = []
        self.sent_at: dict[str, float] = {}  # command id -> when it was sent
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)

    def run(self) -> None:
        self.reader.start()
        tag, sent = uuid.uuid4().hex[:8], 0
        while not self.halt.is_set():
            for number in sorted(self.probes):
                proposal = self.probes[number][sent % len(self.probes[number])]
                with self.lock:
                    self.sent_at[f"probe-{tag}-{sent}-{number}"] = time.time()
                self.producer.send(self.topics.commands, key=proposal.encode(), value=json.dumps({
                    "type": "supervise", "proposal": proposal, "note": "bench",
                    "command_id": f"probe-{tag}-{sent}-{number}",
                    "actor": {"user": "bench-overseer", "role": "overseer"}}).encode(),
                    partition=number)
            sent += 1
            self.halt.wait(len(self.probes) / self.rate)

    def _read(self) -> None:
        while not self.halt.is_set():
            for tp, records in self.consumer.poll(timeout_ms=100).items():
                with self.lock:
                    self.answers += [(r.timestamp / 1000, tp.partition, r.key.decode())
                                     for r in records]

    def first_after(self, moment: float, partitions: set[int]) -> dict[int, float]:
        """Each partition's first answer given after `moment` to a command sent after it
        (answer timestamps): a worker that stops cleanly still answers what it decided before."""
        found: dict[int, float] = {}
        with self.lock:
            for at, number, command in self.answers:
                if number in partitions and at > moment and self.sent_at.get(command, 0) > moment:
                    found[number] = min(found.get(number, at), at)
        return found

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=10)
        self.reader.join(timeout=10)
        self.producer.close()
        self.consumer.close()


def loaded_partitions(log: Path) -> set[int]:
    """The partitions a worker took over, as its log says."""
    return {int(m.group(1)) for m in re.finditer(r"partition (\d+): from offset",
                                                 log.read_text(encoding="utf-8"))}


def load_seconds(log: Path, after: int = 0) -> list[float]:
    """How long each takeover in a worker's log took (from the `after`-th character on)."""
    return [float(s) for s in re.findall(r"commands to decide again, in ([0-9.]+) s",
                                          log.read_text(encoding="utf-8")[after:])]


def moved_after(probe: Probe, worker: Service, moved: set[int], sig: int) -> tuple[float, float]:
    """Signal a worker; the times from the signal to the first answer the other gives on one of
    its partitions, and to the last of them answered again."""
    signalled = time.time()
    worker.proc.send_signal(sig)
    worker.proc.wait()
    deadline = time.monotonic() + 600
    while len(first := probe.first_after(signalled, moved)) < len(moved):
        if time.monotonic() > deadline:
            raise RuntimeError(f"moved partitions {moved} not answered again: {first}")
        time.sleep(0.05)
    return min(first.values()) - signalled, max(first.values()) - signalled


def failover(bootstrap: str, work: Path, partitions: int, proposals: int, seed: int,
             bureaus: int) -> dict[str, Any]:
    """One size: the log, two workers, a clean stop, a SIGKILL, the figures."""
    tag = uuid.uuid4().hex[:8]
    topics, app = Topics(f"fo{tag}."), f"fo{tag}"
    work.mkdir(parents=True, exist_ok=True)
    log = write_log(bootstrap, topics, f"{app}-handling", partitions, proposals, seed, bureaus)
    env = {**os.environ, "BANLI_KAFKA_BOOTSTRAP": bootstrap, "BANLI_TOPIC_PREFIX": topics.prefix,
           "BANLI_APP_ID": app, "BANLI_TOPIC_PARTITIONS": str(partitions),
           "BANLI_SECRET": f"{uuid.uuid4().hex}{uuid.uuid4().hex}", "PYTHONUNBUFFERED": "1"}
    workers: list[Service] = []
    probe = None
    try:
        started = time.perf_counter()
        a = Service(["handling", "--data-dir", str(work / "a")], env, work, "handling-a")
        workers.append(a)
        wait_healthy(a.url, a.proc, a.log, timeout=3600)
        cache_built_s = time.perf_counter() - started
        probe = Probe(bootstrap, topics, log["probes"])
        probe.start()

        def second(name: str) -> tuple[Service, set[int]]:
            """Worker `name` started beside A, once it has taken its share and every partition
            answers: the worker and the partitions it took."""
            worker = Service(["handling", "--data-dir", str(work / name)], env, work,
                             f"handling-{name}")
            workers.append(worker)
            wait_healthy(worker.url, worker.proc, worker.log, timeout=3600)
            deadline = time.monotonic() + 600
            while not loaded_partitions(worker.log):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"worker {name} took no partition")
                time.sleep(0.2)
            time.sleep(5)  # both answer on their partitions
            steady = probe.first_after(time.time() - 3, set(range(partitions)))
            if len(steady) < partitions:
                raise RuntimeError(f"partitions not answering beside {name}: {steady}")
            return worker, loaded_partitions(worker.log)

        # A clean stop (SIGTERM: drained, committed, left the group), then a worker again in
        # its place, then a SIGKILL of it.
        b, moved = second("b")
        clean_s, clean_all_s = moved_after(probe, b, moved, signal.SIGTERM)
        b, moved = second("b2")
        before = len(a.log.read_text(encoding="utf-8"))
        failover_s, failover_all_s = moved_after(probe, b, moved, signal.SIGKILL)
        time.sleep(2)
        session_timeout_s = Settings().group_session_timeout_s
        return {**{k: v for k, v in log.items() if k != "probes"},
                "failover_s": failover_s, "failover_all_s": failover_all_s,
                "clean_stop_s": clean_s, "clean_stop_all_s": clean_all_s,
                "session_timeout_s": session_timeout_s,
                "moved": sorted(moved), "takeover_load_s": load_seconds(a.log, before),
                "peak_rss_mb": a.peak_rss_mb(), "cache_built_s": cache_built_s}
    finally:
        if probe is not None:
            probe.stop()
        for worker in workers:
            worker.stop()
