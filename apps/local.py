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
from typing import Any, Callable, Iterable, TextIO

from banli.auth import authority, secure_dir
from banli.domain.timing.deadlines import DEFAULT_PROFILE, Profile
from banli.domain.views.rates import Report, Scope
from banli.domain.views.bureaus import NameIndex
from banli.domain.commands import entered_by
from banli.domain.types import IMPORTER, Actor
from banli.history import LineProblem, file_lines, read_commands
from banli.settings import Settings

SERVER_FILE = "server.json"
DEMO_ACTORS = {
    "coordinator": Actor(user="demo-coordinator", role="coordinator"),
    "clerk (sh-ipa)": Actor(user="demo-clerk", bureau="sh-ipa", role="clerk"),
    "overseer": Actor(user="demo-overseer", role="overseer"),
    # a deputy of the demo's filer registry (banli.demo.generate.FILER_REGISTRY: 张伟)
    "filer (filer-00)": Actor(user="filer00", role="filer", filer="filer-00"),
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
                    handle_batch=None, batch: int = 500, recorder: Actor | None = None,
                    names: NameIndex | None = None) -> tuple[int, int, list[LineProblem]]:
    """Decide each line with `handle` (or, when given, `handle_batch` many lines at a time, in
    one transaction each); returns (accepted, already decided, problems in line order). With
    `recorder` (the one importing), each line is entered by them (banli.domain.commands.
    entered_by): a line naming another actor records that actor's act and `recorded_by` the
    recorder; without, lines are taken as they are (their actors entered them). `names`: the
    registered bureaus, which lines may name by name (banli.domain.views.bureaus)."""
    accepted = replayed = 0
    problems: list[LineProblem] = []
    chunk: list[tuple[int, object]] = []

    def settle(numbered: list[tuple[int, object]]) -> None:
        nonlocal accepted, replayed
        commands = [item for _, item in numbered]
        outcomes = handle_batch(commands) if handle_batch else [handle(c) for c in commands]
        for (number, _), outcome in zip(numbered, outcomes):
            if outcome.rejection is not None:
                problems.append(LineProblem(number, outcome.rejection.message,
                                            outcome.rejection.code,
                                            outcome.rejection.message_en))
            elif outcome.replayed:
                replayed += 1
            else:
                accepted += 1

    for count, (number, item) in enumerate(read_commands(lines, names=names), start=1):
        if progress is not None:
            progress.update(count)
        if isinstance(item, LineProblem):
            problems.append(item)
            continue
        chunk.append((number, item if recorder is None else entered_by(item, recorder)))
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
    from banli.eventlog.repository import Repository
    from banli.eventlog.sqlite import SqliteEventStore
    from banli.handling import Handling
    from apps.embedded import StoreRecords
    from banli.sheets.records import registered
    from banli.workcalendar import CalendarBook

    if not path.is_file():
        print(f"banli import: no such file: {path}", file=sys.stderr)
        return 2
    secure_dir(settings.data_dir)
    log = SqliteEventStore(settings.store_path)
    repository = Repository(log)
    handling = Handling(repository, log, settings.rules(),
                        CalendarBook(settings.calendar_dir, settings.calendar_notices),
                        clerk_backdate_days=settings.clerk_backdate_days)
    with path.open("rb") as f:
        total = sum(1 for _ in f)
    progress = Progress(total, "导入 import")
    # the lines act as the importer unless they name their actor; the importer entered them all
    accepted, replayed, problems = import_commands(
        handling.handle, file_lines(path), progress,
        handle_batch=letters_checked(letters_of(settings), handling.handle_batch),
        recorder=IMPORTER, names=NameIndex.of(registered(StoreRecords(log, repository))))
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

    from banli.domain.registry import parse_command
    from apps.embedded import StoreRecords
    from banli.eventlog.repository import Repository
    from banli.eventlog.sqlite import SqliteEventStore
    from banli.handling import Handling
    from banli.sheets import SheetError, load_mapping
    from banli.sheets.commit import commit_rows
    from banli.sheets.infer import parse_sessions
    from banli.sheets.limits import SheetLimits
    from banli.sheets.records import preview_sheet
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
        # the file is read in a child process within the bounds (banli.sheets.isolate): a
        # hostile sheet is refused, it cannot abort this process
        which = "filers" if options.filers else "replies" if options.replies else "assignments"
        preview = preview_sheet(path, which, records, limits=SheetLimits.from_settings(settings),
                                sessions=parse_sessions(settings.sheet_sessions),
                                mapping=mapping, sheet=sheet, bureau=options.bureau,
                                kind=options.kind, year=options.year, level=options.level,
                                assigned_on=options.assigned_on,
                                areas=settings.rules().areas_of)
    except SheetError as exc:
        print(f"banli import: {path}: {exc.message} ({exc.message_en})", file=sys.stderr)
        return 2
    except OSError as exc:  # the mapping file
        print(f"banli import: {exc}", file=sys.stderr)
        return 2
    for inferred in preview["inferred"].values():
        print(f"  {inferred['message']} ({inferred['message_en']})")
    counts = preview["counts"]
    print(f"{path}（工作表 sheet {preview['sheet']}）：{counts['rows']} 行 rows — 新 new "
          f"{counts['new']}，已有且一致 unchanged {counts['unchanged']}，已有但不同 differs "
          f"{counts['differs']}，不予导入 refused {counts['refused']}；命令 commands "
          f"{counts['commands']}")
    if "links" in counts:
        print(f"  可关联此前登记的建议提案 {counts['links']} 件 (offers to link {counts['links']} "
              f"proposals recorded before, by exact name and affiliation)")
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
    handling = Handling(repository, log, settings.rules(),
                        CalendarBook(settings.calendar_dir, settings.calendar_notices),
                        clerk_backdate_days=settings.clerk_backdate_days)
    actor = Actor(user=f"{getpass.getuser()}@cli", role="importer")
    progress = Progress(counts["commands"], "导入 import")
    done = 0

    def sent_one() -> None:
        nonlocal done
        done += 1
        progress.update(done)

    result = commit_rows(preview, actor, lambda command: handling.handle(parse_command(command)),
                         sent_one)
    progress.update(counts["commands"], force=True)
    for row in result["rows"]:
        reason = row["reason"] or {}
        print(f"{path}: 第 {row['row']} 行 row {row['row']} ({row['number']}): "
              f"{reason.get('message', '')} ({reason.get('message_en', row['status'])})",
              file=sys.stderr)
    c = result["counts"]
    print(f"导入完成：新导入 {c['imported']} 行，此前已导入 {c['already']} 行，未接受 "
          f"{c['refused'] + c['refused_in_preview']} 行 (imported {c['imported']} rows, already "
          f"imported {c['already']}, not taken {c['refused'] + c['refused_in_preview']})")
    if "linked" in c:
        print(f"关联建议提案 {c['linked']} 件 (linked {c['linked']} proposals to the registry)")
    if options.json:
        print(json.dumps({"preview": preview, "outcome": result}, ensure_ascii=False))
    return 1 if options.strict and (c["refused"] or c["refused_in_preview"]) else 0


def letters_of(settings: Settings):
    """The reply letters' files, where the settings keep them (banli.blobs)."""
    from apps.blobs import blob_store
    from banli.blobs.letters import Letters

    return Letters(blob_store(settings), settings.max_letter_bytes)


def letters_checked(letters, handle_batch):
    """`handle_batch` with the edge's check of the letters commands name (as every HTTP route
    has it: banli.web.letters.LetterCheckingBus): a line naming a letter the store does not
    hold is refused, and reported with its number."""
    def run(commands):
        refused = [letters.outcome(command) for command in commands]
        passed = [command for command, outcome in zip(commands, refused) if outcome is None]
        decided = iter(handle_batch(passed) if passed else ())
        return [outcome if outcome is not None else next(decided) for outcome in refused]

    return run


def letters_sweep(settings: Settings, kafka: bool = False, grace_hours: float | None = None,
                  dry_run: bool = False) -> int:
    """`banli letters sweep`: remove the letters' files no event references once they are
    older than the grace period (banli.blobs.sweep). The references are read from the log of
    record: this data dir's event store, or with `kafka` banli.events from its beginning. A log
    that cannot be read stops the sweep: it never sweeps against no references."""
    from apps.blobs import blob_store
    from banli.blobs.sweep import letters_referenced, sweep

    texts: Callable[[], Iterable[str | bytes]]
    if kafka:
        texts = lambda: kafka_event_texts(settings)  # noqa: E731
    elif settings.store_path.is_file():
        texts = lambda: embedded_event_texts(settings.store_path)  # noqa: E731
    else:
        print(f"banli letters sweep: no event store at {settings.store_path} (for the "
              f"distributed log, give --kafka); nothing removed", file=sys.stderr)
        return 2
    grace_s = 3600 * (settings.letters_grace_hours if grace_hours is None else grace_hours)
    store = blob_store(settings)
    result = sweep(store, lambda: letters_referenced(texts()), grace_s, time.time(), dry_run)
    verb = ("将删除", "would remove") if dry_run else ("已删除", "removed")
    print(f"答复函文件：被引用而保留 {result.referenced} 个，未满保留期而保留 {result.young} 个，"
          f"{verb[0]}无引用的 {len(result.removed)} 个，清理未完成的写入 {result.partial} 个 "
          f"(letters' files: kept {result.referenced} referenced and {result.young} younger than "
          f"{grace_s / 3600:g} h; {verb[1]} {len(result.removed)} unreferenced; "
          f"{result.partial} partial writes removed)")
    for sha256 in result.removed:
        print(f"  {sha256}")
    return 0


def embedded_event_texts(path: Path) -> Iterable[str]:
    """The JSON of the embedded store's events that mention a letter (read-only: safe beside
    a running server)."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
        for (data,) in db.execute("SELECT data FROM events WHERE instr(data, '\"letter\"') > 0"):
            yield data


def kafka_event_texts(settings: Settings) -> Iterable[bytes]:
    """Every record of banli.events, from its beginning to its end when asked (no consumer
    group: nothing is committed)."""
    import warnings

    from banli.eventlog.kafka import partitions_of

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                             enable_auto_commit=False, client_id="banli-letters-sweep")
    try:
        partitions = partitions_of(consumer, settings.topics.events, timeout_s=30)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1000).values():
                # records past the end asked for are read too: a reference more keeps more
                yield from (record.value for record in records)
    finally:
        consumer.close()


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

    system = EmbeddedSystem(settings).caught_up()
    names = system.reporting.bureau_names(scope.as_of)  # as named then
    return system.reporting.report(scope, profile), names.get(scope.bureau or "", {})


def document_from_store(settings: Settings, options: dict[str, Any], profile: Profile,
                        fmt: str, lang: str = "zh") -> bytes:
    """The year-end document (banli.documents) from the projections: fetched from the running
    server when there is one (chDB opens a path in one process only), else built here.
    `options` are build_bundle's scope arguments (bureau, year, as_of, term_start, ...)."""
    url = running_server(settings)
    if url is not None:
        token = cli_token(settings)
        query = {"format": fmt, "lang": lang, "year": options["year"],
                 "as_of": options["as_of"].isoformat(), "profile": profile.name}
        query.update({"bureau": options["bureau"]} if options["bureau"] else {"all": "true"})
        query.update({k: options[k] for k in ("term_start", "level", "kind", "doc_number")
                      if options.get(k) is not None})
        if options.get("doc_date") is not None:
            query["doc_date"] = options["doc_date"].isoformat()
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
    from services.reporting.documents import year_end_document

    system = EmbeddedSystem(settings).caught_up()
    body, _ = year_end_document(system.reporting, profile, fmt, lang,
                                base_url=settings.public_url, **options)
    return body


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
    from apps.embedded import EmbeddedSystem, create_app
    from banli.web.serve import Server, run_in_foreground

    if (url := running_server(settings)) is not None:
        print(f"banli serve: already running at {url} on {settings.data_dir}", file=sys.stderr)
        return 1
    system = EmbeddedSystem(settings, projector_process=settings.projector_process)
    if demo and system.log.head() == 0:
        print("首次启动，正在载入演示数据 (loading demo data)…", flush=True)
        load_demo(system)
    app = create_app(system)
    server = Server(app, settings.host, settings.port, settings.access_log)
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

        # no catch-up first: the replay builds every table from the whole log (in workers, on a
        # long one), and a backlog caught up here would be projected twice
        system = EmbeddedSystem(settings)
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


def calendar_load(settings: Settings, path: Path, replace: list[int] | None = None) -> int:
    """`banli calendar load`: validate the notice, then load it into the running server on this
    data dir (which answers with what it changes), or keep it in the data dir for the next
    start. A year the calendar package has the published notice for is replaced only when
    named in `replace`."""
    from banli.workcalendar import NoticeError, check_replacing, parse_notice, save_notice

    replace = replace or []
    try:
        data = path.read_bytes()
        tables = parse_notice(data, str(path))
        check_replacing(tables, replace)
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
        save_notice(settings.calendar_dir, data, replace)
        print(f"已载入 {years} 年节假日通知，下次启动起按此计算工作日 (loaded the notice for {years} "
              f"into {settings.calendar_dir}; counted from the next start)")
        return 0
    query = urllib.parse.urlencode([("replace", year) for year in replace])
    answer = _admin_call(settings, url, "POST", f"/api/admin/calendar?{query}", data)
    if answer is None:
        return 1
    print(f"已载入 {years} 年节假日通知，{url} 即时生效；{len(answer['flips'])} 项期限或按期状态随之改变 "
          f"(loaded the notice for {years} into {url}; {len(answer['flips'])} deadlines or "
          f"on-time statuses change)")
    _print_flips(answer["flips"])
    return 0


def calendar_unload(settings: Settings, year: int) -> int:
    """`banli calendar unload YEAR`: take back the loaded notice for the year, in the running
    server on this data dir (which answers with what it changes), or in the data dir."""
    from banli.workcalendar import CalendarBook, remove_notice

    url = running_server(settings)
    if url is None:
        if not remove_notice(settings.calendar_dir, year):
            configured = any(t.year == year for t in CalendarBook(
                settings.calendar_dir, settings.calendar_notices).loaded())
            print(f"banli calendar unload: {year} 年的通知由 BANLI_CALENDAR_NOTICES 指定 (the notice "
                  f"for {year} is a file BANLI_CALENDAR_NOTICES names: take it out there)"
                  if configured else f"banli calendar unload: 未载入 {year} 年的通知 (no notice "
                                     f"for {year} is loaded in {settings.calendar_dir})",
                  file=sys.stderr)
            return 1
        print(f"已撤回 {year} 年节假日通知，下次启动起不再按此计算 (took back the notice for {year} "
              f"from {settings.calendar_dir}; from the next start)")
        return 0
    answer = _admin_call(settings, url, "DELETE", f"/api/admin/calendar/{year}")
    if answer is None:
        return 1
    print(f"已撤回 {year} 年节假日通知，{url} 即时生效，该年现按 {answer['source']} 计算；"
          f"{len(answer['flips'])} 项期限或按期状态随之改变 (took back the notice for {year} in "
          f"{url}: the year now counts as {answer['source']}; {len(answer['flips'])} deadlines "
          f"or on-time statuses change)")
    _print_flips(answer["flips"])
    return 0


def _admin_call(settings: Settings, url: str, method: str, path: str,
                data: bytes | None = None) -> dict[str, Any] | None:
    """The running server's answer to this command's admin request, or None (said why)."""
    request = urllib.request.Request(f"{url}{path}", data=data, method=method, headers={
        "Authorization": f"Bearer {cli_token(settings)}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        print(f"banli calendar: {url} answered {exc.code}: "
              f"{exc.read().decode(errors='replace')}", file=sys.stderr)
        return None


def _print_flips(flips: list[dict[str, Any]]) -> None:
    for item in flips:
        print(f"  {item['proposal_id']} {item['bureau']} {item['what']}: {item['due_before']} "
              f"{item['before']} → {item['due_after']} {item['after']}")


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
