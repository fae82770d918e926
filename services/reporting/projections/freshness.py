"""How fresh the distributed projections are: the reporting consumer group's lag behind
`banli.events`, per partition the log's end offset minus the group's committed offset (what it
has projected and acknowledged; the worker commits every half second). The page shows it (and
the embedded system's own lag, from its status) so that no one reads stale numbers unawares."""
from __future__ import annotations

import threading
import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition


class ConsumerLag:
    """The lag of `group` on `topic`, asked of the broker each time (a few milliseconds)."""

    def __init__(self, bootstrap: str, topic: str, group: str):
        self.bootstrap, self.topic, self.group = bootstrap, topic, group
        self._lock = threading.Lock()
        self._admin: KafkaAdminClient | None = None
        self._consumer: KafkaConsumer | None = None

    def __call__(self) -> dict[str, Any]:
        with self._lock:
            if self._admin is None or self._consumer is None:
                self._admin = KafkaAdminClient(bootstrap_servers=self.bootstrap,
                                               client_id=f"{self.group}-freshness")
                self._consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                                               enable_auto_commit=False)
            partitions = sorted(self._consumer.partitions_for_topic(self.topic) or ())
            tps = [TopicPartition(self.topic, p) for p in partitions]
            ends = self._consumer.end_offsets(tps) if tps else {}
            committed = self._admin.list_group_offsets({self.group: tps}).get(self.group, {})
        per_partition = {}
        for tp in tps:
            done = committed.get(tp)
            offset = done.offset if done is not None and done.offset >= 0 else 0
            per_partition[str(tp.partition)] = {"end": ends[tp], "committed": offset,
                                                "lag": max(0, ends[tp] - offset)}
        return {"lag": sum(p["lag"] for p in per_partition.values()),
                "log_events": sum(ends.values()), "partitions": per_partition}

    def close(self) -> None:
        with self._lock:
            for client in (self._admin, self._consumer):
                if client is not None:
                    client.close()
            self._admin = self._consumer = None
