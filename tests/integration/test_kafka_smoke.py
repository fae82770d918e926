"""Smoke tests: the real Kafka 4.x broker works with kafka-python."""

from __future__ import annotations

import time
import uuid
import warnings

import pytest

with warnings.catch_warnings():
    # kafka-python 3.0 loads ~100 protocol schemas at import time with
    # importlib.resources' legacy read_text/open_text (deprecated since 3.11).
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic

pytestmark = pytest.mark.kafka


def _new_topic(bootstrap: str) -> str:
    topic = f"smoke-{uuid.uuid4().hex[:12]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="banli-smoke-admin")
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        admin.close()
    return topic


def _produce(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    # retried for up to a minute: after a restart the partition has no leader until the broker
    # has registered again (its old session expires first: broker.session.timeout.ms)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=200,
                             retry_backoff_ms=300)
    try:
        producer.send(topic, key=key, value=value).get(timeout=60)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)


def _read_all(bootstrap: str, topic: str, expect: int, timeout_s: float = 30.0):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        client_id="banli-smoke-consumer",
    )
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        records = []
        deadline = time.monotonic() + timeout_s
        while len(records) < expect and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def test_round_trip_one_message(kafka_broker):
    topic = _new_topic(kafka_broker.bootstrap)
    _produce(kafka_broker.bootstrap, topic, b"proposal-1", "办理 ok".encode())

    records = _read_all(kafka_broker.bootstrap, topic, expect=1)

    assert [(r.key, r.value) for r in records] == [(b"proposal-1", "办理 ok".encode())]


def test_restart_keeps_messages(kafka_broker):
    if not kafka_broker.managed:
        pytest.skip("external broker (BANLI_KAFKA_BOOTSTRAP): cannot restart it")
    topic = _new_topic(kafka_broker.bootstrap)
    _produce(kafka_broker.bootstrap, topic, b"before", b"restart")

    kafka_broker.restart()

    # written before the restart, still there after it; and the broker takes writes again
    _produce(kafka_broker.bootstrap, topic, b"after", b"restart")
    records = _read_all(kafka_broker.bootstrap, topic, expect=2)
    assert [(r.key, r.value) for r in records] == [
        (b"before", b"restart"),
        (b"after", b"restart"),
    ]
