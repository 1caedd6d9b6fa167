"""Working days and holiday blocks on China's official calendar.

Notices count deadlines in working days (`收到通知后10个工作日内`) and name holidays
(`国庆节前`, `元旦春节期间`).  Both depend on the schedule the General Office of the State
Council publishes each year (《国务院办公厅关于YYYY年部分节假日安排的通知》): the public
holidays, and the weekends that become working days to make up for them (调休).  Counting
Monday to Friday is wrong around every long holiday: 10 working days after 2024-09-20 is
2024-10-10, not 2024-10-04, because of the National Day block and the make-up Sunday 09-29.

The schedule comes from the `chinesecalendar` package (import name `chinese_calendar`), which
ships every published year.  This module never guesses a year the package does not cover:
`is_workday` and `add_workdays` raise `CalendarNotCovered` for such a year unless the caller
asks for an explicit Monday-to-Friday `estimate`, and the caller is expected to say so
(`pipeline.when` lowers its confidence and writes a note).

Keeping the data current (once a year):

1. The State Council publishes next year's schedule, usually in late October to December.
2. `chinesecalendar` releases a version with it soon after.  Upgrade it in the venv
   (`.venv/bin/pip install -U chinesecalendar`) and raise the lower bound in pyproject.toml
   to that version, so every machine and CI gets it.
3. Check coverage:
   `.venv/bin/python -c "from pipeline.when.workdays import coverage; print(coverage())"`
   prints the first and last year with data; `covered(year)` answers for one year.
   `tests/test_workdays.py` warns when next year is not covered after 1 November.

With chinesecalendar 1.11.0 the data covers 2004 to 2026.

Until the release comes, the schedule itself fills the gap: it arrives as a notice like any
other, and `pipeline.when.schedule` reads it into a `HolidaySchedule`.  `use_schedule` adds
such a year for every count here; the package wins for any year it covers (its data is
checked by its maintainers against the published text), and `sources()` says which years are
covered and from where (`gongwen calendar --years`).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import Enum

import chinese_calendar

from models.when import HolidaySchedule

__all__ = [
    "CalendarNotCovered",
    "Festival",
    "add_workdays",
    "covered",
    "coverage",
    "drop_schedule",
    "festival_block",
    "is_workday",
    "sources",
    "use_schedule",
]

_ONE_DAY = timedelta(days=1)
# A holiday block never spans more than this many days; a guard against runaway loops.
_MAX_BLOCK = 15


class CalendarNotCovered(LookupError):
    """The holiday schedule for a year is not in the installed chinesecalendar."""

    def __init__(self, year: int):
        first, last = coverage()
        super().__init__(
            f"holiday data does not cover {year} (chinesecalendar has {first}-{last}); "
            "upgrade chinesecalendar once the State Council has published that year's schedule"
        )
        self.year = year


class Festival(Enum):
    """The public holidays a notice names, with chinesecalendar's label for each."""

    new_year = chinese_calendar.Holiday.new_years_day.value  # 元旦
    spring = chinese_calendar.Holiday.spring_festival.value  # 春节
    qingming = chinese_calendar.Holiday.tomb_sweeping_day.value  # 清明节
    labour = chinese_calendar.Holiday.labour_day.value  # 劳动节 / 五一
    dragon_boat = chinese_calendar.Holiday.dragon_boat_festival.value  # 端午节
    mid_autumn = chinese_calendar.Holiday.mid_autumn_festival.value  # 中秋节
    national = chinese_calendar.Holiday.national_day.value  # 国庆节

    @property
    def fixed_day(self) -> tuple[int, int] | None:
        """(month, day) of the festival for the ones on a fixed Gregorian date."""
        return _FIXED_DAYS.get(self)


_FIXED_DAYS = {Festival.new_year: (1, 1), Festival.labour: (5, 1), Festival.national: (10, 1)}


def coverage() -> tuple[int, int]:
    """First and last year the installed holiday data covers."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


_FIRST_YEAR, _LAST_YEAR = coverage()
# Years read from schedule notices, for years the package lacks: year → (days off, 调休 days,
# festival of each day off, source).  Filled by `use_schedule` from the store at start-up.
_SCHEDULES: dict[int, tuple[frozenset[date], frozenset[date], dict[date, str], str]] = {}


def _in_package(year: int) -> bool:
    return _FIRST_YEAR <= year <= _LAST_YEAR


def covered(year: int) -> bool:
    """Whether the official schedule of `year` is known: in the package, or read from its notice."""
    return _in_package(year) or year in _SCHEDULES


def use_schedule(schedule: HolidaySchedule) -> bool:
    """Count `schedule.year` on a schedule read from its notice, unless the package covers the
    year (the package wins).  Returns whether the schedule is now in use."""
    if _in_package(schedule.year) or not schedule.holidays:
        return False
    names = {date.fromisoformat(d.day): d.festival for d in schedule.holidays}
    worked = frozenset(date.fromisoformat(d.day) for d in schedule.workdays)
    _SCHEDULES[schedule.year] = (frozenset(names), worked, names, schedule.source or "a schedule notice")
    return True


def drop_schedule(year: int) -> None:
    """Stop counting `year` on a schedule notice (the notice was removed from the store)."""
    _SCHEDULES.pop(year, None)


def sources() -> dict[int, str]:
    """Every covered year and where its schedule comes from."""
    package = f"chinesecalendar {getattr(chinese_calendar, '__version__', '')}".strip()
    years = {year: package for year in range(_FIRST_YEAR, _LAST_YEAR + 1)}
    years.update({year: f"notice {data[3]}" for year, data in _SCHEDULES.items() if year not in years})
    return dict(sorted(years.items()))


def is_workday(d: date, *, estimate: bool = False) -> bool:
    """Whether `d` is a working day (holidays off, 调休 weekends on).

    For a year without data this raises `CalendarNotCovered`, or with `estimate=True`
    answers Monday to Friday, which the caller must report as uncertain.
    """
    if _in_package(d.year):
        return chinese_calendar.is_workday(d)
    if d.year in _SCHEDULES:
        days_off, worked, _, _ = _SCHEDULES[d.year]
        return d in worked or (d.weekday() < 5 and d not in days_off)
    if estimate:
        return d.weekday() < 5
    raise CalendarNotCovered(d.year)


def add_workdays(d: date, n: int, *, estimate: bool = False) -> date:
    """The n-th working day after `d` (before it for negative n); `d` itself is not counted.

    `add_workdays(date(2024, 9, 20), 10)` is 2024-10-10.  n == 0 returns `d`.
    Raises `CalendarNotCovered` if a day passed over lies in a year without data,
    unless `estimate` (see `is_workday`).
    """
    step = _ONE_DAY if n >= 0 else -_ONE_DAY
    remaining = abs(n)
    current = d
    while remaining:
        current += step
        if is_workday(current, estimate=estimate):
            remaining -= 1
    return current


def festival_block(festival: Festival, year: int) -> tuple[date, date] | None:
    """First and last day off of the festival's holiday block in `year`.

    The block is the run of consecutive days off (the festival plus adjoining weekends and
    swapped days) around the festival: 2024's 元旦 block is 2023-12-30..2024-01-01, 2023's
    中秋 block runs into National Day (09-29..10-06).  `year` is the year of the festival
    day itself.  Returns None when the year's data does not name the festival (清明, 端午 and
    中秋 became holidays in 2008); raises `CalendarNotCovered` for a year without data.
    """
    if not covered(year):
        raise CalendarNotCovered(year)
    anchor = _anchor(festival, year)
    if anchor is None:
        return None
    return _rest_run(anchor)


def _anchor(festival: Festival, year: int) -> date | None:
    """A day inside the festival's block: its fixed date, or the first day so labelled."""
    if festival.fixed_day is not None:
        month, day = festival.fixed_day
        return date(year, month, day)
    if year in _SCHEDULES:  # a schedule names its lines in Chinese: 春节, 中秋节、国庆节
        names = _SCHEDULES[year][2]
        labelled = sorted(d for d, name in names.items() if d.year == year and _CHINESE[festival] in name)
    else:
        labelled = sorted(
            d for d, name in chinese_calendar.holidays.items() if d.year == year and name == festival.value
        )
    return labelled[0] if labelled else None


_CHINESE = {Festival.new_year: "元旦", Festival.spring: "春节", Festival.qingming: "清明", Festival.labour: "劳动节",
            Festival.dragon_boat: "端午", Festival.mid_autumn: "中秋", Festival.national: "国庆"}  # fmt: skip


def _rest_run(anchor: date) -> tuple[date, date]:
    """The maximal run of non-working days containing `anchor`."""
    first = last = anchor
    for _ in range(_MAX_BLOCK):
        if not _is_rest(first - _ONE_DAY):
            break
        first -= _ONE_DAY
    for _ in range(_MAX_BLOCK):
        if not _is_rest(last + _ONE_DAY):
            break
        last += _ONE_DAY
    return first, last


def _is_rest(d: date) -> bool:
    # A block at the edge of the data (2004-01-01) simply stops there.
    return covered(d.year) and not is_workday(d)
