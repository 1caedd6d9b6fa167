"""Periods counted from a base: the issue day and working-day or calendar offsets.

In: a match of `自印发之日起30日内`, `收到通知后10个工作日内`, `即日起`, `本周五`.  Out: a `Relative` or
`IssueDay` atom and its resolution against the issue date; working days are counted on the
official calendar (`pipeline.when.workdays`), marked uncertain where it has no data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pipeline.when.workdays as workdays
from models.when import When
from pipeline.when.context import ASSUMED_BASE, FROM_ISSUE_YEAR, UNCOVERED, Context, Span, Unresolvable
from pipeline.when.dates import add_months
from pipeline.when.numerals import COUNT, TIME, WEEKDAY_CHARS, number, time_of, weekday_of
from pipeline.when.workdays import CalendarNotCovered


@dataclass(frozen=True)
class Relative:
    n: int
    unit: str  # "workday" | "day" | "week" | "month" | "year"
    base: str | None  # "issue" | "receipt" | None (no base printed)
    label: str = ""


@dataclass(frozen=True)
class BeforeEvent:
    """会前3天, 开学前一周, 会前3至4个月: counted back from an event the text does not date."""

    event: str
    label: str


@dataclass(frozen=True)
class IssueDay:
    """即日 / 今天 / 印发之日 (the issue date, + offset days) or 本周五 (week-relative)."""

    offset: int = 0
    week: int | None = None  # 本周 0, 下周 1
    weekday: int | None = None
    time: tuple[int, int] | None = None
    label: str = ""

# 自印发之日起, 收到通知后, 自本通知下发之日起, 即日起 — the base of a relative period
_ISSUE_BASE = (
    r"(?P<base>(?:自|从|在|于)?(?:本?(?:通知|文件|方案|意见|办法|规定)|本文|此件)?"
    r"(?P<verb>即日|印发|下发|发布|发文|公布|出台|收到|接到|收文)"
    r"(?:本?(?:通知|文件|方案|意见)|此件)?(?:之日|当日)?(?:起|后|以后|之后)?的?)"
)
# 30日内, 10个工作日内, 一周内, 半个月内
RELATIVE_RE = re.compile(
    rf"{_ISSUE_BASE}?(?P<n>{COUNT}|半)(?P<unit>个?工作日|个?自然日|日|天|周|个?星期|个?月|年)(?P<within>内|以内|之内)?"
)
# 会前3天, 会议召开前5个工作日, 开学前一周, 会前3至4个月
BEFORE_EVENT_RE = re.compile(
    r"(?P<event>会议?(?:召开)?|活动|开学|开班|开幕|考试|培训|比赛|评审|验收|检查)前"
    rf"{COUNT}(?:至{COUNT})?个?(?:工作日|自然日|日|天|周|星期|月)"
)
# 即日起, 自印发之日起 (施行), 今天, 明日, 本周五, 当日17时 (当日 only with a time: 活动当日 is an event)
ISSUE_DAY_RE = re.compile(
    r"(?:自|从)?(?:(?P<w>即日|今天|今日|明天|明日|当日|当天|"
    r"(?:本?(?:通知|文件|办法|规定|方案|意见|细则|决定|公告))?(?:印发|发布|公布|下发)之日)起?"
    rf"|(?P<wk>本周|这周|下周|下个?星期|本星期)(?:(?P<wd>[{WEEKDAY_CHARS}])|内|之内))"
    rf"(?:{TIME})?"
    r"(?!\d|[一二两三四五六七八九十半])"
)

_RELATIVE_UNITS = {"工作日": "workday", "自然日": "day", "日": "day", "天": "day",
                   "周": "week", "星期": "week", "月": "month", "年": "year"}  # fmt: skip


def relative_atom(m: re.Match[str]) -> Relative | None:
    unit = _RELATIVE_UNITS[m.group("unit").lstrip("个")]
    verb = m.group("verb")
    if not (m.group("within") or verb):
        return None  # 培训3天: a duration, not a deadline
    if m.group("n") == "半":
        if unit != "month":
            return None
        n, unit = 15, "day"  # 半个月内: 15 days
    else:
        n = number(m.group("n"))
    base = None if verb is None else "receipt" if verb in ("收到", "接到", "收文") else "issue"
    return Relative(n=n, unit=unit, base=base, label=m.group())


def before_event_atom(m: re.Match[str]) -> BeforeEvent | None:
    return BeforeEvent(m.group("event"), m.group())


def issue_day_atom(m: re.Match[str]) -> IssueDay | None:
    time = time_of(m)
    if m.group("wk"):
        # 本周内: by the week's last day, Sunday, as 月底 is the month's last calendar day
        weekday = weekday_of(m.group("wd")) if m.group("wd") else 7
        return IssueDay(week=0 if m.group("wk") in ("本周", "这周", "本星期") else 1,
                         weekday=weekday, time=time, label=m.group())  # fmt: skip
    if m.group("w") in ("当日", "当天") and time is None:
        return None
    return IssueDay(offset=1 if m.group("w") in ("明天", "明日") else 0, time=time, label=m.group())


def place_issue_day(atom: IssueDay, ctx: Context) -> Span:
    issue = ctx.issue(atom.label or "即日")
    if atom.week is not None and atom.weekday is not None:
        monday = issue - timedelta(days=issue.weekday()) + timedelta(weeks=atom.week)
        day = monday + timedelta(days=atom.weekday - 1)
        return Span(day, day, atom.time, notes=(f"{atom.label}: the week of the issue date {issue}",),
                     confidence=FROM_ISSUE_YEAR)  # fmt: skip
    day = issue + timedelta(days=atom.offset)
    what = "the day after the issue date" if atom.offset else "the issue date"
    return Span(day, day, atom.time, notes=(f"{atom.label or '即日'}: {what} {issue}",), confidence=FROM_ISSUE_YEAR)


# -- working days -----------------------------------------------------------------------------


def shift_workdays(d: date, n: int) -> tuple[date, tuple[str, ...], float]:
    """d ± n working days, the notes to show, and a confidence factor (1.0, or 0.4 when estimated).

    Outside the official holiday data the count is Monday to Friday with a note saying so:
    never a silent guess.  Public because the calendar counts per-occurrence offsets the same way.
    """
    try:
        return workdays.add_workdays(d, n), (), 1.0
    except CalendarNotCovered as missing:
        result = workdays.add_workdays(d, n, estimate=True)
        return result, (
            f"holiday data does not cover {missing.year}: working days uncertain "
            "(counted Monday to Friday; upgrade chinesecalendar)",
        ), UNCOVERED


def due_on(anchor: date, offset_workdays: int | None) -> tuple[date, tuple[str, ...], float]:
    """The due day of one occurrence of a recurring duty dated `anchor` (the rule's date).

    None: the anchor itself.  N > 0: N working days before it (每季度末前5个工作日); N < 0: -N
    after it (结束后10个工作日内).  0: the last working day on or before it (每月最后一个工作日:
    a month ending in a weekend or a holiday block is due on the working day before).
    """
    if offset_workdays is None:
        return anchor, (), 1.0
    if offset_workdays == 0:  # one working day back from the day after: the anchor if it is one
        return shift_workdays(anchor + timedelta(days=1), -1)
    return shift_workdays(anchor, -offset_workdays)


def shift(base: date, n: int, unit: str) -> tuple[date, tuple[str, ...], float]:
    """base ± n units, with any uncertainty notes and a confidence factor."""
    match unit:
        case "workday":
            return shift_workdays(base, n)
        case "day":
            return base + timedelta(days=n), (), 1.0
        case "week":
            return base + timedelta(weeks=n), (), 1.0
        case "month":
            return add_months(base, n), (), 1.0
        case _:
            return add_months(base, 12 * n), (), 1.0


_UNIT_WORDS = {"workday": "working day", "day": "day", "week": "week", "month": "month", "year": "year"}


def quantity(n: int, unit: str) -> str:
    """3 working days, 1 week."""
    return f"{n} {_UNIT_WORDS[unit]}{'' if n == 1 else 's'}"


def resolve_relative(atom: Relative, ctx: Context, event_base: str | None) -> When:
    if event_base:
        raise Unresolvable(f"counted from {event_base.rstrip('的')}, an event whose date the text does not give", 0.8)
    if atom.base is None:  # 一个月内完成: within a month of what? never a guess
        raise Unresolvable(f"{atom.label}: a period with no start: the text does not say from when it counts", 0.8)
    issue = ctx.issue(f"{atom.label}: a relative date without a base")
    end, extra, factor = shift(issue, atom.n, atom.unit)
    calendar_word = " on the official calendar" if atom.unit == "workday" else ""
    counted = f"counted {quantity(atom.n, atom.unit)} from the issue date {issue}{calendar_word}"
    if atom.base == "issue":  # 自印发之日起30日内: a window that opens on the issue date
        notes = [f"{counted} (自印发之日起)", *extra]
        return When(kind="range", start=issue.isoformat(), end=end.isoformat(),
                    confidence=min(FROM_ISSUE_YEAR, factor), notes=notes)  # fmt: skip
    notes = [f"{counted}: assumption, the day of receipt is not known so the issue date stands in"]
    return When(kind="date", end=end.isoformat(), confidence=min(ASSUMED_BASE, factor), notes=notes + list(extra))
