"""What a list says about itself: its kind and year, from the texts above its header.

Offices title their lists plainly: 2026年市政协提案交办清单, 上海市第十六届人民代表大会第三次会议代表
建议交办清单. When the import is given no kind or no year, they are taken from there:

- the kind: 代表建议, 人大 or 人民代表大会 → npc_suggestion; 提案, 政协 or 政治协商 → cppcc_proposal
  (a title naming both says nothing);
- the year: a year written out (2027年); else the session (第十六届…第三次会议): session S of
  term N meets in `first + 5 × (N − T) + (S − 1)`, where term T of the level and kind held its
  first session in `first` (terms last five years, one plenary session a year). The terms are
  configuration, `BANLI_SHEET_SESSIONS` (JSON, {level: {kind: [T, first]}}); the default is
  Shanghai's and the national ones since 2023: 市人大 第十六届, 市政协 第十四届, 全国人大 and
  全国政协 第十四届, each first meeting in 2023.

An option given to the import, and a kind or year column in the row, still win: inference only
fills in what nothing else gives. The preview says what it inferred and from which cell.
"""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Mapping

Sessions = Mapping[str, Mapping[str, tuple[int, int]]]

DEFAULT_SESSIONS: dict[str, dict[str, tuple[int, int]]] = {
    "municipal": {"npc_suggestion": (16, 2023), "cppcc_proposal": (14, 2023)},
    "national": {"npc_suggestion": (14, 2023), "cppcc_proposal": (14, 2023)},
}
TERM_YEARS = 5

KIND_WORDS: dict[str, tuple[str, ...]] = {
    "npc_suggestion": ("代表建议", "人民代表大会", "人大"),
    "cppcc_proposal": ("提案", "政治协商", "政协"),
}
KIND_NAMES = {"npc_suggestion": ("人大代表建议", "NPC deputies' suggestions"),
              "cppcc_proposal": ("政协提案", "CPPCC proposals")}

_YEAR = re.compile(r"((?:19|20|21)\d{2})\s*年")
_NUMERAL = r"[〇零一二两三四五六七八九十百\d]+"
_SESSION = re.compile(rf"第?({_NUMERAL})\s*届.*?第?({_NUMERAL})\s*次\s*(?:全体)?\s*会议")
_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}


def chinese_number(text: str) -> int:
    """十六 → 16, 三 → 3, 二十一 → 21, 一百零二 → 102, 16 → 16."""
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char == "十":
            total += (digit or 1) * 10
            digit = 0
        elif char == "百":
            total += (digit or 1) * 100
            digit = 0
        else:
            raise ValueError(text)
    return total + digit


def parse_sessions(text: str) -> dict[str, dict[str, tuple[int, int]]]:
    """BANLI_SHEET_SESSIONS: {level: {kind: [term, year of its first session]}}."""
    data = json.loads(text) if text.strip() else {}
    sessions: dict[str, dict[str, tuple[int, int]]] = {}
    if not isinstance(data, dict):
        raise ValueError("BANLI_SHEET_SESSIONS is an object {level: {kind: [term, first_year]}}")
    for level, kinds in data.items():
        if level not in ("national", "provincial", "municipal", "district") or not isinstance(
                kinds, dict):
            raise ValueError(f"BANLI_SHEET_SESSIONS: bad level {level!r}")
        for kind, pair in kinds.items():
            if kind not in KIND_WORDS or not (
                    isinstance(pair, list) and len(pair) == 2
                    and all(isinstance(n, int) and not isinstance(n, bool) for n in pair)
                    and 0 < pair[0] < 100 and 1949 <= pair[1] <= 2200):
                raise ValueError(f"BANLI_SHEET_SESSIONS: bad {level}/{kind}: {pair!r}")
            sessions.setdefault(level, {})[kind] = (pair[0], pair[1])
    return sessions


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def infer_kind(title: list[dict[str, str]]) -> dict[str, Any] | None:
    """The kind the title names, with the cell and the words it was read from; None when it
    names neither, or both."""
    found: dict[str, tuple[str, str, str]] = {}
    for cell in title:
        text = _norm(cell["text"])
        for kind, words in KIND_WORDS.items():
            word = next((w for w in words if w in text), None)
            if word and kind not in found:
                found[kind] = (cell["cell"], cell["text"], word)
    if len(found) != 1:
        return None
    ((kind, (where, text, word)),) = found.items()
    zh, en = KIND_NAMES[kind]
    return {"value": kind, "cell": where, "text": text, "by": word,
            "message": f"类型“{zh}”取自 {where} 单元格“{text}”（含“{word}”）",
            "message_en": f"kind {kind} ({en}) taken from cell {where}, '{text}' "
                          f"(it says {word})"}


def infer_year(title: list[dict[str, str]], kind: str | None, level: str,
               sessions: Sessions = DEFAULT_SESSIONS) -> dict[str, Any] | None:
    """The year the title names (2027年), else the year of the session it names for `kind` at
    `level` (a session needs both, and the level's terms in `sessions`); None when it names no
    year or several."""
    years = {(int(m.group(1)), cell["cell"], cell["text"], m.group(0))
             for cell in title for m in _YEAR.finditer(_norm(cell["text"]))}
    if len({y for y, *_ in years}) == 1:
        year, where, text, said = min(years)
        return {"value": year, "cell": where, "text": text, "by": said,
                "message": f"年度 {year} 取自 {where} 单元格“{text}”（“{said}”）",
                "message_en": f"year {year} taken from cell {where}, '{text}' (it says {said})"}
    if years or kind is None or kind not in sessions.get(level, {}):
        return None
    term0, first = sessions[level][kind]
    found = set()
    for cell in title:
        for match in _SESSION.finditer(_norm(cell["text"])):
            try:
                term, session = chinese_number(match.group(1)), chinese_number(match.group(2))
            except ValueError:
                continue
            if term and session:
                year = first + TERM_YEARS * (term - term0) + session - 1
                found.add((year, cell["cell"], cell["text"], match.group(0), term))
    if len({y for y, *_ in found}) != 1:
        return None
    year, where, text, said, term = min(found)
    return {"value": year, "cell": where, "text": text, "by": said,
            "message": f"年度 {year} 取自 {where} 单元格“{text}”：{said}在 {year} 年召开"
                       f"（第 {term0} 届于 {first} 年召开第一次会议，每届 {TERM_YEARS} 年，"
                       f"见 BANLI_SHEET_SESSIONS）",
            "message_en": f"year {year} taken from cell {where}, '{text}': {said} (term {term}) "
                          f"met in {year} (term {term0} first met in {first}, a term is "
                          f"{TERM_YEARS} years: BANLI_SHEET_SESSIONS)"}
