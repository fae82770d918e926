"""A history imported by the code before command ids were scoped to the one who entered them,
imported again by this code into the same store: every line it took then is answered
`replayed`, nothing is recorded twice.

Two codes before, each run as a process of its own from `git archive`:
- BEFORE (test_upgrade's): commands keyed by their id alone, each with the sender of then, the
  actor a line names (an importer's line naming a bureau's clerk was kept as the clerk's:
  there was no `recorded_by`). Now the importer is the sender of such a line (it is entered on
  the clerk's behalf), so its record is found under the actor's key, as the code of then kept
  it (banli.eventlog.repository.Repository._entered_before).
- MAIN_BEFORE (main before the event log's change): keyed by id alone, the sender the recorder
  (`recorded_by`), as now: the store's records are keyed by (sender, id) as it opens."""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from apps.local import import_file
from banli.settings import Settings
from tests.integration.test_upgrade import BEFORE, KNOWN, history, main_tree, run

MAIN_BEFORE = "7929cb3"  # main before this change: ids by id alone, `recorded_by` kept

# Run with the code before: `banli import` of the history into a data dir.
IMPORT = """
import json, sys
from pathlib import Path
from apps.local import import_file
from banli.settings import Settings

data_dir, source, out = (Path(a) for a in sys.argv[1:4])
assert import_file(Settings(data_dir=data_dir, clerk_backdate_days=36500), source) == 0
"""

COUNTS = re.compile(r"imported (\d+), already decided (\d+), not taken (\d+)")


def counts(printed: str) -> tuple[int, int, int]:
    found = COUNTS.findall(printed)
    assert found, printed
    accepted, replayed, refused = map(int, found[-1])
    return accepted, replayed, refused


@pytest.mark.parametrize("before", [BEFORE, MAIN_BEFORE])
def test_a_history_imported_before_is_replayed_not_recorded_again(tmp_path, capsys, before):
    old = main_tree(tmp_path, before)
    known_types = tmp_path / "known.json"
    run(KNOWN, old, tmp_path, known_types)
    lines = history(set(json.loads(known_types.read_text())))
    named = [line for line in lines if '"actor"' in line]
    assert len(named) > 20  # lines naming their actor (a clerk, the office): entered for them
    source = tmp_path / "history.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    run(IMPORT, old, tmp_path, data_dir, source, tmp_path / "unused")
    settings = Settings(data_dir=data_dir, clerk_backdate_days=36500)
    events, commands = _counts(settings.store_path)
    assert events > len(lines)

    assert import_file(settings, source) == 0  # this code, on the same store
    accepted, replayed, refused = counts(capsys.readouterr()[0])
    assert (accepted, replayed, refused) == (0, commands, len(lines) - commands)
    assert _counts(settings.store_path) == (events, commands)  # nothing recorded twice


def _counts(path: Path) -> tuple[int, int]:
    """How many events the store holds, and how many commands were accepted."""
    with sqlite3.connect(path) as db:
        return (db.execute("SELECT count(*) FROM events").fetchone()[0],
                db.execute("SELECT count(*) FROM commands WHERE accepted = 1").fetchone()[0])
