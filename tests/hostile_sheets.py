"""Hostile spreadsheets, made by the tests (no big binaries in the repository): what an attacker
inside a deployment would upload, each with the answer Banli must give.

`raw_xlsx` writes a minimal workbook (inline strings, numbers) whose worksheet XML comes from a
generator straight into the zip, so a million rows cost seconds and a few megabytes."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from functools import cache
from typing import Iterable, Iterator
from xml.sax.saxutils import escape

import openpyxl

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
ASSIGNMENT_HEADER = ["提案号", "案由", "主办单位", "交办日期"]
REPLY_HEADER = ["提案号", "办理结果", "答复日期"]


def column(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell(ref: str, value) -> str:
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def row(number: int, values: Iterable) -> str:
    cells = "".join(cell(f"{column(i)}{number}", v) for i, v in enumerate(values, start=1)
                    if v is not None)
    return f'<row r="{number}">{cells}</row>'


def raw_xlsx(body: Iterator[str], dimension: str | None = None, merges: Iterable[str] = (),
             head: str = "", level: int = 1, strings: str | None = None) -> bytes:
    """A workbook of one worksheet whose <sheetData> is `body` (row XML, streamed into the
    zip), with an optional declared dimension and merged ranges; `head` goes before the
    worksheet element (a DOCTYPE, say); `strings`, the <si> elements of a shared strings
    part."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
            '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>'))
        z.writestr("_rels/.rels", f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
                   f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
                   '<sheet name="清单" sheetId="1" r:id="rId1"/></sheets></workbook>')
        shared = "" if strings is None else (
            f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PKG}"><Relationship '
                   f'Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>{shared}'
                   '</Relationships>')
        if strings is not None:
            z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{strings}</sst>')
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?>{head}<worksheet xmlns="{MAIN}">'
                        .encode())
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>")
            batch: list[str] = []
            for piece in body:
                batch.append(piece)
                if len(batch) >= 5000 or len(piece) > 4096:
                    sheet.write("".join(batch).encode())
                    batch.clear()
            sheet.write("".join(batch).encode())
            sheet.write(b"</sheetData>")
            merges = list(merges)
            if merges:
                sheet.write(f'<mergeCells count="{len(merges)}">'.encode())
                sheet.write("".join(f'<mergeCell ref="{m}"/>' for m in merges).encode())
                sheet.write(b"</mergeCells>")
            sheet.write(b"</worksheet>")
    return out.getvalue()


def assignment_rows(count: int, first: int = 2) -> Iterator[str]:
    for n in range(first, first + count):
        yield row(n, [n, f"关于第{n}号的提案", "上海市知识产权局", "2020-02-03"])


# ---------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Hostile:
    name: str
    data: bytes
    status: int           # the HTTP answer
    code: str             # its detail's code
    bound: str | None     # the bound named (sheet_too_large)
    replies: bool = False  # a reply list (else an assignment list)


def far_corner() -> bytes:
    """The probe's file: a header, one item, and one cell at XFD1048576 (openpyxl declares
    the dimension A1:XFD1048576)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(ASSIGNMENT_HEADER)
    ws.append([1, "关于某事的提案", "上海市知识产权局", "2020-02-03"])
    ws["XFD1048576"] = "x"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def far_corner_undeclared() -> bytes:
    """The same cell with no dimension declared: found as the stream reaches it."""
    return raw_xlsx(iter([row(1, ASSIGNMENT_HEADER), next(assignment_rows(1)),
                          f'<row r="1048576">{cell("XFD1048576", "x")}</row>']))


def zip_bomb(inflated_mb: int = 300) -> bytes:
    """A worksheet that inflates to `inflated_mb` of blanks from a few hundred KB."""
    blank = " " * (1 << 20)
    return raw_xlsx(iter([row(1, ASSIGNMENT_HEADER), *([blank] * inflated_mb)]), level=9)


def numbered_rows(header: list[str], count: int, *values: int) -> bytes:
    """`count` rows under `header`, each a number and `values` (numbers: they pack small)."""
    def rows() -> Iterator[str]:
        yield row(1, header)
        for n in range(2, count + 2):
            yield f'<row r="{n}"><c r="A{n}"><v>{n}</v></c>' + "".join(
                f'<c r="{column(i)}{n}"><v>{v}</v></c>' for i, v in enumerate(values, start=2)
            ) + "</row>"
    return raw_xlsx(rows())


def million_rows() -> bytes:
    """1,000,000 items and no declared dimension: the row bound is met while streaming."""
    return numbered_rows(ASSIGNMENT_HEADER, 1_000_000)


def reply_rows(count: int = 200_000) -> bytes:
    """A reply list of 200,000 rows (number, result 1, a date serial)."""
    return numbered_rows(REPLY_HEADER, count, 1, 43922)


def merged_outside() -> bytes:
    """Two items, and merged ranges far outside the cells holding values (the probe's 500)."""
    body = iter([row(1, ASSIGNMENT_HEADER), *assignment_rows(2)])
    return raw_xlsx(body, merges=["A9:C12", "AA1:AZ2", "XFD1048575:XFD1048576", "B3:B20000"])


def zip_without_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "这不是工作簿")
    return out.getvalue()


def pdf_named_xlsx() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def text_named_xlsx() -> bytes:
    return "提案号,案由,主办单位\n1,关于某事的提案,上海市知识产权局\n".encode()


def entity_expansion() -> bytes:
    """A billion laughs in the worksheet's XML."""
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    return raw_xlsx(iter([row(1, ASSIGNMENT_HEADER), '<row r="2"><c r="A2" t="inlineStr"><is>'
                          '<t>&j;</t></is></c></row>']), head=f"<!DOCTYPE worksheet [{entities}]>")


@cache
def hostile_cases() -> tuple[Hostile, ...]:
    """Every hostile file with the answer it gets (the merged ranges are read, not refused:
    a merge outside the cells holding values holds nothing)."""
    return (
        Hostile("far_corner", far_corner(), 413, "sheet_too_large", "dimension"),
        Hostile("far_corner_undeclared", far_corner_undeclared(), 413, "sheet_too_large", "rows"),
        Hostile("zip_bomb", zip_bomb(), 413, "sheet_too_large", "unzipped"),
        Hostile("million_rows", million_rows(), 413, "sheet_too_large", "rows"),
        Hostile("reply_rows_200k", reply_rows(), 413, "sheet_too_large", "rows", replies=True),
        Hostile("merged_outside", merged_outside(), 200, "", None),
        Hostile("zip_without_workbook", zip_without_workbook(), 422, "unreadable", None),
        Hostile("pdf_named_xlsx", pdf_named_xlsx(), 422, "unreadable", None),
        Hostile("text_named_xlsx", text_named_xlsx(), 422, "unreadable", None),
        Hostile("entity_expansion", entity_expansion(), 422, "unreadable", None),
        Hostile("ods_far_corner", ods_far_corner(), 413, "sheet_too_large", "memory"),
    )


def nested_json(depth: int) -> str:
    """A mapping nested `depth` deep: what broke the parser with a RecursionError."""
    return '{"提案号": ' * depth + '"number"' + "}" * depth


def ods(rows_xml: str) -> bytes:
    """A minimal OpenDocument spreadsheet whose one table holds `rows_xml`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:'
            'names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry'
            ' manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.'
            'spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-'
            'type="text/xml"/></manifest:manifest>'))
        z.writestr("content.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:'
            'oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:'
            'opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:'
            'text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table '
            f'table:name="清单">{rows_xml}</table:table></office:spreadsheet></office:body>'
            '</office:document-content>'))
    return out.getvalue()


def ods_row(*values: str) -> str:
    return "<table:table-row>" + "".join(
        f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p>'
        "</table:table-cell>" for v in values) + "</table:table-row>"


def ods_far_corner(rows: int = 1_048_573, columns: int = 20) -> bytes:
    """An .ods with a value far down and right (by repeated empty rows and cells): python-
    calamine builds the whole range before Banli can look at it (here 0.5 GB), so only the
    reading process's memory limit stops it (python-calamine aborts)."""
    far = (f'<table:table-row table:number-rows-repeated="{rows}"><table:table-cell/>'
           '</table:table-row><table:table-row><table:table-cell table:number-columns-'
           f'repeated="{columns}"/><table:table-cell office:value-type="string"><text:p>x'
           "</text:p></table:table-cell></table:table-row>")
    return ods(ods_row(*ASSIGNMENT_HEADER) + ods_row("1", "关于某事的提案", "上海市知识产权局",
                                                     "2020-02-03") + far)
