"""Reading an untrusted sheet in a child process, with its memory and time bounded.

A parser may abort (python-calamine's allocator aborts the process when an allocation fails),
spin or take all the memory it is given. So the server and `banli import` never parse a sheet
themselves: `read_table` starts a fresh Python (`-I`, a bare environment), which sets its own
limits before it reads anything (RLIMIT_AS = `memory_mb`, RLIMIT_CPU = `cpu_s`, RLIMIT_FSIZE
on what it writes, no core file), reads the file with `read_sheet` within the bounds of
banli.sheets.limits, and writes the `Table` as JSON (no pickle: nothing the child writes is
code to the parent). The parent waits at most `timeout_s`, then kills it. Whatever happens to
the child, the caller gets a Table or a SheetError:

- a bound crossed while reading (rows, columns, cells, dimension, size): its own 413;
- killed by RLIMIT_CPU or by the wall clock: `sheet_too_large`, bound `time`;
- aborted, killed by a signal or out of memory: `sheet_too_large`, bound `memory`;
- anything else the file does to the reader: `unreadable`.

Starting the child costs a few tenths of a second; a sheet is read once per upload.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Mapping

from .errors import SheetError
from .limits import MIB, SheetLimits, too_large
from .read import ASSIGNMENT_HEADERS, FILER_HEADERS, REPLY_HEADERS, Row, Table, read_sheet
from .workbook import Source

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
# Each list's headers and required fields, the first of which is the key column of its header.
HEADERS = {"assignments": (ASSIGNMENT_HEADERS, ("number", "title", "lead")),
           "replies": (REPLY_HEADERS, ("number", "result")),
           "filers": (FILER_HEADERS, ("name",))}
_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
         "from banli.sheets.isolate import child; child(sys.argv[2:])")


def read_table(source: Source, which: str, *, limits: SheetLimits,
               mapping: Mapping[str, str | None] | None = None,
               sheet: str | int | None = None) -> Table:
    """The Table of an assignment list (`which` = "assignments"), a reply list ("replies") or
    a filer registry ("filers"), read in a child process within `limits`. Raises SheetError."""
    if which not in HEADERS:
        raise ValueError(f"unknown kind of list: {which}")
    with tempfile.TemporaryDirectory(prefix="banli-sheet-") as tmp:
        folder = Path(tmp)
        if isinstance(source, (str, os.PathLike)):
            size = os.stat(source).st_size
            if size > limits.max_bytes:
                raise too_large("bytes", limits.max_bytes, size)
            path = Path(source).resolve()
        else:
            data = bytes(source) if isinstance(source, (bytes, bytearray)) else source.read()
            if len(data) > limits.max_bytes:
                raise too_large("bytes", limits.max_bytes, len(data))
            path = folder / "sheet"
            path.write_bytes(data)
        spec = {"which": which, "mapping": dict(mapping) if mapping else None, "sheet": sheet,
                "limits": limits.to_dict(), "input": str(path), "output": str(folder / "out")}
        (folder / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        code = _run(folder, limits)
        return _answer(folder, code, limits)


def _run(folder: Path, limits: SheetLimits) -> int | None:
    """The child's exit status (negative: the signal that ended it), None when it overran
    the wall clock and was killed."""
    env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8"}
    with open(folder / "stderr", "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-I", "-c", _BOOT, str(ROOT),
                                 str(folder / "spec.json")],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=stderr, env=env, cwd=folder, start_new_session=True)
        try:
            return proc.wait(timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None
        except BaseException:  # the caller gave up (a signal, a cancelled request)
            proc.kill()
            proc.wait()
            raise


def _answer(folder: Path, code: int | None, limits: SheetLimits) -> Table:
    out = folder / "out"
    if code is None or code == -signal.SIGXCPU:  # the wall clock, or RLIMIT_CPU's soft limit
        raise too_large("time", limits.timeout_s if code is None else limits.cpu_s)
    if code == 0 and out.is_file():
        result = json.loads(out.read_text(encoding="utf-8"))
        if "error" in result:
            error = result["error"]
            exc = SheetError(error["code"], error["message"], error["message_en"],
                             **error.get("details", {}))
            exc.status = int(error.get("status", 422))
            raise exc
        return decode_table(result["table"])
    tail = (folder / "stderr").read_bytes()[-2000:].decode("utf-8", "replace")
    if code == -signal.SIGXFSZ:
        raise too_large("unzipped", limits.max_unzipped_mb)
    if code is not None and (code < 0 or code == MEMORY_EXIT or "MemoryError" in tail):
        # aborted (calamine's allocator), killed (the OOM killer), or Python out of memory
        log.warning("the sheet reader ended with %s: %s", code, tail.strip()[-300:])
        raise too_large("memory", limits.memory_mb)
    log.warning("the sheet reader failed (%s): %s", code, tail.strip()[-300:])
    raise SheetError("unreadable", "无法读取表格文件", "cannot read the workbook")


MEMORY_EXIT = 3  # the child's exit status after a MemoryError


# ---------------------------------------------------------------- the child


def child(argv: list[str]) -> None:
    """The reader: `spec.json` names the file, the list's kind, the options and the limits;
    the answer goes to its `output` as {"table": ...} or {"error": ...}."""
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    limits = SheetLimits(**spec["limits"])
    headers, required = HEADERS[spec["which"]]
    _limit_self(limits)
    try:
        table = read_sheet(Path(spec["input"]), headers, mapping=spec["mapping"],
                           sheet=spec["sheet"], key=required[0], required=required,
                           limits=limits)
        answer: dict[str, Any] = {"table": encode_table(table)}
    except SheetError as exc:
        answer = {"error": {**exc.to_dict(), "status": exc.status}}
    except MemoryError:
        os._exit(MEMORY_EXIT)
    except RecursionError:
        answer = {"error": SheetError("unreadable", "无法读取表格文件：结构嵌套过深",
                                      "cannot read the workbook: nested too deep").to_dict()}
    Path(spec["output"]).write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")


def _limit_self(limits: SheetLimits) -> None:
    import resource

    def cap(which: int, soft: int, hard: int | None = None) -> None:
        _, current = resource.getrlimit(which)
        hard = soft if hard is None else hard
        if current != resource.RLIM_INFINITY:
            soft, hard = min(soft, current), min(hard, current)
        resource.setrlimit(which, (soft, hard))

    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_AS, limits.memory_mb * MIB)
    cap(resource.RLIMIT_CPU, limits.cpu_s, limits.cpu_s + 2)
    cap(resource.RLIMIT_FSIZE, limits.max_unzipped_bytes + 64 * MIB)


# ---------------------------------------------------------------- a Table as JSON

_TAGS = {"$d": date.fromisoformat, "$dt": datetime.fromisoformat, "$t": time.fromisoformat}


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, time):
        return {"$t": value.isoformat()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        ((tag, text),) = value.items()
        return _TAGS[tag](text)
    return value


def encode_table(table: Table) -> dict[str, Any]:
    return {"sheet": table.sheet, "header_rows": list(table.header_rows),
            "columns": table.columns, "ignored": table.ignored, "skipped": table.skipped,
            "title": table.title,
            "rows": [{"row": r.row, "rows": list(r.rows),
                      "cells": {f: [_value(v) for v in values] for f, values in r.cells.items()}}
                     for r in table.rows]}


def decode_table(data: dict[str, Any]) -> Table:
    first, last = data["header_rows"]
    return Table(sheet=str(data["sheet"]), header_rows=(int(first), int(last)),
                 columns={str(f): [str(h) for h in hs] for f, hs in data["columns"].items()},
                 ignored=[str(h) for h in data["ignored"]], skipped=list(data["skipped"]),
                 title=[{"cell": str(t["cell"]), "text": str(t["text"])} for t in data["title"]],
                 rows=[Row(row=int(r["row"]), rows=tuple(int(n) for n in r["rows"]),
                           cells={str(f): [_typed(v) for v in values]
                                  for f, values in r["cells"].items()})
                       for r in data["rows"]])
