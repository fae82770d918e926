"""The deadline explanations and the profile flips over real HTTP, from the projections."""
from __future__ import annotations

from tests.integration.http_world import P, World, accepted, expect


def test_a_proposals_deadlines_are_explained_to_whoever_may_read_them(server, clock):
    world = World(server, clock)  # assigned 2 March 2020: lead sh-ipa, co sh-edu; today 20 Nov
    explained = expect(world.coordinator.get(f"/api/proposals/{P}/deadlines"), 200)
    assert explained["profile"] == "default" and explained["as_of"] == "2020-11-20"
    assert explained["calendar"]["name"].startswith("chinese-calendar")
    lead, co = sorted(explained["assignments"], key=lambda a: a["role"] != "lead")
    assert (lead["bureau"], lead["assigned_on"], lead["due"]) == ("sh-ipa", "2020-03-02",
                                                                  "2020-06-02")
    assert lead["rule"]["text"] == "交办后 3 个月内答复" and lead["set_by"] == "profile"
    assert lead["reply"] == {"first_reply_on": None, "status": "overdue"}
    assert lead["return_window"]["due"] == "2020-03-16"  # 10 working days
    assert co["opinion"]["status"] == "overdue"
    five = expect(world.coordinator.get(f"/api/proposals/{P}/deadlines",
                                        params={"profile": "cppcc_5_months"}), 200)
    assert five["assignments"][0]["rule"]["months"] == 5

    own = expect(world.edu.get(f"/api/proposals/{P}/deadlines"), 200)
    assert [a["bureau"] for a in own["assignments"]] == ["sh-edu"]
    assert expect(world.fin.get(f"/api/proposals/{P}/deadlines"), 404)["detail"]["code"] == (
        "unknown_proposal")  # as unknown to a bureau without a duty as one never submitted
    assert expect(world.coordinator.get(f"/api/proposals/{P}/deadlines",
                                        params={"profile": "nosuch"}), 422)["detail"][
        "code"] == "bad_profile"
    assert world.coordinator.get("/api/proposals/2020-nosuch-1/deadlines").status_code == 404


def test_the_duties_another_profile_would_flip_are_listed(server, clock):
    world = World(server, clock)
    accepted(world.ipa.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-ipa", "result": "solved", "at": "2020-07-15T10:00:00+08:00"}), "ReplyIssued")
    answer = expect(world.coordinator.get("/api/deadlines/flips",
                                          params={"to": "cppcc_5_months"}), 200)
    assert answer["items"] == [{"proposal_id": P, "bureau": "sh-ipa", "role": "lead",
                                "what": "reply", "before": "late", "after": "on_time",
                                "due_before": "2020-06-02", "due_after": "2020-08-02"}]
    assert expect(world.coordinator.get("/api/deadlines/flips", params={"to": "default"}),
                  200)["items"] == []
    mine = expect(world.edu.get("/api/deadlines/flips", params={"to": "cppcc_5_months"}), 200)
    assert (mine["bureau"], mine["items"]) == ("sh-edu", [])
    assert world.edu.get("/api/deadlines/flips", params={"to": "cppcc_5_months",
                                                         "bureau": "sh-ipa"}).status_code == 403
    assert world.coordinator.get("/api/deadlines/flips", params={"to": "x"}).status_code == 422


def test_todays_reminders_are_listed_by_colour(server, clock):
    world = World(server, clock)  # today 20 Nov 2020: the reply and the opinion are overdue
    answer = expect(world.coordinator.get("/api/reminders"), 200)
    found = {(r["bureau"], r["owed"], r["colour"]) for r in answer["items"]}
    assert found == {("sh-ipa", "reply", "red"), ("sh-edu", "opinion", "red"),
                     ("sh-ipa", "return", "red"), ("sh-edu", "return", "red")}
    assert (answer["red"], answer["yellow"], answer["today"]) == (4, 0, "2020-11-20")
    mine = expect(world.edu.get("/api/reminders"), 200)
    assert {r["bureau"] for r in mine["items"]} == {"sh-edu"}
    assert world.edu.get("/api/reminders", params={"bureau": "sh-ipa"}).status_code == 403
