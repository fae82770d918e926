"""The duty row, declared once (banli.domain.duty_row) and stored by kind
(services/reporting/projections/duty_table.py): what one declaration gives the projections, without
ClickHouse (the differential tests hold the SQL to the reference)."""
from __future__ import annotations

from banli.demo.generate import generate_history, to_jsonl
from banli.domain.duty_row import CELL_FIELDS, DUTY_FIELDS, ITEM_FIELDS, cell_of, item_of
from banli.domain.proposal import Proposal
from banli.history import run_history
from services.reporting.projections import duty_table, queries
from services.reporting.projections.intervals import NO_DATE


def duties():
    ledger, _ = run_history(to_jsonl(line) for line in generate_history(60, seed=9))
    return [(p, a) for p in ledger.states.values() if isinstance(p, Proposal)
            for a in p.assignments.values()]


def test_a_stored_row_reads_back_as_the_item_the_reference_builds():
    """Every item field goes through its column and back (None as its kind's empty value, and
    back to None), as the items' query gives it."""
    found = duties()
    assert any(a.feedback_recorder for _, a in found) and any(a.first_reply_on for _, a in found)
    for p, a in found:
        row = dict(zip(duty_table.ASSIGNMENT_COLUMNS,
                       duty_table.row_of(p, a, (1, 2, NO_DATE, None), (3, NO_DATE))))
        assert row["cell"] == 3 and row["seq"] == 1
        assert [name for name, value in row.items() if value is None] == ["recorded_at"]
        selected = {f.key: row[f.name] for f in DUTY_FIELDS if f.item and f.stored}
        selected.update(number=p.number, title=p.title, first_disclosure=a.first_disclosure or "")
        assert duty_table.item_of_row(selected) == item_of(p, a)


def test_every_item_field_is_selected_and_every_column_made():
    for key in ITEM_FIELDS:
        if key not in ("proposal_id", "bureau", "number", "title"):  # keys and the join's
            assert f" AS {key}" in queries.CURRENT_ASSIGNMENTS, key
    ddl = duty_table.create_table("db")
    for name, kind in duty_table.COLUMNS:
        assert f"    {name} {kind}" in ddl
    stored = [f.name for f in DUTY_FIELDS if f.stored]
    assert set(stored) < set(duty_table.ASSIGNMENT_COLUMNS)


def test_an_older_store_gets_the_columns_it_lacks_and_only_those():
    have = [name for name in duty_table.ASSIGNMENT_COLUMNS if name != "feedback_recorder"]
    assert duty_table.migration("db", have) == [
        "ALTER TABLE db.assignment_versions ADD COLUMN IF NOT EXISTS feedback_recorder "
        "LowCardinality(String)"]
    assert duty_table.migration("db", duty_table.ASSIGNMENT_COLUMNS) == []


def test_a_query_cannot_name_a_column_the_declaration_lacks():
    try:
        duty_table.latest("role", "feedback_by_bureau")
    except KeyError as error:
        assert "feedback_by_bureau" in str(error)
    else:
        raise AssertionError("an unknown column was selected")


def test_cells_and_the_format_follow_the_declaration():
    assert [name for name, _ in CELL_FIELDS] == [
        *(f.key for f in DUTY_FIELDS if f.cell and f.in_cell is None),
        *(f.key for f in DUTY_FIELDS if f.cell and f.in_cell is not None)]
    p, a = next((p, a) for p, a in duties() if a.replies and a.role == "lead")
    cell = cell_of(item_of(p, a))
    assert (cell["replies"], cell["answered"]) == (1, True)
    assert cell["on_time"] == (a.first_reply_on <= a.due)
    assert duty_table.FORMAT.startswith(f"{duty_table.FORMAT_VERSION}-")


def test_the_first_of_a_field_is_selected_first():
    """first_disclosure is the first non-empty disclosure among the versions (argMinIf), as the
    state keeps it, not the latest."""
    selection = duty_table.item_selection()
    assert ("argMinIf(_first_disclosure, seq, _first_disclosure != '') AS first_disclosure"
            in selection)
    assert ", disclosure AS _first_disclosure" in duty_table.first_sources()
