"""The benchmarks' harness (never the benchmarks: speed is measured in bench/, not asserted):
`python -m bench --help` works, and results.json has the documented shape, each ratio
oriented so that a script can check it against its floor."""
from __future__ import annotations

import json
import subprocess
import sys

from bench import results
from bench.__main__ import build_parser, resolve_sizes
from tests.conftest import ROOT


def test_help_describes_the_command():
    run = subprocess.run([sys.executable, "-m", "bench", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "results.json" in run.stdout and "--large" in run.stdout


def test_large_means_200000_proposals_with_samples_for_the_slow_paths():
    args = resolve_sizes(build_parser().parse_args(["--large"]))
    assert (args.proposals, args.write_proposals, args.distributed_proposals) == (
        200_000, 20_000, 2000)
    small = resolve_sizes(build_parser().parse_args([]))
    assert small.write_proposals == small.proposals == 2000


def test_results_json_lists_every_figure_with_its_ratio_and_floor(tmp_path):
    figures = [
        results.throughput("write", 900.0, 300.0, "commands/s", 4),
        results.speedup("report", 20.0, 4000.0, "ms", 100),
        results.latency("freshness p50", 600.0, 6.0, "ms"),
        results.Figure("memory", 800.0, "MB", 1536.0, 1536.0 / 800.0, 1.0),
    ]
    path = tmp_path / "results.json"
    results.write(figures, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [d["name"] for d in data] == ["write", "report", "freshness p50", "memory"]
    for item in data:
        assert set(results.FIELDS) <= set(item)
    write, report, fresh, memory = data
    assert write["ratio"] == 3.0 and write["floor"] == 4  # ours / the peer's
    assert report["ratio"] == 200.0  # the baseline's time / ours
    assert fresh["ratio"] == 100.0 and fresh["floor"] is None  # stated, not floored
    assert [f.passed for f in figures] == [False, True, None, True]


def test_the_table_marks_what_is_below_its_floor():
    text = results.table([results.throughput("write", 900.0, 300.0, "commands/s", 4),
                          results.throughput("replay", 900.0, 1000.0, "events/s", 0.5)])
    write, replay = text.splitlines()[2:4]
    assert "3.00×" in write and "BELOW FLOOR" in write
    assert "0.90×" in replay and replay.endswith("| ok |")


def test_the_load_figures_floor_commands_at_10x_the_bare_route_and_pages_at_300_ms():
    from bench import load

    def route(p50: float, p99: float) -> dict:
        return {"p50": p50, "p95": p99, "p99": p99, "n": 100, "statuses": {"200": 100}}

    found = {"routes": {load.BARE: route(2.0, 20.0), load.COMMAND: route(10.0, 250.0),
                        load.WORK: route(30.0, 120.0), load.DRAWER: route(40.0, 310.0),
                        load.DASHBOARD: route(50.0, 200.0)},
             "commands": {"reply 201": 90, "reply 409": 10}, "live": {"batches": 0, "bytes": 0},
             "seconds": 120.0, "users": {"clerks": 50, "dashboards": 10, "subscribers": 200,
                                         "bare": 2, "bare_rate": 5.0},
             "load_1min": [1.0, 1.0], "server_cpu": 0.5, "client_cpu": 0.1,
             "cpu_warning": False}
    by_name = {f.name: f for f in load.figures(found, 2000)}
    command = next(f for n, f in by_name.items() if load.COMMAND in n and "p99" in n)
    assert command.ratio == 20.0 / 250.0 and command.floor == 0.1 and command.passed is False
    pages = {n.split(" (")[0]: f for n, f in by_name.items() if n.startswith("page:")
             and "p99" in n}
    assert {n: f.passed for n, f in pages.items()} == {
        "page: the workbench's list": True, "page: an item's drawer": False,
        "page: the dashboard": True}
