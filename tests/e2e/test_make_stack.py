"""`make stack` (`banli stack --demo`) starts the distributed deployment as a user would: its own
broker from the cached jars, the topics, the three services and the demo history; it prints
the page's URL and demo tokens, the model bureau's 2020 report reads over HTTP from the
reporting service, and Ctrl-C stops the services and the broker."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests.conftest import ROOT, free_port

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_banli_stack_starts_the_distributed_demo_and_ctrl_c_stops_it(tmp_path):
    root = tmp_path / "stack"
    tag = uuid.uuid4().hex[:8]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANLI_")}
    env.update({"BANLI_TOPIC_PREFIX": f"s{tag}.", "BANLI_APP_ID": f"s{tag}",
                "PYTHONUNBUFFERED": "1"})
    log = (tmp_path / "stack.log").open("w+")
    # its own session, as a terminal's foreground job: Ctrl-C is SIGINT to that group
    proc = subprocess.Popen([sys.executable, "-m", "apps.cli", "stack", "--demo", "--free-ports",
                             "--data-dir", str(root), "--kafka-port", str(free_port())],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while "Ctrl-C stops" not in (output := (log.seek(0), log.read())[1]):
            assert proc.poll() is None, output[-3000:]
            assert time.monotonic() < deadline, output[-3000:]
            time.sleep(0.5)
        started = json.loads((root / "stack.json").read_text())
        page = re.search(r"the page at (http://\S+)", output).group(1)
        assert page == started["page"] == f"{started['reporting']['url']}/app/"
        assert re.search(r"载入 \d+ 条", output), output  # the demo, on this first start
        clerk = re.search(r"clerk \(sh-ipa\): (\S+)", output).group(1)
        with httpx.Client(base_url=started["reporting"]["url"], timeout=60,
                          headers={"Authorization": f"Bearer {clerk}"}) as reporting:
            deadline = time.monotonic() + 300
            while (report := reporting.get("/api/report", params={
                    "bureau": "sh-ipa", "years": "2020", "as_of": "2020-11-20"}).json()
                   )["replies"] < 10:  # projected as the worker catches up
                assert time.monotonic() < deadline, report
                time.sleep(0.5)
            assert report["proposals"] == 29
            assert report["results"]["solved"] == 9 and report["results"]["reference"] == 1
        overseer = re.search(r"#token=(\S+)", output).group(1)
        filers = httpx.get(f"{started['reporting']['url']}/api/my/proposals", timeout=60,
                           headers={"Authorization": "Bearer " + re.search(
                               r"filer \(filer-00\): (\S+)", output).group(1)}).json()
        assert filers["filer"]["name"] == "张伟" and filers["items"]  # the demo's registry
        status = httpx.get(f"{started['reporting']['url']}/api/status", timeout=60,
                           headers={"Authorization": f"Bearer {overseer}"}).json()
        assert status["log_events"] > 2900  # the model's history and the generated spread
        assert httpx.get(f"{started['intake']['url']}/healthz").status_code == 200
        broker = int((root / "kafka" / "kafka.pid").read_text())
        pids = [started[name]["pid"] for name in ("reporting", "handling", "intake")]
        assert all(alive(pid) for pid in [broker, *pids])

        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=120) == 0
        assert not any(alive(pid) for pid in [broker, *pids])
        assert not (root / "stack.json").exists()
        assert "正在停止" in (log.seek(0), log.read())[1]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=120)
