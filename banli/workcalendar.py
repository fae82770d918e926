"""China's working-day calendar, built from three sources and handed to the kernel as data
(Context.calendar):

1. a holiday notice of the State Council loaded by an operator (`banli calendar load FILE`, or
   files named by BANLI_CALENDAR_NOTICES): the days off and the weekend days worked (调休) of one
   year, in a small JSON file (see `parse_notice`), valid the day it is published;
2. the `chinese-calendar` package (PyPI), which carries the notices published before its release
   (2004 to its last year);
3. for any other year (1950-2100), the statutory holidays alone, as the `holidays` package
   computes them (including the weekdays given for a holiday that falls on a weekend), with no
   weekend day worked: counted that way, a deadline is *provisional*, and says so.

Nothing is refused for lack of a notice. Loading one changes what is computed from then on;
decisions already recorded stand (events are never rewritten). `CalendarBook` rereads the
notices when their files change, so a running server takes a notice loaded beside it. A loaded
notice may replace a year the package has (a notice corrected after the package's release)
only where the operator names that year (`replace`): no file replaces published years by
accident. `remove_notice` takes a loaded notice back."""
from __future__ import annotations

import json
import os
import threading
import time
from datetime import date, timedelta
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any, Iterable

from .domain.timing.workdays import TableCalendar, YearsCalendar, YearTable

PROVISIONAL_YEARS = range(1950, 2101)  # what the `holidays` package computes for China


class NoticeError(ValueError):
    """A holiday notice file that cannot be taken, with every reason found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@lru_cache(maxsize=1)
def package_calendar() -> TableCalendar:
    """The calendar of the installed `chinese-calendar` release: exactly the years it has
    notices for (2004 to the latest published)."""
    from chinese_calendar import constants

    holidays = frozenset(constants.holidays)
    adjusted = frozenset(constants.workdays)
    return TableCalendar(
        name=f"chinese-calendar {version('chinese-calendar')}",
        first_year=min(holidays).year, last_year=max(holidays).year,
        holidays=holidays, adjusted_workdays=adjusted)


@lru_cache(maxsize=1)
def _base_years() -> dict[int, YearTable]:
    """Every year from the package where it has the notice, else provisional."""
    import holidays

    package = package_calendar()
    statutory = holidays.China(years=PROVISIONAL_YEARS)
    provisional_source = f"法定节假日（暂定） statutory holidays only, holidays {holidays.__version__}"
    years: dict[int, YearTable] = {}
    for year in PROVISIONAL_YEARS:
        if package.first_year <= year <= package.last_year:
            years[year] = YearTable(
                year, frozenset(d for d in package.holidays if d.year == year),
                frozenset(d for d in package.adjusted_workdays if d.year == year),
                source=package.name)
        else:
            years[year] = YearTable(year, frozenset(d for d in statutory if d.year == year),
                                    frozenset(), source=provisional_source, provisional=True)
    return years


def build_calendar(notices: Iterable[YearTable] = ()) -> YearsCalendar:
    """The working-day calendar: loaded notices over the package over provisional years."""
    years = dict(_base_years())
    loaded = []
    for table in notices:
        years[table.year] = table
        loaded.append(table.year)
    name = package_calendar().name + (f" + notices {', '.join(map(str, sorted(loaded)))}"
                                      if loaded else "")
    return YearsCalendar(name, dict(sorted(years.items())))


def china_calendar() -> YearsCalendar:
    """The calendar without any loaded notice."""
    return _no_notices()


@lru_cache(maxsize=1)
def _no_notices() -> YearsCalendar:
    return build_calendar()


# --- notice files ---------------------------------------------------------------------------
def official_years() -> range:
    """The years the installed `chinese-calendar` package has the State Council's notice for."""
    package = package_calendar()
    return range(package.first_year, package.last_year + 1)


def parse_notice(data: bytes | str, origin: str = "notice") -> list[YearTable]:
    """Read a notice file: a JSON object for one year, or a list of them, each

        {"year": 2027, "source": "国办发明电〔2026〕…号",
         "holidays": ["2027-01-01", "2027-02-05..2027-02-11", ...],
         "workdays": ["2027-02-14", ...]}

    `holidays` are the days off (single days or `first..last` ranges, weekends included as the
    notice lists them), `workdays` the weekend days worked in exchange. Refused, with every
    reason: not JSON (nested too deep, a number too long to read included), no year at all,
    dates outside the year, a day both off and worked, a weekday listed as worked, a year
    outside 1950-2100, a year given twice, unknown fields."""
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, or a number too long
        raise NoticeError([f"不是有效的 JSON (not valid JSON): {exc}"]) from None
    except RecursionError:
        raise NoticeError(["不是有效的 JSON：嵌套过深 (not valid JSON: nested too deep)"]) from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items:
        raise NoticeError([f"{origin}: 没有任何年度的通知 (no year's notice in it)"])
    problems: list[str] = []
    tables: list[YearTable] = []
    for index, item in enumerate(items, start=1):
        where = f"#{index}" if len(items) > 1 else origin
        table = _year_of(item, where, problems)
        if table is not None:
            if any(t.year == table.year for t in tables):
                problems.append(f"{where}: {table.year} 年重复 (year {table.year} given twice)")
            tables.append(table)
    if problems:
        raise NoticeError(problems)
    return tables


def _year_of(item: Any, where: str, problems: list[str]) -> YearTable | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: 每年一个 JSON 对象 (each year is a JSON object)")
        return None
    unknown = set(item) - {"year", "source", "holidays", "workdays"}
    if unknown:
        problems.append(f"{where}: 未知字段 (unknown fields) {', '.join(sorted(unknown))}")
    year = item.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or year not in PROVISIONAL_YEARS:
        problems.append(f"{where}: year 须为 1950—2100 的整数 (year must be 1950-2100)")
        return None
    before = len(problems)
    off = _days(item.get("holidays", []), year, f"{where} holidays", problems)
    worked = _days(item.get("workdays", []), year, f"{where} workdays", problems)
    for day in sorted(off & worked):
        problems.append(f"{where}: {day} 既放假又上班 (both a day off and a working day)")
    for day in sorted(worked):
        if day.weekday() < 5:
            problems.append(f"{where}: {day} 是工作日，无需调休上班 "
                            f"(a weekday: only weekend days are worked in exchange)")
    if not off:
        problems.append(f"{where}: 没有放假日期 (no days off)")
    source = item.get("source", "")
    if not isinstance(source, str) or len(source) > 500:
        problems.append(f"{where}: source 须为文字 (source must be text)")
    if len(problems) > before:
        return None
    return YearTable(year, frozenset(off), frozenset(worked),
                     source=f"通知 notice {source}".strip())


def _days(values: Any, year: int, where: str, problems: list[str]) -> set[date]:
    if not isinstance(values, list):
        problems.append(f"{where}: 须为日期列表 (must be a list of dates)")
        return set()
    days: set[date] = set()
    for value in values:
        try:
            first, _, last = str(value).partition("..")
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat(last.strip()) if last else start
        except ValueError:
            problems.append(f"{where}: {value!r} 不是日期 YYYY-MM-DD 或 A..B (not a date)")
            continue
        if not isinstance(value, str) or end < start or (end - start).days > 31:
            problems.append(f"{where}: {value!r} 不是有效区间 (not a valid range)")
            continue
        if start.year != year or end.year != year:
            problems.append(f"{where}: {value} 不在 {year} 年内 (outside {year})")
            continue
        while start <= end:
            days.add(start)
            start += timedelta(days=1)
    return days


def notice_files(directory: Path | None, configured: str = "") -> list[Path]:
    """The notice files to read: those named in `configured` (separated by os.pathsep), then the
    `*.json` files of `directory` (where `banli calendar load` puts them), by name."""
    files = [Path(p) for p in configured.split(os.pathsep) if p.strip()]
    if directory is not None and directory.is_dir():
        files += sorted(directory.glob("*.json"))
    return files


def read_notices(files: Iterable[Path]) -> list[YearTable]:
    """Every year of every file; a later file's year replaces an earlier one's."""
    by_year: dict[int, YearTable] = {}
    for path in files:
        for table in parse_notice(path.read_bytes(), str(path)):
            by_year[table.year] = table
    return list(by_year.values())


def check_replacing(tables: list[YearTable], replace: Iterable[int] = ()) -> None:
    """NoticeError unless every year the package already has a notice for (a published year)
    is named in `replace`, and every year named there is in the notice."""
    named, given = set(replace), {t.year for t in tables}
    official = official_years()
    problems = [f"{year} 年已有国务院公布的通知（{package_calendar().name}）；确需更正时请明确指定替换该年 "
                f"(the State Council's notice for {year} is published already, in "
                f"{package_calendar().name}: name the year to replace it, e.g. --replace {year})"
                for year in sorted(given - named) if year in official]
    problems += [f"要替换的 {year} 年不在该通知中 ({year}, to be replaced, is not in the notice)"
                 for year in sorted(named - given)]
    if problems:
        raise NoticeError(problems)


def save_notice(directory: Path, data: bytes, replace: Iterable[int] = ()) -> list[YearTable]:
    """Validate a notice and keep it in `directory` as `<year>.json` per year (0600). A year
    the package has a notice for is replaced only when named in `replace` (check_replacing)."""
    tables = parse_notice(data)
    check_replacing(tables, replace)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for table in tables:
        body = json.dumps({"year": table.year, "source": table.source.removeprefix("通知 notice ")
                           .strip(), "holidays": sorted(d.isoformat() for d in table.holidays),
                           "workdays": sorted(d.isoformat() for d in table.adjusted_workdays)},
                          ensure_ascii=False, indent=1)
        target = directory / f"{table.year}.json"
        temporary = target.with_suffix(".json.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(body)
        os.replace(temporary, target)
    return tables


def remove_notice(directory: Path, year: int) -> bool:
    """Take back the notice loaded for `year` (its file in `directory`); False if none was.
    The year counts again as the next source has it (a configured file, the package, or
    provisionally)."""
    try:
        (directory / f"{year}.json").unlink()
    except FileNotFoundError:
        return False
    return True


class CalendarBook:
    """The current calendar of a process: the notices' files reread when they change (looked at
    no more than once a second), so a notice loaded beside a running server counts from then
    on. Thread-safe."""

    def __init__(self, directory: Path | None = None, configured: str = "",
                 check_every: float = 1.0):
        self.directory, self.configured, self.check_every = directory, configured, check_every
        self._lock = threading.Lock()
        self._seen: tuple | None = None
        self._checked = 0.0
        self._calendar = china_calendar()
        self._loaded: list[YearTable] = []
        self.error: str | None = None
        self.current()

    def _fingerprint(self) -> tuple:
        found: list[tuple[str, int | None, int | None]] = []
        for path in notice_files(self.directory, self.configured):
            try:
                stat = path.stat()
                found.append((str(path), stat.st_mtime_ns, stat.st_size))
            except OSError:
                found.append((str(path), None, None))
        return tuple(found)

    def current(self) -> YearsCalendar:
        now = time.monotonic()
        if now - self._checked < self.check_every:
            return self._calendar
        with self._lock:
            self._checked = now
            seen = self._fingerprint()
            if seen != self._seen:
                try:
                    self._loaded = read_notices(notice_files(self.directory, self.configured))
                    self._calendar = build_calendar(self._loaded)
                    self.error = None
                except (OSError, NoticeError) as exc:  # keep counting with what was good
                    self.error = str(exc)
                self._seen = seen
            return self._calendar

    def reload(self) -> YearsCalendar:
        """Read the notices now (after one was saved)."""
        self._checked = 0.0
        return self.current()

    def loaded(self) -> list[YearTable]:
        self.current()
        return list(self._loaded)
