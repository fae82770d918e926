"""The distributed services as real processes over a real broker, for end-to-end tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from banli.domain.types import Actor
from tests.conftest import ROOT, free_port, token_for


class Service:
    def __init__(self, name: str, args: list[str], env: dict, log: Path, port: int):
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "apps.cli", *args], env=env,
                                     cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 120) -> "Service":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited {self.proc.returncode}:\n"
                                     f"{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.name} did not come up:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


class Stack:
    """intake, handling worker(s) and reporting with their own topics and consumer groups on
    a shared broker (a unique topic prefix and app id per stack)."""

    def __init__(self, bootstrap: str, tmp: Path, partitions: int = 4):
        tag = uuid.uuid4().hex[:10]
        self.tmp = tmp
        self.secret = f"stack-secret-{tag}-0123456789-ABCDEFGH"
        self.env = {**os.environ, "BANLI_KAFKA_BOOTSTRAP": bootstrap, "BANLI_SECRET": self.secret,
                    "BANLI_TOPIC_PREFIX": f"t{tag}.", "BANLI_APP_ID": f"t{tag}",
                    "BANLI_TOPIC_PARTITIONS": str(partitions),
                    "BANLI_REPLY_TIMEOUT_S": "30", "PYTHONUNBUFFERED": "1"}
        self.services: list[Service] = []

    def start(self, name: str, index: int = 0, data: str | None = None) -> Service:
        port = free_port()
        data_dir = self.tmp / (data or f"{name}{index}")
        service = Service(f"{name}{index}", [name, "--data-dir", str(data_dir), "--port",
                                             str(port)], self.env, self.tmp / f"{name}{index}.log",
                          port)
        self.services.append(service)
        return service

    @staticmethod
    def actor(role: str = "importer", bureau: str | None = None) -> Actor:
        """Who `client` signs in as: the sender of what it sends (a history it imports is decided
        as this importer's, and the reference decides it as the same: `run_history(recorder=)`)."""
        return Actor(user=f"test-{role}", role=role, bureau=bureau)

    def client(self, service: Service, role: str = "importer", bureau: str | None = None,
               timeout: float = 600) -> httpx.Client:
        return httpx.Client(base_url=service.url, timeout=timeout, headers={
            "Authorization": f"Bearer {token_for(self.secret, role, bureau)}"})

    def stop(self) -> None:
        for service in self.services:
            try:
                service.terminate(timeout=30)
            except subprocess.TimeoutExpired:
                service.kill()


def wait_projected(reporting: httpx.Client, count: int, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    status: dict = {}
    while time.monotonic() < deadline:
        status = reporting.get("/api/status").json()
        if status.get("projected_events") == count:
            return status
        time.sleep(0.3)
    raise AssertionError(f"projections stopped at {status}, expected {count} events")
