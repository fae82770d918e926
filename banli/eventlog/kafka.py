"""The distributed log: Kafka topics, their admin step, and the wire format.

Topics (partition counts from settings):
- `banli.commands`: commands as they are (DOMAIN.md), keyed by their stream (proposal id).
- `banli.events`: decided events, keyed by proposal id, kept forever (the log of record).
- `banli.command-results`: each command's outcome, keyed by command id.
- `banli.dlq`: messages that could not be decoded or processed, with the reason.
- `banli.keys`: natural-key claims, keyed by the key, kept forever (handling's KeyClaims).
- `banli.snapshots`: the latest snapshot of each stream, keyed by stream, in the stream's
  partition; compacted (banli.eventlog.snapshots).

The wire schema is the pydantic models, serialised as JSON; nothing else defines it.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any

from ..domain.events import Event
from ..domain.registry import load_event
from ..domain.rejections import Rejection
from . import OFFSET_BITS as OFFSET_BITS  # the positions' layout, for the readers of topics
from . import Outcome, Stored
from . import partition_of as partition_of
from . import position_of as position_of

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

    @property
    def snapshots(self) -> str:
        """Each stream's latest snapshot (compacted): what a worker taking over starts from."""
        return f"{self.prefix}banli.snapshots"


def split_position(position: int) -> tuple[int, int]:
    """(partition, offset) of a position."""
    return position >> OFFSET_BITS, position & ((1 << OFFSET_BITS) - 1)


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
        # One record per stream survives compaction; segments roll hourly or at 64 MiB, so
        # that the cleaner gets to them (it never touches the segment being written).
        NewTopic(topics.snapshots, partitions, 1,
                 topic_configs={"cleanup.policy": "compact", "segment.ms": str(3600_000),
                                "segment.bytes": str(64 << 20),
                                "min.cleanable.dirty.ratio": "0.5"}),
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
def heartbeat_ms(session_timeout_s: float) -> int:
    """A group member's heartbeat for a session timeout: a quarter of a second (a member hears
    of a rebalance, e.g. another member leaving, only at its next heartbeat: this wait is most
    of a clean stop's handover), a third of the session timeout at most (Kafka's advice)."""
    return int(min(250, session_timeout_s * 1000 / 3))


def encode_event(event: Event) -> bytes:
    return event.model_dump_json().encode()


def encode_outcome(outcome: Outcome) -> bytes:
    """An outcome as `banli.command-results` carries it: each event as the log holds it, when
    at hand (Stored.raw), rather than encoded again."""
    head = json.dumps({
        "command_id": outcome.command_id, "replayed": outcome.replayed,
        "rejection": (outcome.rejection.model_dump(mode="json")
                      if outcome.rejection is not None else None),
        "sender": outcome.sender, "fingerprint": outcome.fingerprint},
        ensure_ascii=False, separators=(",", ":")).encode()
    events = b",".join(b'{"position":%d,"event":%s}' % (
        s.position, s.raw if s.raw is not None else encode_event(s.event))
        for s in outcome.events)
    return head[:-1] + b',"events":[' + events + b"]}"


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


def partitions_of(consumer: Any, topic: str, timeout_s: float = 60) -> list[Any]:
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
