"""Working days and deadlines: the clocks the rules count in (the calendar is given to the
kernel as data)."""
