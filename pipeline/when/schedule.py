"""Read a State Council holiday schedule notice into the year's holidays and 调休 working days.

In: the text of 《国务院办公厅关于YYYY年部分节假日安排的通知》 (国办发明电〔…〕…号), the notice
every level forwards each November.  Out: a `HolidaySchedule` whose days carry the offsets of
the line they come from, or None when the text is not such a schedule.

Each festival has one numbered line in a fixed form (GB/T 9704 body text; the wording has not
changed since 2008): `二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，
共8天。1月26日（周日）、2月8日（周六）上班。`  The brackets only repeat weekdays and lunar
days, so they are dropped; the 放假 clause gives the block (its end may omit the month), the
上班 clause the make-up working days.  A date without a year is in the schedule's year; the
元旦 block may begin in the year before and then prints it (`2022年12月31日至2023年1月2日`).
Written here rather than through the deadline engine: this form needs none of its context
(no roll, no issue date), and a schedule must never be read loosely.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from models.when import HolidaySchedule, ScheduleDay

_TITLE_RE = re.compile(r"国务院办公厅关于(?P<year>\d{4})年(?:部分)?节假日安排的通知")
_DOC_NUMBER_RE = re.compile(r"国办发(?:明电)?〔\d{4}〕\d+号")
_FESTIVALS = "元旦|春节|清明节|劳动节|端午节|中秋节|国庆节"
_LINE_RE = re.compile(rf"(?P<festival>(?:{_FESTIVALS})(?:[、和](?:{_FESTIVALS}))*)[:：](?P<body>[^\n]*)")
_BRACKETS_RE = re.compile(r"[（(][^（）()]*[）)]")
_DATE = r"(?:(?P<{p}y>\d{{4}})年)?(?:(?P<{p}m>\d{{1,2}})月)?(?P<{p}d>\d{{1,2}})日"
_OFF_RE = re.compile(_DATE.format(p="a") + r"(?:至" + _DATE.format(p="b") + r")?放假")
_ON_RE = re.compile(r"((?:(?:\d{4}年)?\d{1,2}月\d{1,2}日[、，,和及]?)+)上班")
_ON_DAY_RE = re.compile(_DATE.format(p="c"))


def is_schedule(text: str) -> bool:
    """Whether `text` is a State Council holiday schedule notice (by its title)."""
    return _TITLE_RE.search(text) is not None


def read_schedule(text: str) -> HolidaySchedule | None:
    """The holidays and 调休 working days of the schedule in `text`; None if it is not one."""
    title = _TITLE_RE.search(text)
    if title is None:
        return None
    year = int(title.group("year"))
    holidays: list[ScheduleDay] = []
    workdays: list[ScheduleDay] = []
    for line in _LINE_RE.finditer(text, title.end()):
        festival, span = line.group("festival"), line.span()
        body = _BRACKETS_RE.sub("", line.group("body"))
        off = _OFF_RE.search(body)
        if off is None:
            continue  # a sentence that names a festival but sets no days (the closing paragraph)
        first = _day(off, "a", year, None)
        last = _day(off, "b", year, first) if off.group("bd") else first
        day = first
        while day <= last:
            holidays.append(ScheduleDay(day=day.isoformat(), festival=festival, start=span[0], end=span[1]))
            day += timedelta(days=1)
        for on in _ON_RE.finditer(body):
            for m in _ON_DAY_RE.finditer(on.group(1)):
                worked = _day(m, "c", year, None)
                workdays.append(ScheduleDay(day=worked.isoformat(), festival=festival, start=span[0], end=span[1]))
    number = _DOC_NUMBER_RE.search(text)
    return HolidaySchedule(year=year, holidays=holidays, workdays=workdays, source=number.group() if number else None)


def _day(m: re.Match[str], p: str, year: int, after: date | None) -> date:
    """A date of the schedule: printed year, else the schedule's; a missing month is the first
    date's (`2月11日至17日`), and an end in January after a December start is the next year."""
    printed_year = m.group(f"{p}y")
    month = m.group(f"{p}m")
    if month is None:
        assert after is not None, "a day without a month only ends a block"
        return date(after.year, after.month, int(m.group(f"{p}d")))
    return date(int(printed_year) if printed_year else year, int(month), int(m.group(f"{p}d")))
