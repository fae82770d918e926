"""`make run` on a fresh clone serves the demo: started as a user would, it prints the URL and
tokens, and the model bureau's 2020 report is read over HTTP."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import httpx
import pytest

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.slow


def test_make_run_on_a_fresh_clone_serves_the_demo(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    port = free_port()
    env = {**os.environ, "BANLI_DATA_DIR": str(tmp_path / "data"), "BANLI_PORT": str(port)}
    env.pop("VIRTUAL_ENV", None)
    log = (tmp_path / "make-run.log").open("w+")
    proc = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 900  # installs the venv first
        while True:
            log.seek(0)
            output = log.read()
            if (match := re.search(r"running at (http://\S+)", output)) and "overseer:" in output:
                break
            assert proc.poll() is None, output[-3000:]
            assert time.monotonic() < deadline, output[-3000:]
            time.sleep(1)
        url = match.group(1)
        assert url == f"http://127.0.0.1:{port}"
        clerk = re.search(r"clerk \(sh-ipa\): (\S+)", output).group(1)
        r = httpx.get(f"{url}/api/report", headers={"Authorization": f"Bearer {clerk}"},
                      params={"bureau": "sh-ipa", "years": "2020", "as_of": "2020-11-20"},
                      timeout=60)
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["proposals"] == 29
        assert report["assignments"] == {"npc_suggestion": {"lead": 2, "co": 9},
                                         "cppcc_proposal": {"lead": 8, "co": 10}}
        assert report["results"]["solved"] == 9 and report["results"]["reference"] == 1
        overseer = re.search(r"overseer: (\S+)", output).group(1)
        bureaus = httpx.get(f"{url}/api/bureaus", timeout=60,
                            headers={"Authorization": f"Bearer {overseer}"}).json()["bureaus"]
        assert len(bureaus) >= 6, "the demo has other bureaus beside the model one"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
