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
        print("banli report: --history FILE is needed until the embedded store exists",
              file=sys.stderr)
        return 2
    from .history import reference_report, run_history

    path = Path(args.history)
    if not path.is_file():
        print(f"banli report: no such file: {path}", file=sys.stderr)
        return 2
    with path.open(encoding="utf-8") as lines:
        ledger, problems = run_history(lines, profile)
    for problem in problems:
        print(f"{path}:{problem}", file=sys.stderr)
    print_report(reference_report(ledger, scope), args,
                 ledger.directory.bureaus.get(scope.bureau or ""))
    return 1 if (problems and args.strict) else 0


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
                        help="a JSON Lines file of commands, each with `at`")
    add_scope_flags(report)
    report.add_argument("--strict", action="store_true",
                        help="exit 1 when any line was bad or refused")
    report.set_defaults(handler=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
