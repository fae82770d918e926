"""The projector in its own process under `banli serve`: killed with SIGKILL while an import
runs, it is started again by the server, and the projections end equal to the log."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from banli.history import run_history
from tests.e2e.test_crash_restart import (ServedHistory, agrees_with_the_log, banli,
                                          wait_for_events, wait_healthy)

pytestmark = pytest.mark.slow


def projector_of(server: int) -> int | None:
    """The server's projector process: its child started by multiprocessing's spawn (not the
    resource tracker, spawned the same way)."""
    for task in Path(f"/proc/{server}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
            except OSError:
                continue
            if "spawn_main" in command and "resource_tracker" not in command:
                return int(pid)
    return None


def wait_for_projector(server: subprocess.Popen, other_than: int | None = None,
                       timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = projector_of(server.pid)
        if pid is not None and pid != other_than:
            return pid
        if server.poll() is not None:
            raise AssertionError(f"server exited: {server.stdout.read()}")
        time.sleep(0.05)
    raise AssertionError("no projector process")


def test_a_killed_projector_process_is_started_again_and_the_projections_equal_the_log(
        tmp_path):
    served = ServedHistory.make(tmp_path, 800, seed=31)
    log = served.data / "events.sqlite3"
    ledger, _ = run_history(served.lines)
    total = sum(len(stream) for stream in ledger.streams.values())

    server = banli("serve", *served.common, "--port", str(served.port), env=served.env)
    try:
        wait_healthy(served.url, server)
        first = wait_for_projector(server)
        importer = banli("import", str(served.history), *served.common, env=served.env)
        wait_for_events(log, total // 3, importer)
        os.kill(first, signal.SIGKILL)  # mid-import: batches built and not inserted are lost
        second = wait_for_projector(server, other_than=first)
        wait_for_events(log, 2 * total // 3, importer)
        os.kill(second, signal.SIGKILL)
        third = wait_for_projector(server, other_than=second)
        assert importer.wait(timeout=600) == 0, importer.stdout.read()

        agrees_with_the_log(served.url, ledger, total, wait_s=120)
        assert projector_of(server.pid) == third  # the server kept its third
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    deadline = time.monotonic() + 10  # the projector stops with its server
    while Path(f"/proc/{third}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{third}").exists()
