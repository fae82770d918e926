"""The type checker over banli/, services/ and apps/ (mypy, its settings in pyproject.toml: the pydantic
plugin, unused or unexplained `type: ignore`s refused). It runs with the suite, so a change
that breaks the types fails like a change that breaks a rule."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_mypy_finds_nothing():
    mypy = Path(sys.executable).with_name("mypy")
    done = subprocess.run([str(mypy), "--no-incremental"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert "Success: no issues found" in done.stdout


def test_every_type_ignore_says_why():
    """An ignore names its error code and, after it, why the checker is wrong there."""
    unexplained = []
    for path in [*ROOT.glob("banli/**/*.py"), *ROOT.glob("services/**/*.py"),
                 *ROOT.glob("apps/**/*.py")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = re.search(r"#\s*type:\s*ignore(\[[^\]]+\])?(.*)$", line)
            if found and (not found.group(1) or not found.group(2).strip(" #")):
                unexplained.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert unexplained == []
