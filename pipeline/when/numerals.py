"""Numerals and the regex fragments the atom patterns share: years, months, days, counts,
weekdays and times of day, Arabic or Chinese (`2024`, `二〇二四`, `十一`, `两`).
"""

from __future__ import annotations

import re

import cn2an


# -- Numerals ---------------------------------------------------------------------------------


def number(token: str) -> int:
    """Arabic or Chinese numeral → int (`2024`, `二〇二四`, `十一`, `两`)."""
    if token.isascii():
        return int(token)
    return int(cn2an.cn2an(token, "normal"))


# -- Regex fragments shared by the atom patterns ----------------------------------------------

_CN_DIGITS = "〇零一二三四五六七八九十两"
NOT_AFTER_NUMBER = rf"(?<![\d{_CN_DIGITS}])"
_Y = r"(?:\d{4}|[〇零一二三四五六七八九]{4})"
MONTH = r"(?:1[0-2]|0?[1-9]|十[一二]|[一二三四五六七八九十])"
DAY = r"(?:3[01]|[12]\d|0?[1-9]|三十一?|[二两]十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
COUNT = r"(?:\d+|[一二两三四五六七八九十百]+)"
WEEKDAY_CHARS = "一二三四五六日天1234567"
YEAR = r"(?:(?P<y>" + _Y + r")年度?|(?P<ry>今年|本年度?|当年|明年|次年|翌年|来年|去年|上年))"
WEEKDAY = rf"(?:\((?:星期|周|礼拜)(?P<wd>[{WEEKDAY_CHARS}])\))"
TIME = (
    r"(?:(?P<ap>上午|下午|中午|晚上|傍晚|凌晨|早上|早晨|晚)?"
    r"(?P<h>2[0-4]|[01]?\d|二十[一二三四]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
    r"(?:(?P<colon>:)(?P<mi>[0-5]\d)"
    r"|(?P<tu>[时点])(?:(?P<mi2>[0-5]?\d|[一二三四五]?十[一二三四五六七八九]?|[一二三四五六七八九])分|(?P<half>半)|整)?))"
)
MONTH_PART = r"(?P<part>上中旬|中下旬|上旬|中旬|下旬|底|末|初)"
YEAR_PART = r"(?P<part>年?底|年?末|年?初|年?内|以内|上半年|下半年|第?[一二三四1-4]季度(?:末|底)?)"
# 至, 到, dashes and tildes, doubled as some notices print them (6月5日--15日)
CONNECTOR_RE = re.compile(r"(?:起)?(?:至|到|[—－\-~〜–]{1,2})")


def time_of(m: re.Match[str]) -> tuple[int, int] | None:
    """The (hour, minute) of a TIME match in 24-hour form; 24:00 is kept as (24, 0)."""
    if not m.group("h"):
        return None
    hour = number(m.group("h"))
    if m.group("colon"):
        minute = int(m.group("mi"))
    elif m.group("half"):
        minute = 30
    elif m.group("mi2"):
        minute = number(m.group("mi2"))
    else:
        minute = 0
    ap = m.group("ap")
    if ap in ("下午", "晚上", "傍晚", "晚") and hour < 12:
        hour += 12  # 下午5时 → 17:00; 下午15时 is already 24-hour
    elif ap == "中午" and hour < 6:
        hour += 12  # 中午1点 → 13:00; 中午12点 and 上午12时 are noon
    elif ap in ("晚上", "晚") and hour == 12:
        hour = 24
    if hour > 24 or (hour == 24 and minute):
        return None
    return hour, minute


def weekday_of(token: str | None) -> int | None:
    """ISO weekday of 一..六/日/天 or 1..7 (as printed after 星期 / 周)."""
    if not token:
        return None
    if token.isdigit():
        return int(token)
    return 7 if token in "日天" else "一二三四五六".index(token) + 1


def year_fields(m: re.Match[str]) -> dict[str, int | None]:
    ry = m.groupdict().get("ry")
    year = m.groupdict().get("y")
    return {
        "year": number(year) if year else None,
        "year_rel": _RELATIVE_YEARS[ry] if ry else None,
    }


_RELATIVE_YEARS = {
    "今年": 0, "本年": 0, "本年度": 0, "当年": 0,
    "明年": 1, "次年": 1, "翌年": 1, "来年": 1,
    "去年": -1, "上年": -1,
}  # fmt: skip
