"""The work list read from the projections (ClickHouse SQL, what /api/work serves) equals the work
list of the reference fold (banli.domain.views.work over the folded proposals), item for item, for
every bureau and for all, under the default profile and under review (drafts, sign-offs and
approvals read the proposal's other duties)."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from apps.embedded import EmbeddedSystem
from apps.local import import_commands
from banli.demo.generate import generate_history, to_jsonl
from banli.domain.timing.deadlines import PROFILES
from banli.domain.proposal import Proposal
from banli.domain.views.work import WorkDuty, work
from banli.history import run_history
from banli.settings import Settings
from banli.workcalendar import china_calendar
from tests.conftest import SECRET

# Days on which much is owed: within the generated years, and later.
DAYS = (date(2019, 6, 14), date(2020, 11, 20), date(2022, 3, 1))


def reference_work(ledger, bureau: str | None, profile, day: date) -> list[dict]:
    duties = [WorkDuty.of(p, a) for p in ledger.states.values() if isinstance(p, Proposal)
              and p.status == "open" for a in p.active_duties()
              if bureau is None or a.bureau == bureau]
    return work(duties, profile, china_calendar(), day)


def drafts_pending(generated: list[dict]) -> list[dict]:
    """Two proposals whose lead's draft waits: for both co-handlers' sign-offs, and for one."""
    first, second, third = [line["bureau"] for line in generated
                            if line["type"] == "register_bureau"][:3]
    lines: list[dict] = []
    for number, signed in (("99001", []), ("99002", [second])):
        pid = f"2020-cppcc_proposal-{number}"
        lines += [
            {"type": "submit", "kind": "cppcc_proposal", "year": 2020, "number": number,
             "title": "关于评审中答复的提案", "at": "2020-09-01T09:00:00+08:00"},
            {"type": "assign", "proposal": pid, "lead": [first], "co": [second, third],
             "at": "2020-09-02T09:00:00+08:00"},
            {"type": "draft_reply", "proposal": pid, "bureau": first, "result": "planned",
             "at": "2020-10-09T09:00:00+08:00"},
            *({"type": "sign_off_reply", "proposal": pid, "bureau": co, "lead": first,
               "at": "2020-10-12T09:00:00+08:00"} for co in signed)]
    return lines


@pytest.mark.parametrize("profile", ["default", "reviewed"])
def test_the_work_list_from_the_projections_is_the_folds(tmp_path, chdb_dsn, profile):
    rules = PROFILES[profile]
    generated = generate_history(160, seed=21, years=(2019, 2020))
    lines = [to_jsonl(line) for line in [*generated, *drafts_pending(generated)]]
    ledger, problems = run_history(lines, profile=rules)
    assert problems == []
    name = uuid.uuid4().hex[:12]
    system = EmbeddedSystem(Settings(data_dir=tmp_path / name, clickhouse_dsn=chdb_dsn,
                                     clickhouse_database=f"w_{name}", secret=SECRET,
                                     profile=profile)).start()
    try:
        accepted, _, refused = import_commands(system.handle, lines)
        assert refused == [] and system.settle(60)
        bureaus = sorted(system.reporting.bureau_names())
        seen: set[str] = set()
        for day in DAYS:
            for bureau in [None, *bureaus]:
                expected = reference_work(ledger, bureau, rules, day)
                duties = system.reporting.work_duties(bureau, "cosign" in rules.review)
                assert work(duties, rules, china_calendar(), day) == expected, (bureau, day)
                seen.update(item["owed"] for item in expected)
        # the history exercises every kind of work the profile has
        kinds = {"acknowledge", "contact", "opinion", "rehandle", "disclose", "feedback"}
        kinds |= {"draft", "approve", "sign_off"} if rules.review else {"reply"}
        assert kinds <= seen, kinds - seen
    finally:
        system.stop()
        system.reporting.drop()
