-- Reporting projections. `{db}` is the database; replay builds a fresh set in `{db}_replay`
-- and exchanges them in. ReplacingMergeTree keys are the dedupe keys: a redelivered event
-- writes the same key again, and every query reads through argMax/FINAL, never raw counts.

CREATE TABLE IF NOT EXISTS {db}.event_history (
    position       UInt64,
    proposal_id    String,
    seq            UInt32,
    event_id       String,
    type           LowCardinality(String),
    schema_version UInt8,
    occurred_at    DateTime64(3, 'UTC'),
    recorded_at    DateTime64(3, 'UTC'),
    occurred_on    Date32,
    actor_user     String,
    actor_bureau   String,
    actor_role     LowCardinality(String),
    command_id     String,
    bureau         String,
    data           String
) ENGINE = ReplacingMergeTree ORDER BY (proposal_id, seq);

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
    supervisions UInt32
) ENGINE = ReplacingMergeTree ORDER BY (proposal_id, seq);

CREATE TABLE IF NOT EXISTS {db}.assignment_versions (
    proposal_id            String,
    bureau                 String,
    seq                    UInt32,
    position               UInt64,
    occurred_on            Date32,
    recorded_at            DateTime64(3, 'UTC'),
    kind                   LowCardinality(String),
    level                  LowCardinality(String),
    year                   UInt16,
    proposal_status        LowCardinality(String),
    role                   LowCardinality(String),
    status                 LowCardinality(String),
    assigned_on            Date32,
    due                    Date32,
    acknowledged           Bool,
    contacts               UInt32,
    contacted_before_reply Bool,
    opinions               UInt32,
    first_opinion_on       Date32,
    replies                UInt32,
    first_reply_on         Date32,
    awaiting_reply         Bool,
    reopen_due             Date32,
    extensions             UInt32,
    result                 LowCardinality(String),
    disclosure             LowCardinality(String),
    feedback               LowCardinality(String),
    supervisions           UInt32,
    feedback_channel       LowCardinality(String),
    feedback_by_self       Bool,
    last_reply_on          Date32,
    published_on           Date32
) ENGINE = ReplacingMergeTree ORDER BY (proposal_id, bureau, seq);

-- Columns added since the first release: a store made before gets them here (empty in its old
-- rows until `banli replay` rebuilds the projections from the log).
ALTER TABLE {db}.assignment_versions ADD COLUMN IF NOT EXISTS feedback_channel LowCardinality(String);
ALTER TABLE {db}.assignment_versions ADD COLUMN IF NOT EXISTS feedback_by_self Bool;
ALTER TABLE {db}.assignment_versions ADD COLUMN IF NOT EXISTS last_reply_on Date32;
ALTER TABLE {db}.assignment_versions ADD COLUMN IF NOT EXISTS published_on Date32;

-- Each assignment's latest version only (the highest seq wins when parts merge; read it with
-- FINAL). Reports as of a date on or after every business date in the store read this instead of
-- picking the latest of all versions: the same rows, a fraction of them. Same columns as
-- assignment_versions, sorted by bureau first, for the one-bureau scopes.
CREATE TABLE IF NOT EXISTS {db}.assignment_latest AS {db}.assignment_versions
ENGINE = ReplacingMergeTree(seq) ORDER BY (bureau, proposal_id);

CREATE TABLE IF NOT EXISTS {db}.bureaus (
    bureau   String,
    name     String,
    name_en  String,
    seq      UInt32,
    position UInt64
) ENGINE = ReplacingMergeTree(seq) ORDER BY bureau;
