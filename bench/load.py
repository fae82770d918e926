"""The latency people feel at the workbench (issue 24): command and page latency on
`banli serve` under many people at once, driven by Locust (bench/scenarios.py): 50 clerks
working their lists (work list, an item's drawer, a command), 10 dashboards refreshing every
5 s and 200 live-feed subscribers, with the bare route (`GET /api/me`: the same token check,
nothing read) hit at a steady rate in the same run and the same server process as the baseline.

    python -m bench.load DATA_DIR [--seconds 120] [--clerks 50 --dashboards 10 --subscribers 200]

serves a data dir already imported (`banli import`) and prints the figures; `python -m bench`
measures the one it imports, in a process of its own (Locust patches its process for gevent,
so nothing else of the bench imports it). The figures: each route's p50 and p99 beside the bare
route's; a command's p99 at most 10× the bare route's; each page's p99 (the work list, the
drawer, the dashboard) under the 300 ms budget.
"""
from __future__ import annotations

if __name__ == "__main__":  # Locust runs on gevent: patch before anything imports threading
    from gevent import monkey

    monkey.patch_all()

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from . import results
from .results import Figure

COMMAND_FLOOR = 0.1  # a command's p99 at most 10× the bare route's (ratio: bare / ours)

# The requests by route (bench/scenarios.py names them so): one line of statistics each.
BARE = "GET /api/me"  # the bare route: the same token check, nothing read
WORK = "GET /api/work"
DRAWER = "the drawer's 3 GETs at once"
DRAWER_GETS = ("GET /api/proposals/{id}", "GET /api/proposals/{id}/history",
               "GET /api/proposals/{id}/deadlines")
COMMAND = "POST /api/commands"
DASHBOARD = "GET /api/dashboard"
LIVE = "GET /api/live (until hello)"
PAGE, SSE = "PAGE", "SSE"  # request types of the timings taken by the scenarios themselves


@dataclass(frozen=True)
class Users:
    clerks: int = 50
    dashboards: int = 10
    subscribers: int = 200
    bare: int = 2  # at --bare-rate requests/s each
    bare_rate: float = 5.0
    think: tuple[float, float] = (3.0, 9.0)


def _cpu(pid: int | None) -> float:
    """A process's user + system CPU so far (/proc/PID/stat), in seconds (0 without one)."""
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(url: str, secret: str, users: Users, seconds: float, years: str,
          server_pid: int | None = None, profile: Path | None = None) -> dict[str, Any]:
    """Run the scenarios headless against `url` for `seconds` once every user has started, and
    return each route's samples' percentiles (ms), the commands' outcomes and what the live
    feed delivered; with `profile`, py-spy samples the server through that window
    (`serve-load.raw`, summarized in `serve-load.txt`). Imports Locust: call it in a process of
    its own."""
    import gevent
    from gevent.event import Event
    from locust import events
    from locust.env import Environment

    from . import scenarios as s
    from .distributed import percentiles, spy, summarize

    s.configure(url, secret, years=years, think=users.think, bare_rate=users.bare_rate)
    classes = {s.Clerk: users.clerks, s.Dashboard: users.dashboards,
               s.LiveSubscriber: users.subscribers, s.Bare: users.bare}
    for cls, count in classes.items():
        cls.fixed_count = count
    env = Environment(user_classes=[c for c, n in classes.items() if n], host=url,
                      events=events)
    samples: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, Counter] = defaultdict(Counter)
    commands: Counter = Counter()

    def record(request_type, name, response_time, exception=None, response=None,
               context=None, **_kwargs):
        samples[name].append(response_time)
        status = getattr(response, "status_code", None)
        statuses[name][str(status) if status is not None else
                       ("ok" if exception is None else type(exception).__name__)] += 1
        if context and "command" in context:
            commands[f"{context['command']} {status}"] += 1

    env.events.request.add_listener(record)
    runner = env.create_local_runner()
    spawned = Event()
    env.events.spawning_complete.add_listener(lambda user_count: spawned.set())
    total = sum(classes.values())
    print(f"starting {total} users: {users}", file=sys.stderr, flush=True)
    runner.start(total, spawn_rate=max(20.0, total / 10))
    if not spawned.wait(timeout=300):
        raise RuntimeError("the users did not all start within 300 s")
    # the window starts once everyone is in; the live feed's connects happen before it
    for name in [n for n in samples if n != LIVE]:
        del samples[name]
    statuses.clear()
    commands.clear()
    s.LIVE_READ.update(batches=0, bytes=0)
    load_before, cpu_before = os.getloadavg()[0], _cpu(server_pid)
    client_before = _cpu(os.getpid())
    raw = profile / "serve-load.raw" if profile and server_pid else None
    spying = spy(server_pid, raw) if raw and server_pid else None
    started = time.perf_counter()
    gevent.sleep(seconds)
    elapsed = time.perf_counter() - started
    cpu_after, client_after = _cpu(server_pid), _cpu(os.getpid())
    routes = {name: {**percentiles(values), "statuses": dict(statuses[name])}
              for name, values in samples.items() if values}
    taken_commands, live = dict(commands), dict(s.LIVE_READ)
    runner.quit()
    if spying is not None and raw is not None:
        spying.send_signal(signal.SIGINT)
        spying.wait(timeout=60)
        raw.with_suffix(".txt").write_text(summarize(raw, top=25), encoding="utf-8")
    for name, p in sorted(routes.items()):
        print(f"{name}: n {p['n']}, p50 {p['p50']:.1f} ms, p99 {p['p99']:.1f} ms",
              file=sys.stderr, flush=True)
    return {"routes": routes, "commands": taken_commands, "live": live,
            "seconds": elapsed, "users": asdict(users),
            "load_1min": [load_before, os.getloadavg()[0]],
            "server_cpu": (cpu_after - cpu_before) / elapsed if server_pid else None,
            "client_cpu": (client_after - client_before) / elapsed,
            "cpu_warning": bool(runner.cpu_warning_emitted)}


def serve_and_drive(data_dir: Path, work: Path, users: Users, seconds: float, years: str,
                    profile: Path | None = None) -> dict[str, Any]:
    """Serve an imported data dir with `banli serve`, wait until it has projected the log, and
    drive the load against it."""
    from .distributed import Service

    secret = secrets.token_urlsafe(32)
    env = {**os.environ, "BANLI_SECRET": secret, "PYTHONUNBUFFERED": "1"}
    server = Service(["serve", "--data-dir", str(data_dir)], env, work, "serve-load")
    try:
        server.wait()
        found = drive(server.url, secret, users, seconds, years, server.proc.pid, profile)
        found["server_peak_rss_mb"] = server.peak_rss_mb()
        return found
    finally:
        server.stop()


def in_process(data_dir: Path, work: Path, users: Users, seconds: float, years: str,
               proposals: int, profile: Path | None = None) -> dict[str, Any]:
    """`python -m bench.load` in a process of its own (Locust patches its process for
    gevent); what it measured, as `drive` returns it."""
    out = work / "load.json"
    subprocess.run([sys.executable, "-m", "bench.load", str(data_dir), "--work", str(work),
                    "--seconds", str(seconds), "--years", years, "--json", str(out),
                    "--proposals", str(proposals),
                    *_user_flags(users), *(["--profile", str(profile)] if profile else [])],
                   check=True,
                   cwd=Path(__file__).resolve().parent.parent)
    return json.loads(out.read_text(encoding="utf-8"))


def _user_flags(users: Users) -> list[str]:
    return ["--clerks", str(users.clerks), "--dashboards", str(users.dashboards),
            "--subscribers", str(users.subscribers), "--bare-users", str(users.bare),
            "--bare-rate", str(users.bare_rate),
            "--think", f"{users.think[0]:g},{users.think[1]:g}"]


# --- the figures -------------------------------------------------------------------------------
def figures(found: dict[str, Any], proposals: int) -> list[Figure]:
    """Each route's p50 (stated, beside the bare route's) and p99: the command route's at most
    10× the bare route's p99 (ratio: bare / ours, floor 0.1), each page's under the budget
    (results.bounded: ratio bare / ours, floor bare / budget), the rest stated."""
    from .workbench import BUDGET_MS

    routes, u = found["routes"], found["users"]
    bare = routes[BARE]
    size = f"{proposals:,} proposals"
    load = (f"{u['clerks']} clerks, {u['dashboards']} dashboards, {u['subscribers']} live "
            f"subscribers, {found['seconds']:.0f} s; load {found['load_1min'][0]:.1f}→"
            f"{found['load_1min'][1]:.1f}"
            + (f"; server CPU {found['server_cpu']:.2f} cores" if found["server_cpu"] else "")
            + f"; Locust's CPU {found['client_cpu']:.2f} cores"
            + ("; Locust warned of its own CPU" if found["cpu_warning"] else ""))
    out = [Figure(f"bare route ({BARE}, the same token check) under load, {q} ({size})",
                  bare[q], "ms", note=(f"{bare['n']} calls at {u['bare'] * u['bare_rate']:g}/s "
                                       f"beside {load}") if q == "p50" else "")
           for q in ("p50", "p99")]
    command = routes.get(COMMAND)
    if command and command["n"]:
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(found["commands"].items()))
        out += [results.latency(f"command latency ({COMMAND}) under load, p50 ({size})",
                                command["p50"], bare["p50"], "ms",
                                f"{command['n']} commands ({outcomes}); refusals are "
                                f"latencies too"),
                results.speedup(f"command latency ({COMMAND}) under load, p99 ({size})",
                                command["p99"], bare["p99"], "ms", COMMAND_FLOOR,
                                "ratio: the bare route's p99 over ours; floor: at most 10× "
                                "the bare route's")]
    pages = {WORK: "the workbench's list", DRAWER: "an item's drawer",
             DASHBOARD: "the dashboard"}
    for name, label in pages.items():
        page = routes.get(name)
        if not page or not page["n"]:
            continue
        out += [results.latency(f"page: {label} ({name}) under load, p50 ({size})", page["p50"], bare["p50"], "ms",
                                f"{page['n']} loads; statuses {page['statuses']}"),
                results.bounded(f"page: {label} ({name}) under load, p99 ({size})", page["p99"], bare["p99"], "ms", BUDGET_MS,
                                f"ratio: the bare route's p99 over ours; floor: under the "
                                f"{BUDGET_MS:g} ms budget" if name == WORK else "")]
    for name in [*DRAWER_GETS, LIVE]:
        route = routes.get(name)
        if route and route["n"]:
            out.append(results.latency(f"{name} under load, p99 ({size})",
                                       route["p99"], bare["p99"], "ms",
                                       f"p50 {route['p50']:.1f} ms, {route['n']} calls"
                                       + (f"; the feed delivered {found['live']['batches']:,} "
                                          f"batches, {found['live']['bytes'] / 1e6:.1f} MB"
                                          if name.endswith(LIVE) else "")))
    return out


# --- the command -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_dir", type=Path, help="a data dir imported (banli import) beforehand")
    add_load_flags(p)
    p.add_argument("--years", default="2018-2021", help="the dashboard's years (default: the "
                                                        "bench workload's, 2018-2021)")
    p.add_argument("--proposals", type=int, default=0, help="how many it holds, for the labels")
    p.add_argument("--work", type=Path, help="where the server's log goes (default: beside "
                                             "the data dir)")
    p.add_argument("--json", type=Path, help="also write what was measured here")
    p.add_argument("--profile", type=Path, metavar="DIR",
                   help="py-spy samples the server through the measured window: "
                        "DIR/serve-load.raw, and its summary DIR/serve-load.txt")
    return p


def add_load_flags(p: argparse.ArgumentParser) -> None:
    """The load's flags, shared with `python -m bench`."""
    d = Users()
    p.add_argument("--seconds", type=float, default=120.0,
                   help="how long the load is measured once every user has started "
                        "(default 120)")
    p.add_argument("--clerks", type=int, default=d.clerks, help="default 50")
    p.add_argument("--dashboards", type=int, default=d.dashboards, help="default 10")
    p.add_argument("--subscribers", type=int, default=d.subscribers, help="default 200")
    p.add_argument("--bare-users", type=int, default=d.bare, help="default 2")
    p.add_argument("--bare-rate", type=float, default=d.bare_rate,
                   help="requests/s of each bare user (default 5)")
    p.add_argument("--think", default=f"{d.think[0]:g},{d.think[1]:g}",
                   help="a clerk's think time between items, MIN,MAX seconds (default 3,9)")


def users_from(args: argparse.Namespace) -> Users:
    low, high = (float(x) for x in args.think.split(","))
    return Users(args.clerks, args.dashboards, args.subscribers, args.bare_users,
                 args.bare_rate, (low, high))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    found = serve_and_drive(args.data_dir, args.work or args.data_dir.parent, users_from(args),
                            args.seconds, args.years, args.profile)
    if args.json:
        args.json.write_text(json.dumps(found, indent=2), encoding="utf-8")
    print(results.table(figures(found, args.proposals)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
