"""The filer registry's sheet (代表委员名册) as a preview: each deputy or member's register_filer,
an id stable across imports, the links it offers to the proposals recorded before, and the rows
it refuses (banli.sheets.filers)."""
from __future__ import annotations

from io import BytesIO

import openpyxl

from banli.domain.registry import parse_command
from banli.sheets.filers import derived_id, filer_preview
from banli.sheets.preview import preview_commands

HEADER = ["序号", "姓名", "代表团", "届次", "登录账号"]


def sheet(*rows, header=HEADER) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["上海市第十六届人民代表大会代表名册"])
    book.active.append(header)
    for row in rows:
        book.active.append(list(row))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def nothing_unlinked(name: str, affiliation: str) -> list[str]:
    return []


def test_each_row_registers_a_filer_under_an_id_the_same_on_every_import():
    data = sheet((1, "张伟", "浦东新区代表团", "十六届", "zhangwei"),
                 (2, " 李娜 ", "黄浦区代表团", "十六届", None))
    preview = filer_preview(data, registered={}, unlinked=nothing_unlinked)
    assert preview["counts"] == {"rows": 2, "new": 2, "unchanged": 0, "differs": 0,
                                 "refused": 0, "commands": 2, "skipped": 0, "links": 0}
    first, second = preview_commands(preview)
    assert first["filer"] == derived_id("张伟", "浦东新区代表团", "十六届")
    assert first["filer"] == filer_preview(data, registered={}, unlinked=nothing_unlinked)[
        "rows"][0]["commands"][0]["filer"]
    assert (second["name"], second["account"]) == ("李娜", "")
    for command in (first, second):
        assert parse_command({**command, "actor": {"user": "i", "role": "importer"}})


def test_an_id_column_is_taken_as_it_is_and_a_bad_one_refused():
    data = sheet((1, "张伟", "浦东新区代表团", "十六届", "zw", "d-zhang"),
                 (2, "李娜", "黄浦区代表团", "十六届", "ln", "李/娜"),
                 header=[*HEADER, "代表编号"])
    preview = filer_preview(data, registered={}, unlinked=nothing_unlinked)
    assert preview["rows"][0]["commands"][0]["filer"] == "d-zhang"
    assert preview["rows"][1]["reason"]["code"] == "bad_filer_id"


def test_a_registered_filer_is_unchanged_or_differs_and_sends_nothing_but_links():
    zhang = derived_id("张伟", "浦东新区代表团", "十六届")
    registered = {zhang: {"name": "张伟", "affiliation": "浦东新区代表团", "term": "十六届",
                          "account": "zhangwei"}}
    preview = filer_preview(sheet((1, "张伟", "浦东新区代表团", "十六届", "zhangwei")),
                            registered=registered, unlinked=nothing_unlinked)
    assert preview["rows"][0]["status"] == "unchanged" and preview["counts"]["commands"] == 0
    changed = filer_preview(sheet((1, "张伟", "浦东新区代表团", "十六届", "zw2")),
                            registered=registered, unlinked=nothing_unlinked)
    row = changed["rows"][0]
    assert row["status"] == "differs" and row["differences"] == [
        {"field": "account", "old": "zhangwei", "new": "zw2"}]
    linked = filer_preview(sheet((1, "张伟", "浦东新区代表团", "十六届", "zhangwei")),
                           registered=registered,
                           unlinked=lambda name, where: ["2020-npc_suggestion-1"])
    assert [c["type"] for c in linked["rows"][0]["commands"]] == ["link_filers"]
    assert linked["rows"][0]["status"] == "new" and linked["counts"]["links"] == 1


def test_it_offers_to_link_the_proposals_naming_the_filer_by_exact_name_and_affiliation():
    asked = []

    def unlinked(name: str, affiliation: str) -> list[str]:
        asked.append((name, affiliation))
        return {("张伟", "浦东新区代表团"): ["2020-npc_suggestion-1", "2020-npc_suggestion-9"]
                }.get((name, affiliation), [])

    preview = filer_preview(sheet((1, "张伟", "浦东新区代表团", "十六届", None),
                                  (2, "李娜", "黄浦区代表团", "十六届", None)),
                            registered={}, unlinked=unlinked)
    assert asked == [("张伟", "浦东新区代表团"), ("李娜", "黄浦区代表团")]
    commands = preview["rows"][0]["commands"]
    assert [c["type"] for c in commands] == ["register_filer", "link_filers", "link_filers"]
    zhang = commands[0]["filer"]
    assert commands[1]["filers"] == [{"id": zhang, "name": "张伟"}]
    assert commands[1]["proposal"] == "2020-npc_suggestion-1"
    assert preview["counts"]["links"] == 2
    assert len({c["command_id"] for c in commands}) == 3  # one id a command, stable


def test_a_name_two_filers_share_under_one_affiliation_is_offered_no_link():
    every = lambda name, affiliation: ["2020-npc_suggestion-1"]  # noqa: E731
    twins = filer_preview(sheet((1, "张伟", "浦东新区代表团", "十五届", None),
                                (2, "张伟", "浦东新区代表团", "十六届", None)),
                          registered={}, unlinked=every)
    assert twins["counts"]["links"] == 0 and twins["counts"]["new"] == 2
    registered = {"d-old": {"name": "张伟", "affiliation": "浦东新区代表团", "term": "十四届",
                            "account": ""}}
    one_more = filer_preview(sheet((1, "张伟", "浦东新区代表团", "十六届", None)),
                             registered=registered, unlinked=every)
    assert one_more["counts"]["links"] == 0


def test_rows_it_refuses():
    preview = filer_preview(sheet((1, None, "浦东新区代表团", "十六届", "a"),
                                  (2, "张伟", "浦东新区代表团", "十六届", "zw"),
                                  (3, "张伟", "浦东新区代表团", "十六届", "zw"),
                                  (4, "李娜", "黄浦区代表团", "十六届", "taken")),
                            registered={"d-wang": {"name": "王芳", "affiliation": "",
                                                   "term": "", "account": "taken"}},
                            unlinked=nothing_unlinked)
    codes = [r["reason"]["code"] if r["reason"] else None for r in preview["rows"]]
    assert codes == ["missing_name", None, "duplicate_in_sheet", "account_taken"]
    assert preview["counts"]["refused"] == 3
    refused = preview["rows"][3]["reason"]
    assert "taken" in refused["message"] and "d-wang" in refused["message_en"]
