"""duty_heads (services/reporting/projections/duty_table.py): each duty's latest version, by
bureau: the rows of assignment_versions under another key. The work list reads a bureau's
duties there, not every version of every duty it ever held. Real chDB: the heads' latest
versions are the versions' latest, a store made before the table gets them from its versions,
and the work list reads the heads by their key and the numbers of its proposals only."""
from __future__ import annotations

import re

from services.reporting.projections.duty_table import ASSIGNMENT_COLUMNS
from services.reporting.projections.queries import OPEN_DUTIES, WORK_DUTIES

LATEST = f"""
SELECT bureau, proposal_id, argMax(tuple({', '.join(ASSIGNMENT_COLUMNS)}), seq) AS latest
FROM {{db}}.%s GROUP BY bureau, proposal_id ORDER BY bureau, proposal_id
"""


def _latest(store, table: str) -> list[dict]:
    return store.query(LATEST % table)


def _work(store) -> dict[tuple[str, bool], list]:
    """Each bureau's work duties (and every bureau's), in a set order (the query's is none)."""
    return {(bureau, cosign): sorted(store.work_duties(bureau, cosign),
                                     key=lambda w: (w.duty.proposal_id, w.duty.bureau))
            for bureau in ("sh-ipa", "sh-edu", "") for cosign in (False, True)}


def test_each_duty_s_latest_version_is_its_head(model):
    store = model.system.reporting
    latest = _latest(store, "assignment_versions")
    assert len(latest) > 50, "the model history has duties"
    assert _latest(store, "duty_heads") == latest


def test_a_store_made_before_the_heads_gets_them_from_its_versions(model):
    store = model.system.reporting
    before, work = _latest(store, "duty_heads"), _work(store)
    with model.system.projector.pause:  # nothing is inserted meanwhile
        store.command(f"DROP TABLE {store.db}.duty_heads")
        store.ensure_schema(store.db)
    assert _latest(store, "duty_heads") == before
    assert _work(store) == work
    assert any(work.values())


def _plan(store, sql: str) -> str:
    return "\n".join(r["explain"] for r in store.query(
        "EXPLAIN indexes = 1 " + sql, bureau="sh-ipa", none="1900-01-01", cosign=False))


def test_the_work_list_reads_one_bureaus_heads_by_their_key(model):
    """The heads by the bureau (their key's first column), and the numbers of only the
    proposals found there (by their key's first column, a set)."""
    store = model.system.reporting
    heads = _plan(store, OPEN_DUTIES)
    assert f"ReadFromMergeTree ({store.db}.duty_heads)" in heads
    assert "Condition: (bureau in ['sh-ipa', 'sh-ipa'])" in heads, heads
    work = _plan(store, WORK_DUTIES)
    read = work.split(f"ReadFromMergeTree ({store.db}.duty_heads)")[1].split("Ranges")[0]
    assert "Condition: (bureau in ['sh-ipa', 'sh-ipa'])" in read, work
    assert "assignment_versions" not in work
    read = work.split(f"ReadFromMergeTree ({store.db}.proposal_versions)")[1].split("Ranges")[0]
    assert re.search(r"Condition: .*\(proposal_id in \d+-element set\)", read), work
