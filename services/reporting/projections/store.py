"""The ClickHouse side of reporting: clickhouse-connect clients from a DSN (`chdb:///path`
embedded, `http://host:8123` distributed), the schema, batched inserts and the queries.

chDB allows one engine per process and its calls block: async callers run these methods in a
worker thread. A client answers one call at a time (its lock here; clickhouse-connect's chDB
backend holds one per handle too), so the store keeps two: the main one for writes, reports
and lists, and one for point reads (a proposal's history, a bureau's work), which then do not
queue behind a league or a batch's insert. chDB takes any number of handles to its one engine,
and runs their queries side by side."""
from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import clickhouse_connect

from banli.domain.views.bureaus import lineage, name_on
from banli.domain.commands import HandOver
from banli.domain.timing.deadlines import Profile
from banli.domain.proposal import Bureau
from banli.domain.registry import load_event
from banli.domain.reorganisation import handover_command
from banli.domain.types import business_date
from banli.domain.views.due_list import listed, ordered
from banli.domain.views.explain import Duty
from banli.domain.views.intake_report import (IntakeReport, IntakeScope, handling_scope,
                                              intake_report, review_flags)
from banli.domain.views.rates import (Report, Scope, Stamp, cell_code, cell_of, due_after, entry_kind,
                                with_flags)
from banli.domain.wording import numbered
from banli.domain.views.work import Peer, WorkDuty
from banli.domain.timing.workdays import Calendar
from banli.eventlog import OFFSET_BITS
from banli.workcalendar import china_calendar

from . import duty_table, queries
from .duty_table import FORMAT, item_of_row
from .intervals import INTERVAL_COLUMNS, NO_DATE, OPEN, Tally, tallies_of
from .native import (INSERTS, INTERVALS, Encoded, Shapes, interval_rows, mark_rows,
                     native)
from .projector import Rows

SCHEMA = (Path(__file__).with_name("schema.sql")).read_text(encoding="utf-8")
TABLES = ("event_history", "proposal_versions", "assignment_versions", "duty_heads",
          "report_intervals", "bureaus", "filers", "proposal_filers", "projection_format")
LAST_AS_OF = OPEN - timedelta(days=1)  # every later date reports what this one does
FAR_FUTURE = datetime(2299, 12, 31, tzinfo=timezone.utc)

log = logging.getLogger("banli.reporting")

_ENGINES: dict[tuple[str, str], Any] = {}
_ENGINES_LOCK = threading.Lock()


def connect(dsn: str, lane: str = ""):
    """One client per DSN and `lane` per process (chDB cannot open the same path twice in a
    process, but each client of it is a handle of its own to the one engine)."""
    with _ENGINES_LOCK:
        client = _ENGINES.get((dsn, lane))
        if client is None:
            if dsn.startswith("chdb://"):
                Path(dsn.removeprefix("chdb://")).mkdir(parents=True, exist_ok=True)
            client = _ENGINES[(dsn, lane)] = clickhouse_connect.get_client(dsn=dsn)
        return client


class ReportingStore:
    def __init__(self, dsn: str, database: str = "banli",
                 calendar: Callable[[], Calendar] = china_calendar,
                 late_entry_working_days: int = 5):
        """`calendar` gives the working-day calendar of the moment (late entries are counted in
        working days: banli.domain.views.rates.count_entries)."""
        self.dsn = dsn
        self.db = database
        self.calendar = calendar
        self.late_entry_working_days = late_entry_working_days
        self.client = connect(dsn)
        self._lock = threading.RLock()
        self._point = connect(dsn, "point")  # point reads: beside the main client, not behind it
        self._point_lock = threading.Lock()
        # inserts: the reports and lists do not wait behind the projector's batches (each table's
        # insert is atomic to a reader; report_intervals, with the marks, goes last)
        self._writer = connect(dsn, "writer")
        self._write_lock = threading.RLock()
        self._complete: dict[str, bool] = {}  # report_intervals followed the log from its start
        self._formats: dict[str, str | None] = {}  # the format each database's projections are in
        self.exchanges = 0
        self.ensure_schema(self.db)

    def _sql(self, template: str, db: str | None = None) -> str:
        return template.replace("{db}", db or self.db)

    def command(self, sql: str, **params: Any) -> Any:
        with self._lock:
            return self.client.command(sql, parameters=params or None)

    def query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.client.query(self._sql(sql), parameters=params).named_results())

    def point_query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """A short read (one proposal's rows, one bureau's duties) on the point reads' client:
        it does not wait for the main one's reports, lists and inserts."""
        with self._point_lock:
            return list(self._point.query(self._sql(sql), parameters=params).named_results())

    # --- schema ------------------------------------------------------------------------------
    def ensure_schema(self, db: str, fresh: bool = False) -> None:
        """Create what is missing, and bring an older store's tables up to date (the duty row's
        columns it lacks: duty_table.migration; duty_heads filled from the versions). A store
        without events gets report_intervals with its first mark (position 0: it follows the log
        from its start) and the current format (duty_table.FORMAT); a store made before the intervals, or in another format,
        reports from the versions until a replay rebuilds it (intervals_complete). `fresh`: the
        database was just dropped (replay's), so the statements that bring an older store up
        to date (ALTER, DROP: some 40 ms together, a few percent of a replay) are left out, and
        it gets its first mark and its format without asking."""
        self.command(f"CREATE DATABASE IF NOT EXISTS {db}")
        had_heads = fresh or bool(self._columns(db, duty_table.HEADS))
        statements = [statement for statement in "\n".join(
            line for line in self._sql(SCHEMA, db).splitlines()
            if not line.lstrip().startswith("--")).split(";") if statement.strip()]
        statements += [duty_table.create_table(db), duty_table.create_heads(db)]
        for statement in statements:
            if fresh and statement.lstrip().startswith(("ALTER", "DROP")):
                continue
            self.command(statement)
        if fresh:
            self._insert_marks(db, {0: 0})
            self._write_format(db)
            self._complete[db] = True
            return
        for table in (duty_table.TABLE, duty_table.HEADS):
            for statement in duty_table.migration(db, self._columns(db, table), table):
                self.command(statement)
        if not had_heads:  # a store made before duty_heads: its duties' heads from their versions
            self.command(duty_table.FILL_HEADS.format(db=db))
        if not int(self.command(f"SELECT count() FROM {db}.event_history")):
            if not self.marks(db):
                self._insert_marks(db, {0: 0})
            if self._format(db) != FORMAT:  # nothing projected yet: nothing to make again
                self._write_format(db)
        self._complete[db] = complete = self._follows_log(db)
        if not complete:
            log.warning("%s's projections lack the report's intervals or were made in another "
                        "format (%s, now %s): reports read every version until a replay "
                        "rebuilds them", db, self._format(db) or "none", FORMAT)

    def _columns(self, db: str, table: str) -> list[str]:
        with self._lock:
            result = self.client.query("SELECT name FROM system.columns WHERE database = "
                                       "{db:String} AND table = {table:String}",
                                       parameters={"db": db, "table": table})
        return [name for (name,) in result.result_rows]

    def _format(self, db: str) -> str | None:
        """The format the projections in `db` were made in (None: unknown, or several). Read
        once: only this store writes it (ensure_schema), or swaps it in (exchange)."""
        if db not in self._formats:
            with self._lock:
                found = self.client.query(f"SELECT DISTINCT format FROM {db}.projection_format"
                                          ).result_rows
            self._formats[db] = found[0][0] if len(found) == 1 else None
        return self._formats[db]

    def _write_format(self, db: str) -> None:
        self.command(f"TRUNCATE TABLE {db}.projection_format")
        with self._write_lock:
            self._insert(f"{db}.projection_format", [(FORMAT,)], ("format",))
        self._formats[db] = FORMAT

    def _follows_log(self, db: str) -> bool:
        return bool(self.marks(db)) and self._format(db) == FORMAT

    def intervals_complete(self, db: str | None = None) -> bool:
        """Whether report_intervals has followed the log from its start, in the current format
        (see ensure_schema): what a report may read its counts from. A store where it has not
        is rebuilt by a replay on start (apps/embedded.py, apps/reporting.py)."""
        db = db or self.db
        if db not in self._complete:
            self._complete[db] = self._follows_log(db)
        return self._complete[db]

    def cells_current(self, db: str | None = None) -> bool:
        """Whether the cell codes stored in `db` mean what banli.domain.views.rates says they do."""
        return self._format(db or self.db) == FORMAT

    def marks(self, db: str | None = None) -> dict[int, int]:
        """Per partition of the log, the position before which every event is projected, into
        report_intervals too (Rows.marks); none for a store whose intervals are incomplete."""
        sql = (f"SELECT bitShiftRight(position, {OFFSET_BITS}) AS partition, max(position) AS next"
               f" FROM (SELECT position, sum(n) AS n FROM {db or self.db}.report_intervals"
               f" WHERE valid_to = {{day:Date32}} AND what = 'mark' GROUP BY position"
               f" HAVING n > 0) GROUP BY partition")
        with self._point_lock:  # a short read: the reporting service asks it per dashboard
            result = self._point.query(sql, parameters={"day": NO_DATE})
        return {int(partition): int(next_) for partition, next_ in result.result_rows}

    def drop(self, db: str | None = None) -> None:
        self.command(f"DROP DATABASE IF EXISTS {db or self.db}")
        self._formats.pop(db or self.db, None)
        self._complete.pop(db or self.db, None)

    def exchange(self, other_db: str) -> None:
        """Swap every projection table with its twin in `other_db`, each atomically. Projections
        into this store read its marks again (`exchanges` counts the swaps)."""
        for table in TABLES:
            self.command(f"EXCHANGE TABLES {self.db}.{table} AND {other_db}.{table}")
        self._complete.clear()
        self._formats.clear()
        self.exchanges += 1

    # --- writing -----------------------------------------------------------------------------
    def insert(self, rows: Rows, db: str | None = None) -> None:
        """Insert one batch. report_intervals goes last, in one insert with the batch's marks:
        its counts add up, so it must take each batch once, and what its marks cover is in
        every table (services/reporting/projections/projection.py); the versioned tables dedupe by key."""
        db = db or self.db
        with self._write_lock:
            for table, columns, name in INSERTS:
                data = getattr(rows, name)
                if data:
                    self._insert(f"{db}.{table}", data, columns)
            if rows.marks:
                self._insert_marks(db, rows.marks, rows.retired, rows.intervals)

    def _insert_marks(self, db: str, marks: dict[int, int], retired: dict[int, int] = {},
                      intervals: Counter = Counter()) -> None:
        """The intervals' changes and the new marks, taking back those they replace, in one
        insert."""
        with self._write_lock:
            self._insert(f"{db}.{INTERVALS}", interval_rows(intervals) + mark_rows(marks, retired),
                         INTERVAL_COLUMNS)

    def shapes(self, db: str | None = None) -> Shapes:
        """The column types of every table a batch goes into, for encoding its rows elsewhere
        (native.encode)."""
        db = db or self.db
        with self._write_lock:
            return {table: [t.name for t in self._writer.create_insert_context(
                        f"{db}.{table}", list(columns)).column_types]
                    for table, columns in [*((t, c) for t, c, _ in INSERTS),
                                           (INTERVALS, INTERVAL_COLUMNS)]}

    def insert_encoded(self, batch: Encoded, shapes: Shapes, db: str | None = None) -> None:
        """Insert a batch encoded elsewhere (native.encode, with `shapes`: those of `db`), as
        `insert` inserts one: the marks in the same insert as the intervals' changes, last."""
        db = db or self.db
        with self._write_lock:
            for table, columns, _ in INSERTS:
                if batch.blocks.get(table):
                    self._writer.raw_insert(f"{db}.{table}", list(columns),
                                            b"".join(batch.blocks[table]), fmt="Native")
            if batch.marks:
                marks = native(INTERVAL_COLUMNS, shapes[INTERVALS],
                               mark_rows(batch.marks, batch.retired), self._writer.server_tz)
                self._writer.raw_insert(f"{db}.{INTERVALS}", list(INTERVAL_COLUMNS),
                                        b"".join([*batch.blocks.get(INTERVALS, []), marks]),
                                        fmt="Native")

    def _insert(self, table: str, data: list[tuple], columns: tuple[str, ...]) -> None:
        """One insert, whose rows nothing holds once it is done. clickhouse-connect's insert
        context refers to itself (a bound method of its own among its attributes), so it is
        freed by the cyclic collector only, and so would be the list of rows it was given: it is
        given a list of its own, emptied here, which lets replay leave the collector off
        (replay._collector_paused) and the rows go as soon as the caller lets go of them."""
        given = list(data)
        try:
            self._writer.insert(table, given, column_names=columns)
        finally:
            given.clear()

    def checkpoint(self, db: str | None = None) -> int:
        """The highest log position projected (the embedded log's: every event up to it)."""
        db = db or self.db
        if self.intervals_complete(db):
            return max(0, max(self.marks(db).values(), default=0) - 1)
        with self._lock:  # a store from before the intervals: its history is the last insert
            return int(self.client.command(f"SELECT max(position) FROM {db}.event_history") or 0)

    # --- reading -----------------------------------------------------------------------------
    def _reports(self, scope: Scope, profile: Profile, recorded_by: datetime | None,
                 by_bureau: bool) -> dict[str, Report]:
        """The report, or one per bureau with duties in scope (by bureau), counted by ClickHouse
        as cells, proposals and stamps and made into reports as the reference makes them."""
        params = self._scope_params(scope, recorded_by)
        keys = "bureau," if by_bureau else ""
        tallies: dict[str, Tally]
        if recorded_by is None and self.intervals_complete():
            tallies = tallies_of(self.query(queries.INTERVAL_COUNTS.replace("{keys}", keys),
                                            **params), by_bureau, scope.bureau is not None)
        else:
            tallies = {}
            self._general_tallies(tallies, params, keys, by_bureau)
        if not tallies and not by_bureau:
            tallies[""] = Tally()
        calendar = self.calendar()
        return {bureau: tally.report(
                    scope.model_copy(update={"bureau": bureau}) if by_bureau else scope, profile,
                    calendar, self.late_entry_working_days)
                for bureau, tally in sorted(tallies.items())}

    def _general_tallies(self, tallies: dict[str, Tally], params: dict[str, Any], keys: str,
                         by_bureau: bool) -> None:
        """The tallies from every version (CURRENT_ASSIGNMENTS): what an audit clock needs."""
        current = queries.CURRENT_ASSIGNMENTS
        if self.cells_current():
            sql = (queries.REPORT_CELLS.replace("{current}", current)
                   .replace("{keys}", keys).replace("{group}", "bureau" if by_bureau else ""))
            for cell in self.query(sql, **params):
                tally = tallies.setdefault(cell["bureau"] if by_bureau else "", Tally())
                if cell["total"]:
                    tally.proposals = cell["proposals"]
                else:
                    tally.cells.append((cell["cell"], cell["past_due"], cell["n"]))
        else:
            self._tallies_from_items(tallies, params, by_bureau)
        for row in self.query(queries.ENTRY_STAMPS.replace("{current}", current)
                              .replace("{keys}", keys), **params):
            tallies.setdefault(row["bureau"] if by_bureau else "", Tally()).stamps.append(
                Stamp(row["occurred_on"], row["recorded_on"], bool(row["imported"]), row["n"]))

    def _tallies_from_items(self, tallies: dict[str, Tally], params: dict[str, Any],
                            by_bureau: bool) -> None:
        """The tallies of projections whose stored cell codes mean something else (made in
        another format, until the replay rebuilds them): each duty's cell computed here from
        its item fields, as the projector computes it. A column the store lacked until this
        start reads empty in the versions written before it."""
        cells: dict[str, Counter] = {}
        proposals: dict[str, set[str]] = {}
        sql = queries.ITEMS.replace("{current}", queries.CURRENT_ASSIGNMENTS)
        for row in self.query(sql, **params):
            item = item_of_row(row)
            group = row["bureau"] if by_bureau else ""
            after = due_after(item)
            cells.setdefault(group, Counter())[
                (cell_code(cell_of(item)), after is None or after < params["as_of"])] += 1
            proposals.setdefault(group, set()).add(row["proposal_id"])
        for group, counted in cells.items():
            tally = tallies.setdefault(group, Tally())
            tally.cells.extend((code, past_due, n) for (code, past_due), n in counted.items())
            tally.proposals = len(proposals[group])

    @staticmethod
    def _scope_params(scope: Scope, recorded_by: datetime | None) -> dict[str, Any]:
        return dict(as_of=min(scope.as_of, LAST_AS_OF), recorded_by=recorded_by or FAR_FUTURE,
                    y1=scope.years[0], y2=scope.years[1], bureau=scope.bureau or "",
                    level=scope.level or "", kind=scope.kind or "")

    def report(self, scope: Scope, profile: Profile,
               recorded_by: datetime | None = None) -> Report:
        """The report of banli.domain.views.rates.compute_report, counted by ClickHouse."""
        return self._reports(scope, profile, recorded_by, by_bureau=False)[""]

    def league(self, scope: Scope, profile: Profile,
               recorded_by: datetime | None = None) -> dict[str, Report]:
        """One report per bureau with duties in scope (scope.bureau is ignored), in one query."""
        return self._reports(scope.model_copy(update={"bureau": None}), profile, recorded_by,
                             by_bureau=True)

    def items(self, scope: Scope, profile: Profile,
              recorded_by: datetime | None = None) -> list[dict[str, Any]]:
        """The duties the report counts, flagged as views.rates.report_items flags them."""
        sql = queries.ITEMS.replace("{current}", queries.CURRENT_ASSIGNMENTS)
        return [with_flags(item_of_row(row), scope.as_of, profile)
                for row in self.query(sql, **self._scope_params(scope, recorded_by))]

    def entries(self, scope: Scope, recorded_by: datetime | None = None
                ) -> list[dict[str, Any]]:
        """The bureaus' records behind the report's `entries`, each with its kind (late,
        imported, on_time) as banli.domain.views.rates.entry_kind says."""
        sql = queries.ENTRY_RECORDS.replace("{current}", queries.CURRENT_ASSIGNMENTS)
        calendar, days = self.calendar(), self.late_entry_working_days
        return numbered(self.with_numbers([
                {"proposal_id": r["proposal_id"], "seq": r["seq"], "bureau": r["bureau"],
                 "type": r["type"], "occurred_at": _utc(r["occurred_at"]),
                 "recorded_at": _utc(r["recorded_at"]),
                 "actor": {"user": r["actor_user"], "role": r["actor_role"]},
                 "recorded_by": ({"user": r["recorded_by_user"], "role": r["recorded_by_role"]}
                                 if r["recorded_by_role"] else None),
                 "entry": entry_kind(Stamp(r["occurred_on"], r["recorded_on"],
                                           bool(r["imported"])), calendar, days)}
                for r in self.query(sql, **self._scope_params(scope, recorded_by))]))

    def awaiting_assignment(self, years: tuple[int, int], limit: int = 500
                            ) -> list[dict[str, Any]]:
        """Open proposals of those years with no active lead (never assigned, or bounced)."""
        return numbered([{**row, "submitted_on": row["submitted_on"].isoformat(),
                          "topics": list(row["topics"]), "assigned_before": row["duties"] > 0}
                         for row in self.query(queries.AWAITING_ASSIGNMENT, y1=years[0],
                                               y2=years[1], limit=limit)])

    def owed(self, scope: Scope, recorded_by: datetime | None = None) -> list[dict[str, Any]]:
        """The deadlines list of the scope (banli.domain.views.due_list): the duties owing a reply or
        an opinion as of its date (as recorded by `recorded_by`), counted to that date."""
        rows = self.query(queries.OWED, **self._scope_params(scope, recorded_by))
        return ordered(item for row in rows if (item := listed(
            {**row, "reopen_due": _day(row["reopen_due"])}, scope.as_of)) is not None)

    # --- the workbench ---------------------------------------------------------------------
    def work_duties(self, bureau: str | None, cosign: bool) -> list[WorkDuty]:
        """The counted duties (of one bureau, or all) that may owe something now, as the work
        list asks of them (banli.domain.views.work), with the proposal's other active duties where
        the co-handlers sign drafts off (`cosign`)."""
        rows = self.point_query(queries.WORK_DUTIES, bureau=bureau or "", none=NO_DATE,
                                cosign=cosign)
        peers: dict[str, list[Peer]] = {}
        wanted = sorted({r["proposal_id"] for r in rows
                         if r["role"] == "co" or r["draft_on"] != NO_DATE}) if cosign else []
        if wanted:
            for r in self.point_query(queries.WORK_PEERS, proposals=wanted):
                peers.setdefault(r["proposal_id"], []).append(Peer(
                    r["bureau"], r["role"], r["due"], _day(r["draft_on"]),
                    tuple(r["draft_signed_off"])))
        return [WorkDuty(
            Duty(r["proposal_id"], r["bureau"], r["role"], r["kind"], r["assigned_on"], r["due"],
                 r["extensions"], _day(r["first_reply_on"]), _day(r["first_opinion_on"]),
                 _day(r["last_reply_on"]), _day(r["published_on"]), r["disclosure"] or None,
                 bool(r["acknowledged"]), bool(r["awaiting_reply"]), _day(r["reopen_due"]),
                 r["opinions"], r["replies"]),
            r["level"], r["year"], r["number"], r["title"], bool(r["key_item"]), r["contacts"],
            r["feedback_on_reply"] or None, _day(r["draft_on"]), tuple(r["draft_signed_off"]),
            _day(r["extension_requested_due"]),
            tuple(p for p in peers.get(r["proposal_id"], ()) if p.bureau != r["bureau"]))
            for r in rows]

    def numbers(self, proposal_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Each proposal's kind, level, year, number and title, by id (those that exist)."""
        wanted = sorted(set(proposal_ids))
        if not wanted:
            return {}
        return {r["proposal_id"]: r for r in self.query(queries.NUMBERS, proposals=wanted)}

    def extension_requests(self) -> list[dict[str, Any]]:
        """Extension requests pending the coordinator's decision, oldest first, numbered."""
        rows = self.query(queries.EXTENSION_REQUESTS, none=NO_DATE)
        return self.with_numbers([{
            **r, "current_due": r["current_due"].isoformat(),
            "requested_due": r["requested_due"].isoformat(),
            "requested_on": r["requested_on"].isoformat()}
            for r in rows])

    def returned(self) -> list[dict[str, Any]]:
        """Assignments returned and not routed again since, oldest first, numbered."""
        return self.with_numbers([{**r, "returned_on": r["returned_on"].isoformat()}
                                   for r in self.query(queries.RETURNED)])

    def key_items(self) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Open key items (重点督办件), each with its active duties (banli.domain.views.work's
        key_item_state reads them)."""
        items = self.query(queries.KEY_ITEMS)
        duties: dict[str, list[dict[str, Any]]] = {}
        if items:
            for r in self.query(queries.DUTIES_OF, proposals=[i["proposal_id"] for i in items]):
                duties.setdefault(r["proposal_id"], []).append({
                    **r, **{k: _day(r[k]) for k in ("reopen_due", "first_reply_on",
                                                     "first_opinion_on")}})
        return [(item, duties.get(item["proposal_id"], [])) for item in items]

    def search(self, terms: list[str], within: tuple[str, str] | None, limit: int
               ) -> list[dict[str, Any]]:
        """Proposals whose title has every term (or whose number or id is one), within what
        `within` names (queries.SEARCH_WITHIN: a kind of scope and its value; None: all)."""
        params: dict[str, Any] = {"limit": limit}
        for i, term in enumerate(terms):
            params[f"t{i}"], params[f"n{i}"] = term, term.lstrip("0") or term
        match = " AND ".join(queries.SEARCH_TERM.format(i=i) for i in range(len(terms)))
        exact = " OR ".join(f"replaceRegexpOne(number, '^0+', '') = {{n{i}:String}}"
                            for i in range(len(terms)))
        where = "1"
        if within is not None:
            where, params["within"] = queries.SEARCH_WITHIN[within[0]], within[1]
        sql = (queries.SEARCH.replace("{match}", match).replace("{within}", where)
               .replace("{exact}", f"({exact})"))
        return self.query(sql, **params)

    def with_numbers(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows (each of a proposal) with its kind, level, year, number and title (as it
        stands now)."""
        found = self.numbers(r["proposal_id"] for r in rows)
        empty = {"kind": "", "level": "", "year": 0, "number": "", "title": ""}
        return [{**r, **{k: v for k, v in found.get(r["proposal_id"], empty).items()
                         if k != "proposal_id"}} for r in rows]

    def history(self, proposal_id: str) -> list[dict[str, Any]]:
        """A proposal's events in order (none for an unknown id, or a bureau's stream)."""
        if proposal_id.startswith(("bureau:", "filer:")):
            return []
        return self.point_query(queries.HISTORY, proposal=proposal_id)

    def bureaus_of(self, proposal_id: str) -> set[str]:
        return {r["bureau"] for r in self.point_query(queries.BUREAUS_OF_PROPOSAL,
                                                      proposal=proposal_id)}

    # --- the office's review (审查立案) -------------------------------------------------------
    def intake_items(self, scope: IntakeScope, recorded_by: datetime | None = None,
                     queue: bool = False) -> list[dict[str, Any]]:
        """The proposals of the scope as the office's report counts them, as of its date
        (banli.domain.views.intake_report.intake_item makes the same of a folded state); with
        `queue` only those awaiting review or returned to their filers."""
        params = dict(as_of=min(scope.as_of, LAST_AS_OF), recorded_by=recorded_by or FAR_FUTURE,
                      y1=scope.years[0], y2=scope.years[1], level=scope.level or "",
                      kind=scope.kind or "", queue=queue)
        return [_intake_item(row, scope.as_of)
                for row in self.query(queries.INTAKE_ITEMS, **params)]

    def intake_report(self, scope: IntakeScope, profile: Profile,
                      recorded_by: datetime | None = None) -> IntakeReport:
        """The office's report (banli.domain.views.intake_report), with the bureaus' report for
        the same scope beside it, counted from the projections."""
        return intake_report(self.intake_items(scope, recorded_by), scope, profile,
                             self.report(handling_scope(scope), profile, recorded_by))

    # --- the filer registry and what filers filed ---------------------------------------------
    def filed_by(self, filer: str) -> list[str]:
        """The proposals `filer` (an id in the registry) filed, as lead filer or co-signer."""
        return [r["proposal_id"] for r in self.query(queries.FILED_BY, filer=filer)]

    def histories(self, proposals: list[str]) -> dict[str, list[str]]:
        """Each proposal's events (their JSON), in order."""
        found: dict[str, list[str]] = {p: [] for p in proposals}
        for r in self.query(queries.HISTORIES, proposals=proposals):
            found[r["proposal_id"]].append(r["data"])
        return found

    def filers(self, filer: str = "") -> dict[str, dict[str, str]]:
        """The filer registry (or the one filer `filer`): each filer's name, kind, affiliation,
        term and account."""
        return {r["filer"]: {k: r[k] for k in ("name", "kind", "affiliation", "term", "account")}
                for r in self.query(queries.FILERS, filer=filer)}

    def filers_of_account(self, account: str) -> list[str]:
        """The filers a sign-in account maps to (one, where the registry is kept right)."""
        return [r["filer"] for r in self.query(queries.FILER_OF_ACCOUNT, account=account)]

    def unlinked(self, name: str, affiliation: str) -> list[str]:
        """The proposals naming a filer `name` not linked to the registry, filed under
        `affiliation`: those the registry's import offers to link."""
        return [r["proposal_id"] for r in self.query(queries.UNLINKED, name=name,
                                                     affiliation=affiliation)]

    def bureau_records(self) -> dict[str, Bureau]:
        """Every registered bureau's state: its names over time, short and former names,
        merger (a row written before the state was kept: its name only)."""
        found: dict[str, Bureau] = {}
        for r in self.query(queries.BUREAUS):
            if r["state"]:
                found[r["bureau"]] = Bureau.model_validate_json(r["state"])
            else:
                found[r["bureau"]] = Bureau(id=r["bureau"], name=r["name"],
                                            name_en=r["name_en"], last_at=FAR_FUTURE)
        return found

    def bureau_names(self, as_of: date | None = None) -> dict[str, dict[str, Any]]:
        """Each bureau's names (`name`, `name_en`): now, or as the bureau was named on `as_of`
        with what a report as of then says of its past (`lineage`, `lineage_en`: 原…; None
        where there is nothing to say); its short and former names and its merger."""
        return bureau_entries(self.bureau_records(), as_of)

    def owed_handovers(self) -> list[HandOver]:
        """The handovers the mergers still owe: each open duty of a merged bureau, as the
        command that records it (banli.domain.reorganisation.handover_command)."""
        found = []
        for r in self.query(queries.OWED_HANDOVERS):
            merger = load_event(r["data"])
            found.append(handover_command(merger, r["proposal_id"]))
        return found

    def count_events(self) -> int:
        return int(self.command(f"SELECT count() FROM {self.db}.event_history FINAL"))



def bureau_entries(bureaus: dict[str, Bureau], as_of: date | None = None
                   ) -> dict[str, dict[str, Any]]:
    """The bureaus as the API and the documents name them (ReportingStore.bureau_names)."""
    found: dict[str, dict[str, Any]] = {}
    for bureau, state in sorted(bureaus.items()):
        name, name_en = (state.name, state.name_en) if as_of is None else name_on(state, as_of)
        told = lineage(bureaus, bureau, as_of) if as_of is not None else None
        found[bureau] = {
            "name": name, "name_en": name_en, "short_names": list(state.short_names),
            "former_names": list(state.former_names), "merged_into": state.merged_into,
            "merged_on": business_date(state.merged_at) if state.merged_at else None,
            "lineage": told[0] if told else None, "lineage_en": told[1] if told else None}
    return found


def _intake_item(row: dict[str, Any], as_of: date) -> dict[str, Any]:
    """A row of INTAKE_ITEMS as banli.domain.views.intake_report.intake_item makes the
    item."""
    due, decided_on = _day(row["review_due"]), _day(row["reviewed_on"])
    reviewed = due is not None
    return {
        **{k: row[k] for k in ("proposal_id", "kind", "level", "year", "number", "title",
                               "review", "status", "filer_kind", "area", "returns")},
        "received_on": _day(row["received_on"]) or row["submitted_on"], "review_due": due,
        "reviewed_on": decided_on if reviewed else None,
        "merged_into": row["merged_into"] or None, "referred_to": list(row["referred_to"]),
        **review_flags(reviewed, row["review"] in ("filed", "merged", "not_filed"),
                       row["review"] == "pending" and row["status"] == "open", due, decided_on,
                       as_of)}


def _day(value: date) -> date | None:
    """A day column's value, None for its empty value."""
    return None if value == NO_DATE else value


def _utc(moment: datetime) -> str:
    """A time read back from ClickHouse (zone-less, UTC) as ISO 8601 with its offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()
