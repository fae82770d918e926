"""The imports point inward: `apps/` (the composition roots) on top, then `services/`, then
`banli/`; services never import each other; the kernel (`banli.domain`) imports nothing of ours
outside itself. The contracts are import-linter's, in pyproject.toml; this runs them."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept():
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_the_kernel_contract_names_every_other_part_of_banli():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"]
    kernel = next(c for c in contracts if c.get("source_modules") == ["banli.domain"])
    parts = {f"banli.{p.stem}" for p in (ROOT / "banli").iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").exists())
             and p.stem not in ("__init__", "domain")}
    assert parts == set(kernel["forbidden_modules"]), "a new part of banli: add it to the contract"
