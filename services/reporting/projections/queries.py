"""The reporting SQL. A report reads the validity intervals (INTERVAL_COUNTS): the rows holding
on its date, added up by what the report asks of them. Everything else, and a report with an
audit clock, reads the versioned rows: the state of each assignment as of a date is its latest
version (`argMax(..., seq)`) among the versions whose business date is on or before it. Either
way the duties come as cells (banli.domain.views.rates.cell_code) that store._reports turns into the
report's numbers. The duty's columns are the duty row's (duty_table, from
banli.domain.views.duty_row): the queries select them by name through it, so that a name the
declaration does not have fails here, at import."""
from __future__ import annotations

from .duty_table import first_sources, item_selection, latest

# The latest version of each assignment in scope, as of the business date (and, for audits,
# as recorded by a system time): its item fields (duty_table.item_selection, from the duty row's
# declaration), whether it counts, and its cell.
CURRENT_ASSIGNMENTS = f"""
SELECT proposal_id, bureau,
       {item_selection()},
       argMax(status = 'active' AND proposal_status = 'open', seq) AS counted,
       {latest("cell", "due_after")}
FROM (
    SELECT *{first_sources()} FROM {{db}}.assignment_versions
    WHERE occurred_on <= {{as_of:Date32}}
      AND recorded_at <= {{recorded_by:DateTime64(3, 'UTC')}}
      AND year BETWEEN {{y1:UInt16}} AND {{y2:UInt16}}
      AND ({{bureau:String}} = '' OR bureau = {{bureau:String}})
      AND ({{level:String}} = '' OR level = {{level:String}})
      AND ({{kind:String}} = '' OR kind = {{kind:String}})
)
GROUP BY proposal_id, bureau
HAVING counted
"""

# The report's counts from report_intervals (services/reporting/projections/intervals.py): the rows that
# hold on the as-of date, added up by kind of row (duty, proposal, record) and by what the report
# asks of each: a duty's cell and whether its due date has passed, a record's stamp. `{keys}` is
# "bureau," for one report per bureau. The as-of date is before 2299-12-31 (store._scope_params).
INTERVAL_COUNTS = """
SELECT {keys} what, cell, due_after < {as_of:Date32} AS past_due, occurred_on, recorded_on,
       imported, sum(n) AS n
FROM {db}.report_intervals
WHERE valid_to > {as_of:Date32} AND valid_from <= {as_of:Date32}
  AND year BETWEEN {y1:UInt16} AND {y2:UInt16}
  AND ({bureau:String} = '' OR bureau = {bureau:String})
  AND ({level:String} = '' OR level = {level:String})
  AND ({kind:String} = '' OR kind = {kind:String})
GROUP BY {keys} what, cell, past_due, occurred_on, recorded_on, imported
HAVING n != 0
"""

# The same duties' cells from every version, for a report with an audit clock: the counted
# duties as of both clocks (CURRENT_ASSIGNMENTS) grouped by cell and whether the due date has
# passed, and per group key (one bureau, or all) a total with the distinct proposals.
REPORT_CELLS = """
SELECT {keys} cell, due_after < {as_of:Date32} AS past_due, grouping(cell) AS total,
       count() AS n, uniqExact(proposal_id) AS proposals
FROM ({current})
GROUP BY GROUPING SETS (({keys} cell, past_due), ({group}))
"""

# The bureaus' records on the duties in scope (views.rates.stamps_of): each event about a
# counted duty, dated on or before the date, that the bureau, an admin or the importer entered
# (whoever entered it: `recorded_by`, else its actor), as (business day, record day in Shanghai,
# imported); grouped into stamps (ENTRY_STAMPS, per group key) or listed (ENTRY_RECORDS).
# Whether a stamp is late needs the working-day calendar, which
# banli.domain.views.rates.count_entries applies.
_RECORDS = """
    SELECT h.proposal_id AS proposal_id, h.seq AS seq, h.bureau AS bureau, h.type AS type,
           h.occurred_on AS occurred_on, toDate(h.recorded_at, 'Asia/Shanghai') AS recorded_on,
           h.entered_by = 'importer' AS imported, h.occurred_at AS occurred_at,
           h.recorded_at AS recorded_at, h.actor_user AS actor_user, h.actor_role AS actor_role,
           h.recorded_by_user AS recorded_by_user, h.recorded_by_role AS recorded_by_role
    FROM (
        SELECT proposal_id, seq, bureau, type, occurred_on, occurred_at, recorded_at,
               actor_user, actor_role, recorded_by_user, recorded_by_role,
               if(recorded_by_role = '', actor_role, recorded_by_role) AS entered_by
        FROM {db}.event_history
        WHERE occurred_on <= {as_of:Date32} AND recorded_at <= {recorded_by:DateTime64(3, 'UTC')}
          AND bureau != '' AND entered_by NOT IN ('coordinator', 'overseer')
          AND ({bureau:String} = '' OR bureau = {bureau:String})
        LIMIT 1 BY proposal_id, seq
    ) AS h
    INNER JOIN ({current}) AS a ON a.proposal_id = h.proposal_id AND a.bureau = h.bureau
"""
ENTRY_STAMPS = ("SELECT {keys} occurred_on, recorded_on, imported, count() AS n FROM ("
                + _RECORDS + ") GROUP BY {keys} occurred_on, recorded_on, imported")
ENTRY_RECORDS = ("SELECT * FROM (" + _RECORDS + ") ORDER BY proposal_id, seq")

# The duties behind the numbers, one row each, with the proposal's number and title as of the
# same clocks; banli.domain.views.rates.select picks a measure's items from them.
ITEMS = """
SELECT a.*, p.number AS number, p.title AS title
FROM ({current}) AS a
LEFT JOIN (
    SELECT proposal_id, argMax(number, seq) AS number, argMax(title, seq) AS title
    FROM {db}.proposal_versions
    WHERE occurred_on <= {as_of:Date32} AND recorded_at <= {recorded_by:DateTime64(3, 'UTC')}
    GROUP BY proposal_id
) AS p ON p.proposal_id = a.proposal_id
ORDER BY a.proposal_id, a.bureau
"""

# Open, filed proposals with no active lead: never assigned, or every lead returned or removed.
# What a coordinator has to assign (or assign again), oldest first. (One under the office's
# review is in the review queue: INTAKE_ITEMS.)
AWAITING_ASSIGNMENT = """
SELECT p.proposal_id AS proposal_id, p.year AS year, p.kind AS kind, p.level AS level,
       p.number AS number, p.title AS title, p.topics AS topics, p.submitted_on AS submitted_on,
       a.returned AS returned, a.duties AS duties
FROM (
    SELECT proposal_id, argMax(year, seq) AS year, argMax(kind, seq) AS kind,
           argMax(level, seq) AS level, argMax(number, seq) AS number,
           argMax(title, seq) AS title, argMax(topics, seq) AS topics,
           argMax(status, seq) AS status, argMax(review, seq) AS review,
           min(occurred_on) AS submitted_on
    FROM {db}.proposal_versions
    GROUP BY proposal_id
    HAVING status = 'open' AND review = 'filed' AND year BETWEEN {y1:UInt16} AND {y2:UInt16}
) AS p
LEFT JOIN (
    SELECT proposal_id, countIf(role = 'lead' AND status = 'active') AS active_leads,
           countIf(status IN ('returned', 'removed')) AS returned, count() AS duties
    FROM (
        SELECT proposal_id, bureau, """ + latest("role", "status") + """
        FROM {db}.assignment_versions GROUP BY proposal_id, bureau
    )
    GROUP BY proposal_id
) AS a ON a.proposal_id = p.proposal_id
WHERE a.active_leads = 0
ORDER BY submitted_on, proposal_id
LIMIT {limit:UInt32}
"""

# The deadlines list (banli.domain.views.due_list): the counted duties in scope, as of the business
# date (and, for audits, as recorded by a system time), that owe a reply (a lead awaiting it) or
# an opinion (a co-handler without one), with what due_list.listed needs of each.
OWED = """
SELECT a.proposal_id AS proposal_id, a.bureau AS bureau, role, kind, level, year, assigned_on,
       due, reopen_due, replies, opinions, awaiting_reply, p.title AS title, p.number AS number
FROM (
    SELECT proposal_id, bureau, """ + latest(
        "role", "kind", "level", "year", "assigned_on", "due", "reopen_due", "replies",
        "opinions", "awaiting_reply") + """,
           argMax(status = 'active' AND proposal_status = 'open', seq) AS counted
    FROM (
        SELECT * FROM {db}.assignment_versions
        WHERE occurred_on <= {as_of:Date32}
          AND recorded_at <= {recorded_by:DateTime64(3, 'UTC')}
          AND year BETWEEN {y1:UInt16} AND {y2:UInt16}
          AND ({bureau:String} = '' OR bureau = {bureau:String})
          AND ({level:String} = '' OR level = {level:String})
          AND ({kind:String} = '' OR kind = {kind:String})
    )
    GROUP BY proposal_id, bureau
    HAVING counted AND ((role = 'lead' AND awaiting_reply) OR (role = 'co' AND opinions = 0))
) AS a
LEFT JOIN (
    SELECT proposal_id, argMax(title, seq) AS title, argMax(number, seq) AS number
    FROM {db}.proposal_versions
    WHERE occurred_on <= {as_of:Date32} AND recorded_at <= {recorded_by:DateTime64(3, 'UTC')}
    GROUP BY proposal_id
) AS p ON p.proposal_id = a.proposal_id
"""

HISTORY = """
SELECT position, proposal_id, seq, event_id, type, schema_version, occurred_at, recorded_at,
       actor_user, actor_bureau, actor_role, command_id, bureau, data
FROM {db}.event_history FINAL
WHERE proposal_id = {proposal:String}
ORDER BY seq
"""

BUREAUS_OF_PROPOSAL = """
SELECT DISTINCT bureau FROM {db}.assignment_versions WHERE proposal_id = {proposal:String}
"""

# --- filers ------------------------------------------------------------------------------------
# The proposals a filer filed: a link is never taken back, so any version naming the filer is
# the current one.
FILED_BY = """
SELECT DISTINCT proposal_id FROM {db}.proposal_filers WHERE filer = {filer:String}
ORDER BY proposal_id
"""

HISTORIES = """
SELECT proposal_id, data FROM {db}.event_history FINAL
WHERE proposal_id IN {proposals:Array(String)}
ORDER BY proposal_id, seq
"""

FILERS = """
SELECT filer, argMax(name, seq) AS name, argMax(kind, seq) AS kind,
       argMax(affiliation, seq) AS affiliation, argMax(term, seq) AS term,
       argMax(account, seq) AS account
FROM {db}.filers WHERE {filer:String} = '' OR filer = {filer:String}
GROUP BY filer ORDER BY filer
"""

FILER_OF_ACCOUNT = """
SELECT filer FROM {db}.filers FINAL WHERE account = {account:String} AND account != ''
ORDER BY filer
"""

# The proposals naming a filer not linked yet, under a name and the proposal's affiliation.
UNLINKED = """
SELECT DISTINCT proposal_id FROM (
    SELECT proposal_id, idx, argMax(name, seq) AS name, argMax(filer, seq) AS filer,
           argMax(affiliation, seq) AS affiliation
    FROM {db}.proposal_filers
    WHERE proposal_id IN (SELECT proposal_id FROM {db}.proposal_filers
                          WHERE name = {name:String} AND affiliation = {affiliation:String})
    GROUP BY proposal_id, idx)
WHERE name = {name:String} AND affiliation = {affiliation:String} AND filer = ''
ORDER BY proposal_id
"""

# --- routing (issue 6: routing from history) --------------------------------------------------
# Misrouting (banli.domain.views.routing_lineage): the assignment versions written by a return or a
# reassignment's removal before any reply or opinion, i.e. status 'returned'/'removed' at the
# seq of such an event (a later
# withdrawal rewrites those rows unchanged, under its own event type), each with the date its
# assignment began; per bureau, as of a business date, over the proposals of some years.
MISROUTED = """
SELECT a.bureau                                       AS bureau,
       countIf(a.status = 'returned')                 AS returned,
       countIf(a.status = 'removed')                  AS removed,
       countIf(a.role = 'lead')                       AS as_lead,
       countIf(a.role = 'co')                         AS as_co,
       sum(dateDiff('day', a.assigned_on, a.occurred_on)) AS days_lost
FROM (
    SELECT proposal_id, bureau, seq, role, status, assigned_on, occurred_on
    FROM {db}.assignment_versions FINAL
    WHERE status IN ('returned', 'removed') AND replies = 0 AND opinions = 0
      AND occurred_on <= {as_of:Date32}
      AND recorded_at <= {recorded_by:DateTime64(3, 'UTC')}
      AND year BETWEEN {y1:UInt16} AND {y2:UInt16}
      AND ({bureau:String} = '' OR bureau = {bureau:String})
      AND ({level:String} = '' OR level = {level:String})
      AND ({kind:String} = '' OR kind = {kind:String})
) AS a
INNER JOIN (
    SELECT proposal_id, seq FROM {db}.event_history FINAL
    WHERE type IN ('AssignmentReturned', 'ProposalReassigned')
) AS h ON h.proposal_id = a.proposal_id AND h.seq = a.seq
GROUP BY a.bureau
ORDER BY a.bureau
"""

# What routing suggestions learn from: each proposal's text as submitted and its current
# active leads and co-handlers (banli.routing.past_from_streams is the reference).
ROUTING_HISTORY = """
SELECT p.proposal_id AS proposal_id, p.year AS year, p.kind AS kind, p.title AS title,
       s.summary AS summary, p.topics AS topics, p.affiliation AS affiliation,
       a.leads AS leads, a.cos AS cos
FROM (
    SELECT proposal_id, argMax(year, seq) AS year, argMax(kind, seq) AS kind,
           argMax(title, seq) AS title, argMax(topics, seq) AS topics,
           argMax(affiliation, seq) AS affiliation
    FROM {db}.proposal_versions
    WHERE ({proposal:String} = '' OR proposal_id = {proposal:String})
    GROUP BY proposal_id
) AS p
LEFT JOIN (
    SELECT proposal_id, any(JSONExtractString(data, 'summary')) AS summary
    FROM {db}.event_history
    WHERE type = 'ProposalSubmitted'
      AND ({proposal:String} = '' OR proposal_id = {proposal:String})
    GROUP BY proposal_id
) AS s ON s.proposal_id = p.proposal_id
LEFT JOIN (
    SELECT proposal_id, arraySort(groupArrayIf(bureau, role = 'lead')) AS leads,
           arraySort(groupArrayIf(bureau, role = 'co')) AS cos
    FROM (
        SELECT proposal_id, bureau, """ + latest("role", "status") + """
        FROM {db}.assignment_versions
        WHERE ({proposal:String} = '' OR proposal_id = {proposal:String})
        GROUP BY proposal_id, bureau
        HAVING status = 'active'
    )
    GROUP BY proposal_id
) AS a ON a.proposal_id = p.proposal_id
ORDER BY proposal_id
"""


# Each counted duty as it stands now, with what its on-time questions need
# (banli.domain.views.explain.Duty): the duties a change of profile or calendar may flip.
DEADLINE_DUTIES = """
SELECT proposal_id, bureau, """ + latest(
    "role", "kind", "assigned_on", "due", "extensions", "first_reply_on", "first_opinion_on",
    "last_reply_on", "published_on", "disclosure", "acknowledged", "awaiting_reply",
    "reopen_due", "opinions", "replies") + """,
       argMax(status = 'active' AND proposal_status = 'open', seq) AS counted
FROM {db}.assignment_versions
WHERE ({bureau:String} = '' OR bureau = {bureau:String})
GROUP BY proposal_id, bureau
HAVING counted
ORDER BY proposal_id, bureau
"""

# The events of some proposals, every clock (the year-end document's evidence workbook picks
# those of each counted duty, and of its proposal, by their dates).
EVENTS_OF_PROPOSALS = """
SELECT proposal_id, seq, event_id, type, bureau, occurred_at, recorded_at
FROM {db}.event_history FINAL
WHERE has({proposals:Array(String)}, proposal_id)
ORDER BY proposal_id, seq
"""

# --- the workbench (banli.domain.views.work): a bureau's work, the coordinator's desk, search
# The proposals on which a bureau (or any, with '') holds a counted duty now, from each duty's
# latest version (duty_heads, read by its key: the bureau's rows only).
OPEN_DUTIES = """
        SELECT proposal_id FROM {db}.duty_heads
        WHERE ({bureau:String} = '' OR bureau = {bureau:String})
        GROUP BY bureau, proposal_id
        HAVING argMax(status = 'active' AND proposal_status = 'open', seq)"""

# Each counted duty that may owe something now (of one bureau, or of all), with what the work
# list asks of it, and its proposal's number, title and key-item mark: from each duty's latest
# version (duty_heads), the bureau's only, and the numbers of only the proposals found there.
# A duty that surely owes nothing is left out here: signed for or answered; a lead's reply in,
# rated other than 不满意, and published or not to be; a co-handler's opinion in, where no draft
# waits for its sign-off (`cosign`: the profile has co-handlers sign drafts off). The kernel
# decides the rest.
WORK_DUTIES = """
SELECT a.*, p.number AS number, p.title AS title, p.key_item AS key_item
FROM (
    SELECT proposal_id, bureau, """ + latest(
        "role", "kind", "level", "year", "assigned_on", "due", "extensions", "first_reply_on",
        "first_opinion_on", "last_reply_on", "published_on", "disclosure", "acknowledged",
        "awaiting_reply", "reopen_due", "opinions", "replies", "contacts", "feedback_on_reply",
        "draft_on", "draft_signed_off", "extension_requested_due") + """,
           argMax(status = 'active' AND proposal_status = 'open', seq) AS counted
    FROM {db}.duty_heads
    WHERE {bureau:String} = '' OR bureau = {bureau:String}
    GROUP BY proposal_id, bureau
    HAVING counted AND (
        (NOT acknowledged AND replies = 0 AND opinions = 0)
        OR (role = 'lead' AND (awaiting_reply OR feedback_on_reply IN ('', 'dissatisfied')
            OR (last_reply_on != {none:Date32} AND published_on = {none:Date32}
                AND disclosure NOT IN ('withheld', 'exempt'))))
        OR (role = 'co' AND (opinions = 0 OR {cosign:Bool})))
) AS a
LEFT JOIN (
    SELECT proposal_id, argMax(number, seq) AS number, argMax(title, seq) AS title,
           argMax(key_item, seq) AS key_item
    FROM {db}.proposal_versions
    WHERE proposal_id IN (""" + OPEN_DUTIES + """)
    GROUP BY proposal_id
) AS p ON p.proposal_id = a.proposal_id
"""

# The other active duties of those proposals, as review asks of them (banli.domain.views.work.Peer).
WORK_PEERS = """
SELECT proposal_id, bureau, """ + latest("role", "due", "draft_on", "draft_signed_off") + """,
       argMax(status = 'active', seq) AS active
FROM {db}.assignment_versions
WHERE proposal_id IN {proposals:Array(String)}
GROUP BY proposal_id, bureau
HAVING active
"""

# The proposals' numbers and titles (as of now), for lists that carry them beside other rows.
NUMBERS = """
SELECT proposal_id, argMax(kind, seq) AS kind, argMax(level, seq) AS level,
       argMax(year, seq) AS year, argMax(number, seq) AS number, argMax(title, seq) AS title
FROM {db}.proposal_versions
WHERE proposal_id IN {proposals:Array(String)}
GROUP BY proposal_id
"""

# Extension requests pending the coordinator's decision (those the approval, a denial or a
# reply has not settled), oldest first: read only the duties that ever had one.
EXTENSION_REQUESTS = """
SELECT proposal_id, bureau, due AS current_due, extension_requested_due AS requested_due,
       extension_requested_on AS requested_on, extension_reason AS reason
FROM (
    SELECT proposal_id, bureau, """ + latest(
        "due", "extension_requested_due", "extension_requested_on", "extension_reason") + """,
           argMax(status = 'active' AND proposal_status = 'open', seq) AS counted
    FROM {db}.assignment_versions
    WHERE proposal_id IN (SELECT proposal_id FROM {db}.assignment_versions
                          WHERE extension_requested_due != {none:Date32})
    GROUP BY proposal_id, bureau
    HAVING counted AND extension_requested_due != {none:Date32}
)
ORDER BY requested_on, proposal_id, bureau
"""

# Assignments their bureau returned (退回), on open proposals, that no reassignment has
# followed: what the coordinator has to route again. Each with the return's date and reason.
RETURNED = """
SELECT a.proposal_id AS proposal_id, a.bureau AS bureau, a.role AS role,
       a.returned_on AS returned_on, h.reason AS reason
FROM (
    SELECT proposal_id, bureau, """ + latest("role", "status", "proposal_status") + """,
           max(seq) AS returned_seq, argMax(occurred_on, seq) AS returned_on
    FROM {db}.assignment_versions
    WHERE proposal_id IN (SELECT proposal_id FROM {db}.assignment_versions
                          WHERE status = 'returned')
    GROUP BY proposal_id, bureau
    HAVING status = 'returned' AND proposal_status = 'open'
) AS a
LEFT JOIN (
    SELECT proposal_id, max(seq) AS rerouted
    FROM {db}.event_history
    WHERE type = 'ProposalReassigned'
      AND proposal_id IN (SELECT proposal_id FROM {db}.assignment_versions
                          WHERE status = 'returned')
    GROUP BY proposal_id
) AS r ON r.proposal_id = a.proposal_id
LEFT JOIN (
    SELECT proposal_id, seq, any(JSONExtractString(data, 'reason')) AS reason
    FROM {db}.event_history
    WHERE type = 'AssignmentReturned'
      AND proposal_id IN (SELECT proposal_id FROM {db}.assignment_versions
                          WHERE status = 'returned')
    GROUP BY proposal_id, seq
) AS h ON h.proposal_id = a.proposal_id AND h.seq = a.returned_seq
WHERE r.rerouted < a.returned_seq
ORDER BY returned_on, proposal_id, bureau
"""

# Open key items (重点督办件), by number, with how often they were supervised.
KEY_ITEMS = """
SELECT proposal_id, kind, level, year, number, title, supervisions
FROM (
    SELECT proposal_id, argMax(kind, seq) AS kind, argMax(level, seq) AS level,
           argMax(year, seq) AS year, argMax(number, seq) AS number,
           argMax(title, seq) AS title, argMax(supervisions, seq) AS supervisions,
           argMax(key_item, seq) AS key_item, argMax(status, seq) AS status
    FROM {db}.proposal_versions
    WHERE proposal_id IN (SELECT proposal_id FROM {db}.proposal_versions WHERE key_item)
    GROUP BY proposal_id
    HAVING key_item AND status = 'open'
)
ORDER BY year DESC, kind, level, toUInt64OrZero(number), number
"""

# The active duties of some proposals, with their clocks (a key item's state).
DUTIES_OF = """
SELECT proposal_id, bureau, """ + latest(
    "role", "due", "reopen_due", "replies", "opinions", "first_reply_on", "first_opinion_on",
    "awaiting_reply", "status", "acknowledged") + """
FROM {db}.assignment_versions
WHERE proposal_id IN {proposals:Array(String)}
GROUP BY proposal_id, bureau
HAVING status = 'active'
ORDER BY proposal_id, role DESC, bureau
"""

# Proposals by number or words of their title (`{match}`: one condition per term, each a
# title's words, a number, or an id), within what the reader may read (`{within}`: a condition
# on proposal_id, or 1), exact numbers first, then the latest years.
SEARCH = """
SELECT proposal_id, argMax(kind, seq) AS kind, argMax(level, seq) AS level,
       argMax(year, seq) AS year, argMax(number, seq) AS number, argMax(title, seq) AS title,
       argMax(status, seq) AS status, max(exact) AS exact
FROM (
    SELECT *, {exact} AS exact FROM {db}.proposal_versions
    WHERE proposal_id IN (SELECT proposal_id FROM {db}.proposal_versions
                          WHERE {match} AND {within})
)
GROUP BY proposal_id
ORDER BY exact DESC, year DESC, kind, level, toUInt64OrZero(number), number
LIMIT {limit:UInt32}
"""
# A term's condition: a word of the title, the number (leading zeros aside), or the id.
SEARCH_TERM = ("(positionCaseInsensitiveUTF8(title, {{t{i}:String}}) > 0 "
               "OR replaceRegexpOne(number, '^0+', '') = {{n{i}:String}} "
               "OR proposal_id = {{t{i}:String}})")
# What a reader may search, by the reach the permission table gives it on read:proposal: a
# bureau's own (the proposals it has, or had, a duty on). A reach reading everything has no
# condition; a reach with none here reads nothing (the route refuses it).
SEARCH_WITHIN = {
    "bureau": ("proposal_id IN (SELECT proposal_id FROM {db}.assignment_versions "
               "WHERE bureau = {within:String})"),
    # a filer's own (FILED_BY: a link is never taken back)
    "filer": ("proposal_id IN (SELECT proposal_id FROM {db}.proposal_filers "
              "WHERE filer = {within:String})"),
}


# --- bureaus -------------------------------------------------------------------------------------
# Each bureau's latest version (its state as JSON: banli.domain.proposal.Bureau).
BUREAUS = """
SELECT bureau, argMax(name, seq) AS name, argMax(name_en, seq) AS name_en,
       argMax(state, seq) AS state
FROM {db}.bureaus
GROUP BY bureau ORDER BY bureau
"""

# The open duties of merged bureaus not handed over yet, each with its bureau's merger (the
# event, to make the handover's command of: services/reporting/reorganisation.py).
OWED_HANDOVERS = """
SELECT a.proposal_id AS proposal_id, a.bureau AS bureau, m.data AS data
FROM (
    SELECT proposal_id, bureau,
           argMax(status = 'active' AND proposal_status = 'open', seq) AS open
    FROM {db}.assignment_versions
    WHERE bureau IN (SELECT bureau FROM {db}.event_history WHERE type = 'BureauMerged')
    GROUP BY proposal_id, bureau
    HAVING open
) AS a
INNER JOIN (
    SELECT bureau, any(data) AS data FROM {db}.event_history
    WHERE type = 'BureauMerged' GROUP BY bureau
) AS m ON m.bureau = a.bureau
ORDER BY a.bureau, a.proposal_id
"""

# The office's review (审查立案): each proposal of the scope as of a business date (and, for
# audits, as recorded by a time), where its review stands (banli.domain.views.intake_report's
# items: a date never given reads 1900-01-01; `submitted_on`, its first version's). With
# `queue`, the review queue: those awaiting review or returned to their filers, of any year.
INTAKE_ITEMS = """
SELECT * FROM (
    SELECT proposal_id, argMax(kind, seq) AS kind, argMax(level, seq) AS level,
           argMax(year, seq) AS year, argMax(number, seq) AS number,
           argMax(title, seq) AS title, argMax(topics, seq) AS topics,
           argMax(status, seq) AS status, argMax(review, seq) AS review,
           argMax(filer_kind, seq) AS filer_kind, argMax(area, seq) AS area,
           argMax(received_on, seq) AS received_on, argMax(review_due, seq) AS review_due,
           argMax(reviewed_on, seq) AS reviewed_on, argMax(returns, seq) AS returns,
           argMax(merged_into, seq) AS merged_into, argMax(referred_to, seq) AS referred_to,
           min(occurred_on) AS submitted_on
    FROM {db}.proposal_versions
    WHERE occurred_on <= {as_of:Date32} AND recorded_at <= {recorded_by:DateTime64(3, 'UTC')}
    GROUP BY proposal_id
)
WHERE year BETWEEN {y1:UInt16} AND {y2:UInt16}
  AND ({level:String} = '' OR level = {level:String})
  AND ({kind:String} = '' OR kind = {kind:String})
  AND (NOT {queue:Bool} OR (status = 'open' AND review IN ('pending', 'returned')))
ORDER BY year, kind, level, toUInt64OrZero(number), number
"""
