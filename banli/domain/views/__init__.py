"""What readers are shown of the kernel's states, derived and pure: the report and its rates
(rates, duty_row), deadlines explained and reminded of (explain, reminders), a bureau's work
(work), a filer's view (filed), the office's review as a report (intake_report), routing
lineage, the registry's words for forms (vocabulary), lists and the deadlines list (lists,
due_list), bureaus' names over time (bureaus)."""
