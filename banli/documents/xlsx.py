"""The year-end document's attachment (the year's lead items) as a spreadsheet: the same rows
the document's attachment table states, after the year's numbers."""
from __future__ import annotations

from ..sheets import Column, Sheet, write_xlsx
from ..sheets.numbers import report_numbers
from .blocks import Appendix, Block, Table, plain
from .gather import Bundle


def write_attachment_xlsx(blocks: list[Block], bundle: Bundle, lang: str) -> bytes:
    start = next(i for i, block in enumerate(blocks) if isinstance(block, Appendix))
    appendix = blocks[start]
    assert isinstance(appendix, Appendix)
    table = next(block for block in blocks[start:] if isinstance(block, Table))
    columns = [Column(str(i), header, header) for i, header in enumerate(table.header)]
    rows = [{str(i): plain(cell) for i, cell in enumerate(row)} for row in table.rows]
    return write_xlsx([Sheet(appendix.title, columns, rows)], lang=lang,
                      numbers=report_numbers(bundle.current.report,
                                             bundle.names.get(bundle.bureau or "")))
