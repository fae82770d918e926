"""Year-end documents: the statistical parts of a bureau's year-end report (年终总结), from the
same numbers as `banli report`, as DOCX (for Word and WPS), printable HTML or Markdown.

Two steps. `build_bundle` gathers everything one document states, for one bureau (or all) and
one year: the year's report, the since-term report with a row per year, last year's report as of
the same day a year earlier, the year's lead items, the disclosure review and the results
revised since last year. It reads through a `Source` — two callables, `report_for(scope)` and
`items_for(scope)` — so the reference (a ledger folded in memory) and the projections
(ClickHouse) feed it alike. `render` lays a bundle out once as blocks (headings, paragraphs,
tables) and writes the blocks in each format, so the three formats state the same numbers.

Every rate is printed with its numerator and denominator, counted from the items behind it
(`banli.domain.rates.select`). A source whose items disagree with its report is refused: a
document that contradicts itself is worse than none.

Every figure is traced (`blocks.Figure`): in DOCX and HTML it links to the page's drill-down
for exactly that number (`links`, given the page's base URL), and the evidence workbook
(`render(..., "evidence")`) lists the items each figure counts with their events' ids.
"""
from __future__ import annotations

from urllib.parse import quote

from .blocks import Figure, Trace, figures_of, title_of
from .compose import ROUNDING, compose, percent, rate_cell, rate_phrase, zh_date
from .gather import (DEFAULT_OFFICE, MAX_TERM_YEARS, TERM_ANCHOR, Bundle, Period, Source, SourceMismatch,
                     build_bundle, congress_term_start, fractions_of, ledger_source,
                     office_named, store_source)
from .html import write_html
from .links import drilldown_query, linker
from .markdown import write_markdown

__all__ = ["ATTACHMENT_FORMATS", "DEFAULT_OFFICE", "FORMATS", "MAX_TERM_YEARS", "MEDIA_TYPES",
           "ROUNDING",
           "TERM_ANCHOR", "Bundle", "Figure", "Period", "Source", "SourceMismatch", "Trace",
           "build_bundle", "compose", "congress_term_start", "content_disposition",
           "drilldown_query", "figures_of", "filename", "fractions_of", "ledger_source",
           "linker", "office_named", "percent", "rate_cell", "rate_phrase", "render", "store_source",
           "write_html", "write_markdown", "zh_date"]

FORMATS = ("docx", "html", "md")  # the whole document
# beside it: its attachment (the year's lead items) and the evidence behind its figures
ATTACHMENT_FORMATS = ("xlsx", "evidence")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "evidence": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
SUFFIXES = {"evidence": "xlsx"}
DEFAULT_BASE_URL = "http://127.0.0.1:8000"  # `banli serve`'s address unless told otherwise


def render(bundle: Bundle, fmt: str, lang: str = "zh", base_url: str | None = None,
           source: Source | None = None) -> bytes:
    """The document as bytes: "docx", "html" (self-contained, printable) or "md"; "xlsx" is
    its attachment, the year's lead items, after the year's numbers; "evidence" the workbook
    of the items and events behind each figure (read from `source`, which the bundle was
    gathered from). DOCX, HTML and the evidence link each figure to the page served at
    `base_url` (default DEFAULT_BASE_URL)."""
    if fmt not in FORMATS + ATTACHMENT_FORMATS:
        raise ValueError(f"format is one of {', '.join(FORMATS + ATTACHMENT_FORMATS)}, "
                         f"not {fmt!r}")
    if lang not in ("zh", "en"):
        raise ValueError(f"lang is zh or en, not {lang!r}")
    blocks = compose(bundle, lang)
    link = linker(base_url or DEFAULT_BASE_URL, bundle.profile.name, bundle.recorded_by)
    if fmt == "xlsx":
        from .xlsx import write_attachment_xlsx

        return write_attachment_xlsx(blocks, bundle, lang)
    if fmt == "evidence":
        from .evidence import write_evidence

        if source is None:
            raise ValueError("the evidence workbook reads the source the bundle came from")
        return write_evidence(blocks, bundle, source, lang, link)
    if fmt == "docx":
        from .docx import write_docx

        return write_docx(blocks, lang, title=title_of(blocks), author=bundle.name(
            bundle.bureau, lang), link=link)
    return (write_html(blocks, lang, link) if fmt == "html"
            else write_markdown(blocks)).encode()


def filename(bundle: Bundle, fmt: str, lang: str = "zh") -> str:
    """A name for the downloaded file (Chinese for zh; see `content_disposition`)."""
    if lang == "zh":
        what = {"xlsx": "主办件一览表", "evidence": "建议提案办理情况报告数据依据"}.get(
            fmt, "建议提案办理情况报告")
        return f"{bundle.name(bundle.bureau, 'zh')}{bundle.year}年度{what}.{SUFFIXES.get(fmt, fmt)}"
    return ascii_filename(bundle, fmt)


def ascii_filename(bundle: Bundle, fmt: str) -> str:
    evidence = "-evidence" if fmt == "evidence" else ""
    return (f"banli-report-{bundle.bureau or 'all'}-{bundle.year}{evidence}."
            f"{SUFFIXES.get(fmt, fmt)}")


def content_disposition(bundle: Bundle, fmt: str, lang: str = "zh") -> str:
    """An attachment with an ASCII fallback name and the real one per RFC 5987/6266."""
    return (f'attachment; filename="{ascii_filename(bundle, fmt)}"; '
            f"filename*=UTF-8''{quote(filename(bundle, fmt, lang), safe='')}")
