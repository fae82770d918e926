"""The example lists, docs/examples/交办清单示例.xlsx and 答复情况示例.xlsx, and the registry they
go with.

Regenerate them with `python -m banli.sheets.example` (or give another folder). The assignment
list has what real lists have: a title row merged across the columns, a blank row, a header over
two rows (承办单位 merged over 主办单位 | 分办 | 会办单位, the other headers merged down), a
split-handled item with two leads, co-handlers, an assignment date as an Excel serial number,
one as text and one as a real date, a blank row between items, and a 序号 column Banli ignores.
It has no kind or year column: its title (2026年市政协提案交办清单) says both, so it imports with
the defaults (its dates are past, so it imports today). The reply list is 上海市知识产权局's
answer to its two lead items of that list: results, dates, disclosure, contacts, signer, summary.
The filer registry (代表委员名册示例.xlsx) lists the members who filed the assignment list's
proposals, with their sectors, term and sign-in accounts: imported after the list, it links
them to those proposals (and 周九, who filed none, is registered only).
"""
from __future__ import annotations

import sys
from datetime import date
from io import BytesIO
from pathlib import Path

from .values import EXCEL_EPOCH

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
EXAMPLE_PATH = EXAMPLES / "交办清单示例.xlsx"
REPLY_EXAMPLE_PATH = EXAMPLES / "答复情况示例.xlsx"
FILER_EXAMPLE_PATH = EXAMPLES / "代表委员名册示例.xlsx"
REPLY_EXAMPLE_BUREAU = "sh-ipa"  # whose reply list it is

# The bureaus of banli/data/model_history.jsonl: {id: (name_zh, name_en)}.
EXAMPLE_BUREAUS: dict[str, tuple[str, str]] = {
    "sh-ipa": ("上海市知识产权局", "Shanghai Intellectual Property Administration"),
    "sh-hrss": ("上海市人力资源和社会保障局", "Shanghai Human Resources and Social Security Bureau"),
    "sh-stcsm": ("上海市科学技术委员会", "Shanghai Science and Technology Commission"),
    "sh-jrj": ("上海市地方金融监督管理局", "Shanghai Local Financial Supervision Bureau"),
    "sh-sjxw": ("上海市经济和信息化委员会", "Shanghai Economy and Informatization Commission"),
    "sh-samr": ("上海市市场监督管理局", "Shanghai Administration for Market Regulation"),
}

TITLE = "2026年市政协提案交办清单"
HEADER_TOP = ["序号", "提案号", "案由", "提案人", "界别", "承办单位", None, None, "交办日期", "类别"]
HEADER_BOTTOM = [None, None, None, None, None, "主办单位", "分办", "会办单位", None, None]
ITEMS = [
    [1, 21001, "关于加强知识产权保护的提案", "张三、李四", "经济界别", "上海市知识产权局", None,
     "上海市市场监督管理局", (date(2026, 1, 15) - EXCEL_EPOCH).days, "知识产权保护"],
    [2, 21002, "关于引进海外科技人才的提案", "王五", "科技界别",
     "上海市科学技术委员会、上海市人力资源和社会保障局", "是", "上海市经济和信息化委员会",
     "2026年1月20日", "人才，科技"],
    None,  # a blank row
    [3, 21003, "关于发展绿色金融的提案", "赵六 钱七", "无党派人士界别", "上海市地方金融监督管理局",
     None, None, date(2026, 1, 20), "金融"],
    [4, 21004, "关于促进专利转化运用的提案", "孙八", "科技界别", "上海市知识产权局", None,
     "上海市科学技术委员会", "2026-01-20", "知识产权保护，科技"],
]

REPLY_TITLE = "2026年市政协提案答复情况（上海市知识产权局）"
REPLY_HEADER = ["序号", "提案号", "案由", "办理结果", "答复日期", "公开方式", "沟通方式", "沟通日期",
                "签发人", "答复摘要"]
REPLIES = [
    [1, 21001, "关于加强知识产权保护的提案", "A类", date(2026, 3, 20), "全文公开", "走访",
     "2026-03-02", "王局长", "已会同市市场监管局开展专项执法行动，建议所提措施均已采纳。"],
    [2, 21004, "关于促进专利转化运用的提案", "B类", "2026年4月10日", "摘要公开", "电话",
     "2026/3/25", "王局长", "专利开放许可试点已列入年度工作计划，正在推进。"],
]


FILER_TITLE = "政协上海市第十四届委员会委员名册（节选）"
FILER_HEADER = ["序号", "姓名", "界别", "届次", "账号"]
FILERS = [
    [1, "张三", "经济界别", "十四届", "zhangsan"],
    [2, "李四", "经济界别", "十四届", "lisi"],
    [3, "王五", "科技界别", "十四届", "wangwu"],
    [4, "赵六", "无党派人士界别", "十四届", "zhaoliu"],
    [5, "钱七", "无党派人士界别", "十四届", "qianqi"],
    [6, "孙八", "科技界别", "十四届", "sunba"],
    [7, "周九", "教育界别", "十四届", "zhoujiu"],
]

def example_assignment_list() -> bytes:
    """The example workbook as bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    ws = book.active
    ws.title = "交办清单"
    ws.append([TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER_TOP))
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([])
    ws.append(HEADER_TOP)
    ws.append(HEADER_BOTTOM)
    for col, label in enumerate(HEADER_TOP, start=1):
        if label and HEADER_BOTTOM[col - 1] is None:
            ws.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
    ws.merge_cells("F3:H3")
    for row in ws.iter_rows(min_row=3, max_row=4):
        for cell in row:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center")
    for item in ITEMS:
        ws.append(item or [])
    ws["I8"].number_format = "yyyy-mm-dd"  # the real date; I5 stays a bare serial number
    for letter, width in zip("ABCDEFGHIJ", (6, 10, 36, 14, 16, 40, 6, 26, 14, 16)):
        ws.column_dimensions[letter].width = width
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def example_reply_list() -> bytes:
    """The example reply list (上海市知识产权局's) as bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    ws = book.active
    ws.title = "答复情况"
    ws.append([REPLY_TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(REPLY_HEADER))
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(REPLY_HEADER)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for item in REPLIES:
        ws.append(item)
    ws["E3"].number_format = "yyyy-mm-dd"  # a real date; E4 is text
    for letter, width in zip("ABCDEFGHIJ", (6, 10, 30, 10, 14, 12, 10, 14, 10, 50)):
        ws.column_dimensions[letter].width = width
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def example_filer_list() -> bytes:
    """The example filer registry (代表委员名册) as bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    ws = book.active
    ws.title = "委员名册"
    ws.append([FILER_TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(FILER_HEADER))
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(FILER_HEADER)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for item in FILERS:
        ws.append(item)
    for letter, width in zip("ABCDE", (6, 12, 18, 10, 14)):
        ws.column_dimensions[letter].width = width
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def write_examples(folder: str | Path = EXAMPLES) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path, data in ((folder / EXAMPLE_PATH.name, example_assignment_list()),
                       (folder / REPLY_EXAMPLE_PATH.name, example_reply_list()),
                       (folder / FILER_EXAMPLE_PATH.name, example_filer_list())):
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    for written in write_examples(*sys.argv[1:2]):
        print(written)
