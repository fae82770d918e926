"""Adding a command is measured: in a copy of the repository, a toy command added in the four
files README's checklist names (its command, its event, its decider with its Spec, its evolve
case: tests/integration/toy_command.py) is routed, permitted, given a form and words, generated
by the demo and projected, seen by a process running the copy over real HTTP; it passes the
kernel's strict type check; and the checklist names exactly those four files."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration import toy_command

# What a copy leaves out: the environment, caches, and what tests and runs leave behind.
_CACHES = shutil.ignore_patterns(".git", ".venv", "node_modules", "__pycache__", "*.egg-info",
                                 ".pytest_cache", ".hypothesis", ".mypy_cache")
_LEFT_BEHIND = {ROOT: {"artifacts", "data"}, ROOT / "bench": {"profiles", "results.json"}}


def not_copied(folder: str, names: list[str]) -> set[str]:
    return _CACHES(folder, names) | (_LEFT_BEHIND.get(Path(folder), set()) & set(names))


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The repository as it is on disk, copied, with the toy command added."""
    root = tmp_path_factory.mktemp("copy") / "banli"
    shutil.copytree(ROOT, root, ignore=not_copied)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    touched = toy_command.add_toy_command(root)
    changed = sorted(str(p.relative_to(root)) for p in root.rglob("*")
                     if p.is_file() and before.get(p) != p.read_bytes())
    assert changed == sorted(touched) and len(changed) == 4
    return root


@pytest.fixture(scope="module")
def seen(copy, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("toy")
    done = subprocess.run([sys.executable, "-m", "tests.integration.toy_command", str(work)],
                          cwd=copy, env={**os.environ, "PYTHONPATH": str(copy)},
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["banli"].startswith(str(copy)), "the check ran the copy's code"
    return found


def test_the_toy_command_is_routed_and_permitted(seen):
    assert seen["route"] == {"/api/proposals/{proposal_id}/progress": "log_progress"}
    assert seen["rights"] == {"clerk": "own", "admin": "all", "importer": "all"}
    status, answer = seen["sent"]
    assert status == 201 and [e["type"] for e in answer["events"]] == ["ProgressLogged"]
    assert seen["refused"] == {"other clerk": [409, "wrong_bureau"],
                               "overseer": [409, "forbidden"]}


def test_the_toy_command_has_a_form_and_words(seen):
    form = seen["form"]
    assert (form["title"], form["title_en"], form["may_send"]) == (
        "办理进度", "log progress", True)
    fields = {f["name"]: f for f in form["fields"]}
    assert fields["bureau"]["source"] == "own_bureau" and fields["proposal"]["source"] == "item"
    assert fields["expected"]["input"] == "select"
    assert fields["expected"]["choices"][0] == {  # a choice type's words, declared once
        "value": "solved", "label": "A 已解决或采纳", "label_en": "A: solved or adopted"}
    assert (fields["percent"]["input"], fields["percent"]["minimum"],
            fields["percent"]["maximum"], fields["percent"]["label"]) == (
        "number", 0, 100, "完成比例")
    words = seen["event_words"]
    assert (words["title"], words["title_en"]) == ("办理进度", "progress logged")
    assert {f["name"]: f["label"] for f in words["fields"]} == {  # the command's words
        "bureau": "承办单位", "expected": "预计办理结果", "percent": "完成比例",
        "note": "进展情况"}


def test_the_demo_generates_it_and_the_projections_hold_its_events(seen):
    assert seen["demo_lines"], "the demo generates the toy command"
    assert seen["imported"]["problems"] == [] and seen["imported"]["accepted"] > 40
    history = seen["history"]
    assert len(history) == 2  # the demo's line on this proposal, and the one sent
    assert [(e["data"]["percent"], e["data"]["expected"]) for e in history][-1] == (80, "planned")
    assert seen["progress"] == 80  # evolve's case


def test_the_toy_command_passes_the_kernels_strict_type_check(copy):
    mypy = Path(sys.executable).with_name("mypy")
    done = subprocess.run([str(mypy), "--no-incremental", "banli/domain"], cwd=copy,
                          env={**os.environ, "PYTHONPATH": str(copy)}, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_readme_checklist_names_exactly_the_files_a_new_command_needs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    checklist = readme[readme.index("**Adding a command type**"):]
    checklist = checklist[:checklist.index("\n\n")]
    steps = re.findall(r"^\d\. `([^`]+)`", checklist, flags=re.MULTILINE)
    assert steps == list(toy_command.FILES)
    assert "four files" in checklist
