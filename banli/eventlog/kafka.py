"""The distributed log: Kafka topics, their admin step, and the wire format.

Topics (partition counts from settings):
- `banli.commands`: commands as they are (DOMAIN.md), keyed by their stream (proposal id).
- `banli.events`: decided events, keyed by proposal id, kept forever (the log of record).
- `banli.command-results`: each command's outcome, keyed by command id.
- `banli.dlq`: messages that could not be decoded or processed, with the reason.
- `banli.keys`: natural-key claims, keyed by the key, kept forever (handling's KeyClaims).

The wire schema is the pydantic models, serialised as JSON; nothing else defines it.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any

from ..domain.events import Event, load_event
from ..domain.rejections import Rejection
from . import OFFSET_BITS, Outcome, Stored, partition_of, position_of  # noqa: F401

with warnings.catch_warnings():
    # kafka-python loads its protocol schemas with importlib.resources' legacy API.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import kafka  # noqa: F401
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError



@dataclass(frozen=True)
class Topics:
    """The topic names, under an optional prefix (one broker can hold several deployments,
    e.g. one per test)."""

    prefix: str = ""

    @property
    def commands(self) -> str:
        return f"{self.prefix}banli.commands"

    @property
    def events(self) -> str:
        return f"{self.prefix}banli.events"

    @property
    def results(self) -> str:
        return f"{self.prefix}banli.command-results"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}banli.dlq"

    @property
    def keys(self) -> str:
        """Natural-key claims: the first claim of a key in its partition owns it."""
        return f"{self.prefix}banli.keys"



def ensure_topics(bootstrap: str, partitions: int, topics: Topics = Topics(),
                  timeout_s: float = 60) -> list[str]:
    """Create the topics that are missing (idempotent); returns the ones created."""
    specs = [
        # The broker stamps each command as it appends it: a command without a business time
        # happens then (its `recorded_at`), in the order of its partition whatever the clocks
        # of the processes that sent it.
        NewTopic(topics.commands, partitions, 1,
                 topic_configs={"retention.ms": str(30 * 86400_000),
                                "message.timestamp.type": "LogAppendTime"}),
        NewTopic(topics.events, partitions, 1, topic_configs={"retention.ms": "-1",
                                                              "retention.bytes": "-1"}),
        NewTopic(topics.results, partitions, 1,
                 topic_configs={"retention.ms": str(7 * 86400_000)}),
        NewTopic(topics.dlq, 1, 1, topic_configs={"retention.ms": "-1"}),
        NewTopic(topics.keys, partitions, 1, topic_configs={"retention.ms": "-1",
                                                            "retention.bytes": "-1"}),
    ]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="banli-admin",
                             request_timeout_ms=int(timeout_s * 1000))
    try:
        existing = set(admin.list_topics())
        missing = [t for t in specs if t.name not in existing]
        created = []
        for topic in missing:
            try:
                admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


# --- wire format ------------------------------------------------------------------------------
def encode_event(event: Event) -> bytes:
    return event.model_dump_json().encode()


def decode_event(raw: bytes) -> Any:
    return load_event(json.loads(raw))


def decode_outcome(raw: bytes) -> Outcome:
    data = json.loads(raw)
    rejection = data.get("rejection")
    return Outcome(
        command_id=data["command_id"],
        rejection=Rejection.model_validate(rejection) if rejection else None,
        events=[Stored(e["position"], load_event(e["event"])) for e in data.get("events", [])],
        replayed=data.get("replayed", False),
        sender=data.get("sender"), fingerprint=data.get("fingerprint"),
    )


def dead_letter(reason: str, topic: str, partition: int, offset: int, raw: bytes | None) -> bytes:
    return json.dumps({"reason": reason, "topic": topic, "partition": partition,
                       "offset": offset,
                       "raw": raw.decode("utf-8", "replace") if raw is not None else None},
                      ensure_ascii=False).encode()


def partitions_of(consumer, topic: str, timeout_s: float = 60) -> list:
    """The topic's partitions as TopicPartitions, waiting for a just-created topic to show up in
    the client's metadata."""
    import time

    from kafka import TopicPartition

    deadline = time.monotonic() + timeout_s
    while not (partitions := consumer.partitions_for_topic(topic)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"topic {topic} has no partitions (does it exist?)")
        consumer.topics()  # refresh metadata
        time.sleep(0.2)
    return [TopicPartition(topic, p) for p in sorted(partitions)]
