"""What the `banli` command does on one machine: serve, import, report from the store."""
from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterable, TextIO

from banli.auth import authority, secure_dir
from banli.domain.deadlines import DEFAULT_PROFILE, Profile
from banli.domain.rates import Report, Scope
from banli.domain.types import Actor
from banli.history import LineProblem, file_lines, read_commands
from banli.settings import Settings
from banli.web.serve import GRACE_S

SERVER_FILE = "server.json"
DEMO_ACTORS = {
    "coordinator": Actor(user="demo-coordinator", role="coordinator"),
    "clerk (sh-ipa)": Actor(user="demo-clerk", bureau="sh-ipa", role="clerk"),
    "overseer": Actor(user="demo-overseer", role="overseer"),
}


class Progress:
    """Progress of long work on stderr, drawn by tqdm: given the count done so far."""

    def __init__(self, total: int, label: str, out: TextIO | None = None):
        from tqdm import tqdm

        out = out or sys.stderr
        self.bar = tqdm(total=max(total, 1), desc=label, file=out, unit=" ", unit_scale=True,
                        mininterval=0.2 if out.isatty() else 5.0, dynamic_ncols=True,
                        leave=True)

    def grow(self, total: int) -> None:
        """The work turned out larger (or smaller): draw against `total` from now on."""
        self.bar.total = max(total, 1)

    def update(self, done: int, force: bool = False) -> None:
        self.bar.update(done - self.bar.n)
        if force:
            self.bar.refresh()
            if done >= self.bar.total:
                self.bar.close()


def cli_token(settings: Settings, ttl_seconds: float = 300) -> str:
    """A short-lived admin token for this command's calls to the server on its data dir."""
    return authority(settings).issue(Actor(user="banli-cli", role="admin"), ttl_seconds)


def running_server(settings: Settings) -> str | None:
    """The URL of a live `banli serve` on this data dir, if there is one."""
    path = settings.data_dir / SERVER_FILE
    try:
        info = json.loads(path.read_text())
        os.kill(info["pid"], 0)
        with urllib.request.urlopen(info["url"] + "/healthz", timeout=2):
            return info["url"]
    except (OSError, ValueError, KeyError, urllib.error.URLError):
        return None


def import_commands(handle, lines: Iterable[str | bytes], progress: Progress | None = None,
                    handle_batch=None, batch: int = 500) -> tuple[int, int, list[LineProblem]]:
    """Decide each line with `handle` (or, when given, `handle_batch` many lines at a time, in
    one transaction each); returns (accepted, already decided, problems in line order)."""
    accepted = replayed = 0
    problems: list[LineProblem] = []
    chunk: list[tuple[int, object]] = []

    def settle(numbered: list[tuple[int, object]]) -> None:
        nonlocal accepted, replayed
        commands = [item for _, item in numbered]
        outcomes = handle_batch(commands) if handle_batch else [handle(c) for c in commands]
        for (number, _), outcome in zip(numbered, outcomes):
            if outcome.rejection is not None:
                problems.append(LineProblem(number, f"{outcome.rejection.message} "
                                                    f"({outcome.rejection.message_en})",
                                            outcome.rejection.code))
            elif outcome.replayed:
                replayed += 1
            else:
                accepted += 1

    for count, (number, item) in enumerate(read_commands(lines), start=1):
        if progress is not None:
            progress.update(count)
        if isinstance(item, LineProblem):
            problems.append(item)
            continue
        chunk.append((number, item))
        if len(chunk) >= (batch if handle_batch else 1):
            settle(chunk)
            chunk = []
    if chunk:
        settle(chunk)
    problems.sort(key=lambda p: p.line)
    return accepted, replayed, problems


def import_file(settings: Settings, path: Path, strict: bool = False) -> int:
    """`banli import`: writes the event store only, so it is safe beside a running server
    (whose projector picks the new events up). 500 lines a transaction: a crash loses at most
    the uncommitted batch, which importing the file again decides."""
    from banli.domain.deadlines import get_profile
    from banli.eventlog.repository import Repository
    from banli.eventlog.sqlite import SqliteEventStore
    from banli.handling import Handling
    from banli.workcalendar import CalendarBook

    if not path.is_file():
        print(f"banli import: no such file: {path}", file=sys.stderr)
        return 2
    secure_dir(settings.data_dir)
    log = SqliteEventStore(settings.store_path)
    handling = Handling(Repository(log), log, get_profile(settings.profile),
                        CalendarBook(settings.calendar_dir, settings.calendar_notices),
                        clerk_backdate_days=settings.clerk_backdate_days)
    with path.open("rb") as f:
        total = sum(1 for _ in f)
    progress = Progress(total, "导入 import")
    accepted, replayed, problems = import_commands(handling.handle, file_lines(path), progress,
                                                   handle_batch=handling.handle_batch)
    progress.update(total, force=True)
    for problem in problems:
        print(f"{path}:{problem}", file=sys.stderr)
    print(f"导入完成：新接受 {accepted} 条，此前已处理 {replayed} 条，未接受 {len(problems)} 条 "
          f"(imported {accepted}, already decided {replayed}, not taken {len(problems)})")
    return 1 if strict and problems else 0


def import_sheet(settings: Settings, path: Path, options: Any) -> int:
    """`banli import FILE.xlsx`: the preview of the sheet against the event store, printed
    (each refused row with its reason), then, unless `--dry-run`, its commands decided as the
    command line's importer (this machine's user), row by row."""
    import getpass

    from banli.domain.deadlines import get_profile
    from banli.domain.registry import parse_command
    from apps.embedded import StoreRecords
    from banli.eventlog.repository import Repository
    from banli.eventlog.sqlite import SqliteEventStore
    from banli.handling import Handling
    from banli.sheets import SheetError, load_mapping
    from banli.sheets.commit import row_commands, summary
    from banli.sheets.records import assignment_sheet, reply_sheet
    from banli.workcalendar import CalendarBook

    if not path.is_file():
        print(f"banli import: no such file: {path}", file=sys.stderr)
        return 2
    if options.replies and not options.bureau:
        print("banli import: a reply list needs --bureau (whose replies these are)",
              file=sys.stderr)
        return 2
    secure_dir(settings.data_dir)
    log = SqliteEventStore(settings.store_path)
    repository = Repository(log)
    records = StoreRecords(log, repository)
    sheet = int(options.sheet) if options.sheet and options.sheet.isdigit() else options.sheet
    try:
        mapping = load_mapping(options.mapping) if options.mapping else None
        if options.replies:
            preview = reply_sheet(path.read_bytes(), records, bureau=options.bureau,
                                  kind=options.kind, year=options.year, level=options.level,
                                  mapping=mapping, sheet=sheet)
        else:
            preview = assignment_sheet(path.read_bytes(), records, kind=options.kind,
                                       year=options.year, level=options.level,
                                       assigned_on=options.assigned_on, mapping=mapping,
                                       sheet=sheet)
    except SheetError as exc:
        print(f"banli import: {path}: {exc.message} ({exc.message_en})", file=sys.stderr)
        return 2
    counts = preview["counts"]
    print(f"{path}（工作表 sheet {preview['sheet']}）：{counts['rows']} 行 rows — 新 new "
          f"{counts['new']}，已有且一致 unchanged {counts['unchanged']}，已有但不同 differs "
          f"{counts['differs']}，不予导入 refused {counts['refused']}；命令 commands "
          f"{counts['commands']}")
    for row in preview["rows"]:
        if row["status"] == "refused" and row["reason"] is not None:
            print(f"  {row['reason']['message']} ({row['reason']['message_en']})",
                  file=sys.stderr)
        elif row["status"] == "differs":
            changes = "; ".join(f"{d['field']}: {d['old']!r} → {d['new']!r}"
                                for d in row["differences"])
            print(f"  第 {row['row']} 行 row {row['row']} ({row['key']}) 与已有记录不同 differs: "
                  f"{changes}", file=sys.stderr)
    if options.dry_run:
        if options.json:
            print(json.dumps(preview, ensure_ascii=False))
        return 1 if options.strict and counts["refused"] else 0
    handling = Handling(repository, log, get_profile(settings.profile),
                        CalendarBook(settings.calendar_dir, settings.calendar_notices),
                        clerk_backdate_days=settings.clerk_backdate_days)
    actor = Actor(user=f"{getpass.getuser()}@cli", role="importer")
    progress = Progress(counts["commands"], "导入 import")
    sent, done = [], 0
    for row, commands in row_commands(preview, actor):
        outcomes = []
        for command in commands:
            outcome = handling.handle(parse_command(command))
            outcomes.append(outcome)
            done += 1
            progress.update(done)
            if outcome.rejection is not None:
                break
        sent.append((row, outcomes))
    progress.update(counts["commands"], force=True)
    result = summary(preview, sent)
    for row in result["rows"]:
        reason = row["reason"] or {}
        print(f"{path}: 第 {row['row']} 行 row {row['row']} ({row['number']}): "
              f"{reason.get('message', '')} ({reason.get('message_en', row['status'])})",
              file=sys.stderr)
    c = result["counts"]
    print(f"导入完成：新导入 {c['imported']} 行，此前已导入 {c['already']} 行，未接受 "
          f"{c['refused'] + c['refused_in_preview']} 行 (imported {c['imported']} rows, already "
          f"imported {c['already']}, not taken {c['refused'] + c['refused_in_preview']})")
    if options.json:
        print(json.dumps({"preview": preview, "outcome": result}, ensure_ascii=False))
    return 1 if options.strict and (c["refused"] or c["refused_in_preview"]) else 0


def report_from_store(settings: Settings, scope: Scope, profile: Profile = DEFAULT_PROFILE
                      ) -> tuple[Report, dict[str, str] | None]:
    """The report from the projections: through the running server when there is one (chDB
    opens a path in one process only), else by catching the projections up here."""
    url = running_server(settings)
    if url is not None:
        token = cli_token(settings)
        query = {"years": f"{scope.years[0]}-{scope.years[1]}", "as_of": scope.as_of.isoformat(),
                 "profile": profile.name}
        query.update({"bureau": scope.bureau} if scope.bureau else {"all": "true"})
        query.update({k: v for k, v in (("level", scope.level), ("kind", scope.kind)) if v})
        request = urllib.request.Request(f"{url}/api/report?{urllib.parse.urlencode(query)}",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            report = Report.model_validate(json.load(response))
        return report, None
    from apps.embedded import EmbeddedSystem

    system = EmbeddedSystem(settings)
    system.projector.catch_up()
    names = system.reporting.bureau_names()
    return system.reporting.report(scope, profile), names.get(scope.bureau or "", {})


def document_from_store(settings: Settings, options: dict[str, Any], profile: Profile,
                        fmt: str, lang: str = "zh") -> bytes:
    """The year-end document (banli.documents) from the projections: fetched from the running
    server when there is one (chDB opens a path in one process only), else built here.
    `options` are build_bundle's scope arguments (bureau, year, as_of, term_start, ...)."""
    from banli.documents import build_bundle, render, store_source

    url = running_server(settings)
    if url is not None:
        token = cli_token(settings)
        query = {"format": fmt, "lang": lang, "year": options["year"],
                 "as_of": options["as_of"].isoformat(), "profile": profile.name}
        query.update({"bureau": options["bureau"]} if options["bureau"] else {"all": "true"})
        query.update({k: options[k] for k in ("term_start", "level", "kind", "doc_number")
                      if options.get(k) is not None})
        request = urllib.request.Request(
            f"{url}/api/report/document?{urllib.parse.urlencode(query)}",
            headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            raise ValueError(f"{url} answered {exc.code}: "
                             f"{exc.read().decode(errors='replace')}") from None
    from apps.embedded import EmbeddedSystem

    system = EmbeddedSystem(settings)
    system.projector.catch_up()
    from services.reporting.lineage import misrouting

    source = store_source(system.reporting, profile, misrouting_for=lambda scope: misrouting(
        system.reporting, scope.years, scope.as_of, scope.bureau))
    return render(build_bundle(source, profile=profile, **options), fmt, lang)


def load_demo(system) -> None:
    """The model report's history, then a generated spread of other bureaus' work."""
    from banli.demo.model import MODEL_FILE

    with MODEL_FILE.open(encoding="utf-8") as lines:
        import_commands(system.handle, lines)
    try:
        from banli.demo.generate import demo_history
    except ImportError:
        return
    import_commands(system.handle, demo_history())


DEMO_TOKEN_HOURS = 12


def serve(settings: Settings, demo: bool = False) -> int:
    """`banli serve`: the embedded system over HTTP. With `demo`, an empty store gets the demo
    history and the start prints demo tokens (valid DEMO_TOKEN_HOURS) and a signed-in link;
    without it nothing is printed that could sign anyone in."""
    import uvicorn

    from apps.embedded import EmbeddedSystem, create_app
    from banli.web.serve import run_in_foreground

    if (url := running_server(settings)) is not None:
        print(f"banli serve: already running at {url} on {settings.data_dir}", file=sys.stderr)
        return 1
    system = EmbeddedSystem(settings)
    if demo and system.log.head() == 0:
        print("首次启动，正在载入演示数据 (loading demo data)…", flush=True)
        load_demo(system)
    app = create_app(system)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port,
                                           log_level="warning", lifespan="on",
                                           timeout_graceful_shutdown=GRACE_S))
    url = f"http://{settings.host}:{settings.port}"

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.05)
        (settings.data_dir / SERVER_FILE).write_text(json.dumps({"url": url, "pid": os.getpid()}))
        lines = [f"Banli 办理 is running at {url}  (API docs: {url}/docs)",
                 f"data: {settings.data_dir}"]
        if demo:
            lines.append(f"demo tokens, valid {DEMO_TOKEN_HOURS} hours "
                         f"(Authorization: Bearer …):")
            tokens = {name: system.authority.issue(actor, DEMO_TOKEN_HOURS * 3600)
                      for name, actor in DEMO_ACTORS.items()}
            lines += [f"  {name}: {token}" for name, token in tokens.items()]
            lines.append(f"oversight page 督办看板 (signed in as the demo overseer): {url}/app/"
                         f"?years=2020&as_of=2020-11-20#token={tokens['overseer']}")
        else:
            sign_in = (f"{url}/auth/login" if settings.oidc_issuer else
                       "a token from `banli token issue --user … --role …`")
            lines.append(f"oversight page 督办看板: {url}/app/ (sign in: {sign_in})")
        print("\n".join(lines), flush=True)

    threading.Thread(target=announce, daemon=True).start()
    try:
        run_in_foreground(server)
    finally:
        (settings.data_dir / SERVER_FILE).unlink(missing_ok=True)
    return 0


def replay_command(settings: Settings, url: str | None) -> int:
    """`banli replay`: through the running service (the reporting service, or `banli serve`)
    when there is one, else here on the embedded store. Shows progress; exits 1 on failure."""
    url = url or running_server(settings)
    if url is None:
        from apps.embedded import EmbeddedSystem

        system = EmbeddedSystem(settings)
        system.projector.catch_up()
        system.replayer.start()
        return _follow(lambda: system.replayer.progress.as_dict())
    headers = {"Authorization": f"Bearer {cli_token(settings, 3600)}"}

    def call(method: str) -> dict[str, Any]:
        request = urllib.request.Request(f"{url}/api/admin/replay", method=method,
                                         headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    try:
        call("POST")
    except urllib.error.HTTPError as exc:
        print(f"banli replay: {exc.code} {exc.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    return _follow(lambda: call("GET"))


def _follow(read) -> int:
    progress = None
    while True:
        state = read()
        if progress is None and state.get("total"):
            progress = Progress(state["total"], "重建投影 replay")
        if progress is not None:
            progress.grow(state.get("total") or 1)
            progress.update(state.get("read", 0))
        if state["state"] in ("done", "failed"):
            if progress is not None:
                progress.update(state.get("read", 0), force=True)
            break
        time.sleep(0.5)
    if state["state"] == "failed":
        print(f"banli replay: failed: {state.get('error')}", file=sys.stderr)
        return 1
    print(f"重建完成：{state['read']} 个事件，{state.get('events_per_s')} 个/秒 "
          f"(replayed {state['read']} events, {state.get('events_per_s')}/s)")
    return 0


def calendar_load(settings: Settings, path: Path) -> int:
    """`banli calendar load`: validate the notice, then load it into the running server on this
    data dir (which answers with what it changes), or keep it in the data dir for the next
    start."""
    from banli.workcalendar import NoticeError, parse_notice, save_notice

    try:
        data = path.read_bytes()
        tables = parse_notice(data, str(path))
    except OSError as exc:
        print(f"banli calendar load: {exc}", file=sys.stderr)
        return 2
    except NoticeError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        return 1
    years = ", ".join(str(t.year) for t in tables)
    url = running_server(settings)
    if url is None:
        save_notice(settings.calendar_dir, data)
        print(f"已载入 {years} 年节假日通知，下次启动起按此计算工作日 (loaded the notice for {years} "
              f"into {settings.calendar_dir}; counted from the next start)")
        return 0
    token = cli_token(settings)
    request = urllib.request.Request(f"{url}/api/admin/calendar", data=data, method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as exc:
        print(f"banli calendar load: {url} answered {exc.code}: "
              f"{exc.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    flips = answer["flips"]
    print(f"已载入 {years} 年节假日通知，{url} 即时生效；{len(flips)} 项期限或按期状态随之改变 "
          f"(loaded the notice for {years} into {url}; {len(flips)} deadlines or on-time "
          f"statuses change)")
    for item in flips:
        print(f"  {item['proposal_id']} {item['bureau']} {item['what']}: {item['due_before']} "
              f"{item['before']} → {item['due_after']} {item['after']}")
    return 0


def calendar_show(settings: Settings, years: tuple[int, int] | None) -> int:
    """`banli calendar show`: each year's source, as this data dir's notices make it."""
    from datetime import date

    from banli.workcalendar import CalendarBook

    book = CalendarBook(settings.calendar_dir, settings.calendar_notices)
    calendar = book.current()
    if book.error:
        print(f"banli calendar show: a notice file is broken: {book.error}", file=sys.stderr)
    first, last = years or (date.today().year - 2, date.today().year + 2)
    print(calendar.name)
    for year in range(first, last + 1):
        table = calendar.years.get(year)
        if table is None:
            print(f"  {year}: 不在日历范围内 (not covered)")
            continue
        mark = "暂定 provisional" if table.provisional else "正式 published"
        print(f"  {year}: {mark} — {table.source} ({len(table.holidays)} 天假日 days off, "
              f"{len(table.adjusted_workdays)} 天调休上班 weekend days worked)")
    return 1 if book.error else 0
