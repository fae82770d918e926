"""The drawer's history and deadlines read from the proposal's stream in the log (`banli serve`:
the SQLite store) answer exactly what the same routes answer from the projected history (the
reporting service over Kafka reads its streams there): for every proposal of a history with
co-handlers, handovers in a reorganisation and filers, as every kind of reader sees it, under
the default profile and under review (co-handlers read the draft they sign off)."""
from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from apps.embedded import EmbeddedSystem, create_app
from apps.local import import_commands
from apps.reporting import create_api
from banli.demo.generate import generate_history, to_jsonl
from banli.domain.proposal import Proposal
from banli.settings import Settings
from tests.conftest import SECRET, token_for


@pytest.mark.parametrize("profile", ["default", "reviewed"])
def test_the_drawer_from_the_log_answers_what_the_projections_do(tmp_path, chdb_dsn, profile):
    name = uuid.uuid4().hex[:12]
    settings = Settings(data_dir=tmp_path / name, clickhouse_dsn=chdb_dsn,
                        clickhouse_database=f"d_{name}", secret=SECRET, profile=profile)
    system = EmbeddedSystem(settings).start()  # both apps count the deadlines to today
    try:
        lines = [to_jsonl(x) for x in generate_history(40, seed=24, years=(2019, 2020),
                                                       bureaus=6, reorganise=True)]
        _, _, refused = import_commands(system.handle, lines)
        assert refused == [] and system.settle(60)
        ids = sorted({json.loads(line).get("proposal") for line in lines} - {None})
        states = {pid: system.repository.state(pid) for pid in ids}
        several = [pid for pid, p in states.items()
                   if isinstance(p, Proposal) and len(p.assignments) >= 3]
        assert several, "a proposal with a lead and co-handlers"
        bureaus = sorted(system.reporting.bureau_names())
        filers = sorted({f for p in states.values() if isinstance(p, Proposal)
                         for f in p.filer_ids if f})[:4]
        readers = [("overseer", None, None), ("coordinator", None, None),
                   *(("clerk", b, None) for b in bureaus),
                   *(("filer", None, f) for f in filers)]
        projected = create_api(settings, system.reporting)  # reporting's, over Kafka
        found = {"clerk": 0, "filer": 0}
        with TestClient(create_app(system)) as log, TestClient(projected) as chdb:
            for role, bureau, filer in readers:
                headers = {"Authorization": "Bearer " + token_for(SECRET, role, bureau,
                                                                  filer=filer)}
                for pid in [*ids, "2020-cppcc_proposal-77777", f"bureau:{bureaus[0]}"]:
                    for rest in ("/history", "/deadlines"):
                        url = f"/api/proposals/{pid}{rest}"
                        ours, theirs = (log.get(url, headers=headers),
                                          chdb.get(url, headers=headers))
                        assert (ours.status_code, ours.json()) == (
                            theirs.status_code, theirs.json()), (role, bureau, filer, url)
                        if role in found and ours.status_code == 200:
                            found[role] += 1
        assert found["clerk"] and found["filer"], found
    finally:
        system.stop()
        system.reporting.drop()
