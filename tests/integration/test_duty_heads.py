"""duty_heads (services/reporting/projections/schema.sql): each duty's latest version and whether
it is counted there, by bureau. The work list reads a bureau's open duties there and then only
their versions, so its cost follows the open work, not every duty the bureau ever held. Real
chDB: the heads say what the versions say, a store made before the table gets them from its
versions, and the work list reads the heads by their key."""
from __future__ import annotations

import re

from services.reporting.projections.queries import OPEN_DUTIES, WORK_DUTIES

COUNTED_BY_VERSIONS = """
SELECT bureau, proposal_id FROM {db}.assignment_versions GROUP BY bureau, proposal_id
HAVING argMax(status = 'active' AND proposal_status = 'open', seq) ORDER BY bureau, proposal_id
"""
COUNTED_BY_HEADS = """
SELECT bureau, proposal_id FROM {db}.duty_heads GROUP BY bureau, proposal_id
HAVING argMax(counted, seq) ORDER BY bureau, proposal_id
"""


def _counted(store, sql: str) -> list[tuple[str, str]]:
    return [(r["bureau"], r["proposal_id"]) for r in store.query(sql)]


def _work(store) -> dict[tuple[str, bool], list]:
    """Each bureau's work duties (and every bureau's), in a set order (the query's is none)."""
    return {(bureau, cosign): sorted(store.work_duties(bureau, cosign),
                                     key=lambda w: (w.duty.proposal_id, w.duty.bureau))
            for bureau in ("sh-ipa", "sh-edu", "") for cosign in (False, True)}


def test_the_heads_say_which_duties_the_versions_count(model):
    store = model.system.reporting
    counted = _counted(store, COUNTED_BY_VERSIONS)
    assert counted, "the model history has open duties"
    assert _counted(store, COUNTED_BY_HEADS) == counted
    # every duty has its head, counted or not
    duties = "SELECT uniqExact(bureau, proposal_id) AS n FROM {db}.%s"
    assert (store.query(duties % "duty_heads")[0]["n"]
            == store.query(duties % "assignment_versions")[0]["n"])


def test_a_store_made_before_the_heads_gets_them_from_its_versions(model):
    store = model.system.reporting
    before, work = _counted(store, COUNTED_BY_HEADS), _work(store)
    with model.system.projector.pause:  # nothing is inserted meanwhile
        store.command(f"DROP TABLE {store.db}.duty_heads")
        store.ensure_schema(store.db)
    assert _counted(store, COUNTED_BY_HEADS) == before
    assert _work(store) == work
    assert any(work.values())


def _plan(store, sql: str) -> str:
    return "\n".join(r["explain"] for r in store.query(
        "EXPLAIN indexes = 1 " + sql, bureau="sh-ipa", none="1900-01-01", cosign=False))


def test_the_work_list_reads_one_bureaus_heads_by_their_key(model):
    """The heads by the bureau (their key's first column), then the versions and the numbers
    of only the proposals found there (by their key's first column, a set)."""
    store = model.system.reporting
    heads = _plan(store, OPEN_DUTIES)
    assert f"ReadFromMergeTree ({store.db}.duty_heads)" in heads
    assert "Condition: (bureau in ['sh-ipa', 'sh-ipa'])" in heads, heads
    work = _plan(store, WORK_DUTIES)
    for table in ("assignment_versions", "proposal_versions"):
        read = work.split(f"ReadFromMergeTree ({store.db}.{table})")[1].split("Ranges")[0]
        assert re.search(r"Condition: .*\(proposal_id in \d+-element set\)", read), work
