"""The previews a server keeps (services.reporting.http.previews.PreviewBook): per uploader, so
that one never evicts another's; under a memory cap; read a page at a time."""
from __future__ import annotations

import time

import pytest
from fastapi import HTTPException

from banli.domain.types import Actor
from banli.sheets.limits import SheetLimits
from services.reporting.http.previews import Kept, PreviewBook, PreviewsFull

CLERK = Actor(user="li", bureau="sh-ipa", role="clerk")
COORDINATOR = Actor(user="wang", role="coordinator")


def fake_preview(rows: int, pad: int = 10) -> dict:
    statuses = ("new", "refused", "unchanged")
    return {"sheet": "清单", "header_rows": [1, 1], "columns": {}, "ignored_columns": [],
            "skipped": [{"row": n, "text": "一、经济类"} for n in range(300)], "inferred": {},
            "counts": {"rows": rows, "new": rows, "unchanged": 0, "differs": 0, "refused": 0,
                       "commands": 0, "skipped": 300},
            "rows": [{"row": n + 2, "rows": [n + 2], "number": str(n), "key": None,
                      "proposal": None, "status": statuses[n % 3], "commands": [],
                      "differences": [], "reason": None, "problems": [], "pad": "x" * pad}
                     for n in range(rows)]}


def kept(actor: Actor, rows: int = 10, pad: int = 10) -> Kept:
    from banli.domain.commands import actor_key

    return Kept.of(actor_key(actor), "assignments", None, fake_preview(rows, pad),
                   time.time() + 3600)


def test_an_uploader_never_evicts_anothers_preview():
    book = PreviewBook(SheetLimits(previews_per_user=3))
    coordinators = book.keep(kept(COORDINATOR))
    clerks = [book.keep(kept(CLERK)) for _ in range(5)]
    assert book.get(coordinators, COORDINATOR).owner.startswith("coordinator")
    for gone in clerks[:2]:  # the clerk's own oldest went
        with pytest.raises(HTTPException) as caught:
            book.get(gone, CLERK)
        assert caught.value.status_code == 404
    for kept_id in clerks[2:]:
        book.get(kept_id, CLERK)
    with pytest.raises(HTTPException):  # and no one else reads the clerk's
        book.get(clerks[-1], COORDINATOR)


def test_the_memory_cap_refuses_rather_than_evicting_others():
    book = PreviewBook(SheetLimits(previews_mb=1, previews_per_user=5))
    big = 400 << 10
    first = book.keep(kept(COORDINATOR, rows=100, pad=big // 100))
    second = book.keep(kept(COORDINATOR, rows=100, pad=big // 100))
    with pytest.raises(PreviewsFull):
        book.keep(kept(CLERK, rows=100, pad=big // 100))
    book.get(first, COORDINATOR), book.get(second, COORDINATOR)  # still there
    assert book.kept_bytes() <= 1 << 20
    # the coordinator's own newest pushes out its own oldest
    third = book.keep(kept(COORDINATOR, rows=100, pad=big // 100))
    book.get(third, COORDINATOR)
    with pytest.raises(HTTPException):
        book.get(first, COORDINATOR)


def test_a_preview_is_read_a_page_at_a_time():
    preview = fake_preview(250)
    held = Kept.of("x", "assignments", None, preview, time.time() + 60)
    rows, total = held.page(0, 100)
    assert total == 250 and [r["row"] for r in rows] == list(range(2, 102))
    rows, total = held.page(200, 100)
    assert [r["row"] for r in rows] == list(range(202, 252))
    refused, total = held.page(10, 5, "refused")
    assert total == 83 and all(r["status"] == "refused" for r in refused)
    assert [r["row"] for r in refused] == [2 + 3 * n + 1 for n in range(10, 15)]
    assert len(held.head["skipped"]) == 100 and held.head["counts"]["skipped"] == 300
    assert list(held.preview()["rows"]) == preview["rows"]
