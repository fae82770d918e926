"""The embedded server as a user runs it: `banli serve` in a process of its own, `banli import`
beside it, then the report asked over HTTP; its peak memory read from /proc."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from banli.domain.rates import Scope
from apps.local import Progress

from .distributed import ROOT, Api, Service, percentiles
from .workbench import time_routes

WORK_BUREAU = "sh-ipa"  # the first of the generated bureaus: whose clerk's work is timed


def report_query(scope: Scope) -> str:
    query = {"years": f"{scope.years[0]}-{scope.years[1]}", "as_of": scope.as_of.isoformat()}
    query.update({"bureau": scope.bureau} if scope.bureau else {"all": "true"})
    return "/api/report?" + urllib.parse.urlencode(query)


def serve_stage(history: Path, data_dir: Path, work: Path, scopes: dict[str, Scope],
                repeat: int) -> dict[str, Any]:
    """Start the server on an empty data dir, import the history beside it until everything is
    projected, time each scope's report `repeat` times and the workbench's pages beside a bare
    route (bench/workbench.py), and read the server's peak RSS."""
    secret = secrets.token_urlsafe(32)  # a weak BANLI_SECRET is refused
    env = {**os.environ, "BANLI_SECRET": secret, "PYTHONUNBUFFERED": "1"}
    server = Service(["serve", "--data-dir", str(data_dir)], env, work, "serve")
    try:
        server.wait()
        api = Api(server.url, secret, "admin")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "apps.cli", "import", str(history),
                        "--data-dir", str(data_dir)], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        status = api.get("/api/status")
        progress = Progress(status["log_events"], "projected by the server")
        while status["lag"] > 0 or status["projected_events"] < status["log_events"]:
            if status.get("projector_error"):
                raise RuntimeError(f"server projector: {status['projector_error']}")
            progress.update(status["projected_events"])
            time.sleep(0.2)
            status = api.get("/api/status")
        loaded = time.perf_counter() - start
        progress.update(status["projected_events"], force=True)
        times: dict[str, dict[str, float]] = {}
        for name, scope in scopes.items():
            path = report_query(scope)
            api.get(path)  # the first call may compile and warm caches: not counted
            samples = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                api.get(path)
                samples.append(time.perf_counter() - t0)
            times[name] = percentiles(samples)
            print(f"report {name}: p50 {times[name]['p50'] * 1000:.1f} ms", file=sys.stderr,
                  flush=True)
        print("the workbench's pages beside a bare route", file=sys.stderr, flush=True)
        pages = time_routes(server.url, secret, WORK_BUREAU, repeat)
        peak = server.peak_rss_mb()
        with_lines = sum(1 for _ in history.open(encoding="utf-8"))
        return {"commands": with_lines, "events": status["log_events"],
                "load_seconds": loaded, "load_commands_per_s": with_lines / loaded,
                "report": times, "workbench": pages, "peak_rss_mb": peak}
    finally:
        server.stop()
