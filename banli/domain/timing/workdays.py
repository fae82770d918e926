"""Working days: the calendar the rules count in, given to the kernel as data.

Some rules count working days (工作日), not calendar days: China's official holidays are days off
even on weekdays, and some weekends are worked in exchange (调休). The kernel never guesses which
day is which: it asks a `Calendar` the caller passes in (see banli/workcalendar.py for the one
built from the `chinese-calendar` package), and a day the calendar does not cover is an
`OutsideCalendar` error, which the rules turn into a clear refusal.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, timedelta
from typing import Protocol


class OutsideCalendar(ValueError):
    """A working-day count needed a day that the calendar has no data for."""

    def __init__(self, day: date, calendar: "Calendar"):
        self.day = day
        self.calendar_name = calendar.name
        self.first_year, self.last_year = calendar.first_year, calendar.last_year
        super().__init__(f"{calendar.name} covers {calendar.first_year}-{calendar.last_year}, "
                         f"not {day}")


class Calendar(Protocol):
    """Which days are working days. `name` says which data it is (reports and explanations show
    it); it answers for the years `first_year`..`last_year` and raises `OutsideCalendar` for any
    other day. A day of a year whose holiday notice is not loaded yet is counted provisionally
    (statutory holidays only): `is_provisional` says so, and deadlines counted over it are shown
    as provisional."""

    @property
    def name(self) -> str: ...

    @property
    def first_year(self) -> int: ...

    @property
    def last_year(self) -> int: ...

    def is_working_day(self, day: date) -> bool: ...

    def is_provisional(self, day: date) -> bool: ...


@dataclass(frozen=True)
class TableCalendar:
    """A calendar from tables: weekdays off (`holidays`) and weekend days worked
    (`adjusted_workdays`, 调休); any other weekday works and any other weekend day rests."""

    name: str
    first_year: int
    last_year: int
    holidays: frozenset[date] = field(default_factory=frozenset)
    adjusted_workdays: frozenset[date] = field(default_factory=frozenset)

    def covers(self, day: date) -> bool:
        return self.first_year <= day.year <= self.last_year

    def is_working_day(self, day: date) -> bool:
        if not self.covers(day):
            raise OutsideCalendar(day, self)
        if day in self.adjusted_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def is_provisional(self, day: date) -> bool:
        return False


# The calendar a Context has when its caller gave none: it covers no year, so every rule that
# counts working days refuses clearly instead of counting weekends alone.
NO_CALENDAR = TableCalendar(name="none", first_year=1, last_year=0)


@dataclass(frozen=True)
class YearTable:
    """One year's days off and weekend days worked (调休), and where they come from: the State
    Council's notice (as published in a package release or loaded by an operator), or, for a
    year whose notice is not out yet, the statutory holidays alone (`provisional`)."""

    year: int
    holidays: frozenset[date]
    adjusted_workdays: frozenset[date]
    source: str
    provisional: bool = False


@dataclass(frozen=True)
class YearsCalendar:
    """A calendar made of year tables, each from its own source (see YearTable)."""

    name: str
    years: dict[int, YearTable]

    # computed once (the years never change: `without` makes another calendar): a work list asks
    # them of every item, over every year its clock runs through (provisional_between)
    @cached_property
    def first_year(self) -> int:
        return min(self.years, default=1)

    @cached_property
    def last_year(self) -> int:
        return max(self.years, default=0)

    def _table(self, day: date) -> YearTable:
        table = self.years.get(day.year)
        if table is None:
            raise OutsideCalendar(day, self)
        return table

    def is_working_day(self, day: date) -> bool:
        table = self._table(day)
        if day in table.adjusted_workdays:
            return True
        return day.weekday() < 5 and day not in table.holidays

    def is_provisional(self, day: date) -> bool:
        return self._table(day).provisional

    def without(self, year: int, table: YearTable | None) -> "YearsCalendar":
        """This calendar with `year` from `table` instead (None: without that year)."""
        years = {y: t for y, t in self.years.items() if y != year}
        if table is not None:
            years[year] = table
        return YearsCalendar(self.name, dict(sorted(years.items())))


def provisional_between(calendar: Calendar, start: date, end: date) -> bool:
    """Whether a count of working days from `start` to `end` went over a provisional year."""
    return any(calendar.is_provisional(date(year, 1, 1))
               for year in range(start.year, end.year + 1)
               if _covers(calendar, year))


def _covers(calendar: Calendar, year: int) -> bool:
    return calendar.first_year <= year <= calendar.last_year


def add_working_days(calendar: Calendar, start: date, days: int) -> date:
    """The `days`-th working day after `start` (`start` itself never counts): 10 working days
    after an assignment on the eve of the Spring Festival end about three weeks later."""
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        counted += calendar.is_working_day(day)
    return day


def past_working_days(calendar: Calendar, start: date, days: int, day: date) -> bool:
    """Whether `day` is later than the `days`-th working day after `start`. Only the days up to
    `day` are consulted, so a question about a covered day never needs next year's calendar."""
    if days <= 0:
        return day > start
    current, counted = start, 0
    while current < day:
        current += timedelta(days=1)
        counted += calendar.is_working_day(current)
        if counted == days:  # `current` is the last day allowed
            return current < day
    return False


class WorkingDayCount:
    """Working days between `today` and other days, from one running count: each question is
    two lookups, however many items ask (a work list asks for every item). The count covers
    the days the calendar covers between `first` and `last`; a day outside them is None."""

    def __init__(self, calendar: Calendar, today: date, first: date, last: date):
        self.today = today
        self._first = min(first, today)
        self._running: list[int] = []  # working days in (first, first + i]
        counted, day = 0, self._first
        try:
            while day < max(last, today):
                day += timedelta(days=1)
                counted += calendar.is_working_day(day)
                self._running.append(counted)
        except OutsideCalendar:
            pass  # the days after the calendar's last year stay uncounted

    def _upto(self, day: date) -> int | None:
        index = (day - self._first).days - 1
        if index < 0:
            return 0 if index == -1 else None
        return self._running[index] if index < len(self._running) else None

    def left(self, due: date) -> int | None:
        """Working days from today to `due`: those after today up to `due` (0 when it is due
        today), or, once it has passed, minus those after `due` up to today. None where the
        calendar cannot count them."""
        upto_due, upto_today = self._upto(due), self._upto(self.today)
        if upto_due is None or upto_today is None:
            return None
        return upto_due - upto_today
