"""A store written by the code before the duty row's declaration and `recorded_by` (main at
BEFORE), started with this code: its projections, made in another format, are rebuilt by the
replay on start and end equal to the reference; meanwhile, and after, every report it gave
before it gives the same (the feedback's recorder, new, comes with the rebuild).

Both codes run as processes of their own (chDB opens one store per process): main's, from
`git archive BEFORE`, imports a history and writes its reports; this code opens the same data
dir, reports before the replay, starts (the replay runs), reports again, and folds the
reference."""
from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

from banli.demo.generate import generate_history, to_jsonl
from tests.conftest import ROOT

BEFORE = "9f4d12d"  # main before this change (CI passed there)
NOW = "2025-06-01T02:00:00+00:00"  # both codes' clock: the same late entries in both
SCOPES = [
    {"bureau": None, "years": [2018, 2020], "as_of": "2020-11-20"},
    {"bureau": "sh-ipa", "years": [2018, 2020], "as_of": "2099-01-01"},
    {"bureau": "sh-hrss", "years": [2019, 2019], "as_of": "2019-12-31"},
    {"bureau": None, "years": [2016, 2022], "as_of": "2019-06-30", "kind": "cppcc_proposal"},
]

# Shared by both scripts: the settings, the clock, the scopes, the reports as JSON.
COMMON = f"""
import json, sys
from datetime import date, datetime
from pathlib import Path
from banli.domain import PROFILES  # exported by the kernel, before and after timing/
from banli.domain import Scope  # re-exported by the kernel, before and after views/
from banli.settings import Settings

data_dir, history, out = (Path(a) for a in sys.argv[1:4])
NOW = datetime.fromisoformat({NOW!r})
settings = Settings(data_dir=data_dir, clerk_backdate_days=36500)
scopes = [Scope(bureau=s["bureau"], years=tuple(s["years"]), as_of=date.fromisoformat(s["as_of"]),
                kind=s.get("kind")) for s in json.loads({json.dumps(SCOPES)!r})]
lines = history.read_text(encoding="utf-8").splitlines()

def reports(store):
    return [store.report(scope, PROFILES["default"]).model_dump(mode="json") for scope in scopes]
"""

# Run with main's code: import the history into a data dir, report from the projections.
BUILD = COMMON + """
from apps.embedded import EmbeddedSystem
from apps.local import import_commands

system = EmbeddedSystem(settings, clock=lambda: NOW).start()
accepted, _, problems = import_commands(system.handle, lines)
assert system.settle(120) and system.reporting.intervals_complete()
out.write_text(json.dumps({"accepted": accepted, "problems": [str(p) for p in problems],
                           "reports": reports(system.reporting)}))
system.stop()
"""

# Run with this code on the same data dir.
CHECK = COMMON + """
from apps.embedded import EmbeddedSystem
from banli.history import reference_report, run_history
from services.reporting.projections.store import ReportingStore

from banli.domain.views.intake_report import IntakeScope
from banli.history import reference_intake_report

store = ReportingStore(settings.dsn, settings.clickhouse_database)  # as the process starts
office = IntakeScope(years=(2016, 2022), as_of=date(2020, 11, 20), profile="default")
stale = {"complete": store.intervals_complete(), "cells": store.cells_current(),
         "reports": reports(store),
         # the office's report from versions written before the review's columns
         "intake": store.intake_report(office, PROFILES["default"]).model_dump(mode="json")}
system = EmbeddedSystem(settings, clock=lambda: NOW).start()  # the replay starts
progress = system.replayer.wait(600)
ledger, problems = run_history(lines, clock=lambda command: NOW, clerk_backdate_days=36500)
out.write_text(json.dumps({
    "stale": stale, "replay": progress.state, "error": progress.error,
    "complete": system.reporting.intervals_complete(), "reports": reports(system.reporting),
    "reference": [reference_report(ledger, scope).model_dump(mode="json") for scope in scopes],
    "intake_reference": reference_intake_report(ledger, office).model_dump(mode="json"),
    "problems": [str(p) for p in problems]}))
system.stop()
"""


# The command types the code before knew (its registry's): the history holds only those.
KNOWN = """
import json, sys
from pathlib import Path
from banli.domain.registry import REGISTRY
Path(sys.argv[1]).write_text(json.dumps([spec.type for spec in REGISTRY]))
"""


def history(known: set[str]) -> list[str]:
    """A generated history of the commands the code before knew (no filer registry, extension
    request, key item or intake review: its submits filed on submit), whose feedback was typed in by the bureaus' clerks, the office or
    the importer, a third each."""
    lines = []
    for n, line in enumerate(generate_history(150, seed=2020)):
        if line["type"] not in known:
            continue
        if line["type"] == "submit":  # the office's review came after: filed on submit
            line = {k: v for k, v in line.items() if k not in ("review", "filer_kind", "area")}
        if line["type"] == "record_feedback" and n % 3:
            line = {**line, "actor": ({"user": f"clerk@{line['bureau']}", "role": "clerk",
                                       "bureau": line["bureau"]} if n % 3 == 1
                                      else {"user": "office", "role": "coordinator"})}
        lines.append(to_jsonl(line))
    return lines


def main_tree(tmp_path: Path, commit: str = BEFORE) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit],
                             check=True, capture_output=True).stdout
    tree = tmp_path / f"main-{commit}"
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    return tree


def run(script: str, tree: Path, work: Path, *args: Path) -> None:
    """The script run by Python with `tree`'s code first on its path."""
    path = work / f"step_{len(list(work.glob('step_*.py')))}.py"
    path.write_text(script, encoding="utf-8")
    # Run as a module other than __main__: the processes the system spawns (its projector,
    # replay's workers) import the main module again, and these scripts have no main guard.
    runner = ("import runpy, sys; path = sys.argv.pop(1); sys.argv[0] = path; "
              "runpy.run_path(path, run_name='step')")
    done = subprocess.run([sys.executable, "-P", "-c", runner, str(path), *map(str, args)],
                          cwd=work,
                          capture_output=True, text=True, timeout=900,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(work),
                               "PYTHONPATH": str(tree)})
    assert done.returncode == 0, done.stderr[-4000:]


def without_handling(report: dict) -> dict:
    """The office's report less its handling figures (the bureaus' report, which the stale
    store counts before its rebuild: compared above)."""
    return {k: v for k, v in report.items() if k != "handling"}


def without_recorders(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "feedback_recorders"}


def test_a_store_written_before_reports_the_same_and_is_rebuilt_to_the_reference(tmp_path):
    old = main_tree(tmp_path)
    assert not (old / "banli/domain/views").exists()  # the code before this change
    known_types = tmp_path / "known.json"
    run(KNOWN, old, tmp_path, known_types)
    known = set(json.loads(known_types.read_text()))
    assert {"submit", "assign", "reply", "record_feedback"} <= known
    lines = history(known)
    assert any('"role":"clerk"' in line for line in lines)
    source = tmp_path / "history.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    before, after = tmp_path / "before.json", tmp_path / "after.json"

    run(BUILD, old, tmp_path, data_dir, source, before)
    run(CHECK, ROOT, tmp_path, data_dir, source, after)
    was, now = json.loads(before.read_text()), json.loads(after.read_text())

    assert was["accepted"] == len(lines) - len(was["problems"]) and now["problems"] == []
    assert "feedback_recorders" not in was["reports"][0]  # main's report: it ran main's code
    assert not now["stale"]["complete"] and not now["stale"]["cells"]
    assert (now["replay"], now["error"], now["complete"]) == ("done", None, True)
    for scope, old_report, stale, rebuilt, reference in zip(
            SCOPES, was["reports"], now["stale"]["reports"], now["reports"], now["reference"]):
        assert rebuilt == reference, scope
        # what it reported before, it reports the same: before the rebuild and after it
        assert without_recorders(stale) == old_report == without_recorders(rebuilt), scope
    # the office's report of a store written before the review: every proposal filed on submit
    intake, reference = now["stale"]["intake"], now["intake_reference"]
    assert without_handling(intake) == without_handling(reference)
    assert intake["counts"]["filed"] == intake["received"] > 0
    assert intake["counts"]["reviewed"] == 0 and intake["counts"]["area.none"] == intake["received"]
    everyone = now["reports"][0]
    assert all(everyone["feedback_recorders"][who] for who in ("office", "bureau"))
    assert sum(everyone["feedback_recorders"].values()) == sum(everyone["feedback"].values())
