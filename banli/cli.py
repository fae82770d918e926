"""The `banli` command. Each subcommand is a thin adapter: parse flags, build, call, print."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Sequence

from .domain.deadlines import PROFILES, get_profile
from .domain.rates import Scope


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
    p.add_argument("--format", default="json", choices=["json", "text"], dest="fmt")
    p.add_argument("--lang", default="zh", choices=["zh", "en"], help="language of text output")


def scope_from(args: argparse.Namespace) -> Scope:
    return Scope(bureau=None if args.all else args.bureau, years=args.years, as_of=args.as_of,
                 level=args.level, kind=args.kind)


def print_report(report: dict, args: argparse.Namespace, bureau_name: str | None) -> None:
    if args.fmt == "json":
        print(json.dumps(report, ensure_ascii=False))
    else:
        from .report_text import render_text

        sys.stdout.write(render_text(report, bureau_name, args.lang))


def cmd_report(args: argparse.Namespace) -> int:
    profile = get_profile(args.profile)
    scope = scope_from(args)
    if args.history is None:
        from .local import report_from_store

        report, names = report_from_store(settings_from(args), scope, profile)
        print_report(report, args, (names or {}).get("name_en" if args.lang == "en" else "name"))
        return 0
    from .history import reference_report, run_history

    path = Path(args.history)
    if not path.is_file():
        print(f"banli report: no such file: {path}", file=sys.stderr)
        return 2
    with path.open(encoding="utf-8") as lines:
        ledger, problems = run_history(lines, profile)
    for problem in problems:
        print(f"{path}:{problem}", file=sys.stderr)
    names = ledger.directory.bureaus.get(scope.bureau or "")
    print_report(reference_report(ledger, scope), args,
                 names[args.lang == "en"] if names else None)
    return 1 if (problems and args.strict) else 0


def settings_from(args: argparse.Namespace):
    """Settings from the environment (BANLI_*), overridden by the flags given."""
    from .settings import Settings

    overrides = {k: v for k, v in (("data_dir", getattr(args, "data_dir", None)),
                                   ("host", getattr(args, "host", None)),
                                   ("port", getattr(args, "port", None))) if v is not None}
    return Settings(**overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    from .local import serve

    return serve(settings_from(args), demo=args.demo)


def cmd_import(args: argparse.Namespace) -> int:
    from .local import import_file

    return import_file(settings_from(args), Path(args.file), strict=args.strict)


def cmd_token(args: argparse.Namespace) -> int:
    from .auth import issue_token, load_or_create_secret
    from .domain.types import Actor

    settings = settings_from(args)
    try:
        actor = Actor(user=args.user, bureau=args.bureau, role=args.role)
        secret = load_or_create_secret(settings.data_dir, settings.secret)
        print(issue_token(secret, actor, int(args.ttl_days * 86400)))
    except ValueError as exc:
        print(f"banli token: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_service(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.port is None:
        settings = settings.model_copy(update={"port": SERVICE_PORTS[args.command]})
    if args.command == "intake":
        from services.intake.main import run
    elif args.command == "handling":
        from services.handling.main import run
    else:
        from services.reporting.main import run
    return run(settings)


def cmd_topics(args: argparse.Namespace) -> int:
    from .eventlog.kafka import ensure_topics

    settings = settings_from(args)
    created = ensure_topics(settings.kafka_bootstrap, settings.topic_partitions,
                           settings.topics)
    print("created: " + (", ".join(created) or "nothing (all topics exist)"))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from .local import replay_command

    return replay_command(settings_from(args), args.url)


SERVICE_PORTS = {"intake": 8001, "handling": 8002, "reporting": 8003}


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
        "report", help="the year-end report (counts and rates) for a scope",
        description="Print the report for a bureau (or all) over the proposals of some years, "
                    "as of a business date. With --history, decide a JSON Lines file of "
                    "commands in memory (the reference implementation); bad lines and refused "
                    "commands are reported on stderr with their line numbers and skipped.")
    report.add_argument("--history", metavar="FILE.jsonl",
                        help="a JSON Lines file of commands, each with `at` (without it: the "
                             "embedded store, through the running server when there is one)")
    add_data_dir(report)
    add_scope_flags(report)
    report.add_argument("--strict", action="store_true",
                        help="exit 1 when any line was bad or refused")
    report.set_defaults(handler=cmd_report)

    serve = sub.add_parser(
        "serve", help="run the embedded system (intake, handling, reporting) in one process",
        description="Start the HTTP APIs on one port over the local event store and chDB. On "
                    "first start (an empty store) it loads demo data unless --no-demo, and it "
                    "prints the URL and ready-to-use demo tokens.")
    add_data_dir(serve)
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--demo", action=argparse.BooleanOptionalAction, default=True,
                       help="load demo data into an empty store (default: yes)")
    serve.set_defaults(handler=cmd_serve)

    imp = sub.add_parser(
        "import", help="import a JSON Lines file of commands into the embedded store",
        description="Decide every line in order; bad lines and refused commands are reported "
                    "with their line numbers and the rest imported. Importing the same file "
                    "again changes nothing. Safe while `banli serve` runs on the same data dir.")
    imp.add_argument("file", metavar="FILE.jsonl")
    add_data_dir(imp)
    imp.add_argument("--strict", action="store_true", help="exit 1 when any line was not taken")
    imp.set_defaults(handler=cmd_import)

    token = sub.add_parser("token", help="print a signed bearer token",
                           description="Sign a token with the data dir's secret (or BANLI_SECRET).")
    token.add_argument("--user", required=True)
    token.add_argument("--bureau", help="the bureau a clerk acts for")
    token.add_argument("--role", required=True,
                       choices=["coordinator", "clerk", "overseer", "admin", "importer"])
    token.add_argument("--ttl-days", type=float, default=30.0, help="lifetime (default 30 days)")
    add_data_dir(token)
    token.set_defaults(handler=cmd_token)

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

    topics = sub.add_parser("topics", help="distributed: create the Kafka topics (idempotent)")
    topics.set_defaults(handler=cmd_topics)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
