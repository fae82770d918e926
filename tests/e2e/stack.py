"""The distributed services as real processes over a real broker, for end-to-end tests: the
stack `banli stack` (`make stack`) starts (apps/stack.py), each under a topic prefix, consumer
groups and a secret of its own on the session's broker."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx

from apps.stack import Service, Stack as AppStack
from banli.domain.types import Actor
from tests.conftest import token_for

__all__ = ["Service", "Stack", "wait_projected"]


class Stack(AppStack):
    """intake, handling worker(s) and reporting with their own topics and consumer groups on
    a shared broker (a unique topic prefix and app id per stack)."""

    def __init__(self, bootstrap: str, tmp: Path, partitions: int = 4,
                 env: dict[str, str] | None = None):
        tag = uuid.uuid4().hex[:10]
        super().__init__(bootstrap, tmp, partitions,
                         secret=f"stack-secret-{tag}-0123456789-ABCDEFGH",
                         topic_prefix=f"t{tag}.", app_id=f"t{tag}",
                         env={"BANLI_REPLY_TIMEOUT_S": "30", **(env or {})})
        self.tmp = tmp

    @staticmethod
    def actor(role: str = "importer", bureau: str | None = None) -> Actor:
        """Who `client` signs in as: the sender of what it sends (a history it imports is decided
        as this importer's, and the reference decides it as the same: `run_history(recorder=)`)."""
        return Actor(user=f"test-{role}", role=role, bureau=bureau)

    def client(self, service: Service, role: str = "importer", bureau: str | None = None,
               timeout: float = 600, user: str | None = None,
               filer: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=service.url, timeout=timeout, headers={
            "Authorization": f"Bearer {token_for(self.secret, role, bureau, user, filer)}"})


def wait_projected(reporting: httpx.Client, count: int, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    status: dict = {}
    while time.monotonic() < deadline:
        status = reporting.get("/api/status").json()
        if status.get("projected_events") == count:
            return status
        time.sleep(0.3)
    raise AssertionError(f"projections stopped at {status}, expected {count} events")
