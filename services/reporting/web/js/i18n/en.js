// The page's own words in English (the words of commands, fields, choices, events and rates come
// from the vocabulary, GET /api/vocabulary). zh.js has the same keys: a test holds them equal.
const span = ([first, last]) => (last === undefined || last === first ? `${first}` : `${first}–${last}`);
const upper = (text) => text.charAt(0).toUpperCase() + text.slice(1);

export default {
  // the top bar and signing in
  title: "Suggestions and proposals", nav_label: "Views", search_placeholder: "Number or words of the title", search_go: "Find",
  live_off: "offline", live_on: "live",
  fresh: "numbers up to date with the records", behind: (n) => `numbers ${n} records behind, catching up`, fresh_unknown: "freshness unknown",
  sign_in: "Sign in", sign_out: "Sign out", sign_in_idp: "Sign in with your organisation's account", token: "Token",
  sign_in_help: "Or paste a token from `banli token issue` (or add #token=… to the URL).", bad_token: "invalid or expired token",
  back: "Back", close: "Close", loading: "Loading…", network_error: "Could not reach the server: check the network and try again",
  server_error: "The server could not handle the request", still_pending: "Sent, not decided yet: sending it again later records it once",
  // views
  view_work: "My work", view_desk: "Desk", view_dashboard: "Oversight", view_item: "Item", view_mine: "My suggestions and proposals",
  view_imports: "Import", view_search: "Find", mine_npc: "My suggestions", mine_cppcc: "My proposals",
  // an item
  item_loading: "Opening…", no_proposal_given: "The address names no item", year_of: (y) => `${y}`,
  with_year: (text, year) => `${year} ${text}`, key_item: "key item", awaiting_assignment: "to assign",
  merged_into: "Merged into", submitted_on: "Submitted", duties: "Bureaus and deadlines", no_duties: "not assigned yet",
  bureau: "Bureau", assigned_on: "Assigned", due: "Due", reply_due: "Reply due", opinion_due: "Opinion due",
  status: "Progress", return_window: "Return by", publish_due: "Publish by", calendar: "Calendar",
  working_days: (n) => `${n} working days`, provisional: "provisional", extended_to: (days) => `extended to ${days}`,
  acknowledged: "acknowledged", not_acknowledged: "not acknowledged", opinion_on: (d) => `opinion on ${d}`, no_opinion_yet: "no opinion yet",
  replied_on: (d) => `replied on ${d}`, not_replied: "not replied", draft_under_review: "draft under review",
  routing_title: "Who should handle it", routing_method: (n) => `suggested from how alike ${n} past items are: title, summary, topics and the filer's sector`,
  suggested_lead: "Suggested lead", suggested_co: "Suggested co-handlers", similar: "Similar past items", score: "similarity",
  support: (n) => `from ${n}`, none: "none", year: "Year", item_title: "Title", lead: "Lead", co: "Co",
  actions: "Act on it", other_actions: (n) => `Other actions (${n})`, all_actions: (n) => `Actions (${n})`,
  done: (what) => `Done: ${what}`, already_done: (what) => `Done before: ${what} (a command is recorded once)`,
  recorded_as: (events, day) => `recorded as ${events}${day ? `, ${day}` : ""}`,
  letters: "Reply letters", history: "History", by: "By", entered_by: (who) => `entered by ${who}`,
  record_details: "Record", occurred: "occurred", recorded: "recorded", seq: "no.", command_id: "command",
  // forms
  send_command: (title) => upper(title), optional: "(optional)", choose: "Choose…", not_given: "(none)", whole_item: "The whole item (no bureau)",
  filter_bureaus: "Type to filter bureaus", proposal_placeholder: "Number or words of the title", time_of_day: "Time (optional)",
  date_help: "Today unless you change it.", date_range_help: (d) => `Today unless you change it; ${d} at the earliest.`, texts_help: "One per line.",
  letter_help: "PDF, Word (DOCX) or an image (PNG, JPEG): uploaded first, recorded with the reply.", one_bureau: "Choose one bureau.",
  required: "Required", choose_one: "Choose at least one", too_short: (n) => `At least ${n} characters`, too_long: (n) => `At most ${n} characters`,
  bad_format: "Not in the right form", too_many: (n) => `Choose at most ${n}`, too_many_lines: (n) => `At most ${n} lines`,
  at_least: (n) => `At least ${n}`, at_most: (n) => `At most ${n}`, not_after_today: "Not after today",
  not_before: (d) => `Not before ${d}`, empty_file: (name) => `"${name}" is empty: choose the letter's file`,
  fix_fields: "Correct what is marked, then send it again.", sending: "Sending…", uploading_letter: "Uploading the letter…",
  letter_refused: "The letter was not uploaded; nothing was recorded.", bad_value: (msg) => `Not accepted (${msg})`,
  send_again_safe: "You may send it again: the same form is recorded once.", see_fields: "See what each field says.",
  choose_file_button: "Choose a file", no_file: "no file chosen",
  // work
  work_of: (b) => `My work · ${b}`, all_work: "All", nothing_owed: "Nothing owed", choose_bureau_work: "Choose a bureau",
  no_due: "no deadline", overdue_by: (n) => `${n} working days overdue`, due_today: "due today", working_days_left: (n) => `${n} working days left`,
  due_on: (d) => `due ${d}`, reminders_of: (n) => `Reminders (${n})`, overdue_days: (n) => `${n} days overdue`, days_left_n: (n) => `${n} days left`,
  // desk
  awaiting_title: "To assign", returned_title: "Returned, to route again", extensions_title: "Extension requests", key_items_title: "Key items",
  new_records: "Register", returned_by: (who) => `returned by ${who}`,
  extension_asked: (b, current, wanted, on) => `${b} asked on ${on} to move the reply due from ${current} to ${wanted}`,
  download_xlsx: "Download Excel",
  // a filer's own
  filer_is: (name) => `Filed or co-signed by ${name}`, nothing_filed: "Nothing filed or co-signed by you",
  not_assigned_yet: "not assigned yet", contacts: "Contacts", replies: "Replies", no_reply_yet: "no reply yet",
  download_letter: (name) => `Download the reply letter: ${name}`, your_rating: "Satisfaction", rate_reply: "Rate this reply", rate_again: "Rate it again",
  // search
  search_for: (q) => `Found for "${q}"`, nothing_found: "No item found",
  // the dashboard
  years: "Years", as_of: "As of", recorded_by: "As recorded on", kind: "Kind", all_kinds: "All", profile: "Profile",
  refresh: "Show", download: "Report", annex_xlsx: "Annex (Excel)", evidence_xlsx: "Evidence (Excel)",
  doc_number: "Document No.", doc_term: "Term from", doc_date: "Dated", all_bureaus: "All bureaus",
  results_title: "Results (A/B/C/D)", rates_title: "Rates: this year and last", feed_title: "Live events", no_events: "no events yet",
  league_title: "Bureaus", owed_title: "Deadlines", overdue: "overdue", due_soon: "due soon", this_year: "this year", last_year: "last year",
  last_year_short: "last yr", no_data: "No data",
  clocks: (asOf, recorded) => `Business date: as of ${asOf}; ` + (recorded ? `as recorded by ${recorded} (audit view: what the system showed then)` : "as recorded: now"),
  duties_sub: (proposals, lead, co) => `Items ${proposals} · lead ${lead} · co ${co}`, lead_count: (n) => `lead ${n}`,
  replied: "Replied", number: "No.", yes: "yes", no: "no", owed: "Owed", late_entries: "Entered late", all_entries: "Records",
  entries_sub: (e) => `of ${e.records} records · ${e.imported} imported · late: over ${e.late_after_working_days} working days`,
  items_of: (label, n) => `${label}: ${n}`, rate_of: (label, c, n) => `${label}: ${c} / ${n}`,
  entries_of: (label, n) => `${label}: ${n} records`, no_items: "nothing",
  // spreadsheets
  import_title: "Import a spreadsheet", import_intro: "An upload is previewed row by row; nothing is imported until you confirm.",
  import_assignments: "Import assignment list", import_replies: "Import reply list", kind_from_sheet: "as the sheet says (column or title)",
  year_from_sheet: "as the sheet says", default_assigned_on: "Assigned on (where the sheet has none)", upload_preview: "Upload and preview",
  choose_bureau: "choose a bureau first", choose_file: "choose a file first", uploading: (name) => `Uploading and reading ${name}…`,
  preview_of: (what, name, done) => `${what}: ${name}` + (done ? " (imported)" : " (preview, nothing imported yet)"),
  inferred_title: "Inferred from the sheet", page_rows: (first, last, total) => `items ${first}–${last} of ${total}`,
  page_none: "no rows", prev_page: "Previous", next_page: "Next", all_statuses: "every status",
  sheet_info: (p) => `Sheet "${p.sheet}" · header in row ${span(p.header_rows)}`
    + (p.ignored_columns.length ? ` · columns not read: ${p.ignored_columns.join(", ")}` : "")
    + (p.skipped.length ? ` · ${p.skipped.length} rows skipped (headings or notes)` : ""),
  rows_total: (n) => `${n} rows`, will_send: (n) => `${n} commands to send`, sheet_row: "Row",
  sends: "What it sends / why not", nothing_to_send: "already in Banli as the sheet says: nothing to send",
  differs_note: "in Banli otherwise: nothing sent (correct it with reassign and the like):",
  commit: (n) => `Commit (send ${n} commands)`, committing: "Importing…", nothing_to_commit: "nothing to import",
  committed_title: "Import result", why: "Reason", commit_rows: "Rows refused or pending at commit", pending_note: "no answer yet: importing the same sheet again finishes it",
  commit_more: (c) => `refused in the preview ${c.refused_in_preview} · unchanged ${c.unchanged} · differs ${c.differs} · ${c.commands} commands sent`,
  // tables of words
  level_short: { national: "national", provincial: "provincial", municipal: "municipal", district: "district" },
  proposal_status: { open: "in hand", withdrawn: "withdrawn", merged: "merged" },
  duty_status: { active: "handling", returned: "returned", removed: "removed" },
  deadline_status: { on_time: "on time", late: "late", overdue: "overdue", pending: "pending", unknown: "unknown", not_due: "not to publish" },
  filed_as: { lead: "lead filer", co_signer: "co-signer" },
  recorders: { filer: "your own rating", office: "recorded by the office", bureau: "recorded by the bureau" },
  sheet_status: { new: "new", unchanged: "unchanged", differs: "differs", refused: "refused" },
  commit_status: { imported: "imported", already: "already there", refused: "refused", pending: "pending" },
  sheet_field: { title: "title", filers: "filers", affiliation: "affiliation", topics: "topics", leads: "leads",
    cos: "co-handlers", result: "result", disclosure: "disclosure", signed_by: "signed by" },
};
