"""The embedded system end to end over real HTTP: the model report, read and written."""
from __future__ import annotations

from banli.demo.model import MODEL_FILE


def test_model_history_imported_over_http_gives_the_model_report(server):
    importer = server.client("importer")
    body = MODEL_FILE.read_text(encoding="utf-8")
    r = importer.post("/api/import", content=body.encode(),
                      headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == len(body.splitlines())
    assert r.json()["problems"] == []

    clerk = server.client("clerk", "sh-ipa")
    r = clerk.get("/api/report", params={"bureau": "sh-ipa", "years": "2020",
                                         "as_of": "2020-11-20"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["proposals"] == 29
    assert report["assignments"] == {"npc_suggestion": {"lead": 2, "co": 9},
                                     "cppcc_proposal": {"lead": 8, "co": 10}}
    assert report["results"] == {"solved": 9, "planned": 0, "deferred": 0, "reference": 1}
    assert report["rates"]["disclosure"] == 1.0
