"""History files (JSON Lines of commands) and the reference report computed from one.

`run_history` decides every line in file order through the one handling loop (banli.handling)
over an event store in memory, as production decides them over SQLite or Kafka (the same
repository: ids scoped to their sender, the same sender's repeats answered from their record);
`reference_report` folds the resulting events as of a date and applies `compute_report`. This is
the oracle the projections are checked against, so it stays simple and obviously right.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from pydantic import ValidationError

from .domain import commands as c
from .domain.timing.deadlines import DEFAULT_PROFILE, Profile
from .domain.events import Event
from .domain.proposal import MemoryDirectory, Proposal, State, fold
from .domain.views.intake_report import (IntakeReport, IntakeScope, handling_scope,
                                         intake_items, intake_report)
from .domain.views.rates import Report, Scope, Stamp, compute_report, count_entries, stamps_of
from .domain.views.bureaus import NameIndex, Unresolved, resolve_line
from .domain.registry import parse_command
from .domain.reorganisation import handover_command, owing
from .domain.rejections import Rejection
from .domain.types import IMPORTER, Actor, business_date
from .domain.timing.workdays import Calendar
from .eventlog.memory import MemoryEventStore
from .eventlog.repository import Repository
from .handling import FixedCalendar, Handling
from .workcalendar import china_calendar


HISTORY_BATCH = 500  # commands decided as one batch, as `banli import` takes them


@dataclass(frozen=True)
class LineProblem:
    """A line that was not taken: unreadable, invalid, or refused by the rules; why, in Chinese
    (`reason`) and English (`reason_en`)."""

    line: int
    reason: str
    code: str = "invalid"
    reason_en: str = ""

    def __str__(self) -> str:
        said = f"{self.reason} ({self.reason_en})" if self.reason_en else self.reason
        return f"line {self.line}: [{self.code}] {said}"


def describe_validation(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "(line)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


# A line of a history is one command: longer or more deeply nested than any command can be, it
# is refused on its own (a deep line would exhaust the JSON parser's recursion).
MAX_LINE_BYTES = 1 << 20
MAX_DEPTH = 16


def split_lines(data: bytes) -> Iterator[bytes]:
    """The lines of a JSON Lines text, split at `\n` only: the one splitter of every import
    (the CLI and HTTP alike), so a file gives the same lines, numbered alike, however it
    arrives (U+2028 or U+0085 inside a line are characters, not line breaks)."""
    start = 0
    while (end := data.find(b"\n", start)) >= 0:
        yield data[start:end]
        start = end + 1
    if start < len(data):
        yield data[start:]


def file_lines(path: Path) -> Iterator[bytes]:
    """A history file's lines as `split_lines` gives them, read as it goes."""
    with path.open("rb") as f:
        for line in f:  # binary files split at \n only
            yield line.removesuffix(b"\n")


def _too_deep(text: str) -> bool:
    """Whether the JSON text nests arrays and objects more than MAX_DEPTH deep (outside
    strings). Cheap for the usual line: without that many brackets it cannot be."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def _text_of(number: int, line: str | bytes) -> str | LineProblem:
    """A line as text, or why it cannot be read: too long, not UTF-8. The first line may begin
    with a byte order mark (editors on Windows write one): it is not part of the command."""
    if len(line) > MAX_LINE_BYTES:
        return LineProblem(number, f"该行超过 {MAX_LINE_BYTES} 字节",
                           reason_en=f"line longer than {MAX_LINE_BYTES} bytes")
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return LineProblem(number, f"不是 UTF-8 编码（该行第 {exc.start + 1} 个字节）",
                               reason_en=f"not UTF-8: byte {exc.start + 1} of the line")
    return line.removeprefix("\ufeff") if number == 1 else line


def _json_of(number: int, text: str) -> Any:
    """A line's JSON value, or the LineProblem saying why it has none: nested too deep, not
    JSON, or a number too long to read (json raises ValueError, not JSONDecodeError, for an
    integer past sys.get_int_max_str_digits(): 4,300 digits)."""
    if _too_deep(text):
        return LineProblem(number, f"嵌套超过 {MAX_DEPTH} 层",
                           reason_en=f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        return LineProblem(number, f"不是有效的 JSON（第 {exc.colno} 列：{exc.msg}）",
                           reason_en=f"broken JSON: {exc.msg} at column {exc.colno}")
    except ValueError:
        digits = sys.get_int_max_str_digits()
        return LineProblem(number, f"数字过长（超过 {digits} 位），无法读取",
                           reason_en=f"a number too long to read (more than {digits} digits)")
    except RecursionError:  # not with _too_deep first; kept so that no line can break the rest
        return LineProblem(number, "嵌套过深", reason_en="nested too deep")


def _command_of(number: int, data: dict[str, Any]) -> c.Command | LineProblem:
    """The line's command, or why it is none: a field missing or wrong (any error of the
    models is this line's, never the file's)."""
    try:
        return parse_command(data)
    except ValidationError as exc:
        fields = "、".join(sorted({".".join(map(str, e["loc"][1:] or e["loc"]))
                                  for e in exc.errors(include_url=False)})) or "(line)"
        return LineProblem(number, f"不是有效的命令（{fields}）",
                           reason_en=describe_validation(exc))
    except (ValueError, TypeError, RecursionError) as exc:
        return LineProblem(number, "不是有效的命令", reason_en=f"not a valid command: {exc}")


def read_commands(lines: Iterable[str | bytes], default_actor=IMPORTER, require_at: bool = True,
                  names: NameIndex | None = None
                  ) -> Iterator[tuple[int, c.Command | LineProblem]]:
    """Parse JSON Lines of commands (text lines, or bytes lines as `split_lines` gives them).
    A line that is too long, not UTF-8, nested too deep, not JSON or not a command is a
    LineProblem with its number; the other lines go on. A command without `command_id` gets one
    derived from its text and its occurrence in the file, so importing the same file twice
    decides nothing twice; without `actor` it acts as the importer. Bureaus may be named by
    name (full, English, short or former name: banli.domain.views.bureaus): `names` knows the
    registered bureaus (none given: those the file registers), and learns the registrations
    and renames of the lines as they are read; a name that means no bureau, or several, is
    the line's problem, with the closest registered names."""
    seen: Counter[str] = Counter()
    index = names if names is not None else NameIndex()
    actor = default_actor.model_dump()  # once, not per line: it is copied into each line
    for number, line in enumerate(lines, start=1):
        text = _text_of(number, line)
        if isinstance(text, LineProblem):
            yield number, text
            continue
        text = text.strip()
        if not text:
            continue
        data = _json_of(number, text)
        if isinstance(data, LineProblem):
            yield number, data
            continue
        if not isinstance(data, dict):
            yield number, LineProblem(number, "每行须为一个 JSON 对象",
                                      reason_en="a line must be a JSON object")
            continue
        if require_at and not data.get("at"):
            yield number, LineProblem(number, "缺少业务时间 `at`",
                                      reason_en="missing `at` (the business time)")
            continue
        if not data.get("command_id"):
            digest = hashlib.sha256(text.encode()).hexdigest()[:24]
            seen[digest] += 1
            data["command_id"] = f"h-{digest}-{seen[digest]}"
        data.setdefault("actor", dict(actor))
        resolved = resolve_line(data, index)
        if isinstance(resolved, Unresolved):  # not a command: no bureau of that name
            zh, en = resolved.words()
            yield number, LineProblem(number, zh, reason_en=en)
            continue
        index.learn(resolved)
        yield number, _command_of(number, resolved)


class MemoryLedger:
    """Streams of events kept in memory (banli.eventlog.memory), decided one command at a time
    through the handling loop. `clock` gives each command's record time (default: its business
    time); `streams` starts the ledger with these events, taken as they are."""

    def __init__(self, profile: Profile = DEFAULT_PROFILE,
                 clock: Callable[[c.Command], datetime] = lambda cmd: cmd.business_time,
                 streams: Mapping[str, Iterable[Event]] | None = None,
                 calendar: Calendar | None = None, late_entry_working_days: int = 5,
                 clerk_backdate_days: int = 30):
        self.profile, self.clock = profile, clock
        self.calendar = calendar if calendar is not None else china_calendar()
        self.late_entry_working_days = late_entry_working_days
        self.store = MemoryEventStore()
        for events in (streams or {}).values():
            self.store.restore(events)
        self.repository = Repository(self.store, cache_size=None)
        self.handling = Handling(self.repository, self.store, profile,
                                 FixedCalendar(self.calendar),
                                 clerk_backdate_days=clerk_backdate_days)

    def execute(self, command: c.Command) -> list[Event] | Rejection:
        """Decide one command (a command its sender sent before: its first answer)."""
        return self.execute_all([command])[0]

    def execute_all(self, commands: Sequence[c.Command]) -> list[list[Event] | Rejection]:
        """Decide commands in order, as one batch (as `banli import` does): each decided on
        what those before it left. A merger's handovers are recorded at once after it, on
        every open proposal the merged bureau held a duty on (banli.domain.reorganisation)."""
        assert all(command.command_id for command in commands), "history lines have ids"
        found: list[list[Event] | Rejection] = []
        start = 0
        for end, command in enumerate(commands, start=1):
            if isinstance(command, c.MergeBureau) or end == len(commands):
                found += self._decide(commands[start:end])
                start = end
                if isinstance(command, c.MergeBureau) and not isinstance(found[-1], Rejection):
                    self._hand_over(found[-1])
        return found

    def _decide(self, commands: Sequence[c.Command]) -> list[list[Event] | Rejection]:
        outcomes = self.handling.handle_batch(commands, [self.clock(cmd) for cmd in commands])
        return [outcome.rejection if outcome.rejection is not None
                else [stored.event for stored in outcome.events] for outcome in outcomes]

    def _hand_over(self, mergers: list[Event]) -> None:
        states = self.states
        for merger in mergers:
            held = owing((s for s in states.values() if isinstance(s, Proposal)),
                         merger.__dict__["bureau"])
            handovers = [handover_command(merger, proposal_id) for proposal_id in sorted(held)]
            if handovers:
                self._decide(handovers)

    @property
    def streams(self) -> dict[str, list[Event]]:
        """Each stream's events, in order."""
        return self.store.streams

    @property
    def states(self) -> dict[str, State]:
        """Each stream's state, folded."""
        return {stream: self.repository.state(stream) for stream in self.store.streams}

    @property
    def directory(self) -> MemoryDirectory:
        return self.store.directory

    @property
    def decided(self) -> dict[tuple[str, str], list[Event] | Rejection]:
        """What each (sender, command id) came to, in the order they were decided."""
        return {key: outcome.rejection if outcome.rejection is not None
                else [stored.event for stored in outcome.events]
                for key, outcome in self.store.outcomes.items()}

    def proposals_as_of(self, as_of: date) -> Iterator[Proposal]:
        """Every proposal folded from its events that occurred on or before `as_of`, in the
        order they were recorded (a bureau's records may be dated before another bureau's
        records recorded earlier: each is left out on its own)."""
        for stream, events in self.streams.items():
            state = self.repository.state(stream)
            if not isinstance(state, Proposal):
                continue
            if business_date(state.latest_record_at()) > as_of:
                state = fold(ev for ev in events if business_date(ev.occurred_at) <= as_of)
            if isinstance(state, Proposal):
                yield state


def run_history(lines: Iterable[str | bytes], profile: Profile = DEFAULT_PROFILE,
                recorder: Actor | None = None, **options: Any
                ) -> tuple[MemoryLedger, list[LineProblem]]:
    """Decide every command of a history in order; return the ledger and the lines not taken.
    With `recorder`, it enters every line, as `banli import` does: the lines without an actor
    act as it, and a line naming another actor records that actor's act and who entered it
    (c.entered_by); it is the lines' sender, which their events' ids derive from. Without one,
    the lines without an actor act as the default importer and the others as they say.
    `options` set the MemoryLedger's other settings (e.g. `clock`: by default each command is
    recorded at its own business time)."""
    ledger = MemoryLedger(profile=profile, **options)
    problems: list[LineProblem] = []
    batch: list[tuple[int, c.Command]] = []

    def decide(batch: list[tuple[int, c.Command]]) -> None:
        if not batch:
            return
        outcomes = ledger.execute_all([command for _, command in batch])
        for (number, _), outcome in zip(batch, outcomes):
            if isinstance(outcome, Rejection):
                problems.append(LineProblem(number, outcome.message, outcome.code,
                                            outcome.message_en))

    for number, item in read_commands(lines, default_actor=recorder or IMPORTER):
        if isinstance(item, LineProblem):
            problems.append(item)
        else:
            batch.append((number, item if recorder is None else c.entered_by(item, recorder)))
            if len(batch) == HISTORY_BATCH:
                decide(batch)
                batch = []
    decide(batch)
    problems.sort(key=lambda problem: problem.line)
    return ledger, problems


def reference_report(ledger: MemoryLedger, scope: Scope) -> Report:
    """The report of the ledger's proposals as of the scope's date, with the bureaus' records
    counted (entered late, imported)."""
    proposals = list(ledger.proposals_as_of(scope.as_of))
    entries = count_entries((stamp for _, stamp in reference_entries(ledger, proposals, scope)),
                            ledger.calendar, ledger.late_entry_working_days)
    return compute_report(proposals, scope, ledger.profile, entries)


def reference_intake_report(ledger: MemoryLedger, scope: IntakeScope) -> IntakeReport:
    """The office's report of the ledger's proposals as of the scope's date, with the handling
    figures of every bureau for the same scope beside it (reference_report)."""
    proposals = list(ledger.proposals_as_of(scope.as_of))
    handling = reference_report(ledger, handling_scope(scope))
    return intake_report(intake_items(proposals, scope), scope, ledger.profile, handling)


def reference_entries(ledger: MemoryLedger, proposals: list[Proposal], scope: Scope
                      ) -> Iterator[tuple[Event, Stamp]]:
    """The bureaus' records on the duties the report counts, each with its stamp."""
    duties = {(p.id, a.bureau) for p in proposals if scope.takes(p) for a in scope.duties(p)}
    for proposal_id in sorted({pid for pid, _ in duties}):
        yield from stamps_of(ledger.streams[proposal_id], scope, duties)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
