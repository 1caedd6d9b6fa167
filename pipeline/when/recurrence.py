"""Recurring duties as RFC 5545 RRULEs: `每季度末前5个工作日`, `每月5日前`, `每周五`.

In: a match of 每/按 + a period (+ a day, a part, an offset).  Out: a `Recurring` atom holding
the RRULE, any notes and the working-day offset per occurrence; `recurrence_label` names a rule
(yearly, quarterly, …) for `Deadline.recurring`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time

from dateutil.rrule import rrulestr

from pipeline.when.numerals import COUNT, DAY, MONTH, TIME, WEEKDAY_CHARS, number, time_of, weekday_of
from pipeline.when.offsets import due_on, quantity


@dataclass(frozen=True)
class Recurring:
    rrule: str
    notes: tuple[str, ...] = ()
    offset_workdays: int | None = None  # 前5个工作日 → 5; 结束后10个工作日内 → -10 (after)

# 每年, 每年12月25日前, 每季度末前5个工作日, 每月5日前, 每周五, 每两周, 按季度
RECURRING_RE = re.compile(
    r"(?:每隔(?P<gap>[一两二三1-3])个?|(?:每|按)一?个?(?P<n>[两二三四五六2-6双])?个?)(?P<unit>年度?|半年|季度?|月度?|周|星期|日|天|工作日)"
    rf"(?:的?(?P<ym>{MONTH})月份?(?:(?P<yd>{DAY})[日号]|(?P<ypart>上中旬|中下旬|上旬|中旬|下旬|底|末))?"
    rf"(?P<ymore>(?:(?:之前|以前|前)?(?:以及|和|及|与|、){MONTH}月份?(?:{DAY}[日号]|底|末)?)+)?"
    r"|的?(?P<yq>第?[一二三四1-4]季度(?:末|底)?|上半年|下半年)"
    rf"|(?:首月|第一个月)(?P<qd>{DAY})[日号]|(?:末月|最后一个月)(?P<qe>{DAY})[日号]"
    rf"|(?P<md>{DAY})[日号](?P<mdmore>(?:(?:之前|以前|前)?(?:以及|和|及|与|、){DAY}[日号])+)?"
    rf"|(?<=[周期])(?P<wd>[{WEEKDAY_CHARS}](?:[、,和及][{WEEKDAY_CHARS}])*)(?![\d月日号])"
    r"|(?P<part>年底|年末|上旬|中旬|下旬|底|末|初))?"
    rf"(?:{TIME})?"
    rf"(?:(?P<ended>结束)?后(?P<an>{COUNT})(?P<au>个?工作日|日|天)(?:内|以内)?"
    rf"|前(?P<bn>{COUNT})个?工作日|最后(?P<ln>{COUNT})个?工作日"
    r"|(?:之前|以前|前)(?![\d一二两三四五六七八九十]))?"
)


# -- Recurring duties → RRULE ----------------------------------------------------------------

_FREQ = {"年": "YEARLY", "年度": "YEARLY", "半年": "MONTHLY", "季": "MONTHLY", "季度": "MONTHLY",
         "月": "MONTHLY", "月度": "MONTHLY", "周": "WEEKLY", "星期": "WEEKLY", "日": "DAILY",
         "天": "DAILY", "工作日": "WEEKLY"}  # fmt: skip
_BASE_INTERVAL = {"半年": 6, "季": 3, "季度": 3}
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_PERIOD_ENDS = {"季": "3,6,9,12", "季度": "3,6,9,12", "半年": "6,12"}
_PERIOD_STARTS = {"季": "1,4,7,10", "季度": "1,4,7,10", "半年": "1,7"}
# 月初 is read as the first ten days, as 上旬 (a duty 每月初 is due by the 10th)
_DAY_OF_PART = {"上旬": 10, "中旬": 20, "下旬": -1, "上中旬": 20, "中下旬": -1, "底": -1, "末": -1, "年底": -1,
                "年末": -1, "初": 10}  # fmt: skip
# 每年第一季度末, 每年上半年: the last day of that part of each year
_YEAR_PART_ENDS = {"1": (3, 31), "2": (6, 30), "3": (9, 30), "4": (12, 31), "一": (3, 31), "二": (6, 30),
                   "三": (9, 30), "四": (12, 31), "上半年": (6, 30), "下半年": (12, 31)}  # fmt: skip
# 双月 is the even months (双 = even), 双周 every second week.
_EVEN_MONTHS = "2,4,6,8,10,12"
_WEEKDAY_CHAR_RE = re.compile(rf"[{WEEKDAY_CHARS}]")
_RECURRENCE_LABELS = {"YEARLY": "yearly", "MONTHLY": "monthly", "WEEKLY": "weekly", "DAILY": "daily"}


def recurring_atom(m: re.Match[str]) -> Recurring | None:
    unit = m.group("unit")
    freq = _FREQ[unit]
    n = 2 if m.group("n") == "双" else number(m.group("n")) if m.group("n") else 1
    if m.group("gap"):  # 每隔一周: every other week, one period skipped between two
        n = number(m.group("gap")) + 1
    interval = _BASE_INTERVAL.get(unit, 1) * n
    parts: dict[str, str] = {}
    notes: list[str] = []
    part = m.group("part")

    if m.group("ym"):  # 每年12月25日 / 每年6月底 / 每年6月30日和12月31日
        if freq != "YEARLY":
            return None
        first_day = number(m.group("yd")) if m.group("yd") else _DAY_OF_PART.get(m.group("ypart") or "")
        dates = [(number(m.group("ym")), first_day)]
        dates += [(number(d.group("m")), number(d.group("d")) if d.group("d") else -1 if d.group("end") else None)
                  for d in _MONTH_DAY_RE.finditer(m.group("ymore") or "")]  # fmt: skip
        yearly = _dates_each_year(dates)
        if yearly is None:
            return None
        freq, by, note = yearly
        parts.update(by)
        notes += [note] if note else []
    elif m.group("yq"):  # 每年第一季度末, 每年上半年: by the last day of that part of the year
        if freq != "YEARLY":
            return None
        key = m.group("yq").lstrip("第")
        month, day = _YEAR_PART_ENDS[key if "半年" in key else key[0]]
        parts.update(BYMONTH=str(month), BYMONTHDAY=str(day))
    elif m.group("wd"):  # 每周五, 每周一、三
        if freq != "WEEKLY" or unit == "工作日":
            return None
        days = [weekday_of(ch) for ch in _WEEKDAY_CHAR_RE.findall(m.group("wd"))]
        parts["BYDAY"] = ",".join(_BYDAY[d - 1] for d in days if d)
    elif m.group("qd"):  # 每季度首月10日
        if unit not in _PERIOD_STARTS:
            return None
        parts["BYMONTH"] = _PERIOD_STARTS[unit]
        parts["BYMONTHDAY"] = str(number(m.group("qd")))
        interval = 1
    elif m.group("qe"):  # 每季度末月20日: that day of each period's last month
        if unit not in _PERIOD_ENDS:
            return None
        parts["BYMONTH"] = _PERIOD_ENDS[unit]
        parts["BYMONTHDAY"] = str(number(m.group("qe")))
        interval = 1
    elif m.group("md"):  # 每月5日, 每月10日、25日
        if freq != "MONTHLY" or unit in _PERIOD_ENDS:
            return None
        days = [number(m.group("md"))] + [number(d) for d in _DAY_NUMBER_RE.findall(m.group("mdmore") or "")]
        parts["BYMONTHDAY"] = ",".join(str(day) for day in sorted(set(days)))
    elif part:  # 每月底, 每季度末, 每年年底
        if freq == "YEARLY" and part in ("底", "末", "年底", "年末"):
            parts.update(BYMONTH="12", BYMONTHDAY="31")
        elif unit in _PERIOD_ENDS and part in ("底", "末"):
            parts.update(BYMONTH=_PERIOD_ENDS[unit], BYMONTHDAY="-1")
            interval = 1
        elif freq == "MONTHLY" and unit not in _PERIOD_ENDS:
            parts["BYMONTHDAY"] = str(_DAY_OF_PART[part])
        else:
            return None

    offset = _recurring_offset(m, unit, parts)
    if offset is None and m.group("an"):
        return None  # 每周后3日: not a form notices use
    offset_workdays = None
    if offset is not None:
        note, offset_workdays = offset
        if "BYMONTHDAY" not in parts and (m.group("an") or m.group("ln")):
            interval = _mark_period_end(unit, parts, interval)
        notes.append(note)

    if m.group("n") == "双" and unit in ("月", "月度") and "BYMONTH" not in parts:  # 每双月: the even months
        parts = {"BYMONTH": _EVEN_MONTHS, "BYMONTHDAY": "-1", **parts}
        interval = 1
    elif unit in _PERIOD_ENDS and n == 1 and not parts:  # 每季度, 每半年: due at each period's end
        parts.update(BYMONTH=_PERIOD_ENDS[unit], BYMONTHDAY="-1")
        interval = 1
    if unit == "工作日":
        parts["BYDAY"] = "MO,TU,WE,TH,FR"
        notes.append("every working day: official holidays and 调休 working weekends apply per occurrence")
    time = time_of(m)
    if time and time[0] < 24:
        parts.update(BYHOUR=str(time[0]), BYMINUTE=str(time[1]))

    rule = [f"FREQ={freq}"]
    if interval > 1:
        rule.append(f"INTERVAL={interval}")
    rule += [f"{key}={value}" for key, value in parts.items()]
    return Recurring(";".join(rule), tuple(notes), offset_workdays)


_MONTH_DAY_RE = re.compile(rf"(?P<m>{MONTH})月份?(?:(?P<d>{DAY})[日号]|(?P<end>底|末))?")
_DAY_NUMBER_RE = re.compile(rf"({DAY})[日号]")
# Month lengths that hold in every year: a February day above 28 is not in every year.
_SHORTEST_MONTH = {month: 28 if month == 2 else calendar.monthrange(2001, month)[1] for month in range(1, 13)}


def _dates_each_year(dates: list[tuple[int, int | None]]) -> tuple[str, dict[str, str], str | None] | None:
    """FREQ, BY-parts and a note for a duty on one or more dates each year (RFC 5545 §3.3.10).

    One date: `FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=15`.  Several dates must come out as ONE rule
    whose set is exactly those dates, so that `每年6月30日和12月31日前` is a single half-yearly duty:
    month ends (the 30th of June counts as June's end) give `FREQ=MONTHLY;BYMONTH=6,12;BYMONTHDAY=-1`,
    the same day in every month `FREQ=MONTHLY;BYMONTH=3,9;BYMONTHDAY=15` (the form the quarterly
    rules already use).  Different days need `BYSETPOS`: BYMONTH × BYMONTHDAY makes a cross product,
    and the positions pick the printed pairs out of it, which is only exact when every product date
    exists in every year (§3.3.10: invalid dates are ignored and would shift the positions); a set
    that cannot be written exactly keeps its first date and says what was left out.
    """
    if len(dates) == 1:  # 每年11月 with no day: by the month's end, as several months are
        month, day = dates[0]
        return "YEARLY", {"BYMONTH": str(month), "BYMONTHDAY": str(day if day is not None else -1)}, None
    if len({month for month, _ in dates}) < len(dates):
        return None
    if all(day is None for _, day in dates):  # 每年3月和9月: by the end of each month named
        months = ",".join(str(month) for month in sorted(month for month, _ in dates))
        return "MONTHLY", {"BYMONTH": months, "BYMONTHDAY": "-1"}, "months named without a day: due by each month's end"
    if any(day is None for _, day in dates) and {day for _, day in dates} == {None, -1}:
        # 每年3月和9月底前: 底 after the last month holds for every month of the list
        dates = [(month, -1) for month, _ in dates]
    elif any(day is None for _, day in dates):
        return None
    # A month's printed last day (6月30日) is its end, -1; February's 28th is not (leap years).
    ends = sorted((month, -1 if month != 2 and day == _SHORTEST_MONTH[month] else day) for month, day in dates)
    months = ",".join(str(month) for month, _ in ends)
    if len({day for _, day in ends}) == 1:
        return "MONTHLY", {"BYMONTH": months, "BYMONTHDAY": str(ends[0][1])}, None
    actual = [(month, _SHORTEST_MONTH[month] if day == -1 else day) for month, day in ends]
    days = sorted({day for _, day in actual})
    if (2, -1) in ends or any(day > _SHORTEST_MONTH[month] for month, _ in actual for day in days):
        rest = "、".join(f"{month}月{'底' if day == -1 else f'{day}日'}" for month, day in ends[1:])
        note = f"one rule cannot hold all the dates: only the first is kept, also due {rest} each year"
        return "YEARLY", {"BYMONTH": str(ends[0][0]), "BYMONTHDAY": str(ends[0][1])}, note
    positions = [i * len(days) + days.index(day) + 1 for i, (_, day) in enumerate(actual)]
    by = {"BYMONTH": months, "BYMONTHDAY": ",".join(map(str, days)), "BYSETPOS": ",".join(map(str, positions))}
    return "YEARLY", by, None


def _recurring_offset(m: re.Match[str], unit: str, parts: dict[str, str]) -> tuple[str, int | None] | None:
    """The note and the working-day offset for 前5个工作日 / 结束后10日内 / 最后3个工作日 after a
    recurring period; for 前N个工作日 with no period end printed (每月前5个工作日) it also anchors
    the rule on the period start.

    The offset is what `When.offset_workdays` carries: N for 每季度末前N个工作日 (due N working
    days before each occurrence), -N for 结束后N个工作日内 (N working days after it); None where
    the due day is not a working-day shift of the occurrence (每月前5个工作日, 结束后10日内).
    """
    per_occurrence = "counted per occurrence on the official calendar (pipeline.when.workdays)"
    if m.group("bn"):
        n = number(m.group("bn"))
        if "BYMONTHDAY" in parts:  # 每季度末前5个工作日
            return f"{quantity(n, 'workday')} before each occurrence; working days are {per_occurrence}", n
        if unit in _PERIOD_STARTS:
            parts.update(BYMONTH=_PERIOD_STARTS[unit], BYMONTHDAY="1")
        elif _FREQ[unit] == "MONTHLY":
            parts["BYMONTHDAY"] = "1"
        return f"within the first {quantity(n, 'workday')} of each period; working days are {per_occurrence}", None
    if m.group("ln"):  # 最后1个工作日, 最后3个工作日: due by the last working day of each period
        n = number(m.group("ln"))
        within = f"within the last {quantity(n, 'workday')}; " if n > 1 else ""
        return f"{within}due on the last working day of each period, {per_occurrence}", 0
    if m.group("an") and m.group("ended"):
        n = number(m.group("an"))
        unit_word = "workday" if "工作日" in m.group("au") else "day"
        counted = per_occurrence if unit_word == "workday" else "counted per occurrence"
        note = f"within {quantity(n, unit_word)} after each period ends (the rule marks the period end); {counted}"
        return note, -n if unit_word == "workday" else None
    return None


def _mark_period_end(unit: str, parts: dict[str, str], interval: int) -> int:
    """Anchor a rule on the last day of each period (for 结束后N日内, 最后N个工作日); returns the interval."""
    if unit in _PERIOD_ENDS:  # quarter / half-year ends: months 3,6,9,12 or 6,12
        parts.update(BYMONTH=_PERIOD_ENDS[unit], BYMONTHDAY="-1")
        return 1
    if _FREQ[unit] == "YEARLY":
        parts.update(BYMONTH="12", BYMONTHDAY="31")
    elif _FREQ[unit] == "MONTHLY":
        parts["BYMONTHDAY"] = "-1"
    return interval


def recurrence_label(rrule: str) -> str | None:
    """yearly / half-yearly / quarterly / monthly / weekly / daily for an RRULE (for `Deadline.recurring`).

    A rule listing months is named by how many it lists, whatever its FREQ: one month is yearly,
    two half-yearly (`BYMONTH=6,12`), four quarterly (`BYMONTH=3,6,9,12`).
    """
    fields = dict(item.split("=", 1) for item in rrule.split(";") if "=" in item)
    freq = fields.get("FREQ")
    months = fields.get("BYMONTH", "")
    by_count = {1: "yearly", 2: "half-yearly", 4: "quarterly", 6: "bimonthly"}
    if freq in ("YEARLY", "MONTHLY") and months and months.count(",") + 1 in by_count:
        return by_count[months.count(",") + 1]
    if freq == "MONTHLY":
        interval = int(fields.get("INTERVAL", "1"))
        if interval == 6:
            return "half-yearly"
        if interval == 3:
            return "quarterly"
    if freq == "WEEKLY" and fields.get("BYDAY", "").count(",") >= 4:
        return "daily"  # every working day
    return _RECURRENCE_LABELS.get(freq or "")


# RRULE parts that pick days (RFC 5545 §3.3.10); a rule with none of them recurs on its DTSTART's day.
_DAY_PARTS = ("BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS", "BYYEARDAY", "BYWEEKNO")


def anchor_rule(rrule: str) -> str:
    """The rule with its due day made explicit: the last day of each period when it names none.

    `FREQ=YEARLY` → `FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31`; `FREQ=MONTHLY;INTERVAL=3` (每季度) →
    `FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1`; `FREQ=MONTHLY;INTERVAL=6` (每半年) → months 6
    and 12; `FREQ=MONTHLY` → `BYMONTHDAY=-1`; `FREQ=WEEKLY` → Friday.  Rules that name a day,
    and daily rules, are returned unchanged.  See `pipeline.tasks.records` for why.
    """
    parts = dict(item.split("=", 1) for item in rrule.split(";") if "=" in item)
    if any(key in parts for key in _DAY_PARTS):
        return rrule
    freq, interval = parts.get("FREQ"), int(parts.get("INTERVAL", "1"))
    day: dict[str, str] = {}
    if freq == "YEARLY":
        day = {"BYMONTH": "12", "BYMONTHDAY": "31"}
    elif freq == "MONTHLY" and interval in (3, 6):
        day = {"BYMONTH": "3,6,9,12" if interval == 3 else "6,12", "BYMONTHDAY": "-1"}
        parts.pop("INTERVAL")
    elif freq == "MONTHLY":
        day = {"BYMONTHDAY": "-1"}
    elif freq == "WEEKLY":
        day = {"BYDAY": "FR"}
    else:
        return rrule
    rest = {key: value for key, value in parts.items() if key != "FREQ"}
    return ";".join(f"{key}={value}" for key, value in {"FREQ": freq, **rest, **day}.items())


def first_due(rrule: str, offset_workdays: int | None, since: date) -> tuple[str | None, tuple[str, ...]]:
    """The first due day of a rule on or after `since` (the issue date), its working-day offset
    applied, as ISO (a datetime when the rule has BYHOUR), and any notes on the count; None when
    the rule's UNTIL ends before it.  Expanded with dateutil (RFC 5545 §3.3.10)."""
    fields = dict(item.split("=", 1) for item in anchor_rule(rrule).split(";") if "=" in item)
    until = fields.pop("UNTIL", None)
    last = date(int(until[:4]), int(until[4:6]), int(until[6:8])) if until else None
    # A due day N working days after its rule date (结束后N个工作日内) may fall on or after `since`
    # while the rule date is before it: begin that much earlier (N working days span at most
    # 2N + 14 calendar days, the longest holiday block included).
    lookback = 2 * -offset_workdays + 14 if (offset_workdays or 0) < 0 else 0
    begin = date.fromordinal(since.toordinal() - lookback)
    rule = rrulestr(";".join(f"{k}={v}" for k, v in fields.items()), dtstart=datetime.combine(begin, time()))
    for when in rule:
        if last is not None and when.date() > last:
            return None, ()
        due, notes, _ = due_on(when.date(), offset_workdays)
        if due < since:
            continue
        if "BYHOUR" in fields:
            return datetime.combine(due, when.time()).isoformat(timespec="minutes"), notes
        return due.isoformat(), notes
    return None, ()
