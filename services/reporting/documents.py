"""The year-end document from the projections (banli.documents over the reporting store): the
one use case the HTTP route (http/documents_api.py) and the command line (`banli report
--format docx|html|md|xlsx|evidence` without a running server) both call."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Sequence

from banli.documents import SourceMismatch, build_bundle, content_disposition, render, store_source
from banli.domain.timing.deadlines import Profile

from .projections import lineage, queries
from .projections.store import ReportingStore


def events_of(store: ReportingStore, proposal_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The events of these proposals, every clock, as the evidence workbook reads them."""
    rows = store.query(queries.EVENTS_OF_PROPOSALS, proposals=list(proposal_ids))
    for row in rows:
        for clock in ("occurred_at", "recorded_at"):
            if row[clock].tzinfo is None:  # ClickHouse gives UTC without its zone
                row[clock] = row[clock].replace(tzinfo=timezone.utc)
    return rows


def year_end_document(store: ReportingStore, profile: Profile, fmt: str, lang: str, *,
                      bureau: str | None, year: int, as_of: date, base_url: str | None,
                      recorded_by: datetime | None = None, **options: Any) -> tuple[bytes, str]:
    """The document (or its attachment, or its evidence) in `fmt` and its Content-Disposition.
    `options` are build_bundle's other arguments (term_start, level, kind, doc_number,
    doc_date, office). Read twice at most: the evidence reads the items again, and they may
    have moved meanwhile (SourceMismatch, raised the second time)."""
    def build() -> tuple[bytes, str]:
        # the misrouting query has no audit clock: an audit document leaves that section out
        misrouted = None if recorded_by is not None else (
            lambda scope: lineage.misrouting(store, scope.years, scope.as_of, scope.bureau))
        source = store_source(store, profile, recorded_by, misrouted,
                              events_for=lambda ids: events_of(store, ids))
        bundle = build_bundle(source, bureau=bureau, year=year, as_of=as_of, profile=profile,
                              recorded_by=recorded_by, attempts=3, **options)
        return (render(bundle, fmt, lang, base_url=base_url, source=source),
                content_disposition(bundle, fmt, lang))

    try:
        return build()
    except SourceMismatch:
        return build()
