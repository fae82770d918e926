"""Crash tests: `banli serve` and `banli import` killed with SIGKILL at random points, again
and again; after a restart every accepted command's events are in the log exactly once and the
projections agree with the log."""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from banli.demo.generate import generate_history, to_jsonl
from banli.history import reference_report, run_history
from banli.domain.views.rates import Scope
from tests.conftest import SECRET, free_port, token_for

pytestmark = pytest.mark.slow


@dataclass
class ServedHistory:
    """A generated history's lines in a file, and where `banli serve` and `banli import` keep
    and serve it: the data dir, a free port, the environment and the commands' common flags."""

    lines: list[str]
    history: Path
    data: Path
    port: int
    env: dict
    common: list[str]

    @classmethod
    def make(cls, tmp_path: Path, proposals: int, seed: int) -> "ServedHistory":
        lines = [to_jsonl(line) for line in generate_history(proposals, seed=seed, noise=0.02)]
        history, data = tmp_path / "history.jsonl", tmp_path / "data"
        history.write_text("".join(lines), encoding="utf-8")
        return cls(lines, history, data, free_port(),
                   {**os.environ, "BANLI_SECRET": SECRET, "PYTHONUNBUFFERED": "1"},
                   ["--data-dir", str(data)])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def banli(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "apps.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not come up")


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_sigkill_during_import_loses_and_doubles_nothing(tmp_path):
    rng = random.Random(int(os.environ.get("BANLI_CRASH_SEED", "1120")))
    served = ServedHistory.make(tmp_path, 1500, seed=77)

    # the reference: what the log must end up holding
    ledger, problems = run_history(served.lines)
    total = sum(len(stream) for stream in ledger.streams.values())
    partial: list[int] = []  # events in the log after each kill
    for round_ in range(3):  # import and serve, the import killed partway each time
        server = banli("serve", *served.common, "--port", str(served.port), env=served.env)
        wait_healthy(served.url, server)
        importer = banli("import", str(served.history), *served.common, env=served.env)
        # A chosen point of the import, not a fixed sleep: once the log holds a random 20–60%
        # of the final events (polled), on a fast machine and a slow one alike.
        before = count_events(served.data / "events.sqlite3") if round_ else 0
        target = before + int((total - before) * rng.uniform(0.2, 0.6))
        wait_for_events(served.data / "events.sqlite3", target, importer)
        kill(importer)
        partial.append(count_events(served.data / "events.sqlite3"))
        time.sleep(rng.uniform(0.0, 0.5))
        kill(server)

    server = banli("serve", *served.common, "--port", str(served.port), env=served.env)
    try:
        wait_healthy(served.url, server)
        finished = subprocess.run([sys.executable, "-m", "apps.cli", "import",
                                   str(served.history), *served.common], env=served.env,
                                  capture_output=True, text=True, timeout=600)
        assert finished.returncode == 0, finished.stderr

        # The log holds exactly the reference's events: same ids, same order per proposal.
        expected = sorted((ev.proposal_id, ev.seq, ev.event_id, ev.type)
                          for stream in ledger.streams.values() for ev in stream)
        with sqlite3.connect(served.data / "events.sqlite3") as db:
            stored = sorted(db.execute("SELECT stream, seq, event_id, type FROM events"))
            accepted = db.execute("SELECT count(*) FROM commands WHERE accepted = 1").fetchone()[0]
        assert stored == expected
        assert all(0 < n < len(expected) for n in partial), f"an import was not cut short: {partial}"
        assert accepted == sum(1 for o in ledger.decided.values() if isinstance(o, list))
        assert problems, "the noisy history has refused lines"

        # The projections agree with the log, and report what the reference reports.
        agrees_with_the_log(served.url, ledger, len(expected), wait_s=60)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def agrees_with_the_log(url: str, ledger, total: int, wait_s: float) -> dict:
    """Wait (up to `wait_s`) until the served projections have caught up with the log and the
    projector reports no error; then their counts equal the log's `total` events and their
    reports the reference's, for all bureaus and for one. Returns the last status."""
    headers = {"Authorization": f"Bearer {token_for(SECRET, 'overseer')}"}
    deadline = time.monotonic() + wait_s
    while True:
        status = httpx.get(f"{url}/api/status", headers=headers, timeout=30).json()
        if (status["lag"] == 0 and status["projector_error"] is None
                or time.monotonic() > deadline):
            break
        time.sleep(0.2)
    assert status["projected_events"] == status["log_events"] == total, status
    assert status["projector_error"] is None, status
    for scope in (Scope(bureau=None, years=(2018, 2020), as_of=ledger_last_day(ledger)),
                  Scope(bureau="sh-ipa", years=(2019, 2019), as_of=ledger_last_day(ledger))):
        r = httpx.get(f"{url}/api/report", headers=headers, timeout=60, params={
            "years": f"{scope.years[0]}-{scope.years[1]}", "as_of": scope.as_of.isoformat(),
            **({"bureau": scope.bureau} if scope.bureau else {"all": "true"})})
        assert r.json() == reference_report(ledger, scope).model_dump(mode="json")
    return status


def count_events(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
        return db.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0]


def wait_for_events(path: Path, target: int, importer: subprocess.Popen,
                    timeout: float = 300) -> None:
    """Poll the log until it holds `target` events (the importer still running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and count_events(path) >= target:
            return
        if importer.poll() is not None:
            raise AssertionError(f"the import ended before {target} events: "
                                 f"{importer.stdout.read()}")
        time.sleep(0.005)
    raise AssertionError(f"the log did not reach {target} events in {timeout} s")


def ledger_last_day(ledger):
    from banli.domain.types import business_date

    return max(business_date(s[-1].occurred_at) for s in ledger.streams.values())
