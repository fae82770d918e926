"""`banli serve` as an operator runs it: each request logged on standard output (client,
method, path, status, time; never the token, the query string or a body), and SIGTERM with a
live feed open ends the feed (`end`, `server_stopping`) and the process cleanly, without a
traceback and well within the shutdown's grace period."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from banli.web.serve import GRACE_S
from tests.conftest import ROOT, SECRET, free_port, token_for
from tests.e2e.test_crash_restart import wait_healthy

pytestmark = pytest.mark.slow


def test_serve_logs_each_request_and_stops_cleanly_with_a_live_feed_open(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BANLI_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
    out, err = (tmp_path / "stdout.txt").open("w+"), (tmp_path / "stderr.txt").open("w+")
    server = subprocess.Popen([sys.executable, "-m", "apps.cli", "serve", "--data-dir",
                               str(tmp_path / "data"), "--port", str(port)], cwd=ROOT, env=env,
                              stdout=out, stderr=err, text=True)
    try:
        wait_healthy(url, server)
        token = token_for(SECRET, "overseer")
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/api/bureaus", headers=headers).status_code == 200
        assert httpx.get(f"{url}/api/bureaus", headers=headers,
                         params={"secret-query": "q-9f2c"}).status_code == 422
        admin = token_for(SECRET, "admin")
        assert httpx.post(f"{url}/api/bureaus", headers={"Authorization": f"Bearer {admin}"},
                          json={"bureau": "sh-ipa", "name": "body-7d1e"}).status_code == 201
        assert httpx.get(f"{url}/api/proposals/%0Aforged%20200").status_code == 401

        frames: list[str] = []
        opened = threading.Event()

        def listen() -> None:
            with httpx.stream("GET", f"{url}/api/live", headers=headers, timeout=60) as stream:
                for line in stream.iter_lines():
                    frames.append(line)
                    opened.set()

        reader = threading.Thread(target=listen, daemon=True)
        reader.start()
        assert opened.wait(30)
        asked = time.monotonic()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        took = time.monotonic() - asked
        reader.join(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)
    out.seek(0), err.seek(0)
    logged, said = out.read(), err.read()

    assert "Traceback" not in said and "Cancel" not in said, said
    assert took < GRACE_S + 5, took  # the feed ended itself: nothing waited for the grace period
    ends = [json.loads(f[5:]) for i, f in enumerate(frames)
            if f.startswith("data:") and frames[i - 1] == "event: end"]
    assert [e["code"] for e in ends] == ["server_stopping"] and ends[0]["message"], frames

    access = [line for line in logged.splitlines() if '"' in line]
    for request in ('127.0.0.1 "GET /api/bureaus" 200', '127.0.0.1 "GET /api/bureaus" 422',
                    '127.0.0.1 "POST /api/bureaus" 201', '127.0.0.1 "GET /api/live" 200',
                    '127.0.0.1 "GET /api/proposals/%0Aforged%20200" 401'):
        assert any(request in line for line in access), (request, logged)
    for secret in (token, token.split(".")[2], admin, "q-9f2c", "secret-query", "body-7d1e"):
        assert secret not in logged and secret not in said, secret
    assert not any(line.startswith("forged") for line in logged.splitlines())
