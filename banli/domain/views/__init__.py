"""What readers are shown of the kernel's states, derived and pure: the report and its rates
(rates, duty_row), deadlines explained and reminded of (explain, reminders), a bureau's work
(work), a filer's view (filed), routing lineage, and the registry's words for forms
(vocabulary)."""
