-- Reporting projections. `{db}` is the database; replay builds a fresh set in `{db}_replay`
-- and exchanges them in. ReplacingMergeTree keys are the dedupe keys: a redelivered event
-- writes the same key again, and every query reads through argMax/FINAL, never raw counts.
-- report_intervals is the exception: its counts add up, and the projection writes each batch
-- into it exactly once (services/reporting/projection.py).

CREATE TABLE IF NOT EXISTS {db}.event_history (
    position           UInt64,
    proposal_id        String,
    seq                UInt32,
    event_id           String,
    type               LowCardinality(String),
    schema_version     UInt8,
    occurred_at        DateTime64(3, 'UTC'),
    recorded_at        DateTime64(3, 'UTC'),
    occurred_on        Date32,
    actor_user         String,
    actor_bureau       String,
    actor_role         LowCardinality(String),
    command_id         String,
    bureau             String,
    data               String,
    recorded_by_user   String,
    recorded_by_bureau String,
    recorded_by_role   LowCardinality(String)
) ENGINE = ReplacingMergeTree ORDER BY (proposal_id, seq);

-- Who entered an event for its actor ('' where the actor did: every event before the field).
ALTER TABLE {db}.event_history ADD COLUMN IF NOT EXISTS recorded_by_user String;
ALTER TABLE {db}.event_history ADD COLUMN IF NOT EXISTS recorded_by_bureau String;
ALTER TABLE {db}.event_history ADD COLUMN IF NOT EXISTS recorded_by_role LowCardinality(String);

CREATE TABLE IF NOT EXISTS {db}.proposal_versions (
    proposal_id  String,
    seq          UInt32,
    position     UInt64,
    occurred_on  Date32,
    recorded_at  DateTime64(3, 'UTC'),
    kind         LowCardinality(String),
    level        LowCardinality(String),
    year         UInt16,
    number       String,
    title        String,
    affiliation  String,
    topics       Array(String),
    key_item     Bool,
    status       LowCardinality(String),
    merged_into  String,
    supervisions UInt32,
    review       LowCardinality(String) DEFAULT 'filed',
    filer_kind   LowCardinality(String) DEFAULT 'person',
    area         LowCardinality(String) DEFAULT '',
    received_on  Date32 DEFAULT toDate32('1900-01-01'),
    review_due   Date32 DEFAULT toDate32('1900-01-01'),
    reviewed_on  Date32 DEFAULT toDate32('1900-01-01'),
    returns      UInt32,
    referred_to  Array(String)
) ENGINE = ReplacingMergeTree ORDER BY (proposal_id, seq);

-- The office's review (审查立案) and who filed it (projector.REVIEW_COLUMNS). A store made
-- before them reads their defaults in its old rows: filed on submit, by a person, in no area.
ALTER TABLE {db}.proposal_versions ADD COLUMN IF NOT EXISTS review LowCardinality(String) DEFAULT 'filed';
ALTER TABLE {db}.proposal_versions ADD COLUMN IF NOT EXISTS filer_kind LowCardinality(String) DEFAULT 'person';
ALTER TABLE {db}.proposal_versions ADD COLUMN IF NOT EXISTS area LowCardinality(String) DEFAULT '';
ALTER TABLE {db}.proposal_versions ADD COLUMN IF NOT EXISTS received_on Date32 DEFAULT toDate32('1900-01-01');
ALTER TABLE {db}.proposal_versions ADD COLUMN IF NOT EXISTS review_due Date32 DEFAULT toDate32('1900-01-01');
ALTER TABLE {db}.proposal_versions ADD COLUMN IF NOT EXISTS reviewed_on Date32 DEFAULT toDate32('1900-01-01');
ALTER TABLE {db}.proposal_versions ADD COLUMN IF NOT EXISTS returns UInt32;
ALTER TABLE {db}.proposal_versions ADD COLUMN IF NOT EXISTS referred_to Array(String);

-- assignment_versions, the duty's versions, and duty_heads, each duty's latest version by bureau
-- (the same rows, another key): their columns, their DDL and the columns an existing store lacks
-- come from the declaration of the duty row (services/reporting/duty_table.py, from
-- banli.domain.views.duty_row), not from this file.

-- What the reports count, by validity interval (services/reporting/intervals.py): each row
-- holds from `valid_from` up to, not including, `valid_to` (2299-12-31 while it still holds),
-- and a report as of D adds up `n` over the rows with valid_from <= D < valid_to:
--   duty      n duties of `bureau` in report cell `cell` (banli.domain.views.rates.cell_code), counted
--             as due once D is past `due_after` (1900-01-01: at once);
--   proposal  n proposals with a counted duty (`bureau` is '');
--   record    n records of `bureau` on its counted duties, dated `occurred_on`, entered
--             `recorded_on` (Asia/Shanghai), by the importer or not (`imported`);
--   mark      every event of the log before `position`, in its partition, is in every table
--             (dated 1900-01-01: never in a report); a batch's mark takes back the one before.
-- The projection writes changes: negative n takes rows back, and merges add equal keys up
-- (dropping those that come to 0). Sorted for "current" reports (the rows still holding are
-- last) and one bureau's.
CREATE TABLE IF NOT EXISTS {db}.report_intervals (
    valid_to    Date32,
    bureau      String,
    valid_from  Date32,
    what        Enum8('mark' = 0, 'duty' = 1, 'proposal' = 2, 'record' = 3),
    year        UInt16,
    level       LowCardinality(String),
    kind        LowCardinality(String),
    cell        UInt32,
    due_after   Date32,
    occurred_on Date32,
    recorded_on Date32,
    imported    Bool,
    position    UInt64,
    n           Int64
) ENGINE = SummingMergeTree(n)
PRIMARY KEY (valid_to, bureau, valid_from)
ORDER BY (valid_to, bureau, valid_from, what, year, level, kind, cell, due_after, occurred_on,
          recorded_on, imported, position);

-- Each assignment's latest version, which reports as of the last business day read until the
-- intervals above replaced it.
DROP TABLE IF EXISTS {db}.assignment_latest;

-- A bureau's versions; `state` is the bureau's whole state as JSON (banli.domain.proposal.Bureau:
-- its short and former names, its names over time, its merger), '' in a row written before.
CREATE TABLE IF NOT EXISTS {db}.bureaus (
    bureau   String,
    name     String,
    name_en  String,
    seq      UInt32,
    position UInt64,
    state    String
) ENGINE = ReplacingMergeTree(seq) ORDER BY bureau;

ALTER TABLE {db}.bureaus ADD COLUMN IF NOT EXISTS state String;

-- The filer registry (register_filer), as the bureaus' above.
CREATE TABLE IF NOT EXISTS {db}.filers (
    filer       String,
    name        String,
    kind        LowCardinality(String),
    affiliation String,
    term        String,
    account     String,
    seq         UInt32,
    position    UInt64
) ENGINE = ReplacingMergeTree(seq) ORDER BY filer;

-- Each filer a proposal names, by place (`idx`): the name and, once linked, the id (''), the
-- proposal's affiliation; a version on submission and on each link (`seq`).
CREATE TABLE IF NOT EXISTS {db}.proposal_filers (
    proposal_id String,
    idx         UInt16,
    name        String,
    filer       String,
    affiliation String,
    seq         UInt32,
    position    UInt64
) ENGINE = ReplacingMergeTree(seq) ORDER BY (proposal_id, idx);

-- The format the projections were made in (services/reporting/duty_table.FORMAT): what their
-- cell codes mean. Projections of another format are rebuilt by a replay on start.
CREATE TABLE IF NOT EXISTS {db}.projection_format (
    format String
) ENGINE = MergeTree ORDER BY tuple();
