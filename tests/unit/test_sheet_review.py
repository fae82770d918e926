"""The office's review (审查立案, issue 25 §1) in an assignment list (交办清单): an optional
立案情况 column (立案 / 不立案), the area (领域), a 不立案's reason and the bodies it is passed on
to. A filed row is received for review, filed in its area and assigned; a row not filed is
received and not filed, and not assigned; a list without the column sends what it always did."""
from __future__ import annotations

from datetime import date

from banli.domain.rejections import Rejection
from banli.domain.registry import parse_command
from banli.domain.timing.deadlines import Area
from banli.domain.types import Actor
from banli.domain.views.intake_report import IntakeScope
from banli.history import MemoryLedger, reference_intake_report
from banli.sheets import assignment_preview, preview_commands
from banli.sheets.preview import command_id
from tests.unit.test_sheets import (BUREAUS, COORDINATOR, HEADER, OPTIONS, by_row, codes, item,
                                    valid, xlsx)

REVIEW_HEADER = [*HEADER, "立案情况", "领域", "不立案理由", "转送单位"]
KEY = "municipal/cppcc_proposal/2027/{}"


def reviewed(number, outcome="立案", area="经济", reason="", referred="", **more) -> list:
    return [*item(number, **more), outcome, area, reason, referred]


def declined(number, reason="属于具体事务，转有关单位参考", referred="市发展改革委、浦东新区人民政府",
             area="社会") -> list:
    return reviewed(number, "不立案", area, reason, referred, lead="")


def test_a_filed_row_is_received_filed_in_its_area_and_assigned():
    preview = assignment_preview(xlsx([REVIEW_HEADER, reviewed(1, area="生态文明")]),
                                 bureaus=BUREAUS, **OPTIONS)
    [row] = preview["rows"]
    submit, filed, assign = valid(preview)
    assert row["status"] == "new" and [c["type"] for c in (submit, filed, assign)] == [
        "submit", "file_proposal", "assign"]
    assert (submit["review"], submit["area"]) == (True, "ecology")
    assert filed == {"type": "file_proposal", "command_id": command_id(KEY.format(1), "file"),
                     "at": "2027-01-15T09:01:00+08:00", "proposal": "2027-cppcc_proposal-1",
                     "area": "ecology"}
    assert assign["at"] == "2027-01-15T09:02:00+08:00" and assign["lead"] == ["sh-ipa"]
    assert submit["command_id"] == command_id(KEY.format(1), "submit")


def test_a_row_not_filed_is_declined_and_not_assigned():
    preview = assignment_preview(xlsx([REVIEW_HEADER, declined(2)]), bureaus=BUREAUS, **OPTIONS)
    [row] = preview["rows"]
    submit, decline = valid(preview)
    assert row["status"] == "new" and submit["review"] is True and submit["area"] == "society"
    assert decline == {"type": "decline_filing",
                       "command_id": command_id(KEY.format(2), "decline"),
                       "at": "2027-01-15T09:01:00+08:00", "proposal": "2027-cppcc_proposal-2",
                       "referred_to": ["市发展改革委", "浦东新区人民政府"],
                       "reason": "属于具体事务，转有关单位参考"}


def test_a_row_not_filed_without_its_reason_or_bodies_or_with_bureaus_is_refused():
    rows = by_row(assignment_preview(xlsx([
        REVIEW_HEADER, declined(1, reason=""), declined(2, referred=""),
        reviewed(3, "不立案", "经济", "转有关单位参考", "市发展改革委")]),
        bureaus=BUREAUS, **OPTIONS))
    assert [r["status"] for r in rows.values()] == ["refused"] * 3
    assert codes(rows[2]) == ["missing_decline_reason"]
    assert rows[2]["reason"]["message"] == "第 2 行：不立案须写明不立案理由"
    assert rows[2]["reason"]["message_en"] == (
        "row 2: not filed (不立案) without a reason (不立案理由)")
    assert codes(rows[3]) == ["missing_referred_to"]
    assert codes(rows[4]) == ["not_filed_with_bureaus"]  # a lead on a row not filed: refused


def test_a_list_without_the_reason_columns_refuses_its_rows_not_filed():
    header = [*HEADER, "是否立案"]
    rows = by_row(assignment_preview(xlsx([header, [*item(1, lead=""), "不立案"]]),
                                     bureaus=BUREAUS, **OPTIONS))
    assert codes(rows[2]) == ["missing_decline_reason", "missing_referred_to"]


def test_an_unknown_area_or_outcome_is_refused():
    rows = by_row(assignment_preview(xlsx([
        REVIEW_HEADER, reviewed(1, area="科技"), reviewed(2, outcome="并案"),
        reviewed(3, area="economy"), reviewed(4, area="Ecological Conservation")]),
        bureaus=BUREAUS, **OPTIONS))
    assert codes(rows[2]) == ["unknown_area"]
    assert rows[2]["reason"]["message"] == (
        "第 2 行：领域“科技”无法识别，应为：经济、政治、文化、社会、生态文明")
    assert codes(rows[3]) == ["bad_filing"]
    assert "并案" in rows[3]["reason"]["message"]
    assert rows[4]["commands"][0]["area"] == "economy"  # a code or an English name serves
    assert rows[5]["commands"][0]["area"] == "ecology"


def test_the_areas_are_the_profiles_for_the_year():
    party = Area(code="party", zh="党的建设", en="party building")
    sheet = xlsx([REVIEW_HEADER, reviewed(1, area="党的建设")])
    refused = assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS)
    assert codes(refused["rows"][0]) == ["unknown_area"]
    taken = assignment_preview(sheet, bureaus=BUREAUS, areas=lambda year: (party,), **OPTIONS)
    assert taken["rows"][0]["commands"][1]["area"] == "party"


def test_a_blank_outcome_and_a_list_without_the_column_send_what_they_always_did():
    plain = assignment_preview(xlsx([HEADER, item(1), item(2)]), bureaus=BUREAUS, **OPTIONS)
    blank = assignment_preview(xlsx([REVIEW_HEADER, reviewed(1, "", ""), reviewed(2, "", "")]),
                               bureaus=BUREAUS, **OPTIONS)
    assert preview_commands(blank) == preview_commands(plain)
    submit, assign = plain["rows"][0]["commands"]
    assert "review" not in submit and "area" not in submit
    assert assign["at"] == "2027-01-15T09:01:00+08:00"


def test_an_item_received_before_gets_the_outcome_and_one_decided_is_compared():
    sheet = xlsx([REVIEW_HEADER, reviewed(1), declined(2), reviewed(3), declined(4)])

    def known(review: str, leads=()):
        return {"proposal": "p", "title": "", "leads": list(leads), "cos": [], "review": review}

    existing = {KEY.format(1): known("pending"), KEY.format(2): known("pending"),
                KEY.format(3): known("filed", ["sh-ipa"]), KEY.format(4): known("filed")}
    for key, value in existing.items():
        value["title"] = f"关于{key.rsplit('/', 1)[1]}的提案"
    rows = by_row(assignment_preview(sheet, bureaus=BUREAUS, existing=existing.get, **OPTIONS))
    assert [c["type"] for c in rows[2]["commands"]] == ["file_proposal", "assign"]
    assert rows[2]["commands"][0]["proposal"] == "p"
    assert [c["type"] for c in rows[3]["commands"]] == ["decline_filing"]
    assert rows[4]["status"] == "unchanged"
    assert rows[5]["status"] == "differs" and rows[5]["differences"] == [
        {"field": "review", "old": "filed", "new": "not_filed"}]


def test_the_kernel_takes_the_rows_and_the_offices_report_counts_them():
    ledger = MemoryLedger()
    importer = Actor(user="importer", role="importer").model_dump()
    for bureau, (name, name_en) in BUREAUS.items():
        outcome = ledger.execute(parse_command({
            "type": "register_bureau", "bureau": bureau, "name": name, "name_en": name_en,
            "at": "2026-01-02T09:00:00+08:00", "command_id": f"reg-{bureau}", "actor": importer}))
        assert not isinstance(outcome, Rejection)
    sheet = xlsx([REVIEW_HEADER, reviewed(1), reviewed(2, area="文化"), declined(3),
                  [*item(4), "", "", "", ""]])
    for command in valid(assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS)):
        outcome = ledger.execute(parse_command({**command, "actor": COORDINATOR.model_dump()}))
        assert not isinstance(outcome, Rejection), outcome
    states = {n: ledger.states[f"2027-cppcc_proposal-{n}"] for n in (1, 2, 3, 4)}
    assert [states[n].review for n in (1, 2, 3, 4)] == ["filed", "filed", "not_filed", "filed"]
    assert [states[n].area for n in (1, 2, 3)] == ["economy", "culture", "society"]
    assert not states[3].assignments and states[1].assignments["sh-ipa"].status == "active"
    report = reference_intake_report(ledger, IntakeScope(
        years=(2027, 2027), as_of=date(2027, 3, 1), profile="default"))
    outcomes = {p.measure: p.count for p in report.outcomes}
    areas = {p.measure: p.count for p in report.areas}
    assert report.received == 4 and (outcomes["filed"], outcomes["not_filed"]) == (3, 1)
    assert (areas["area.economy"], areas["area.culture"]) == (1, 1)
