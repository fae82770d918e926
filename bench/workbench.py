"""The workbench's pages as the server answers them (issues 21 and 24): a bureau's work
(`GET /api/work` for its clerk), everyone's work and the desk for the coordinator, and search,
each timed on `banli serve` beside a bare route in the same process (`GET /api/me`: the same
token check, nothing read), against the 300 ms budget a page has on these 2 cores.

    python -m bench.workbench DATA_DIR [--bureau sh-ipa] [--repeat 30]

measures a data dir already imported (serving it with `banli serve`); `python -m bench` measures
the one it imports (bench/server.py), with every other figure."""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Sequence

from banli.auth import issue_token
from banli.domain.types import Actor

from . import results
from .distributed import Service, percentiles
from .results import Figure

BUDGET_MS = 300.0  # a page's answer, on these 2 cores, at 200,000 proposals
LABELS = {"bare": "bare route (GET /api/me, the same token check)",
          "work": "a bureau's work (GET /api/work, its clerk)",
          "work_all": "every bureau's work (GET /api/work, the coordinator)",
          "desk": "the desk (GET /api/desk)",
          "search": "search (GET /api/search)"}


def _client(url: str, secret: str, role: str, bureau: str | None = None):
    token = issue_token(secret, Actor(user=f"bench-{role}", role=role, bureau=bureau), 86400)

    def get(path: str) -> float:
        """Seconds to the whole answer (200 only)."""
        request = urllib.request.Request(f"{url}{path}",
                                         headers={"Authorization": f"Bearer {token}"})
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response:
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status}")
        return time.perf_counter() - start

    return get


def time_routes(url: str, secret: str, bureau: str, repeat: int) -> dict[str, dict[str, float]]:
    """Each route `repeat` times after one warm-up call, in interleaved rounds (a burst of
    someone else's load falls on every route alike); the percentiles of each, in seconds."""
    clerk, coordinator = _client(url, secret, "clerk", bureau), _client(url, secret,
                                                                       "coordinator")
    routes = {"bare": (clerk, "/api/me"), "work": (clerk, "/api/work"),
              "work_all": (coordinator, "/api/work"), "desk": (coordinator, "/api/desk"),
              "search": (clerk, "/api/search?" + urllib.parse.urlencode({"q": "知识产权 建议"}))}
    samples: dict[str, list[float]] = {name: [] for name in routes}
    for get, path in routes.values():
        get(path)
    for _ in range(repeat):
        for name, (get, path) in routes.items():
            samples[name].append(get(path))
    found = {name: percentiles(values) for name, values in samples.items()}
    for name, p in found.items():
        print(f"{name}: p50 {p['p50'] * 1000:.1f} ms, p95 {p['p95'] * 1000:.1f} ms",
              file=sys.stderr, flush=True)
    return found


def figures(times: dict[str, dict[str, float]], proposals: int, bureau: str) -> list[Figure]:
    """The bare route's p50 and p95, stated; each page's against the budget (ratio: the
    budget over ours, floor 1 on the p50 and the p95 of a bureau's work), with its ratio to the
    bare route in the note."""
    bare = times["bare"]
    found = [Figure(f"{LABELS['bare']}, {q} ({proposals:,} proposals)", bare[q] * 1000, "ms",
                    note=f"{bare['n']} calls, interleaved with the pages'" if q == "p50" else "")
             for q in ("p50", "p95")]
    for name in ("work", "work_all", "desk", "search"):
        for q in ("p50", "p95"):
            value = times[name][q] * 1000
            floored = name == "work"
            found.append(Figure(
                f"{LABELS[name]}, {q} ({proposals:,} proposals)", value, "ms", BUDGET_MS,
                BUDGET_MS / value, 1.0 if floored else None,
                f"{times[name][q] / bare[q]:.1f}× the bare route's {q}"
                + (f"; bureau {bureau}; baseline: the {BUDGET_MS:g} ms budget"
                   if floored and q == "p50" else "")))
    return found


def serve_and_time(data_dir: Path, work: Path, bureau: str, repeat: int
                   ) -> dict[str, dict[str, float]]:
    """Serve an imported data dir with `banli serve`, wait until it has projected the log,
    and time the routes."""
    secret = secrets.token_urlsafe(32)
    env = {**os.environ, "BANLI_SECRET": secret, "PYTHONUNBUFFERED": "1"}
    server = Service(["serve", "--data-dir", str(data_dir)], env, work, "serve-workbench")
    try:
        server.wait()  # it answers once its projections have caught up with the log
        return time_routes(server.url, secret, bureau, repeat)
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.workbench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_dir", type=Path, help="a data dir imported (banli import) beforehand")
    p.add_argument("--bureau", default="sh-ipa", help="whose clerk's work (default sh-ipa)")
    p.add_argument("--repeat", type=int, default=30, help="calls per route (default 30)")
    p.add_argument("--proposals", type=int, default=0, help="how many it holds, for the labels")
    args = p.parse_args(argv)
    times = serve_and_time(args.data_dir, args.data_dir.parent, args.bureau, args.repeat)
    print(results.table(figures(times, args.proposals, args.bureau)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
