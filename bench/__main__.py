"""`python -m bench`: generate a realistic workload, measure every figure beside a baseline
measured in the same run, print the table and write bench/results.json.

    python -m bench                 # the default size: a few minutes
    python -m bench --large         # 200,000 proposals for replay, reports and memory
    python -m bench --skip kafka    # the embedded figures only (no broker)
    python -m bench --skip failover # not the failover and memory figures over 200,000 proposals
    python -m bench --skip load     # not the workbench's latency under load (Locust)
    python -m bench --profile       # also write pyinstrument profiles to bench/profiles/
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Sequence

from . import results
from .results import Figure

HERE = Path(__file__).resolve().parent
MEMORY_BUDGET_MB = 1536.0
DEFAULT_PROPOSALS = 2000
# The reports' p50 against the reference fold: 100× over the --large data (issue 15), and not
# slower than the fold at the default size, a city's few years.
REPORT_FLOOR = {True: 100.0, False: 1.0}
YEARS = (2018, 2021)
SCOPE_LABELS = {"bureau_current": "one bureau, current", "bureau_as_of": "one bureau, as of",
                "all_current": "all bureaus, current", "all_as_of": "all bureaus, as of"}


def in_child(fn: Callable[..., Any], *args: Any) -> Any:
    """Run one stage in a fresh process: chDB opens a path in one process only, and a stage's
    memory, threads and engine end with it."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def say(text: str) -> None:
    print(f"\n== {text}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    return {"cores": os.cpu_count(), "memory_gb": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "load_1min": os.getloadavg()[0]}


def write_history(path: Path, proposals: int, seed: int, bureaus: int) -> int:
    from banli.demo.generate import iter_history, to_jsonl

    count = 0
    with path.open("w", encoding="utf-8") as out:
        for line in iter_history(proposals, seed, YEARS, bureaus):
            out.write(to_jsonl(line))
            count += 1
    return count


# --- the stages --------------------------------------------------------------------------------
def embedded_write(args, work: Path, history: Path, profiles: Path | None) -> list[Figure]:
    from .embedded import write_ceiling, write_path
    from .peer import run_peer

    runs: dict[str, list[dict]] = {"batched": [], "single": [], "peer": [], "ceiling": []}
    for r in range(args.rounds):  # interleaved, best of each: the machine is shared
        say(f"embedded write path, round {r + 1} of {args.rounds}: ours (import path), its "
            f"ceiling (the same rows by executemany), ours (one command a transaction), the peer")
        runs["batched"].append(in_child(write_path, history, work / f"write-batched-{r}", True,
                                        profiles if r == 0 else None))
        runs["ceiling"].append(in_child(write_ceiling, history,
                                        work / f"write-batched-{r}" / "events.sqlite3",
                                        work / f"write-ceiling-{r}.sqlite3"))
        runs["single"].append(in_child(write_path, history, work / f"write-single-{r}", False,
                                       profiles if r == 0 else None))
        runs["peer"].append(in_child(run_peer, history, work / f"peer-{r}"))
    batched, single, peer, ceiling = (max(runs[k], key=lambda x: x["commands_per_s"])
                                      for k in ("batched", "single", "peer", "ceiling"))
    if peer["events"] != batched["events"]:
        raise RuntimeError(f"the peer recorded {peer['events']} events, ours {batched['events']}")
    note = (f"{batched['commands']:,} commands ({args.write_proposals:,} proposals), "
            f"{batched['events']:,} events, best of {args.rounds} interleaved rounds; peer: "
            f"eventsourcing {_version('eventsourcing')} + SQLite, get-decide-save per command")
    return [
        results.throughput("embedded write, import path (500 a transaction)",
                           batched["commands_per_s"], peer["commands_per_s"], "commands/s", 4,
                           note),
        results.throughput("embedded write, one command a transaction",
                           single["commands_per_s"], peer["commands_per_s"], "commands/s", 4),
        results.throughput("embedded write, import path, against its ceiling",
                           batched["commands_per_s"], ceiling["commands_per_s"], "commands/s",
                           None,
                           f"ceiling: the same {ceiling['events']:,} event rows inserted into a "
                           f"fresh SQLite file (same schema and pragmas) by executemany, in the "
                           f"same {ceiling['transactions']} transactions of 500 commands: "
                           f"{ceiling['events_per_s']:,.0f} events/s; stated, no floor"),
    ]


def serve_and_report(args, work: Path, history: Path, proposals: int, floor: float,
                     memory: bool = True) -> tuple[list[Figure], Path]:
    """Serve `history`, time the four report scopes against the reference fold (p50 floored at
    `floor`), and (with `memory`) the server's peak memory."""
    from .embedded import reference_times, report_scopes
    from .server import WORK_BUREAU, serve_stage
    from .workbench import figures as workbench_figures

    data = work / f"served-{proposals}"
    scopes = report_scopes(date.today(), YEARS, "sh-ipa")
    say(f"embedded server: import {proposals:,} proposals beside it, report queries, memory")
    served = serve_stage(history, data, work, scopes, args.repeat)
    say("reference report (the Python fold of `banli report --history`)")
    reference = in_child(reference_times, data / "events.sqlite3", scopes, args.reference_repeat)
    figures = [Figure(f"import beside the server, until projected ({proposals:,} proposals)",
                      served["load_commands_per_s"], "commands/s",
                      note=f"{served['commands']:,} commands, {served['events']:,} events; "
                           f"no baseline")]
    for name, sample in served["report"].items():
        base = sorted(reference[name])[len(reference[name]) // 2]
        for q in ("p50", "p95"):
            figures.append(results.speedup(
                f"report ({proposals:,} proposals), {SCOPE_LABELS[name]}, {q}",
                sample[q] * 1000, base * 1000, "ms", floor if q == "p50" else None,
                f"baseline: the reference fold's median; floor on the p50s: {floor:g}× at "
                f"{proposals:,} proposals" if q == "p50" and name == "bureau_current" else ""))
    figures += workbench_figures(served["workbench"], proposals, WORK_BUREAU)
    if memory:
        peak = served["peak_rss_mb"]
        figures.append(Figure("memory: peak RSS of banli serve", peak, "MB", MEMORY_BUDGET_MB,
                              MEMORY_BUDGET_MB / peak, 1.0,
                              f"holding {proposals:,} proposals; baseline = the 1.5 GB budget"))
    return figures, data


def embedded_replay(data: Path, profiles: Path | None, ceiling_events: int, rounds: int
                    ) -> list[Figure]:
    from .embedded import replay_embedded

    say("replay from the embedded store, then the ceiling (prebuilt rows into chDB)")
    r = in_child(replay_embedded, data, profiles, ceiling_events, rounds)
    return [results.throughput("replay from the embedded store", r["events_per_s"],
                               r["ceiling_events_per_s"], "events/s", 0.5,
                               f"{r['events']:,} events; ceiling: the same rows prebuilt, over "
                               f"{r['ceiling_events']:,} events; best of {rounds} rounds")]


def workbench_load(args, work: Path, data: Path, proposals: int, profiles: Path | None
                   ) -> list[Figure]:
    """The latency people feel: Locust's clerks, dashboards and live subscribers on `banli
    serve` over the served data dir, beside the bare route (bench/load.py, in a process of its
    own: Locust patches its process for gevent)."""
    from .load import Users, figures, in_process

    users = Users(clerks=args.clerks, dashboards=args.dashboards, subscribers=args.subscribers)
    say(f"the workbench under load: {users.clerks} clerks, {users.dashboards} dashboards, "
        f"{users.subscribers} live subscribers for {args.load_seconds:g} s (Locust)")
    found = in_process(data, work, users, args.load_seconds, f"{YEARS[0]}-{YEARS[1]}",
                       proposals, profiles)
    return figures(found, proposals)


def distributed(args, work: Path, data: Path, history: Path, profiles: Path | None
                ) -> list[Figure]:
    from . import distributed as d
    from banli.history import run_history

    broker = None
    bootstrap = args.kafka
    if bootstrap is None:
        from tests.kafka_broker import KafkaBroker

        say("starting a Kafka broker (deploy/kafka/broker.sh)")
        broker = KafkaBroker.start()
        bootstrap = broker.bootstrap
    figures: list[Figure] = []
    try:
        say("replay from Kafka, then the ceiling")
        topic = f"bench{os.getpid()}.events"
        d.publish_events(bootstrap, topic, args.partitions, data / "events.sqlite3")
        r = in_child(d.replay_kafka, bootstrap, topic, work, profiles, args.ceiling_events,
                     args.rounds)
        figures.append(results.throughput(
            "replay from Kafka", r["events_per_s"], r["ceiling_events_per_s"], "events/s", 0.5,
            f"{r['events']:,} events, {args.partitions} partitions"))

        say("distributed end to end: intake HTTP → handling → reporting")
        with history.open(encoding="utf-8") as lines:
            ledger, problems = run_history(lines)
        events = sum(len(s) for s in ledger.streams.values())
        stack = d.Stack(bootstrap, work / "stack", args.partitions)
        (work / "stack").mkdir(exist_ok=True)
        try:
            stack.start()
            e2e = d.end_to_end(stack, history, events, profiles,
                               broker.pid if broker is not None else None)
            fresh = d.freshness(stack, args.rate, args.seconds)
        finally:
            stack.stop()
        say("the bare relay: same messages, then the same steady rate")
        relay = d.relay_throughput(bootstrap, args.partitions, work, history)
        cpu = ", ".join(f"{name} {ms:.3f}" for name, ms in [
            *e2e["cpu_ms_per_command"].items(),
            *((f"relay's {name}", ms) for name, ms in relay["cpu_ms_per_message"].items())])
        say(f"CPU ms a command: {cpu}")
        relay_fresh = d.relay_freshness(bootstrap, args.partitions, work, args.rate, args.seconds)
        figures.append(results.throughput(
            "distributed end to end (intake HTTP → visible in reporting)", e2e["commands_per_s"],
            relay["messages_per_s"], "commands/s", 0.25,
            f"{e2e['commands']:,} commands ({args.distributed_proposals:,} proposals), "
            f"{events:,} events, {len(problems)} refused; bare relay: kafka-python "
            f"produce → consume → produce → consume; CPU ms a command: {cpu}"))
        for q in ("p50", "p99"):
            figures.append(results.latency(
                f"freshness {q} (accepted → in reporting's live feed)", fresh[q] * 1000,
                relay_fresh[q] * 1000, "ms",
                f"{fresh['measured']} of {fresh['sent']} submits at {args.rate:g}/s; relay "
                f"{relay_fresh['n']} messages" if q == "p50" else ""))
        if "failover" not in args.skip:
            figures += failover_figures(args, bootstrap, work)
    finally:
        if broker is not None:
            broker.cleanup()
    return figures


def failover_figures(args, bootstrap: str, work: Path) -> list[Figure]:
    """Failover and the surviving worker's peak RSS, over a small and a large log (each size
    in a process of its own: deciding the large log holds its states in memory)."""
    from .failover import failover

    runs = []
    for proposals in args.failover_proposals:
        say(f"failover: {proposals:,} proposals written onto the topics, two handling workers, "
            f"one SIGKILLed")
        runs.append(in_child(failover, bootstrap, work / f"failover-{proposals}",
                             args.partitions, proposals, args.seed, args.bureaus))
    small, large = runs[0], runs[-1]
    label = lambda run: f"{run['proposals']:,} proposals"  # noqa: E731
    note = lambda run: (  # noqa: E731
        f"{run['events']:,} events; first decision on a moved partition (of {run['moved']}), "
        f"all of them answered again after {run['failover_all_s']:.1f} s; loading the moved "
        f"partitions took {', '.join(f'{s:g}' for s in run['takeover_load_s'])} s; the session "
        f"timeout ({run['session_timeout_s']:g} s) is part of it; the log written in {run['seconds']:.0f} s, the worker's "
        f"local cache built from it in {run['cache_built_s']:.1f} s")
    return [
        results.bounded(f"clean-stop handover, {label(small)} (SIGTERM → first decision on a "
                        f"moved partition)", small["clean_stop_s"], small["failover_s"], "s", 1.0,
                        f"baseline: the SIGKILL failover below; all moved partitions answered "
                        f"after {small['clean_stop_all_s']:.2f} s; floor: at most 1 s"),
        Figure(f"failover, {label(small)} (SIGKILL → first decision on a moved partition)",
               small["failover_s"], "s", note=note(small)),
        results.speedup(f"failover, {label(large)} (ratio: {small['proposals']:,} / "
                        f"{large['proposals']:,})", large["failover_s"], small["failover_s"],
                        "s", 1 / 3, note(large) + "; floor: at most 3× the small log's"),
        Figure(f"handling worker peak RSS, {label(small)}", small["peak_rss_mb"], "MB",
               note="the survivor's VmHWM: its start (the local cache built from the topics), "
                    "the probe load, the takeover"),
        results.speedup(f"handling worker peak RSS, {label(large)} (ratio: "
                        f"{small['proposals']:,} / {large['proposals']:,})",
                        large["peak_rss_mb"], small["peak_rss_mb"], "MB", 1 / 2,
                        "floor: at most 2× the small log's"),
    ]


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


# --- the command -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Banli's benchmarks: every figure beside a baseline measured in the same "
                    "run on the same machine, as a ratio with the floor we expect. Prints a "
                    "table and writes bench/results.json.")
    p.add_argument("--large", action="store_true",
                   help="200,000 proposals for the server, replay, report and memory figures "
                        "(the write path and the distributed figures take samples of it: "
                        "--write-proposals 20000, --distributed-proposals 2000); the reports are "
                        "measured at the default size too. The reports' p50 floor is 100x the "
                        "reference fold here, 1x at the default size")
    p.add_argument("--proposals", type=int,
                   help="proposals served, replayed and reported on (default 2000)")
    p.add_argument("--write-proposals", type=int,
                   help="proposals for the write path, ours and the peer's (default: "
                        "--proposals, at most 20000)")
    p.add_argument("--distributed-proposals", type=int,
                   help="proposals through the distributed stack and the relay (default 300)")
    p.add_argument("--bureaus", type=int, default=24, help="bureaus in the workload (default 24)")
    p.add_argument("--seed", type=int, default=2020, help="the workload's seed (default 2020)")
    p.add_argument("--rate", type=float, default=20.0,
                   help="commands/s for the freshness figures (default 20)")
    p.add_argument("--seconds", type=float, default=15.0,
                   help="how long the freshness figures send (default 15)")
    p.add_argument("--repeat", type=int, default=20, help="report queries per scope (default 20)")
    p.add_argument("--reference-repeat", type=int, default=3,
                   help="reference folds per scope (default 3)")
    p.add_argument("--rounds", type=int, default=2,
                   help="interleaved rounds of the write path and of replay, best of each "
                        "(default 2)")
    p.add_argument("--partitions", type=int, default=6, help="topic partitions (default 6)")
    p.add_argument("--ceiling-events", type=int, default=200_000,
                   help="events the replay ceiling inserts (default 200000)")
    p.add_argument("--kafka", metavar="HOST:PORT",
                   help="use this broker instead of starting one (deploy/kafka/broker.sh)")
    p.add_argument("--failover-proposals", type=lambda v: [int(n) for n in v.split(",")],
                   default=[2000, 200_000],
                   help="the log sizes the failover and memory figures compare, small first "
                        "(default 2000,200000)")
    p.add_argument("--skip", action="append", default=[],
                   choices=["write", "replay", "load", "kafka", "failover", "default-reports"],
                   help="leave a stage out (repeatable): the write path with its peer, the "
                        "embedded replay, the workbench under load (Locust), everything over "
                        "Kafka, the failover figures, and (under --large) the reports at the "
                        "default size. The server, its reports and memory always run: --skip "
                        "write --skip replay --skip load --skip kafka --skip failover measures "
                        "the reports only")
    p.add_argument("--load-seconds", type=float, default=120.0,
                   help="how long the workbench's load is measured once every user has "
                        "started (default 120)")
    p.add_argument("--clerks", type=int, default=50,
                   help="clerks working their lists under load (default 50)")
    p.add_argument("--dashboards", type=int, default=10,
                   help="dashboards refreshing every 5 s under load (default 10)")
    p.add_argument("--subscribers", type=int, default=200,
                   help="live-feed subscribers under load (default 200)")
    p.add_argument("--check", action="store_true",
                   help="exit 1 when any figure is below its floor")
    p.add_argument("--profile", action="store_true",
                   help="write profiles to bench/profiles/: pyinstrument for the in-process "
                        "stages, py-spy (when installed) for the distributed services")
    p.add_argument("--work", type=Path, help="working directory (default: a temporary one, "
                                             "removed at the end)")
    p.add_argument("--out", type=Path, default=HERE / "results.json",
                   help="where to write the figures (default bench/results.json)")
    return p


def resolve_sizes(args: argparse.Namespace) -> argparse.Namespace:
    large = args.large
    if args.proposals is None:
        args.proposals = 200_000 if large else DEFAULT_PROPOSALS
    if args.write_proposals is None:
        args.write_proposals = min(args.proposals, 20_000)
    if args.distributed_proposals is None:
        args.distributed_proposals = 2000 if large else 300
    for name in ("proposals", "write_proposals", "distributed_proposals"):
        if getattr(args, name) < 1:
            raise SystemExit(f"python -m bench: --{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = resolve_sizes(build_parser().parse_args(argv))
    work = args.work or Path(tempfile.mkdtemp(prefix="banli-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    profiles = HERE / "profiles" if args.profile else None
    info = machine()
    say(f"machine: {info['cores']} cores, {info['memory_gb']} GB; work dir {work}")
    started = time.perf_counter()
    figures: list[Figure] = []
    try:
        say("generating the workloads")
        full = work / "history.jsonl"
        n = write_history(full, args.proposals, args.seed, args.bureaus)
        print(f"{args.proposals:,} proposals: {n:,} commands", file=sys.stderr)
        write = full
        if args.write_proposals != args.proposals:
            write = work / "write.jsonl"
            write_history(write, args.write_proposals, args.seed, args.bureaus)
        small = work / "distributed.jsonl"
        write_history(small, args.distributed_proposals, args.seed, args.bureaus)

        if "write" not in args.skip:
            figures += embedded_write(args, work, write, profiles)
        if args.large and "default-reports" not in args.skip:
            default = work / "default.jsonl"
            write_history(default, DEFAULT_PROPOSALS, args.seed, args.bureaus)
            figures += serve_and_report(args, work, default, DEFAULT_PROPOSALS,
                                        REPORT_FLOOR[False], memory=False)[0]
        served, data = serve_and_report(args, work, full, args.proposals,
                                        REPORT_FLOOR[args.large])
        if "replay" not in args.skip:
            figures += embedded_replay(data, profiles, args.ceiling_events, args.rounds)
        figures += served
        if "load" not in args.skip:  # after replay: the clerks' commands add to the log
            figures += workbench_load(args, work, data, args.proposals, profiles)
        if "kafka" not in args.skip:
            figures += distributed(args, work, data, small, profiles)
    finally:
        if figures:
            results.write(figures, args.out)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    minutes = (time.perf_counter() - started) / 60
    print(f"\nBanli benchmarks — {info['cores']} cores, {info['memory_gb']} GB, Python "
          f"{info['python']}, {minutes:.1f} min, load at start {info['load_1min']:.2f}\n")
    print(results.table(figures))
    print(f"\nwritten: {args.out}")
    below = [f.name for f in figures if f.passed is False]
    if below:
        print(f"below their floor: {', '.join(below)}", file=sys.stderr)
    return 1 if args.check and below else 0


if __name__ == "__main__":
    raise SystemExit(main())
