"""The workbench's load scenarios (bench/scenarios.py) run against `banli serve` and give
statistics per route (issue 24). Nothing here is timed: speed is measured in bench/, never
asserted in tests."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.__main__ import write_history
from bench import load
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_the_scenarios_run_and_give_each_route_its_percentiles(tmp_path):
    history, data = tmp_path / "history.jsonl", tmp_path / "data"
    write_history(history, 200, 2020, 24)
    subprocess.run([sys.executable, "-m", "apps.cli", "import", str(history), "--data-dir",
                    str(data)], cwd=ROOT, check=True, capture_output=True, timeout=300)
    out = tmp_path / "load.json"
    run = subprocess.run([sys.executable, "-m", "bench.load", str(data), "--seconds", "4",
                          "--clerks", "4", "--dashboards", "1", "--subscribers", "4",
                          "--think", "0.1,0.3", "--json", str(out), "--work", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    routes = json.loads(out.read_text(encoding="utf-8"))["routes"]
    for name in (load.BARE, load.WORK, load.DRAWER, *load.DRAWER_GETS, load.COMMAND,
                 load.DASHBOARD, load.LIVE):
        assert routes[name]["n"] > 0, name
        assert routes[name]["p50"] <= routes[name]["p99"]
    assert set(routes[load.COMMAND]["statuses"]) <= {"201", "409", "422"}
    assert "command latency (POST /api/commands) under load, p99" in run.stdout
