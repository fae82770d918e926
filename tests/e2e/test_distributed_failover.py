"""Pipelined handling under SIGKILL: two workers share the partitions while a bulk import runs,
and one of them is killed with batches in flight, again and again, and started again (on its
own local cache, or on none: built again from the topics). Every accepted command's events are
in the log once (redelivered copies are the very same events), and every command has one
decision: whatever number of times it was answered, the answers agree."""
from __future__ import annotations

import json
import os
import random
import time
import warnings
from collections import defaultdict

import pytest

from banli.demo.generate import generate_history, to_jsonl
from banli.history import run_history
from tests.e2e.stack import Stack
from tests.e2e.test_distributed import assert_log_exact, import_in_background, read_topic

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def answered(bootstrap: str, topic: str) -> int:
    """How many answers banli.command-results holds."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(tps).values())
    finally:
        consumer.close()


def decisions(bootstrap: str, topic: str) -> dict[tuple[str, str], set]:
    """Each command's decisions (by sender and command id) as its answers give them: its
    events' ids, or its refusal."""
    found: dict[tuple[str, str], set] = defaultdict(set)
    for record in read_topic(bootstrap, topic):
        answer = json.loads(record.value)
        key = (answer["sender"], answer["command_id"])
        if answer["rejection"] is not None:
            found[key].add(answer["rejection"]["code"])
        else:
            found[key].add(tuple(e["event"]["event_id"] for e in answer["events"]))
    return found


def test_workers_killed_again_and_again_with_batches_in_flight_stay_exact(kafka_broker,
                                                                         tmp_path):
    rng = random.Random(int(os.environ.get("BANLI_CRASH_SEED", "15")))
    stack = Stack(kafka_broker.bootstrap, tmp_path, partitions=4)
    prefix = stack.env["BANLI_TOPIC_PREFIX"]
    results = f"{prefix}banli.command-results"
    try:
        workers = [stack.start("handling", i) for i in range(2)]
        intake = stack.start("intake")
        for service in (*workers, intake):
            service.wait_healthy()
        lines = [to_jsonl(line) for line in generate_history(800, seed=1515, noise=0.01)]
        ledger, _ = run_history(lines, recorder=stack.actor())  # as the importer imports it
        commands = len(ledger.decided)  # the lines that are commands (noise: some are not)
        thread, answer = import_in_background(stack.client(intake), lines)

        for round_ in range(4):  # kill at a random point of each fifth of the import
            target = commands * (round_ + rng.random()) / 5
            deadline = time.monotonic() + 600
            while answered(kafka_broker.bootstrap, results) < target:
                assert time.monotonic() < deadline, "the import did not progress"
                time.sleep(0.05)
            victim = round_ % 2
            workers[victim].kill()
            stack.services.remove(workers[victim])
            data = f"handling{victim}" if round_ < 2 else f"handling{victim}-fresh{round_}"
            workers[victim] = stack.start("handling", victim, data=data)
            workers[victim].wait_healthy()
        thread.join(timeout=900)
        assert answer.get("status") == 200, answer

        deadline = time.monotonic() + 300
        while True:  # commands answered after the import gave up waiting (202s) included
            found = decisions(kafka_broker.bootstrap, results)
            if len(found) >= len(ledger.decided) or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert set(found) == set(ledger.decided), "some commands were never answered"
        assert all(len(made) == 1 for made in found.values()), \
            {cid: made for cid, made in found.items() if len(made) > 1}
        assert_log_exact(kafka_broker.bootstrap, prefix, ledger)
    finally:
        stack.stop()
