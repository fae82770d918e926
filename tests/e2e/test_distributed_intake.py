"""The office's report over Kafka (issue 25): the generated year of the national CPPCC's 2025
session imported through intake, decided by the handling worker on the real broker, projected by
the reporting service: `GET /api/intake/report` equals the reference fold's, field for field,
and the document prints the published table (5,890 received; 5,002 filed, 262 merged, 626 not
filed; 4,531 members' 90.6% and 471 collective 9.4%; economy 2,133 42.6% ...)."""
from __future__ import annotations

import json

import pytest

from banli.demo.intake_year import AS_OF, iter_year
from banli.domain.views.intake_report import IntakeScope
from banli.history import reference_intake_report, run_history
from tests.e2e.stack import Stack, wait_projected
from tests.e2e.test_distributed import event_count

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PRINTED = ["共收到提案5890件", "立案5002件", "并案262件", "不立案转为意见和建议626件",
           "委员（代表）个人提出4531件，占90.6%", "集体提出471件，占9.4%",
           "经济方面2133件，占42.6%", "政治方面419件，占8.4%", "文化方面459件，占9.2%",
           "社会方面1387件，占27.7%", "生态文明方面604件，占12.1%"]


def test_the_national_cppcc_2025_table_over_kafka(kafka_broker, tmp_path):
    lines = [json.dumps(line, ensure_ascii=False) for line in iter_year()]
    ledger, problems = run_history(lines)
    assert problems == []
    stack = Stack(kafka_broker.bootstrap, tmp_path)
    try:
        reporting, handling, intake = (stack.start(n) for n in ("reporting", "handling", "intake"))
        for service in (reporting, handling, intake):
            service.wait_healthy()
        sent = stack.client(intake, timeout=1800).post(
            "/api/import", content="\n".join(lines).encode(),
            headers={"Content-Type": "application/x-ndjson"})
        assert sent.status_code == 200, sent.text
        answer = sent.json()
        # a command not answered within intake's wait is still decided (`pending`): the
        # projections below hold every event of every line
        assert answer["problems"] == [] and answer["already_decided"] == 0
        assert answer["accepted"] + answer["pending"] == len(lines)
        read = stack.client(reporting, "coordinator")
        wait_projected(read, event_count(ledger), timeout=900)
        scope = {"years": "2025", "as_of": AS_OF.isoformat(), "kind": "cppcc_proposal"}
        got = read.get("/api/intake/report", params=scope)
        assert got.status_code == 200, got.text
        expected = reference_intake_report(ledger, IntakeScope(
            years=(2025, 2025), as_of=AS_OF, kind="cppcc_proposal", profile="default"))
        assert got.json() == expected.model_dump(mode="json")
        text = read.get("/api/intake/report/document", params={**scope, "format": "text"})
        assert text.status_code == 200, text.text
        for phrase in PRINTED:
            assert phrase in text.text, phrase
        items = read.get("/api/intake/items", params={**scope, "measure": "collective"}).json()
        assert items["count"] == 471 == len(items["items"])
        for service in list(stack.services):
            assert service.terminate(timeout=60) == 0, service.log.read_text()[-2000:]
    finally:
        stack.stop()
