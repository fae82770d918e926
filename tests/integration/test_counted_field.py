"""Adding a counted field is measured: in a copy of the repository, a toy field (whether a duty
has two contacts or more) is added with one declaration (views/duty_row.py) and counted by
a toy rate (its Rate and its measure, banli/domain/views/rates.py), and nothing else is edited. In a
process of its own, that copy's reference fold and its SQL over the projections agree on the new
rate, field for field and item for item, and the year-end document prints it.

What this holds to: the projected column, its DDL, the queries' selection, the items read back
and the cells all follow from the declaration (services/reporting/projections/duty_table.py names no field).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

# The only edits: one declaration, and the rate that counts it.
EDITS = {
    "banli/domain/views/duty_row.py": [(
        '''    DutyField("last_reply_on", "day", "duty", optional=True),\n''',
        '''    DutyField("last_reply_on", "day", "duty", optional=True),\n'''
        '''    DutyField("contacted_twice", "flag", lambda p, a: a.contacts >= 2, item=True,\n'''
        '''              cell=NO_YES),\n''')],
    "banli/domain/views/rates.py": [(
        '''RATES: tuple[Rate, ...] = (\n''',
        '''RATES: tuple[Rate, ...] = (\n'''
        '''    Rate("contacted_twice", "contacted_twice", "replied", "多次沟通率",\n'''
        '''         "contacted twice or more"),\n'''), (
        '''\nMEASURES: dict[str, Any] = {\n''',
        '''\nMEASURES: dict[str, Any] = {\n'''
        '''    "contacted_twice": lambda i: _reply(i) and i["contacted_twice"],\n''')],
}

CHECK = r"""
import json, sys
from datetime import date, datetime, timezone
from pathlib import Path

from apps.embedded import EmbeddedSystem
from apps.local import import_commands
from banli.demo.generate import generate_history, to_jsonl
from banli.documents import build_bundle, ledger_source, render, store_source
from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import Scope, report_items, select
from banli.history import reference_report, run_history
from banli.settings import Settings
from services.reporting.projections import lineage
from services.reporting.projections.duty_table import ASSIGNMENT_COLUMNS

work = Path(sys.argv[1])
NOW = datetime(2025, 6, 1, 2, tzinfo=timezone.utc)
lines = [to_jsonl(line) for line in generate_history(120, seed=77)]
system = EmbeddedSystem(Settings(data_dir=work / "data"), clock=lambda: NOW).start()
import_commands(system.handle, lines)
assert system.settle(120)
ledger, _ = run_history(lines, clock=lambda command: NOW)
profile = PROFILES["default"]
result = {"columns": list(ASSIGNMENT_COLUMNS), "store": [], "reference": [], "items": []}
for bureau in (None, "sh-ipa"):
    for as_of in (date(2019, 12, 31), date(2020, 11, 20), date(2099, 1, 1)):
        scope = Scope(bureau=bureau, years=(2018, 2020), as_of=as_of)
        result["store"].append(system.reporting.report(scope, profile).model_dump(mode="json"))
        result["reference"].append(reference_report(ledger, scope).model_dump(mode="json"))
        items = system.reporting.items(scope, profile)
        expected = report_items(ledger.proposals_as_of(as_of), scope, profile)
        result["items"].append([
            sorted((i["proposal_id"], i["bureau"], i["counted"])
                   for i in select(found, "contacted_twice"))
            for found in (items, expected)])
misrouted = lambda scope: lineage.misrouting(system.reporting, scope.years, scope.as_of,
                                             scope.bureau)
options = dict(bureau="sh-ipa", year=2020, as_of=date(2020, 11, 20), profile=profile)
result["documents"] = [render(build_bundle(source, **options), "md", "zh").decode()
                       for source in (store_source(system.reporting, profile, None, misrouted),
                                      ledger_source(ledger))]
(work / "result.json").write_text(json.dumps(result, ensure_ascii=False))
system.stop()
"""


def copy_of_the_repository(target: Path) -> Path:
    """The repository's files as they are now (committed or not), less what git ignores."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard"],
                            check=True, capture_output=True, text=True).stdout.splitlines()
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_a_counted_field_is_one_declaration_and_its_rate(tmp_path):
    copy = copy_of_the_repository(tmp_path / "repo")
    for name, edits in EDITS.items():
        path = copy / name
        text = path.read_text(encoding="utf-8")
        for old, new in edits:
            assert text.count(old) == 1, f"{name}: the anchor moved: {old!r}"
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    changed = [name for name in subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard"],
        check=True, capture_output=True, text=True).stdout.splitlines()
        if (ROOT / name).is_file()
        and (ROOT / name).read_bytes() != (copy / name).read_bytes()]
    assert sorted(changed) == sorted(EDITS)  # two files, and in the first one entry

    script = tmp_path / "check.py"
    script.write_text(CHECK, encoding="utf-8")
    done = subprocess.run([sys.executable, "-P", str(script), str(tmp_path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=900,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               "PYTHONPATH": str(copy)})
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))

    assert "contacted_twice" in result["columns"]  # projected, with no edit to reporting
    for store, reference in zip(result["store"], result["reference"]):
        assert store == reference, reference["scope"]
    counted = [r["fractions"]["contacted_twice"] for r in result["reference"]]
    assert any(0 < f["numerator"] < f["denominator"] for f in counted), counted
    for (found, expected), reference in zip(result["items"], result["reference"]):
        assert found == expected  # the drill-down lists the same duties, counted alike
        fraction = reference["fractions"]["contacted_twice"]
        assert (sum(counted for *_, counted in found), len(found)) == (
            fraction["numerator"], fraction["denominator"])
    from_store, from_reference = result["documents"]
    assert "多次沟通率" in from_store and from_store == from_reference
