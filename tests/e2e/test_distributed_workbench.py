"""The workbench on the distributed deployment (intake, handling and reporting as processes over a
real Kafka broker): a bureau's work, the desk and search served by the reporting service from
its projections, the new commands decided by handling, and a refusal that names the bureau and
the date, from the handling worker's directory."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from banli.domain.types import SHANGHAI
from tests.e2e.stack import Stack
from tests.e2e.test_distributed_product import events_of, running

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

IPA, HRSS = "sh-ipa", "sh-hrss"


def at(day) -> str:
    return f"{day.isoformat()}T10:00:00+08:00"


def created(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def test_work_desk_and_search_over_kafka(kafka_broker, tmp_path):
    stack = Stack(kafka_broker.bootstrap, tmp_path)
    try:
        reporting, handling, intake = running(stack)
        today = datetime.now(SHANGHAI).date()
        A, B = f"{today.year}-cppcc_proposal-7", f"{today.year}-cppcc_proposal-8"
        admin = stack.client(intake, "admin")
        for bureau, name in ((IPA, "上海市知识产权局"), (HRSS, "上海市人力资源和社会保障局")):
            created(admin.post("/api/bureaus", json={"bureau": bureau, "name": name}))
        coordinator = stack.client(reporting, "coordinator")  # the page's command path
        for number, title in (("7", "关于知识产权保护的提案"), ("8", "关于知识产权质押融资的提案")):
            created(coordinator.post("/api/proposals", json={
                "kind": "cppcc_proposal", "year": today.year, "number": number,
                "title": title, "at": at(today - timedelta(days=90))}))
        # A: assigned 20 days ago, not signed for (its return window has closed); B: due in 5
        # days, signed for and contacted, an extension requested
        created(coordinator.post(f"/api/proposals/{A}/assign", json={
            "lead": [IPA], "co": [HRSS], "at": at(today - timedelta(days=20))}))
        created(coordinator.post(f"/api/proposals/{B}/assign", json={
            "lead": [IPA], "reply_due": (today + timedelta(days=5)).isoformat(),
            "at": at(today - timedelta(days=40))}))
        clerk = stack.client(handling, "clerk", IPA)
        created(clerk.post(f"/api/proposals/{B}/acknowledge", json={"bureau": IPA}))
        created(clerk.post(f"/api/proposals/{B}/contacts", json={
            "bureau": IPA, "stage": "before", "method": "visit"}))
        requested = (today + timedelta(days=45)).isoformat()
        created(clerk.post(f"/api/proposals/{B}/extension-request", json={
            "bureau": IPA, "reply_due": requested, "reason": "需会同市财政局调研"}))
        created(coordinator.post(f"/api/proposals/{A}/key-item", json={"reason": "市领导关注"}))
        # refused by the handling worker, in words: the bureau by its name, the date in words
        early = clerk.post(f"/api/proposals/{A}/acknowledge", json={
            "bureau": IPA, "at": at(today - timedelta(days=21))})
        assert early.status_code == 409 and early.json()["code"] == "out_of_order"
        assigned = today - timedelta(days=20)
        words = f"{assigned.year}年{assigned.month}月{assigned.day}日 10:00"
        assert early.json()["message"].endswith(f"上海市知识产权局在该件的最后一条记录（{words}）")
        assert early.json()["hint"] == f"请把业务时间改为 {words} 或之后"
        events_of(coordinator)

        work = stack.client(reporting, "clerk", IPA).get("/api/work")
        assert work.status_code == 200, work.text
        got = [(i["proposal_id"], i["owed"], i["colour"]) for i in work.json()["items"]]
        assert got == [(A, "acknowledge", "red"), (B, "reply", "yellow"), (A, "contact", None),
                       (A, "reply", None)]
        by = {(i["proposal_id"], i["owed"]): i for i in work.json()["items"]}
        assert by[B, "reply"]["days_left"] == 5 and by[B, "reply"]["working_days_left"] <= 5
        assert by[B, "reply"]["extension_requested"] == requested
        assert by[A, "reply"]["key_item"] and by[A, "reply"]["display"] == "市政协提案 0007"
        assert work.json()["counts"]["acknowledge"] == 1 and work.json()["counts"]["reply"] == 2
        # another bureau's clerk may not read it; its own work is its opinion on A
        other = stack.client(reporting, "clerk", HRSS)
        assert other.get("/api/work", params={"bureau": IPA}).status_code == 403
        assert [i["owed"] for i in other.get("/api/work").json()["items"]] == [
            "acknowledge", "opinion"]

        desk = coordinator.get("/api/desk").json()
        assert [(r["proposal_id"], r["requested_due"], r["reason"])
                for r in desk["extension_requests"]] == [(B, requested, "需会同市财政局调研")]
        assert [(k["proposal_id"], k["state"]) for k in desk["key_items"]] == [(A, "in_hand")]
        assert stack.client(reporting, "clerk", IPA).get("/api/desk").status_code == 403

        found = other.get("/api/search", params={"q": "知识产权"}).json()["items"]
        assert [i["display"] for i in found] == ["市政协提案 0007"]  # B is not sh-hrss's

        # the coordinator denies the request over Kafka: the desk and the work follow
        created(coordinator.post(f"/api/proposals/{B}/extension-request/deny", json={
            "bureau": IPA, "reason": "请按期答复"}))
        events_of(coordinator)
        assert coordinator.get("/api/desk").json()["extension_requests"] == []
        items = stack.client(reporting, "clerk", IPA).get("/api/work").json()["items"]
        assert "extension_requested" not in next(i for i in items if i["proposal_id"] == B)
    finally:
        stack.stop()
