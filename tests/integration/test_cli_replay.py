"""`banli replay` with no server on the data dir: on a fresh import's store (nothing projected
yet) it rebuilds the projections from the whole log there, showing its progress, and the
projections it leaves hold the log once and count as the reference does. (It no longer projects
the backlog incrementally first: that cost time, not correctness, and bench/ shows it.)"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from banli.demo.generate import generate_history, to_jsonl
from banli.domain.views.rates import Scope
from banli.eventlog.sqlite import SqliteEventStore
from banli.history import reference_report, run_history
from tests.conftest import ROOT, SECRET
from tests.e2e.test_crash_restart import ledger_last_day


def test_an_offline_replay_projects_a_fresh_import_exactly(tmp_path):
    lines = [to_jsonl(line) for line in generate_history(60, seed=5)]
    history, data = tmp_path / "history.jsonl", tmp_path / "data"
    history.write_text("".join(lines), encoding="utf-8")
    env = {**os.environ, "BANLI_SECRET": SECRET, "BANLI_PROJECTOR_PROCESS": "false"}
    cli = [sys.executable, "-m", "apps.cli"]
    subprocess.run([*cli, "import", str(history), "--data-dir", str(data)], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=300)
    assert not (data / "clickhouse").exists(), "the import projected nothing: a backlog"
    replay = subprocess.run([*cli, "replay", "--data-dir", str(data)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert "replay" in replay.stderr + replay.stdout

    head = SqliteEventStore(data / "events.sqlite3").head()
    ledger, _ = run_history(lines)
    scope = Scope(bureau=None, years=(2018, 2021), as_of=ledger_last_day(ledger))
    # read in a process of its own: chDB opens one path per process, and this one has its own
    read = subprocess.run([sys.executable, "-c", READ, str(data / "clickhouse"),
                           scope.model_dump_json()], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert read.returncode == 0, read.stderr[-3000:]
    found = json.loads(read.stdout)
    assert found["complete"] and found["checkpoint"] == found["events"] == head
    assert found["versions"] == found["distinct"]  # each version once
    assert found["report"] == reference_report(ledger, scope).model_dump(mode="json")


READ = """
import json, sys
from banli.domain.timing.deadlines import DEFAULT_PROFILE
from banli.domain.views.rates import Scope
from services.reporting.projections.store import ReportingStore
store = ReportingStore("chdb://" + sys.argv[1])
versions = store.query("SELECT count() AS n, uniqExact(proposal_id, bureau, seq) AS u "
                       "FROM {db}.assignment_versions")[0]
print(json.dumps({
    "complete": store.intervals_complete(), "checkpoint": store.checkpoint(),
    "events": store.count_events(), "versions": versions["n"], "distinct": versions["u"],
    "report": store.report(Scope.model_validate_json(sys.argv[2]), DEFAULT_PROFILE
                           ).model_dump(mode="json")}))
"""
