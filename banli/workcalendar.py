"""China's working-day calendar from the `chinese-calendar` package (PyPI), which follows the
State Council's yearly holiday notices: official holidays and the weekend days worked in
exchange (调休). Built once per process and handed to the kernel as data (Context.calendar);
a newer package release adds the next year as soon as its notice is out."""
from __future__ import annotations

from functools import lru_cache
from importlib.metadata import version

from .domain.workdays import TableCalendar


@lru_cache(maxsize=1)
def china_calendar() -> TableCalendar:
    """The calendar of the installed `chinese-calendar` release, covering the years it has
    notices for (2004 to the latest published)."""
    from chinese_calendar import constants

    holidays = frozenset(constants.holidays)
    adjusted = frozenset(constants.workdays)
    return TableCalendar(
        name=f"chinese-calendar {version('chinese-calendar')}",
        first_year=min(holidays).year, last_year=max(holidays).year,
        holidays=holidays, adjusted_workdays=adjusted)
