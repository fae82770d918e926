"""The `banli` command. Each subcommand is a thin adapter: parse flags, build, call, print."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Sequence

from banli.domain.timing.deadlines import PROFILES, get_profile
from banli.domain.views.rates import Report, Scope
from banli.settings import SERVICE_PORTS


def _years(text: str) -> tuple[int, int]:
    try:
        first, _, last = text.partition("-")
        years = (int(first), int(last or first))
    except ValueError:
        raise argparse.ArgumentTypeError(f"years must be Y or Y1-Y2, not {text!r}") from None
    if years[0] > years[1]:
        raise argparse.ArgumentTypeError(f"{years[0]} is after {years[1]}")
    return years


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"dates are YYYY-MM-DD, not {text!r}") from None


DOCUMENT_FORMATS = ("docx", "html", "md", "xlsx", "evidence")


def add_scope_flags(p: argparse.ArgumentParser) -> None:
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--bureau", help="one bureau's duties (its id, e.g. sh-ipa)")
    who.add_argument("--all", action="store_true", help="every bureau (oversight)")
    p.add_argument("--years", type=_years, required=True, metavar="Y1[-Y2]",
                   help="the proposals' years")
    p.add_argument("--as-of", type=_day, required=True, metavar="YYYY-MM-DD",
                   help="count what happened on or before this business day (Asia/Shanghai)")
    p.add_argument("--level", choices=["national", "provincial", "municipal", "district"])
    p.add_argument("--kind", choices=["npc_suggestion", "cppcc_proposal"])
    p.add_argument("--profile", default="default", choices=sorted(PROFILES),
                   help="rate and deadline definitions (default: %(default)s)")
    p.add_argument("--format", default="json", choices=["json", "text", *DOCUMENT_FORMATS],
                   dest="fmt", help="json or text: the report; docx, html or md: the year-end "
                                    "document; xlsx: its attachment; evidence: the workbook of "
                                    "the items and events behind its figures (default: "
                                    "%(default)s)")
    p.add_argument("--lang", default="zh", choices=["zh", "en"],
                   help="language of text output and documents")


def add_document_flags(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group(
        "year-end documents (--format docx|html|md; xlsx: the attachment, the year's lead items; "
        "evidence: the items and events behind each figure, as .xlsx)",
        "The document is for the last year of --years: its counts and rates beside last "
        "year's, the since-term section (a range --years T-Y also names the term), the "
        "disclosure review and a table of the year's lead items. Each figure of the DOCX and "
        "HTML links to the page's drill-down for it, at $BANLI_PUBLIC_URL (default "
        "http://127.0.0.1:8000); a document of all bureaus is issued by $BANLI_OFFICE_NAME.")
    group.add_argument("--output", "-o", metavar="FILE",
                       help="write the document here ('-' for stdout; a DOCX goes to stdout "
                            "only with '-' or when stdout is not a terminal)")
    group.add_argument("--term-start", "--term", type=int, metavar="YEAR", dest="term_start",
                       help="first year of the term (届; default: the first of --years Y1-Y2, "
                            "else the congress term the year falls in: 2018–2022, 2023–2027, ...)")
    group.add_argument("--doc-number", metavar="TEXT",
                       help="发文字号 for the document's head, e.g. 沪知局〔2020〕118号 (left out "
                            "when not given)")
    group.add_argument("--date", type=_day, metavar="YYYY-MM-DD", dest="doc_date",
                       help="成文日期, the date the document is signed (default: --as-of)")


def scope_from(args: argparse.Namespace) -> Scope:
    return Scope(bureau=None if args.all else args.bureau, years=args.years, as_of=args.as_of,
                 level=args.level, kind=args.kind)


def print_report(report: Report, args: argparse.Namespace, bureau_name: str | None) -> None:
    if args.fmt == "json":
        print(json.dumps(report.model_dump(mode="json"), ensure_ascii=False))
    else:
        from banli.report_text import render_text

        sys.stdout.write(render_text(report, bureau_name, args.lang))


def cmd_report(args: argparse.Namespace) -> int:
    if args.fmt in DOCUMENT_FORMATS:
        return cmd_document(args)
    profile = get_profile(args.profile)
    scope = scope_from(args)
    if args.history is None:
        from apps.local import report_from_store

        report, names = report_from_store(settings_from(args), scope, profile)
        print_report(report, args, (names or {}).get("name_en" if args.lang == "en" else "name"))
        return 0
    from banli.history import reference_report

    loaded = load_history(args.history, profile)
    if loaded is None:
        return 2
    ledger, problems = loaded
    names = ledger.directory.bureaus.get(scope.bureau or "")
    print_report(reference_report(ledger, scope), args,
                 names[args.lang == "en"] if names else None)
    return 1 if (problems and args.strict) else 0


def load_history(name: str, profile):
    """`banli report --history FILE`: the file decided in memory, its refused or unreadable
    lines printed with their numbers; None (after saying why) when there is no such file."""
    from banli.history import run_history

    path = Path(name)
    if not path.is_file():
        print(f"banli report: no such file: {path}", file=sys.stderr)
        return None
    from banli.domain.types import IMPORTER
    from banli.history import file_lines

    # as `banli import` would take it: the importer enters every line
    ledger, problems = run_history(file_lines(path), profile, recorder=IMPORTER)
    for problem in problems:
        print(f"{path}:{problem}", file=sys.stderr)
    return ledger, problems


def cmd_document(args: argparse.Namespace) -> int:
    """`banli report --format docx|html|md`: the year-end document, from a history file (the
    reference) or from the store (through the running server when there is one)."""
    first, year = args.years
    term_start = args.term_start
    if first != year:
        if term_start not in (None, first):
            print("banli report: --years Y1-Y2 names the term from Y1; give --years Y with "
                  "--term-start, or one of them", file=sys.stderr)
            return 2
        term_start = first
    if term_start is not None and not 1949 <= term_start <= year:
        print(f"banli report: the term must start in or before {year} (and from 1949)",
              file=sys.stderr)
        return 2
    to_stdout = args.output in (None, "-")
    if args.fmt in ("docx", "xlsx", "evidence") and args.output is None and sys.stdout.isatty():
        suffix = "docx" if args.fmt == "docx" else "xlsx"
        print(f"banli report: a {suffix.upper()} is binary; give --output FILE.{suffix} (or "
              f"--output - to write it to the terminal anyway)", file=sys.stderr)
        return 2
    if args.doc_date is not None and args.doc_date < args.as_of:
        print("banli report: --date (the document's) cannot be before --as-of (its data's)",
              file=sys.stderr)
        return 2
    profile = get_profile(args.profile)
    settings = settings_from(args)
    from banli.documents import office_named

    office = office_named(settings.office_name, settings.office_name_en)
    options = dict(bureau=None if args.all else args.bureau, year=year, as_of=args.as_of,
                   term_start=term_start, level=args.level, kind=args.kind,
                   doc_number=args.doc_number, doc_date=args.doc_date, office=office)
    from banli.documents import SourceMismatch, build_bundle, ledger_source, render

    status = 0
    try:
        if args.history is None:
            from apps.local import document_from_store

            data = document_from_store(settings, options, profile, args.fmt, args.lang)
        else:
            loaded = load_history(args.history, profile)
            if loaded is None:
                return 2
            ledger, problems = loaded
            status = 1 if (problems and args.strict) else 0
            source = ledger_source(ledger)
            data = render(build_bundle(source, profile=profile, **options), args.fmt, args.lang,
                          base_url=settings.public_url, source=source)
    except (SourceMismatch, ValueError, OSError) as exc:
        print(f"banli report: {exc}", file=sys.stderr)
        return 1
    if to_stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(args.output).write_bytes(data)
        print(f"已写入 {args.output}（{len(data)} 字节）(wrote {args.output}, {len(data)} bytes)",
              file=sys.stderr)
    return status


def settings_from(args: argparse.Namespace):
    """Settings from the environment (BANLI_*), overridden by the flags given."""
    from banli.settings import Settings

    overrides = {k: v for k, v in (("data_dir", getattr(args, "data_dir", None)),
                                   ("host", getattr(args, "host", None)),
                                   ("port", getattr(args, "port", None))) if v is not None}
    return Settings(**overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    from apps.local import serve

    return serve(settings_from(args), demo=args.demo)


SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


def cmd_import(args: argparse.Namespace) -> int:
    from apps.local import import_file, import_sheet

    path = Path(args.file)
    if path.suffix.lower() in SHEET_SUFFIXES:
        return import_sheet(settings_from(args), path, args)
    return import_file(settings_from(args), path, strict=args.strict)


def cmd_token(args: argparse.Namespace) -> int:
    """`banli token issue|revoke|rotate|retire|keys`: tokens for service accounts and people
    without an identity provider, and the keys and revocations behind them. Only `issue` may
    start a new auth dir; the others change one the servers already use (or say there is none)."""
    from banli.auth import AuthError, WeakSecret, authority
    from banli.domain.types import Actor

    settings = settings_from(args)
    action = args.token_command
    try:
        auth = authority(settings, create=action == "issue")
        where = f"（{auth.path}）"
        if action == "issue":
            actor = Actor(user=args.user, bureau=args.bureau, role=args.role, filer=args.filer)
            days = args.ttl_days if args.ttl_days is not None else settings.token_ttl_days
            print(auth.issue(actor, days * 86400))
        elif action == "revoke":
            if args.user:
                auth.revoke_user(args.user)
                print(f"已吊销 {args.user} 此前签发的全部令牌{where} (revoked every token of "
                      f"{args.user} issued until now, in {auth.path})")
            elif args.jti:
                auth.revoke_token(args.jti)
                print(f"已吊销令牌 {args.jti}{where} (revoked token {args.jti}, in {auth.path})")
            else:
                auth.revoke(args.token)
                print(f"已吊销该令牌{where} (revoked the token, in {auth.path})")
        elif action == "rotate":
            print(f"新签名密钥 {auth.rotate()}：此后签发的令牌用它签名，旧密钥在 retire 之前仍可验证 "
                  f"(the new key signs from now on; older keys verify until retired)")
        elif action == "retire":
            auth.retire(args.kid)
            print(f"已停用密钥 {args.kid} (retired {args.kid})")
        else:
            for key in auth.keys():
                state = "retired" if key.retired else "active"
                print(f"{key.kid}\t{state}\tcreated {time.strftime('%Y-%m-%d %H:%M', time.localtime(key.created))}")
    except (ValueError, WeakSecret, AuthError) as exc:
        print(f"banli token {action}: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_service(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.port is None:
        settings = settings.model_copy(update={"port": SERVICE_PORTS[args.command]})
    if args.command == "intake":
        from apps.intake import run
    elif args.command == "handling":
        from apps.handling import run
    else:
        from apps.reporting import run
    return run(settings)


def cmd_stack(args: argparse.Namespace) -> int:
    from apps.stack import default_stack_dir, run

    return run(args.data_dir or default_stack_dir(), demo=args.demo, kafka_port=args.kafka_port,
               free_ports=args.free_ports)


def cmd_letters(args: argparse.Namespace) -> int:
    from apps.local import letters_sweep

    return letters_sweep(settings_from(args), kafka=args.kafka, grace_hours=args.grace_hours,
                         dry_run=args.dry_run)


def cmd_topics(args: argparse.Namespace) -> int:
    from banli.eventlog.kafka import ensure_topics

    settings = settings_from(args)
    created = ensure_topics(settings.kafka_bootstrap, settings.topic_partitions,
                           settings.topics)
    print("created: " + (", ".join(created) or "nothing (all topics exist)"))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from apps.local import replay_command

    return replay_command(settings_from(args), args.url)


def cmd_routing_backtest(args: argparse.Namespace) -> int:
    from banli.history import run_history
    from banli.routing import backtest, past_from_streams

    if args.history is not None:
        path = Path(args.history)
        if not path.is_file():
            print(f"banli routing backtest: no such file: {path}", file=sys.stderr)
            return 2
        from banli.history import file_lines

        ledger, _ = run_history(file_lines(path))
        source = str(path)
    else:
        from banli.demo.generate import generate_history, to_jsonl

        if not 0 <= args.routing_noise <= 1:
            print("banli routing backtest: the routing noise is a share, from 0 to 1",
                  file=sys.stderr)
            return 2
        lines = map(to_jsonl, generate_history(
            args.proposals, args.seed, args.years, args.bureaus,
            routing_noise=args.routing_noise))
        ledger, _ = run_history(lines)
        source = (f"generated: {args.proposals} proposals {args.years[0]}-{args.years[1]}, "
                  f"seed {args.seed}, {args.bureaus} bureaus, routing noise {args.routing_noise}")
    past = past_from_streams(s for s in ledger.streams.values()
                             if s and s[0].type == "ProposalSubmitted")
    years = sorted({p.year for p in past})
    if len(years) < 2:
        print("banli routing backtest: the history needs proposals of at least two years",
              file=sys.stderr)
        return 2
    tests = (range(args.test_years[0], args.test_years[1] + 1) if args.test_years
             else [years[-1]])
    result = {"history": source, **backtest(past, list(tests)).as_dict()}
    if args.fmt == "json":
        print(json.dumps(result, ensure_ascii=False))
        return 0
    pct = lambda x: "-" if x is None else f"{100 * x:.1f}%"  # noqa: E731
    print(f"路由回测 routing backtest — {source}")
    for y in result["years"]:
        print(f"  {y['year']}: 以之前年度 {y['trained_on']} 件为样本，测试 {y['tested']} 件 "
              f"(trained on {y['trained_on']} earlier proposals, tested {y['tested']})")
    print(f"  主办单位在前 1 位建议中 actual lead is suggestion 1:      {pct(result['top1'])}")
    print(f"  主办单位在前 3 位建议中 actual lead in top 3 suggestions: {pct(result['top3'])}")
    print(f"  基线（最常见主办单位）baseline, most frequent leads: top 1 "
          f"{pct(result['baseline_top1'])}, top 3 {pct(result['baseline_top3'])}")
    return 0


def cmd_calendar(args: argparse.Namespace) -> int:
    from apps.local import calendar_load, calendar_show, calendar_unload

    settings = settings_from(args)
    if args.calendar_command == "load":
        return calendar_load(settings, Path(args.file), args.replace)
    if args.calendar_command == "unload":
        return calendar_unload(settings, args.year)
    return calendar_show(settings, args.years)




def add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="where the event store and projections live (default: $BANLI_DATA_DIR, "
                        "else ~/.local/share/banli); created on first use")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="banli",
        description="Banli (办理): deputies' suggestions and CPPCC proposals, from intake to "
                    "year-end reports.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    report = sub.add_parser(
        "report", help="the year-end report (counts and rates) for a scope, or its document",
        description="Print the report for a bureau (or all) over the proposals of some years, "
                    "as of a business date, or (--format docx|html|md) write the year-end "
                    "document (xlsx: its attachment, the year's lead items). With --history, "
                    "decide a JSON Lines file of commands in memory (the reference "
                    "implementation); bad lines and refused commands are reported on stderr "
                    "with their line numbers and skipped.")
    report.add_argument("--history", metavar="FILE.jsonl",
                        help="a JSON Lines file of commands, each with `at` (without it: the "
                             "embedded store, through the running server when there is one)")
    add_data_dir(report)
    add_scope_flags(report)
    add_document_flags(report)
    report.add_argument("--strict", action="store_true",
                        help="exit 1 when any line was bad or refused")
    report.set_defaults(handler=cmd_report)

    serve = sub.add_parser(
        "serve", help="run the embedded system (intake, handling, reporting) in one process",
        description="Start the HTTP APIs on one port over the local event store and chDB, and "
                    "print the URL. With --demo, an empty store first gets the demo history, "
                    "and demo tokens are printed; without it, people sign in through the "
                    "identity provider (BANLI_OIDC_ISSUER) or with `banli token issue`.")
    add_data_dir(serve)
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--demo", action="store_true",
                       help="load demo data into an empty store and print demo tokens (valid "
                            "12 hours) and a signed-in link to the page")
    serve.set_defaults(handler=cmd_serve)

    imp = sub.add_parser(
        "import", help="import a JSON Lines file of commands, or a spreadsheet (交办清单, a "
                       "bureau's reply list), into the embedded store",
        description="A JSON Lines file: every line decided in order; bad lines and refused "
                    "commands are reported with their line numbers and the rest imported. A "
                    "line acts as the importer unless it names its `actor`: then it records "
                    "that actor's act, entered by the importer (`recorded_by`; never an "
                    "admin's or an overseer's act). A "
                    "spreadsheet (.xlsx, .xlsm, .xls, .xlsb, .ods: docs/sheets.md): an "
                    "assignment list (交办清单) becomes each item's submit and assign, a bureau's "
                    "reply list (--replies --bureau B) its contacts, replies and disclosures, "
                    "the filer registry (--filers, 代表委员名册) its deputies and members, with "
                    "the proposals recorded before it linked to them by name and affiliation; "
                    "every row Banli refuses is shown with its reason before anything is sent, "
                    "and --dry-run stops there. A sheet is read in a child process within the "
                    "BANLI_SHEET_* bounds; one past a bound is refused (exit 2). Importing the "
                    "same file again changes nothing. Safe while `banli serve` runs on the same data dir.")
    imp.add_argument("file", metavar="FILE", help="FILE.jsonl, or a spreadsheet")
    add_data_dir(imp)
    imp.add_argument("--strict", action="store_true", help="exit 1 when any line or row was not "
                                                           "taken")
    sheet = imp.add_argument_group("spreadsheets")
    sheet.add_argument("--replies", action="store_true",
                       help="the sheet is a bureau's reply list (default: an assignment list)")
    sheet.add_argument("--bureau", help="whose reply list it is (with --replies)")
    sheet.add_argument("--filers", action="store_true",
                       help="the sheet is the filer registry (代表委员名册: 姓名, 代表团/界别, 届次, "
                            "账号)")
    sheet.add_argument("--kind", choices=["npc_suggestion", "cppcc_proposal"],
                       help="for rows whose sheet gives no kind (人大建议 or 政协提案; default: "
                            "what the sheet's title says)")
    sheet.add_argument("--year", type=int, help="for rows without a year (default: what the "
                                                "sheet's title says: 2027年, or the session)")
    sheet.add_argument("--level", choices=["national", "provincial", "municipal", "district"],
                       help="for rows without a level (default municipal)")
    sheet.add_argument("--assigned-on", metavar="YYYY-MM-DD",
                       help="交办日期 for rows without one")
    sheet.add_argument("--sheet", help="the worksheet, by name or 0-based index (default: the "
                                       "first with a header)")
    sheet.add_argument("--mapping", type=Path, metavar="FILE",
                       help="header → field, JSON or YAML (docs/sheets.md), for a list with "
                            "its own headers")
    sheet.add_argument("--dry-run", action="store_true",
                       help="show the preview (each row's commands or refusal), send nothing")
    sheet.add_argument("--json", action="store_true", help="print the preview (and the "
                                                           "outcome) as JSON")
    imp.set_defaults(handler=cmd_import)

    token = sub.add_parser(
        "token", help="tokens: issue one, revoke, rotate and retire signing keys",
        description="Banli's bearer tokens are JWTs (sub, role, bureau, filer, iat, exp, jti, kid) "
                    "signed with the newest key of the ring in the auth dir (default the data "
                    "dir), or with BANLI_SECRET. People sign in through the identity provider "
                    "where one is configured; tokens from here are for service accounts and "
                    "set-ups without one.")
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="COMMAND")
    issue = token_sub.add_parser("issue", help="print a signed bearer token")
    issue.add_argument("--user", required=True)
    issue.add_argument("--bureau", help="the bureau a clerk acts for")
    issue.add_argument("--filer", help="a filer's id in the filer registry (with --role filer)")
    issue.add_argument("--role", required=True,
                       choices=["coordinator", "clerk", "overseer", "admin", "importer", "filer"])
    issue.add_argument("--ttl-days", type=float,
                       help="lifetime (default BANLI_TOKEN_TTL_DAYS, 30; at most "
                            "BANLI_TOKEN_MAX_DAYS, 90)")
    revoke = token_sub.add_parser("revoke", help="stop a token, or every token of a user",
                                  description="Revoked tokens are refused on every request "
                                              "from then on (by every service sharing the "
                                              "auth dir).")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--jti", help="the token id (its `jti` claim)")
    which.add_argument("--user", help="every token issued to this user until now")
    which.add_argument("--token", help="the token itself")
    token_sub.add_parser("rotate", help="make a new signing key (older keys still verify)")
    retire = token_sub.add_parser("retire", help="stop taking tokens signed with an old key")
    retire.add_argument("kid")
    token_sub.add_parser("keys", help="list the signing keys")
    for parser_ in (issue, revoke, retire, *[p for n, p in token_sub.choices.items()
                                            if n in ("rotate", "keys")]):
        add_data_dir(parser_)
        parser_.set_defaults(handler=cmd_token)

    for name, text in (
            ("intake", "distributed: the intake API (submit, assign, import) over Kafka"),
            ("handling", "distributed: the deciding worker (a consumer group on banli.commands) "
                         "and the bureaus' workflow API"),
            ("reporting", "distributed: the reporting worker (faust → ClickHouse) and its API")):
        service = sub.add_parser(
            name, help=text,
            description=f"{text}. Configured by BANLI_* environment variables (see "
                        f"banli/settings.py): BANLI_KAFKA_BOOTSTRAP, BANLI_TOPIC_PARTITIONS, "
                        f"BANLI_SECRET (the same for every service), BANLI_CLICKHOUSE_DSN, ...")
        add_data_dir(service)
        service.add_argument("--host", help="bind address (default 127.0.0.1)")
        service.add_argument("--port", type=int,
                             help=f"HTTP port (default {SERVICE_PORTS[name]})")
        service.set_defaults(handler=cmd_service)

    replay = sub.add_parser(
        "replay", help="rebuild every projection from the log and swap it in",
        description="Rebuild the ClickHouse projections into fresh tables from the whole log "
                    "(the embedded store, or banli.events from its beginning) and swap them in "
                    "atomically while the system keeps serving. With --url, asks that service "
                    "(reporting, or banli serve) to do it; without, the server running on the "
                    "data dir, or else here on the embedded store.")
    add_data_dir(replay)
    replay.add_argument("--url", help="the reporting service, e.g. http://127.0.0.1:8003")
    replay.set_defaults(handler=cmd_replay)

    routing = sub.add_parser("routing", help="routing from history: measure the suggestions",
                             description="Routing suggestions (which bureaus should lead and "
                                         "co-handle a new proposal, from who handled similar "
                                         "ones) are served at POST /api/routing/suggest.")
    routing_sub = routing.add_subparsers(dest="routing_command", required=True, metavar="COMMAND")
    back = routing_sub.add_parser(
        "backtest", help="how often the actual lead is among the suggestions",
        description="Decide a history in memory, index the proposals of the years before each "
                    "test year, suggest leads for the test year's proposals from their text, "
                    "topics, kind and affiliation, and print the share whose actual lead (the "
                    "bureau leading it after any return or reassignment) is the first "
                    "suggestion and among the first three, beside a naive baseline (the "
                    "bureaus that led most proposals before). Without --history the history "
                    "is generated, with topics mapped to bureaus and some proposals sent to a "
                    "random bureau instead (--routing-noise).")
    back.add_argument("--history", metavar="FILE.jsonl",
                      help="a JSON Lines history of commands (default: a generated one)")
    back.add_argument("--proposals", type=int, default=3000,
                      help="generated: proposals in all (default %(default)s)")
    back.add_argument("--seed", type=int, default=2024, help="generated: seed (default %(default)s)")
    back.add_argument("--years", type=_years, default=(2016, 2020), metavar="Y1-Y2",
                      help="generated: the years (default 2016-2020)")
    back.add_argument("--bureaus", type=int, default=14,
                      help="generated: bureaus (default %(default)s)")
    back.add_argument("--routing-noise", type=float, default=0.2, metavar="SHARE",
                      help="generated: share of proposals sent to a random bureau instead of "
                           "the topic's (default %(default)s); a third of those are returned "
                           "and reassigned to the right one")
    back.add_argument("--test-years", type=_years, metavar="Y1[-Y2]",
                      help="the years to suggest for, each indexed on the years before it "
                           "(default: the last year of the history)")
    back.add_argument("--format", default="text", choices=["text", "json"], dest="fmt")
    back.set_defaults(handler=cmd_routing_backtest)

    calendar = sub.add_parser(
        "calendar", help="the working-day calendar: load or take back a holiday notice, show "
                         "the years",
        description="Working days follow the State Council's yearly holiday notice. A year the "
                    "installed chinese-calendar package does not cover yet is counted with its "
                    "statutory holidays only, and deadlines counted over it are marked "
                    "provisional. Load the notice the day it is published: nothing needs a "
                    "new release.")
    calendar_sub = calendar.add_subparsers(dest="calendar_command", required=True,
                                           metavar="COMMAND")
    load = calendar_sub.add_parser(
        "load", help="validate a holiday notice file and count with it from now on",
        description="FILE is JSON: {\"year\": 2027, \"source\": \"国办发明电〔2026〕…\", "
                    "\"holidays\": [\"2027-01-01\", \"2027-02-05..2027-02-11\", ...], "
                    "\"workdays\": [\"2027-02-14\", ...]} (or a list of such years): the days "
                    "off and the weekend days worked. It is checked (dates in that year, no day "
                    "both off and worked, worked days on weekends) and kept in the data dir; a "
                    "running `banli serve` on that data dir takes it at once and the command "
                    "prints the duties whose deadlines or on-time status it changes. A year "
                    "the installed calendar package has the published notice for is replaced "
                    "only when named with --replace.")
    load.add_argument("file", metavar="FILE.json")
    load.add_argument("--replace", type=int, action="append", metavar="YEAR", default=[],
                      help="a published year this notice corrects (repeat for each); without "
                           "it such a year is refused")
    add_data_dir(load)
    load.set_defaults(handler=cmd_calendar)
    unload = calendar_sub.add_parser(
        "unload", help="take back the notice loaded for a year",
        description="The year counts again as the installed calendar package has it, or "
                    "provisionally; a running `banli serve` on the data dir takes that at once "
                    "and the command prints the duties whose deadlines or on-time status it "
                    "changes.")
    unload.add_argument("year", type=int, metavar="YEAR")
    add_data_dir(unload)
    unload.set_defaults(handler=cmd_calendar)
    show = calendar_sub.add_parser("show", help="each year's source: notice, package or "
                                                "provisional")
    show.add_argument("--years", type=_years, metavar="Y1[-Y2]",
                      help="the years to show (default: two before this one to two after)")
    add_data_dir(show)
    show.set_defaults(handler=cmd_calendar)

    letters = sub.add_parser(
        "letters", help="reply letters' files: sweep those no reply names",
        description="A reply's signed letter (答复函) is uploaded first, then named by the reply "
                    "command (README, \"Reply letters\"). The files live in the letters' store: "
                    "BANLI_LETTERS_DIR (default <data dir>/letters), or an S3-compatible bucket "
                    "(BANLI_LETTERS_S3_BUCKET).")
    letters_sub = letters.add_subparsers(dest="letters_command", required=True,
                                         metavar="COMMAND")
    sweep = letters_sub.add_parser(
        "sweep", help="remove the files no event references, once older than the grace period",
        description="Keep every file an event in the log references (a reply's letter), "
                    "whatever its age; remove the others once they are older than the grace "
                    "period (BANLI_LETTERS_GRACE_HOURS, default 168: an upload waits that long "
                    "for the reply that names it), and writes a crash cut short. The references "
                    "come from this data dir's event store (safe beside a running `banli "
                    "serve`), or with --kafka from banli.events; a log that cannot be read "
                    "stops the sweep before anything is removed.")
    add_data_dir(sweep)
    sweep.add_argument("--kafka", action="store_true",
                       help="read the references from banli.events (BANLI_KAFKA_BOOTSTRAP): "
                            "the distributed log")
    sweep.add_argument("--grace-hours", type=float, metavar="H",
                       help="override BANLI_LETTERS_GRACE_HOURS for this run")
    sweep.add_argument("--dry-run", action="store_true",
                       help="say what would be removed, remove nothing")
    sweep.set_defaults(handler=cmd_letters)

    stack = sub.add_parser(
        "stack", help="run the distributed deployment on this machine: a Kafka broker, the "
                      "topics and the three services (make stack)",
        description="Start a Kafka broker (deploy/kafka/broker.sh, the jars `make kafka-fetch` "
                    "cached; BANLI_KAFKA_BOOTSTRAP names a running one instead), create the "
                    "topics, start reporting (the page, :8003), handling (:8002) and intake "
                    "(:8001) as processes sharing one letters' store, and print the page's URL. "
                    "With --demo, an empty log first gets the demo history and demo tokens are "
                    "printed. Ctrl-C stops the services, then the broker; the data stays for the "
                    "next start. Other BANLI_* variables reach the services.")
    stack.add_argument("--data-dir", type=Path, metavar="DIR",
                       help="the broker's and the services' data and logs (default: "
                            "$XDG_DATA_HOME/banli-stack, else ~/.local/share/banli-stack)")
    stack.add_argument("--demo", action="store_true",
                       help="load demo data into an empty log and print demo tokens (valid 12 "
                            "hours) and a signed-in link to the page")
    stack.add_argument("--kafka-port", type=int, default=9092,
                       help="the broker's port (default 9092; its controller's the next)")
    stack.add_argument("--free-ports", action="store_true",
                       help="the services on free ports rather than 8001-8003")
    stack.set_defaults(handler=cmd_stack)

    topics = sub.add_parser("topics", help="distributed: create the Kafka topics (idempotent)")
    topics.set_defaults(handler=cmd_topics)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from banli.auth import WeakSecret

    os.umask(0o077)  # every file Banli writes (the store, the keys, the outbox) is its own
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except WeakSecret as exc:
        print(f"banli {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
