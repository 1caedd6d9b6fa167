"""Absolute dates: printed calendar dates, months, years and their parts, and their days.

In: a match of a date pattern (`二〇二四年十一月二十日`, `2024-11-20`, `11月中旬`, `年底`, `一季度`,
`本月底`, `2024—2026年`, `下午5时`).  Out: a `Cal` atom, and with `place` the days it covers,
its year taken from what is printed, the first end of a range, the issue date or the 文号.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date

from pipeline.when.context import (
    APPROXIMATE,
    BARE_YEAR,
    EXPLICIT,
    FROM_ISSUE_YEAR,
    ROLLED,
    ROLL_AFTER,
    SUSPECT,
    Context,
    Span,
    Unresolvable,
)
from pipeline.when.numerals import (
    CONNECTOR_RE,
    DAY,
    MONTH,
    MONTH_PART,
    NOT_AFTER_NUMBER,
    TIME,
    WEEKDAY,
    YEAR,
    YEAR_PART,
    number,
    time_of,
    weekday_of,
    year_fields,
)


# -- Atoms: what the regexes find before context is considered --------------------------------


@dataclass(frozen=True)
class Cal:
    """A calendar date as printed; any part may be missing."""

    year: int | None = None
    year_rel: int | None = None  # 今年 0, 明年 +1, 去年 -1
    month: int | None = None
    month_rel: int | None = None  # 本月/月底 0, 下月 +1
    day: int | None = None
    part: str | None = None  # see _MONTH_PARTS / _YEAR_PARTS; "Qcur" = this quarter
    weekday: int | None = None  # ISO weekday printed in brackets
    time: tuple[int, int] | None = None


@dataclass(frozen=True)
class TimeOfDay:
    time: tuple[int, int]


@dataclass(frozen=True)
class YearRange:
    first: int
    last: int


@dataclass(frozen=True)
class MonthRange:
    """4-5月, 2025年3—4月: two months, the first printed without 月."""

    first: Cal
    last: Cal


@dataclass(frozen=True)
class Blank:
    """A form's date line left to be filled in: 2025年 月 日, ____年__月__日."""

    label: str


def _standalone_time_ok(m: re.Match[str]) -> bool:
    """A time with no date must look like one: 17:00, 17时, 下午5点 (not 三点要求)."""
    return bool(m.group("ap") or m.group("colon") or (m.group("tu") == "时" and m.group("h").isascii()))

_RELATIVE_MONTHS = {"本月": 0, "当月": 0, "下月": 1, "下个月": 1, "次月": 1}
_MONTH_PARTS = {"上旬": "early", "中旬": "mid", "下旬": "late", "上中旬": "early-mid", "中下旬": "mid-late",
                "底": "end", "末": "end", "初": "begin"}  # fmt: skip
_QUARTERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _year_part(token: str | None) -> str | None:
    """底/末 → end, 初 → begin, 内 → within, 上半年 → H1, 第三季度末 → Q3."""
    if not token:
        return None
    if "季度" in token:
        return f"Q{_QUARTERS[token.lstrip('第')[0]]}"
    return {"底": "end", "末": "end", "初": "begin", "内": "within", "以内": "within",
            "上半年": "H1", "下半年": "H2"}[token.removeprefix("年") or token]  # fmt: skip


# -- the atom patterns, each with the function that turns a match into an atom ----------------

_RELATIVE_MONTH = r"(?P<rm>本月|当月|下个?月|次月)"
# A day printed without 日 where nothing else can follow the number: 10月10前, 6月3-7日, 7月16、17日,
# 2011年9月5 at a clause end (typed notices drop the 日 often enough to matter).
_LOOSE_DAY_END = rf"(?=(?:之|以)?前|止|(?:{CONNECTOR_RE.pattern}|、|和|及){DAY}[日号]|[,;。]|$)"
# 二〇二四年十一月二十日, 11月20日（星期三）下午5时, 明年3月1日, 下月10日
DAY_RE = re.compile(
    rf"{NOT_AFTER_NUMBER}(?:{YEAR})?(?:(?P<m>{MONTH})月|{_RELATIVE_MONTH})(?P<d>{DAY})(?:[日号]|{_LOOSE_DAY_END})"
    rf"{WEEKDAY}?(?:{TIME})?"
)
# 2024-11-20, 2024.11.20, 2024/11/20
NUMERIC_RE = re.compile(
    r"(?<!\d)(?P<y>\d{4})(?P<sep>[-./])(?P<m>1[0-2]|0?[1-9])(?P=sep)(?P<d>3[01]|[12]\d|0?[1-9])(?!\d)"
    rf"{WEEKDAY}?(?:{TIME})?"
)
# 11月, 12月底, 11月中旬, 本月底, 下月
MONTH_RE = re.compile(
    rf"{NOT_AFTER_NUMBER}(?:{YEAR})?(?:(?P<m>{MONTH})月份?|{_RELATIVE_MONTH}){MONTH_PART}?"
)
# 2024年, 2024年底, 2025年上半年, 2024年第一季度, 明年底
YEAR_RE = re.compile(rf"(?<!\d){YEAR}{YEAR_PART}?")
# 年底, 年内, 上半年, 一季度, 季度末, 本季度, 月底 (no year or month printed)
BARE_PART_RE = re.compile(
    r"(?P<w>全年度?|年底|年末|年初|年内|上半年|下半年|(?P<q>第?[一二三四1-4])季度(?P<qe>末|底)?|本?季度末|本季度|月底|月末|月初)"
)
# 4-5月, 2025年3至4月 (the first month printed without 月)
MONTH_RANGE_RE = re.compile(
    rf"{NOT_AFTER_NUMBER}(?:{YEAR})?(?P<m1>{MONTH})(?:{CONNECTOR_RE.pattern})(?P<m2>{MONTH})月份?"
)
# 2025年 月 日, ____年__月__日: a form's date line, spaces already dropped by folding
BLANK_RE = re.compile(rf"(?:(?<!\d){YEAR}|_+年)_*月_*日")
# 2024—2026年 (the first year printed without 年)
YEAR_RANGE_RE = re.compile(r"(?<!\d)(?P<y1>\d{4})(?:至|到|——|—|－|-|~|〜|–)(?P<y2>\d{4})年")

TIME_RE = re.compile(rf"{NOT_AFTER_NUMBER}{TIME}")


def cal_from_day(m: re.Match[str]) -> Cal | None:
    rm = m.groupdict().get("rm")
    return Cal(
        **year_fields(m),
        month=number(m.group("m")) if m.group("m") else None,
        month_rel=_RELATIVE_MONTHS[rm] if rm else None,
        day=number(m.group("d")),
        weekday=weekday_of(m.group("wd")),
        time=time_of(m),
    )


def cal_from_month(m: re.Match[str]) -> Cal | None:
    rm = m.group("rm")
    return Cal(
        **year_fields(m),
        month=number(m.group("m")) if m.group("m") else None,
        month_rel=_RELATIVE_MONTHS[rm] if rm else None,
        part=_MONTH_PARTS.get(m.group("part") or ""),
    )


def cal_from_year(m: re.Match[str]) -> Cal | None:
    if m.group("ry") and not m.group("part"):
        return None  # 今年是…, 当年资金: a bare 今年 is not a date (今年底, 明年3月 are)
    return Cal(**year_fields(m), part=_year_part(m.group("part")))


def cal_from_bare_part(m: re.Match[str]) -> Cal | None:
    word = m.group("w")
    if word.startswith("全年"):  # 全年, 全年度: the whole year
        return Cal(part="whole")
    if word.startswith("月"):  # 月底 / 月末 / 月初: this month
        return Cal(month_rel=0, part=_MONTH_PARTS[word[1]])
    if m.group("q"):  # 一季度, 第三季度末
        return Cal(part=f"Q{_QUARTERS[m.group('q').lstrip('第')]}")
    if "季度" in word:  # 季度末, 本季度: the quarter of the issue date
        return Cal(part="Qcur")
    return Cal(part=_year_part(word))  # 年底, 年内, 上半年 ...


def month_range_atom(m: re.Match[str]) -> MonthRange | None:
    fields = year_fields(m)
    return MonthRange(Cal(**fields, month=number(m.group("m1"))), Cal(**fields, month=number(m.group("m2"))))


def blank_atom(m: re.Match[str]) -> Blank | None:
    return Blank(m.group())


def year_range_atom(m: re.Match[str]) -> YearRange | None:
    first, last = int(m.group("y1")), int(m.group("y2"))
    return YearRange(first, last) if first <= last else None


def standalone_time_atom(m: re.Match[str]) -> TimeOfDay | None:
    time = time_of(m)
    return TimeOfDay(time) if time and _standalone_time_ok(m) else None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(d: date, months: int) -> date:
    total = d.year * 12 + d.month - 1 + months
    year, month = divmod(total, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def _month_bounds(year: int, month: int, part: str | None) -> tuple[date, date, str | None]:
    end = _month_end(year, month)
    match part:
        case "early":
            return date(year, month, 1), date(year, month, 10), "上旬 read as the 1st to the 10th"
        case "mid":
            return date(year, month, 11), date(year, month, 20), "中旬 read as the 11th to the 20th"
        case "late":
            return date(year, month, 21), end, "下旬 read as the 21st to the month's last day"
        case "early-mid":
            return date(year, month, 1), date(year, month, 20), "上中旬 read as the 1st to the 20th"
        case "mid-late":
            return date(year, month, 11), end, "中下旬 read as the 11th to the month's last day"
        case "end":
            return end, end, None
        case "begin":
            return date(year, month, 1), date(year, month, 10), "月初 read as the 1st to the 10th"
        case _:
            return date(year, month, 1), end, "a whole month: read as by its last day"


def _year_bounds(year: int, part: str | None) -> tuple[date, date, str | None]:
    if part and part.startswith("Q"):
        q = int(part[1])
        return date(year, 3 * q - 2, 1), _month_end(year, 3 * q), None
    match part:
        case "end":
            return date(year, 12, 1), date(year, 12, 31), None
        case "begin":
            return date(year, 1, 1), date(year, 1, 31), "年初 read as January"
        case "within":
            return date(year, 1, 1), date(year, 12, 31), None
        case "whole":
            return date(year, 1, 1), date(year, 12, 31), "全年: the whole year"
        case "H1":
            return date(year, 1, 1), date(year, 6, 30), None
        case "H2":
            return date(year, 7, 1), date(year, 12, 31), None
        case _:
            return date(year, 1, 1), date(year, 12, 31), "a bare year: read as by its last day"


def _approximation(cal: Cal) -> float:
    if cal.day is not None:
        return EXPLICIT
    if cal.month is None and cal.month_rel is None and cal.part is None:
        return BARE_YEAR
    if cal.part in ("end", "within") or (cal.part or "").startswith("Q") or cal.part in ("H1", "H2"):
        return EXPLICIT
    return APPROXIMATE


def _bounds(cal: Cal, year: int, month: int | None) -> tuple[date, date, str | None]:
    if cal.day is not None:
        if month is None:
            raise Unresolvable("a day with no month")
        try:
            d = date(year, month, cal.day)
        except ValueError:
            raise Unresolvable(f"no such date: {year}-{month:02d}-{cal.day:02d}", 0.3) from None
        return d, d, None
    if month is not None:
        return _month_bounds(year, month, cal.part)
    return _year_bounds(year, cal.part)


def place(cal: Cal, ctx: Context, *, roll: bool, carry: Span | None = None) -> Span:
    """Resolve a calendar atom to days, its year (and month) taken from what is printed, the
    first end of a range (`carry`), the issue date or the year hint, in that order."""
    choice = _choose_year(cal, ctx, carry)
    cal, year, month, notes, confidence = choice.cal, choice.year, choice.month, list(choice.notes), choice.confidence
    first, last, part_note = _bounds(cal, year, month)
    if carry is not None and cal.year is None and last < carry.first:
        # 12月20日至1月10日 → next year; 10月25日至5日 → next month
        if cal.month is None and cal.day is not None:
            nxt = add_months(date(year, month or 1, 1), 1)
            year, month = nxt.year, nxt.month
        else:
            year += 1
        first, last, part_note = _bounds(cal, year, month)
    elif roll and choice.may_roll and ctx.issue_date is not None and last < ctx.issue_date:
        behind = ctx.issue_date - last
        if behind > ROLL_AFTER:  # a December notice about 2月底前
            year += 1
            first, last, part_note = _bounds(cal, year, month)
            notes.append(f"year {year}: in {year - 1} the date would fall before the issue date {ctx.issue_date}")
            confidence = min(confidence, ROLLED)
        else:  # a late forward or a reference back: safer shown as passed than pushed a year out
            notes.append(f"{last} is {behind.days} days before the issue date {ctx.issue_date}: "
                         f"kept in {year} (already passed, or a reference back; check)")  # fmt: skip
            confidence = min(confidence, SUSPECT)
    if part_note:
        notes.append(part_note)
    span = Span(first, last, cal.time, tuple(notes), min(confidence, _approximation(cal)), year)
    return _check_weekday(span, cal)


@dataclass(frozen=True)
class _YearChoice:
    cal: Cal  # with 本季度 made concrete
    year: int
    month: int | None
    notes: tuple[str, ...]
    confidence: float
    may_roll: bool  # taken from the issue year, so a date before the issue date means next year


def _choose_year(cal: Cal, ctx: Context, carry: Span | None) -> _YearChoice:
    if cal.year is not None:
        return _YearChoice(cal, cal.year, cal.month, (), EXPLICIT, False)
    if cal.year_rel is not None:  # 明年3月底, 今年年底
        base, source, confidence = ctx.base_year("今年/明年")
        year = base + cal.year_rel
        return _YearChoice(cal, year, cal.month, (f"year {year} counted from {source}",), confidence, False)
    if cal.month_rel is not None:  # 本月底, 下月10日
        issue = ctx.issue("本月/下月")
        shifted = add_months(issue.replace(day=1), cal.month_rel)
        note = f"month {shifted.year}-{shifted.month:02d} from the issue date {issue}"
        return _YearChoice(cal, shifted.year, shifted.month, (note,), FROM_ISSUE_YEAR, False)
    if cal.part == "Qcur":  # 本季度末, 季度末
        issue = ctx.issue("季度末")
        quarter = replace(cal, part=f"Q{(issue.month - 1) // 3 + 1}")
        return _YearChoice(quarter, issue.year, None, (f"the quarter of the issue date {issue}",),
                           FROM_ISSUE_YEAR, False)  # fmt: skip
    if carry is not None:  # the second end of a range: 10月9日至15日
        month = cal.month or (carry.first.month if cal.day is not None else None)
        return _YearChoice(cal, carry.year or carry.first.year, month, (), carry.confidence, False)
    year, source, confidence = ctx.base_year("date")
    return _YearChoice(cal, year, cal.month, (f"year {year} from {source}",), confidence, True)


def _check_weekday(span: Span, cal: Cal) -> Span:
    if cal.weekday is None or span.first != span.last:
        return span
    if span.last.isoweekday() != cal.weekday:
        printed = "一二三四五六日"[cal.weekday - 1]
        actual = "一二三四五六日"[span.last.isoweekday() - 1]
        return span.but(f"the printed 星期{printed} does not match {span.last} (星期{actual}): check the date",
                        confidence=SUSPECT)  # fmt: skip
    return span


def place_time(atom: TimeOfDay, carry: Span) -> Span:
    return replace(carry, first=carry.last, time=atom.time)
