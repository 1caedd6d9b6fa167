"""Read the time expressions of Chinese official notices into `When` records.

Clerks read a notice to learn what must be done by when; this module turns the "when" part
into dates.  Two entry points, both pure:

    resolve(phrase, issue_date=..., year_hint=...) -> When        one phrase
    find(text, issue_date=..., year_hint=...) -> list[Found]       every expression in a sentence

How it reads (one pass per text):

1. Normalise a copy of the text, keeping a map back to the original offsets: OCR spaces and
   line breaks and quotes are dropped (`11 月 20 日`, `“五一”前`), full-width ASCII becomes
   half-width (`１１月２０日`, `（`), `○` becomes `〇`, `O`/`o` and `l`/`I` inside a run of digits
   become 0 and 1 (`2O24年`), traditional characters become simplified (`報送`, `個工作日`).
2. Find atoms with small regexes, leftmost-longest: calendar dates (`二〇二四年十一月二十日`,
   `2024-11-20`, `11月中旬`, `年底`, `一季度`, `本月底`), holidays (`国庆节前`, `元旦春节期间`),
   relative periods (`自印发之日起30日内`, `收到通知后10个工作日内`), the issue day (`即日起`),
   recurring duties (`每季度末前5个工作日`, `每周五`), times of day and undated duties (`及时`).
3. Combine atoms with what surrounds them: ranges (`10月9日至15日`, `自…起…止`, `即日起至…`),
   open starts (`自2025年1月1日起施行`), deadlines (`前/之前/以前/截止/截至/止`).
4. Mark what is not a deadline (see below) and resolve the rest against the issue date.

What is not a deadline.  A 文号 (`〔2024〕89号`, any bracket style) has no 年 and never forms a
date.  A cited document's date (`2024年3月5日印发的《…》`, inside `《…》`, or in the brackets
after `》`), a past reference (`…以来`, `…召开的`) and a narrative event (`10月9日，习近平总书记…
回信`: a plain date with no 前/止 at the start of a sentence, followed by a comma) are left out
of `find`, whose callers build deadlines from what it returns.  `resolve`, asked about such a
phrase explicitly, still reads the date but with confidence 0.2 and a note naming the reason
(`event: …`, `cited: …`, `past: …`).  Holiday names count only with a relation word
(`春节前`, `国庆期间`, `节后`): `五一劳动奖章` is not a time.  A whole month or year with no
前/止/截至 (`报送12月份数据`) is returned with confidence 0.5 and a note: it often names a
reporting period rather than a deadline.

Confidence: 0.95 a printed full date; 0.9 year or base from the issue date; 0.85 year from the
文号; 0.8 an approximate part (上旬, 月初, a whole month); 0.75 rolled to next year; 0.7 counted
from the issue date as a stand-in for the day of receipt; 0.5 suspect (weekday mismatch, date
kept before the issue date, reporting period); 0.4 or less without official holiday data;
0.2 not a deadline.

Years.  An explicit year wins.  Otherwise the issue date's year, else `year_hint` (the parser
passes the 文号's year); the note says which.  With an issue date, a yearless date more than
31 days before it is next year's (a December notice about `2月底前`); one at most 31 days
before it stays in the issue year with a warning (a late forward or a past reference, which
is safer shown as already passed than pushed a year out).  Past references never roll.

Working days are counted on the official calendar (`pipeline.when.workdays`); a year without
holiday data is counted Monday to Friday, marked uncertain (confidence at most 0.4, note).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache

import cn2an
from pydantic import BaseModel

from models.when import When
from pipeline.when import workdays
from pipeline.when.workdays import CalendarNotCovered, Festival

__all__ = ["Found", "find", "recurrence_label", "resolve", "shift_workdays"]


class Found(BaseModel):
    """One time expression located in a text: `text[start:end] == phrase`."""

    start: int
    end: int
    phrase: str
    when: When


# ---------------------------------------------------------------------------------------------
# Confidence levels (documented here so callers can threshold on them)

_EXPLICIT = 0.95  # a printed full date
_FROM_ISSUE_YEAR = 0.9  # year taken from the issue date
_FROM_HINT_YEAR = 0.85  # year taken from the 文号 (year_hint)
_ROLLED = 0.75  # moved to next year because it fell before the issue date
_APPROXIMATE = 0.8  # 上旬/中旬/下旬, 月初, a whole month, quarter or half-year as a deadline
_BARE_YEAR = 0.6  # "2025年" alone read as "by 2025-12-31"
_ASSUMED_BASE = 0.7  # relative period counted from the issue date though the text says receipt
_SUSPECT = 0.5  # weekday mismatch, date before the issue date kept
_UNCOVERED = 0.4  # working days or holiday block in a year without official data
_NOT_A_DEADLINE = 0.2  # event / cited / past, when resolve() is asked about it anyway
_VAGUE = 0.9  # 及时, 尽快: sure there is no date

_ROLL_AFTER = timedelta(days=31)

# ---------------------------------------------------------------------------------------------
# 1. Normalisation with an offset map


@dataclass(frozen=True)
class _Norm:
    text: str
    index: tuple[int, ...]  # index[i] = offset in the original of text[i]
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.index[start], self.index[end - 1] + 1

    def sentence_start(self, pos: int) -> bool:
        """Whether `pos` begins a sentence: text start, after 。！？；, or after a line break."""
        if pos == 0:
            return True
        if self.text[pos - 1] in "。!?;":
            return True
        return "\n" in self.original[self.index[pos - 1] + 1 : self.index[pos]]


# OCR puts spaces between characters and breaks lines inside words; quotes wrap holiday names.
_DROPPED = frozenset(" \t\r\n\f\v\u3000\u00a0\u200b“”\"‘’「」『』")
_LOOKALIKE_ZERO = {"○": "〇", "◯": "〇", "Ｏ": "O"}
# A run of digits with O/o/l/I mixed in (2O24, l1月), not touching other Latin letters.
_OCR_DIGITS_RE = re.compile(r"(?<![A-Za-z])[0-9OolI]*[0-9][0-9OolI]*(?![A-Za-z])")
_OCR_DIGIT_FIX = str.maketrans("OolI", "0011")


@lru_cache(maxsize=1)
def _t2s_converter():  # opencc reads its dictionaries: load on first use, not at import
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def _simplified(ch: str) -> str:
    """Traditional → simplified for one character (報→报, 個→个); keeps 1:1 offsets."""
    converted = _t2s_converter().convert(ch)
    return converted if len(converted) == 1 else ch


def _fold_char(ch: str) -> str:
    ch = _LOOKALIKE_ZERO.get(ch, ch)
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII (１１月, （, ：, ～)
        return chr(code - 0xFEE0)
    if code >= 0x3400:
        return _simplified(ch)
    return ch


def _normalise(text: str) -> _Norm:
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch in _DROPPED:
            continue
        chars.append(_fold_char(ch))
        index.append(i)
    folded = _OCR_DIGITS_RE.sub(lambda m: m.group().translate(_OCR_DIGIT_FIX), "".join(chars))
    return _Norm(folded, tuple(index), text)


# ---------------------------------------------------------------------------------------------
# 2. Numerals


def _int(token: str) -> int:
    """Arabic or Chinese numeral → int (`2024`, `二〇二四`, `十一`, `两`)."""
    if token.isascii():
        return int(token)
    return int(cn2an.cn2an(token, "normal"))


# ---------------------------------------------------------------------------------------------
# 3. Regex fragments shared by the atom patterns

_CN_DIGITS = "〇零一二三四五六七八九十两"
_NOT_AFTER_NUMBER = rf"(?<![\d{_CN_DIGITS}])"
_Y = r"(?:\d{4}|[〇零一二三四五六七八九]{4})"
_M = r"(?:1[0-2]|0?[1-9]|十[一二]|[一二三四五六七八九十])"
_D = r"(?:3[01]|[12]\d|0?[1-9]|三十一?|[二两]十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
_N = r"(?:\d+|[一二两三四五六七八九十百]+)"
_WEEKDAY_CHARS = "一二三四五六日天1234567"
_YEAR = r"(?:(?P<y>" + _Y + r")年度?|(?P<ry>今年|本年度?|当年|明年|次年|翌年|来年|去年|上年))"
_WEEKDAY = rf"(?:\((?:星期|周|礼拜)(?P<wd>[{_WEEKDAY_CHARS}])\))"
_TIME = (
    r"(?:(?P<ap>上午|下午|中午|晚上|傍晚|凌晨|早上|早晨|晚)?"
    r"(?P<h>2[0-4]|[01]?\d|二十[一二三四]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
    r"(?:(?P<colon>:)(?P<mi>[0-5]\d)"
    r"|(?P<tu>[时点])(?:(?P<mi2>[0-5]?\d|[一二三四五]?十[一二三四五六七八九]?|[一二三四五六七八九])分|(?P<half>半)|整)?))"
)
_MONTH_PART = r"(?P<part>上旬|中旬|下旬|底|末|初)"
_YEAR_PART = r"(?P<part>年?底|年?末|年?初|年?内|以内|上半年|下半年|第?[一二三四1-4]季度(?:末|底)?)"
_CONNECTOR_RE = re.compile(r"(?:起)?(?:至|到|——|—|－|-|~|〜|–)")

# ---------------------------------------------------------------------------------------------
# 4. Atoms: what the regexes find before context is considered


@dataclass(frozen=True)
class _Cal:
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
class _Holiday:
    festivals: tuple[Festival, ...]
    relation: str  # "before" | "during" | "after"
    year: int | None = None
    year_rel: int | None = None
    label: str = ""


@dataclass(frozen=True)
class _Relative:
    n: int
    unit: str  # "workday" | "day" | "week" | "month" | "year"
    base: str | None  # "issue" | "receipt" | None (no base printed)
    label: str = ""


@dataclass(frozen=True)
class _IssueDay:
    """即日 / 今天 / 印发之日 (the issue date, + offset days) or 本周五 (week-relative)."""

    offset: int = 0
    week: int | None = None  # 本周 0, 下周 1
    weekday: int | None = None
    time: tuple[int, int] | None = None
    label: str = ""


@dataclass(frozen=True)
class _Recurring:
    rrule: str
    notes: tuple[str, ...] = ()
    offset_workdays: int | None = None  # 前5个工作日 → 5; 结束后10个工作日内 → -10 (after)


@dataclass(frozen=True)
class _Vague:
    word: str


@dataclass(frozen=True)
class _Time:
    time: tuple[int, int]


@dataclass(frozen=True)
class _YearRange:
    first: int
    last: int


_Atom = _Cal | _Holiday | _Relative | _IssueDay | _Recurring | _Vague | _Time | _YearRange


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    atom: _Atom


def _time_of(m: re.Match[str]) -> tuple[int, int] | None:
    """The (hour, minute) of a _TIME match in 24-hour form; 24:00 is kept as (24, 0)."""
    if not m.group("h"):
        return None
    hour = _int(m.group("h"))
    if m.group("colon"):
        minute = int(m.group("mi"))
    elif m.group("half"):
        minute = 30
    elif m.group("mi2"):
        minute = _int(m.group("mi2"))
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


def _standalone_time_ok(m: re.Match[str]) -> bool:
    """A time with no date must look like one: 17:00, 17时, 下午5点 (not 三点要求)."""
    return bool(m.group("ap") or m.group("colon") or (m.group("tu") == "时" and m.group("h").isascii()))


def _weekday(token: str | None) -> int | None:
    """ISO weekday of 一..六/日/天 or 1..7 (as printed after 星期 / 周)."""
    if not token:
        return None
    if token.isdigit():
        return int(token)
    return 7 if token in "日天" else "一二三四五六".index(token) + 1


def _year_fields(m: re.Match[str]) -> dict[str, int | None]:
    ry = m.groupdict().get("ry")
    year = m.groupdict().get("y")
    return {
        "year": _int(year) if year else None,
        "year_rel": _RELATIVE_YEARS[ry] if ry else None,
    }


_RELATIVE_YEARS = {
    "今年": 0, "本年": 0, "本年度": 0, "当年": 0,
    "明年": 1, "次年": 1, "翌年": 1, "来年": 1,
    "去年": -1, "上年": -1,
}  # fmt: skip
_RELATIVE_MONTHS = {"本月": 0, "当月": 0, "下月": 1, "下个月": 1, "次月": 1}
_MONTH_PARTS = {"上旬": "early", "中旬": "mid", "下旬": "late", "底": "end", "末": "end", "初": "begin"}
_QUARTERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _year_part(token: str | None) -> str | None:
    """底/末 → end, 初 → begin, 内 → within, 上半年 → H1, 第三季度末 → Q3."""
    if not token:
        return None
    if "季度" in token:
        return f"Q{_QUARTERS[token.lstrip('第')[0]]}"
    return {"底": "end", "末": "end", "初": "begin", "内": "within", "以内": "within",
            "上半年": "H1", "下半年": "H2"}[token.removeprefix("年") or token]  # fmt: skip


# -- the atom patterns, each with the function that turns a match into an atom ---------------

_RELATIVE_MONTH = r"(?P<rm>本月|当月|下个?月|次月)"
# 二〇二四年十一月二十日, 11月20日（星期三）下午5时, 明年3月1日, 下月10日
_DAY_RE = re.compile(
    rf"{_NOT_AFTER_NUMBER}(?:{_YEAR})?(?:(?P<m>{_M})月|{_RELATIVE_MONTH})(?P<d>{_D})[日号]{_WEEKDAY}?(?:{_TIME})?"
)
# 2024-11-20, 2024.11.20, 2024/11/20
_NUMERIC_RE = re.compile(
    r"(?<!\d)(?P<y>\d{4})(?P<sep>[-./])(?P<m>1[0-2]|0?[1-9])(?P=sep)(?P<d>3[01]|[12]\d|0?[1-9])(?!\d)"
    rf"{_WEEKDAY}?(?:{_TIME})?"
)
# 11月, 12月底, 11月中旬, 本月底, 下月
_MONTH_RE = re.compile(
    rf"{_NOT_AFTER_NUMBER}(?:{_YEAR})?(?:(?P<m>{_M})月份?|{_RELATIVE_MONTH}){_MONTH_PART}?"
)
# 2024年, 2024年底, 2025年上半年, 2024年第一季度, 明年底
_YEAR_RE = re.compile(rf"(?<!\d){_YEAR}{_YEAR_PART}?")
# 年底, 年内, 上半年, 一季度, 季度末, 本季度, 月底 (no year or month printed)
_BARE_PART_RE = re.compile(
    r"(?P<w>年底|年末|年初|年内|上半年|下半年|(?P<q>第?[一二三四1-4])季度(?P<qe>末|底)?|本?季度末|本季度|月底|月末|月初)"
)
# 2024—2026年 (the first year printed without 年)
_YEAR_RANGE_RE = re.compile(r"(?<!\d)(?P<y1>\d{4})(?:至|到|——|—|－|-|~|〜|–)(?P<y2>\d{4})年")
_HOLIDAY_NAMES: dict[str, tuple[Festival, ...]] = {
    "元旦春节": (Festival.new_year, Festival.spring),
    "元旦、春节": (Festival.new_year, Festival.spring),
    "元旦和春节": (Festival.new_year, Festival.spring),
    "两节": (Festival.new_year, Festival.spring),
    "中秋国庆": (Festival.mid_autumn, Festival.national),
    "中秋、国庆": (Festival.mid_autumn, Festival.national),
    "国庆中秋": (Festival.mid_autumn, Festival.national),
    "元旦": (Festival.new_year,),
    "春节": (Festival.spring,),
    "清明节": (Festival.qingming,),
    "清明": (Festival.qingming,),
    "五一劳动节": (Festival.labour,),
    "五一": (Festival.labour,),
    "劳动节": (Festival.labour,),
    "端午节": (Festival.dragon_boat,),
    "端午": (Festival.dragon_boat,),
    "中秋节": (Festival.mid_autumn,),
    "中秋": (Festival.mid_autumn,),
    "国庆节": (Festival.national,),
    "国庆": (Festival.national,),
}
_HOLIDAY_RELATIONS = {
    "前": "before", "之前": "before", "以前": "before",
    "期间": "during", "假期": "during", "假期期间": "during", "放假期间": "during", "节日期间": "during",
    "后": "after", "之后": "after", "以后": "after", "节后": "after",
}  # fmt: skip
_HOLIDAY_RE = re.compile(
    rf"(?:{_YEAR})?(?P<name>{'|'.join(sorted(map(re.escape, _HOLIDAY_NAMES), key=len, reverse=True))})"
    rf"(?P<rel>{'|'.join(sorted(_HOLIDAY_RELATIONS, key=len, reverse=True))})"
)
# 自印发之日起, 收到通知后, 自本通知下发之日起, 即日起 — the base of a relative period
_ISSUE_BASE = (
    r"(?P<base>(?:自|从|在|于)?(?:本?(?:通知|文件|方案|意见|办法|规定)|本文|此件)?"
    r"(?P<verb>即日|印发|下发|发布|发文|公布|出台|收到|接到|收文)"
    r"(?:本?(?:通知|文件|方案|意见)|此件)?(?:之日|当日)?(?:起|后|以后|之后)?的?)"
)
# 30日内, 10个工作日内, 一周内, 半个月内
_RELATIVE_RE = re.compile(
    rf"{_ISSUE_BASE}?(?P<n>{_N}|半)(?P<unit>个?工作日|个?自然日|日|天|周|个?星期|个?月|年)(?P<within>内|以内|之内)?"
)
# 即日起, 自印发之日起 (施行), 今天, 明日, 本周五, 当日17时 (当日 only with a time: 活动当日 is an event)
_ISSUE_DAY_RE = re.compile(
    r"(?:自|从)?(?:(?P<w>即日|今天|今日|明天|明日|当日|当天|"
    r"(?:本?(?:通知|文件|办法|规定|方案|意见|细则|决定|公告))?(?:印发|发布|公布|下发)之日)起?"
    rf"|(?P<wk>本周|这周|下周|下个?星期|本星期)(?P<wd>[{_WEEKDAY_CHARS}]))"
    rf"(?:{_TIME})?"
    r"(?!\d|[一二两三四五六七八九十半])"
)
# 每年, 每年12月25日前, 每季度末前5个工作日, 每月5日前, 每周五, 每两周, 按季度
_RECURRING_RE = re.compile(
    r"(?:每|按)一?个?(?P<n>[两二三四五六2-6])?个?(?P<unit>年度?|半年|季度?|月度?|周|星期|日|天|工作日)"
    rf"(?:的?(?P<ym>{_M})月(?:(?P<yd>{_D})[日号]|(?P<ypart>上旬|中旬|下旬|底|末))?"
    rf"(?P<ymore>(?:(?:之前|以前|前)?(?:以及|和|及|与|、){_M}月(?:{_D}[日号]|底|末))+)?"
    rf"|(?:首月|第一个月)(?P<qd>{_D})[日号]"
    rf"|(?P<md>{_D})[日号](?P<mdmore>(?:(?:之前|以前|前)?(?:以及|和|及|与|、){_D}[日号])+)?"
    rf"|(?P<wd>[{_WEEKDAY_CHARS}](?:[、,和及][{_WEEKDAY_CHARS}])*)(?![\d月日号])"
    r"|(?P<part>年底|年末|上旬|中旬|下旬|底|末))?"
    rf"(?:{_TIME})?"
    rf"(?:(?P<ended>结束)?后(?P<an>{_N})(?P<au>个?工作日|日|天)(?:内|以内)?"
    rf"|前(?P<bn>{_N})个?工作日|最后(?P<ln>{_N})个?工作日"
    r"|(?:之前|以前|前)(?![\d一二两三四五六七八九十]))?"
)
_VAGUE_NOTES = {
    "及时": "及时: promptly, no date given",
    "尽快": "尽快: as soon as possible, no date given",
    "抓紧": "抓紧: promptly, no date given",
    "从速": "从速: promptly, no date given",
    "适时": "适时: at a suitable time, no date given",
    "第一时间": "第一时间: immediately when it happens, no date given",
    "不定期": "不定期: irregularly, no date given",
    "定期": "定期: regularly, the frequency is not stated",
    "随时": "随时: at any time, no date given",
    "立即": "立即: at once, no date given",
    "按时": "按时: on time, the date is stated elsewhere",
    "另行通知": "另行通知: the date will be announced later",
    "限期": "限期: within a set time the text does not give here",
}
_VAGUE_RE = re.compile("|".join(sorted(_VAGUE_NOTES, key=len, reverse=True)))
_TIME_RE = re.compile(rf"{_NOT_AFTER_NUMBER}{_TIME}")
# The day of a range's second end: 10月9日至15日
_DAY_ONLY_RE = re.compile(rf"(?P<d>{_D})[日号]{_WEEKDAY}?(?:{_TIME})?")


def _cal_from_day(m: re.Match[str]) -> _Cal | None:
    rm = m.groupdict().get("rm")
    return _Cal(
        **_year_fields(m),
        month=_int(m.group("m")) if m.group("m") else None,
        month_rel=_RELATIVE_MONTHS[rm] if rm else None,
        day=_int(m.group("d")),
        weekday=_weekday(m.group("wd")),
        time=_time_of(m),
    )


def _cal_from_month(m: re.Match[str]) -> _Cal | None:
    rm = m.group("rm")
    return _Cal(
        **_year_fields(m),
        month=_int(m.group("m")) if m.group("m") else None,
        month_rel=_RELATIVE_MONTHS[rm] if rm else None,
        part=_MONTH_PARTS.get(m.group("part") or ""),
    )


def _cal_from_year(m: re.Match[str]) -> _Cal | None:
    if m.group("ry") and not m.group("part"):
        return None  # 今年是…, 当年资金: a bare 今年 is not a date (今年底, 明年3月 are)
    return _Cal(**_year_fields(m), part=_year_part(m.group("part")))


def _cal_from_bare_part(m: re.Match[str]) -> _Cal | None:
    word = m.group("w")
    if word.startswith("月"):  # 月底 / 月末 / 月初: this month
        return _Cal(month_rel=0, part=_MONTH_PARTS[word[1]])
    if m.group("q"):  # 一季度, 第三季度末
        return _Cal(part=f"Q{_QUARTERS[m.group('q').lstrip('第')]}")
    if "季度" in word:  # 季度末, 本季度: the quarter of the issue date
        return _Cal(part="Qcur")
    return _Cal(part=_year_part(word))  # 年底, 年内, 上半年 ...


def _year_range(m: re.Match[str]) -> _YearRange | None:
    first, last = int(m.group("y1")), int(m.group("y2"))
    return _YearRange(first, last) if first <= last else None


def _holiday(m: re.Match[str]) -> _Holiday | None:
    # The relation word is required: 五一劳动奖章, 中秋月饼, 国庆70周年 are not times.
    return _Holiday(
        festivals=_HOLIDAY_NAMES[m.group("name")],
        relation=_HOLIDAY_RELATIONS[m.group("rel")],
        label=m.group(),
        **_year_fields(m),
    )


_RELATIVE_UNITS = {"工作日": "workday", "自然日": "day", "日": "day", "天": "day",
                   "周": "week", "星期": "week", "月": "month", "年": "year"}  # fmt: skip


def _relative(m: re.Match[str]) -> _Relative | None:
    unit = _RELATIVE_UNITS[m.group("unit").lstrip("个")]
    verb = m.group("verb")
    if not (m.group("within") or verb):
        return None  # 培训3天: a duration, not a deadline
    if m.group("n") == "半":
        if unit != "month":
            return None
        n, unit = 15, "day"  # 半个月内: 15 days
    else:
        n = _int(m.group("n"))
    base = None if verb is None else "receipt" if verb in ("收到", "接到", "收文") else "issue"
    return _Relative(n=n, unit=unit, base=base, label=m.group())


def _issue_day(m: re.Match[str]) -> _IssueDay | None:
    time = _time_of(m)
    if m.group("wk"):
        return _IssueDay(week=0 if m.group("wk") in ("本周", "这周", "本星期") else 1,
                         weekday=_weekday(m.group("wd")), time=time, label=m.group())  # fmt: skip
    if m.group("w") in ("当日", "当天") and time is None:
        return None
    return _IssueDay(offset=1 if m.group("w") in ("明天", "明日") else 0, time=time, label=m.group())


def _vague(m: re.Match[str]) -> _Vague | None:
    return _Vague(m.group())


def _standalone_time(m: re.Match[str]) -> _Time | None:
    time = _time_of(m)
    return _Time(time) if time and _standalone_time_ok(m) else None


# ---------------------------------------------------------------------------------------------
# 5. Recurring duties → RRULE

_FREQ = {"年": "YEARLY", "年度": "YEARLY", "半年": "MONTHLY", "季": "MONTHLY", "季度": "MONTHLY",
         "月": "MONTHLY", "月度": "MONTHLY", "周": "WEEKLY", "星期": "WEEKLY", "日": "DAILY",
         "天": "DAILY", "工作日": "WEEKLY"}  # fmt: skip
_BASE_INTERVAL = {"半年": 6, "季": 3, "季度": 3}
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_PERIOD_ENDS = {"季": "3,6,9,12", "季度": "3,6,9,12", "半年": "6,12"}
_PERIOD_STARTS = {"季": "1,4,7,10", "季度": "1,4,7,10", "半年": "1,7"}
_DAY_OF_PART = {"上旬": 10, "中旬": 20, "下旬": -1, "底": -1, "末": -1, "年底": -1, "年末": -1}
_WEEKDAY_CHAR_RE = re.compile(rf"[{_WEEKDAY_CHARS}]")
_RECURRENCE_LABELS = {"YEARLY": "yearly", "MONTHLY": "monthly", "WEEKLY": "weekly", "DAILY": "daily"}


def _recurring(m: re.Match[str]) -> _Recurring | None:
    unit = m.group("unit")
    freq = _FREQ[unit]
    interval = _BASE_INTERVAL.get(unit, 1) * (_int(m.group("n")) if m.group("n") else 1)
    parts: dict[str, str] = {}
    notes: list[str] = []
    part = m.group("part")

    if m.group("ym"):  # 每年12月25日 / 每年6月底 / 每年6月30日和12月31日
        if freq != "YEARLY":
            return None
        first_day = _int(m.group("yd")) if m.group("yd") else _DAY_OF_PART.get(m.group("ypart") or "")
        dates = [(_int(m.group("ym")), first_day)]
        dates += [(_int(d.group("m")), _int(d.group("d")) if d.group("d") else -1)
                  for d in _MONTH_DAY_RE.finditer(m.group("ymore") or "")]  # fmt: skip
        yearly = _dates_each_year(dates)
        if yearly is None:
            return None
        freq, by, note = yearly
        parts.update(by)
        notes += [note] if note else []
    elif m.group("wd"):  # 每周五, 每周一、三
        if freq != "WEEKLY" or unit == "工作日":
            return None
        days = [_weekday(ch) for ch in _WEEKDAY_CHAR_RE.findall(m.group("wd"))]
        parts["BYDAY"] = ",".join(_BYDAY[d - 1] for d in days if d)
    elif m.group("qd"):  # 每季度首月10日
        if unit not in _PERIOD_STARTS:
            return None
        parts["BYMONTH"] = _PERIOD_STARTS[unit]
        parts["BYMONTHDAY"] = str(_int(m.group("qd")))
        interval = 1
    elif m.group("md"):  # 每月5日, 每月10日、25日
        if freq != "MONTHLY" or unit in _PERIOD_ENDS:
            return None
        days = [_int(m.group("md"))] + [_int(d) for d in _DAY_NUMBER_RE.findall(m.group("mdmore") or "")]
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

    if unit == "工作日":
        parts["BYDAY"] = "MO,TU,WE,TH,FR"
        notes.append("every working day: official holidays and 调休 working weekends apply per occurrence")
    time = _time_of(m)
    if time and time[0] < 24:
        parts.update(BYHOUR=str(time[0]), BYMINUTE=str(time[1]))

    rule = [f"FREQ={freq}"]
    if interval > 1:
        rule.append(f"INTERVAL={interval}")
    rule += [f"{key}={value}" for key, value in parts.items()]
    return _Recurring(";".join(rule), tuple(notes), offset_workdays)


_MONTH_DAY_RE = re.compile(rf"(?P<m>{_M})月(?:(?P<d>{_D})[日号]|底|末)")
_DAY_NUMBER_RE = re.compile(rf"({_D})[日号]")
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
    if len(dates) == 1:
        month, day = dates[0]
        parts = {"BYMONTH": str(month)}
        if day is not None:
            parts["BYMONTHDAY"] = str(day)
        return "YEARLY", parts, None
    if any(day is None for _, day in dates) or len({month for month, _ in dates}) < len(dates):
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
        n = _int(m.group("bn"))
        if "BYMONTHDAY" in parts:  # 每季度末前5个工作日
            return f"{_count(n, 'workday')} before each occurrence; working days are {per_occurrence}", n
        if unit in _PERIOD_STARTS:
            parts.update(BYMONTH=_PERIOD_STARTS[unit], BYMONTHDAY="1")
        elif _FREQ[unit] == "MONTHLY":
            parts["BYMONTHDAY"] = "1"
        return f"within the first {_count(n, 'workday')} of each period; working days are {per_occurrence}", None
    if m.group("ln"):
        n = _int(m.group("ln"))
        return f"within the last {_count(n, 'workday')} before each occurrence; working days are {per_occurrence}", None
    if m.group("an") and m.group("ended"):
        n = _int(m.group("an"))
        unit_word = "workday" if "工作日" in m.group("au") else "day"
        counted = per_occurrence if unit_word == "workday" else "counted per occurrence"
        note = f"within {_count(n, unit_word)} after each period ends (the rule marks the period end); {counted}"
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
    by_count = {1: "yearly", 2: "half-yearly", 4: "quarterly"}
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


# -- all atom patterns, in the order that breaks ties -----------------------------------------

_ATOM_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], _Atom | None]], ...] = (
    (_DAY_RE, _cal_from_day),
    (_NUMERIC_RE, _cal_from_day),
    (_MONTH_RE, _cal_from_month),
    (_YEAR_RE, _cal_from_year),
    (_BARE_PART_RE, _cal_from_bare_part),
    (_YEAR_RANGE_RE, _year_range),
    (_HOLIDAY_RE, _holiday),
    (_RELATIVE_RE, _relative),
    (_ISSUE_DAY_RE, _issue_day),
    (_RECURRING_RE, _recurring),
    (_VAGUE_RE, _vague),
    (_TIME_RE, _standalone_time),
)


def _atoms(text: str) -> list[_Hit]:
    """All atoms, leftmost-longest without overlaps (ties go to the earlier rule)."""
    hits: list[tuple[int, int, int, _Atom]] = []
    for rank, (pattern, build) in enumerate(_ATOM_RULES):
        for m in pattern.finditer(text):
            if m.end() == m.start():
                continue
            atom = build(m)
            if atom is not None:
                hits.append((m.start(), -(m.end() - m.start()), rank, atom))
    chosen: list[_Hit] = []
    covered_to = 0
    for start, neg_len, _, atom in sorted(hits, key=lambda h: h[:3]):
        if start >= covered_to:
            chosen.append(_Hit(start, start - neg_len, atom))
            covered_to = start - neg_len
    return chosen


# ---------------------------------------------------------------------------------------------
# 6. Combining atoms with their context


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    shape: str  # "date" | "range" | "open" | "after" | "atom"
    first: _Atom
    last: _Atom | None = None
    before: tuple[int, str] | None = None  # 11月20日前3个工作日: (3, "workday")
    marked: bool = False  # a deadline word printed with it: 截至…, …前, …止
    skip: str | None = None  # why this is not a deadline (event / cited / past)
    event_base: str | None = None  # 会后3日内: the event a relative period counts from


_PREFIX_RE = re.compile(r"(?:(?P<from>自|从|由)|(?P<until>截止|截至)(?:到|至)?(?:时间|日期)?(?:为|是|:)?)$")
_SUFFIX_RE = re.compile(r"之前|以前|前|为止|止|截止|以来|至今|起|开始|以后|之后|后")
_SUFFIX_SHAPE = {"起": "open", "开始": "open", "以后": "after", "之后": "after", "后": "after"}
_PAST_SUFFIXES = ("以来", "至今")
_RANGE_END_RE = re.compile(r"为止|止|之前|前")  # 自…起至…止, 10月9日至15日前
_BEFORE_N_RE = re.compile(rf"前(?P<n>{_N})个?(?P<unit>工作日|天|日)")
# A relative period counted from an event: 会后3日内, 活动结束后10个工作日内, 验收合格之日起30日内
_EVENT_BASE_RE = re.compile(r"([\u4e00-\u9fff]{1,8}?)(?:后|之后|以后|之日起)$")
_EVENT_BASE_CUT_RE = re.compile(r".*[请于在自从并要须应将即]")
_CITED_AFTER_RE = re.compile(r"(?:印发|发布|颁布|出台|公布|下发|签发|通过|修订|修正|制定)(?:的|了|《)")
_PAST_EVENT_AFTER_RE = re.compile(r"(?:召开|举行|举办|开展)(?:的|了)")
# 文号 in any bracket style: 〔2024〕89号, [2024], （2024）, 【2024】第12号
_DOC_NUMBER_RE = re.compile(r"[〔\[【〖(]\d{4}[〕\]】〗)](?:第?\d+号)?")
_DATED_SHAPES = ("date", "range", "open", "after")


def _candidates(norm: _Norm) -> list[_Candidate]:
    text = norm.text
    hits = _atoms(text)
    out: list[_Candidate] = []
    i = 0
    while i < len(hits):
        floor = out[-1].end if out else 0
        cand, consumed = _combine(text, hits, i, floor)
        out.append(_with_context(norm, cand))
        i += consumed
    return out


def _combine(text: str, hits: list[_Hit], i: int, floor: int) -> tuple[_Candidate, int]:
    """Build the candidate that begins with hits[i]; returns it and the number of hits used."""
    hit = hits[i]
    atom = hit.atom
    if isinstance(atom, _YearRange):
        return _Candidate(hit.start, hit.end, "range", _Cal(year=atom.first), _Cal(year=atom.last)), 1
    if isinstance(atom, _Relative):
        return _relative_candidate(text, hit, floor), 1
    nxt = hits[i + 1] if i + 1 < len(hits) else None
    if (  # 国庆节后一周内, 春节后3个工作日内: a period counted from the end of the holiday
        isinstance(atom, _Holiday) and atom.relation == "after"
        and nxt is not None and nxt.start == hit.end
        and isinstance(nxt.atom, _Relative) and nxt.atom.base is None
    ):  # fmt: skip
        return _Candidate(hit.start, nxt.end, "atom", atom, nxt.atom), 2
    if not isinstance(atom, _Cal | _IssueDay):
        return _Candidate(hit.start, hit.end, "atom", atom), 1

    start, end = hit.start, hit.end
    prefix = _PREFIX_RE.search(text, max(floor, start - 8), start)
    opened = marked = False
    if prefix:
        start = prefix.start()
        opened, marked = bool(prefix.group("from")), bool(prefix.group("until"))

    # A range: 10月9日至15日, 即日起至2025年3月31日, 自…起至…止
    tail = _range_tail(text, hits, i, end)
    if tail is not None:
        last, tail_end, used = tail
        end = tail_end
        suffix = _RANGE_END_RE.match(text, end)
        if suffix:
            end = suffix.end()
        return _Candidate(start, end, "range", atom, last, marked=marked), used

    shape = "open" if opened else "date"
    before = None
    before_m = _BEFORE_N_RE.match(text, end)
    if before_m and isinstance(atom, _Cal):
        before = (_int(before_m.group("n")), "workday" if before_m.group("unit") == "工作日" else "day")
        end = before_m.end()
    else:
        suffix_m = _SUFFIX_RE.match(text, end)
        if suffix_m and not (isinstance(atom, _IssueDay) and suffix_m.group() in ("前", "后")):
            word = suffix_m.group()
            end = suffix_m.end()
            if word in _PAST_SUFFIXES:  # 2021年以来: since then, up to now
                return _Candidate(start, end, "open", atom, skip=f"past: {word} refers back"), 1
            shape = _SUFFIX_SHAPE.get(word, "date" if not opened else "open")
            marked = marked or shape == "date"
    if isinstance(atom, _IssueDay) and atom.label.endswith("起"):
        shape = "open"  # 即日起 / 自印发之日起 (施行)
    return _Candidate(start, end, shape, atom, before=before, marked=marked), 1


def _range_tail(text: str, hits: list[_Hit], i: int, pos: int) -> tuple[_Atom, int, int] | None:
    """The second end of a range after hits[i]: (atom, end offset, hits consumed)."""
    conn = _CONNECTOR_RE.match(text, pos)
    if not conn:
        return None
    after = conn.end()
    nxt = hits[i + 1] if i + 1 < len(hits) else None
    if nxt is not None and nxt.start == after and isinstance(nxt.atom, _Cal | _Time):
        return nxt.atom, nxt.end, 2
    day = _DAY_ONLY_RE.match(text, after)
    if day and not isinstance(hits[i].atom, _IssueDay):
        # 10月9日至15日: the month is carried over from the first date
        used = 1 + sum(1 for h in hits[i + 1 :] if h.start < day.end())
        return _Cal(day=_int(day.group("d")), weekday=_weekday(day.group("wd")), time=_time_of(day)), day.end(), used
    return None


def _relative_candidate(text: str, hit: _Hit, floor: int) -> _Candidate:
    atom = hit.atom
    assert isinstance(atom, _Relative)
    if atom.base is not None:
        return _Candidate(hit.start, hit.end, "atom", atom)
    event = _EVENT_BASE_RE.search(text, max(floor, hit.start - 12), hit.start)
    if event is None:
        return _Candidate(hit.start, hit.end, "atom", atom)
    cut = _EVENT_BASE_CUT_RE.match(text, event.start(), event.end())
    start = cut.end() if cut and cut.end() < event.end(1) else event.start()
    return _Candidate(start, hit.end, "atom", atom, event_base=text[start : hit.start])


def _with_context(norm: _Norm, cand: _Candidate) -> _Candidate:
    """Mark dates that are not deadlines: cited documents, past events, narrative events."""
    if cand.skip or cand.shape not in _DATED_SHAPES:
        return cand
    text = norm.text
    reason = None
    if _inside(text, cand.start, "《", "》"):
        reason = "cited: inside a document title 《…》"
    elif _after_title_bracket(text, cand.start):
        reason = "cited: the date of the document named just before, in brackets"
    elif _CITED_AFTER_RE.match(text, cand.end):
        reason = "cited: the issue date of a cited document, not a deadline"
    elif _PAST_EVENT_AFTER_RE.match(text, cand.end):
        reason = "past: the date of an event that has taken place"
    elif cand.shape == "date" and not cand.marked and isinstance(cand.first, _Cal) and (
        text.startswith(",", cand.end) and norm.sentence_start(cand.start)
    ):
        reason = "event: a date opening a narrative sentence (date, comma), not a deadline"
    return replace(cand, skip=reason) if reason else cand


def _inside(text: str, pos: int, open_ch: str, close_ch: str) -> bool:
    opened = text.rfind(open_ch, 0, pos)
    return opened >= 0 and text.rfind(close_ch, opened, pos) < 0


def _after_title_bracket(text: str, pos: int) -> bool:
    opened = text.rfind("(", 0, pos)
    return opened > 0 and text.rfind(")", opened, pos) < 0 and text[opened - 1] == "》"


def _doc_number_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _DOC_NUMBER_RE.finditer(text)]


# ---------------------------------------------------------------------------------------------
# 7. Resolution against the issue date


class _Unresolvable(Exception):
    """The expression is real but its date cannot be known (no base, no data)."""

    def __init__(self, note: str, confidence: float = 0.5):
        super().__init__(note)
        self.note = note
        self.confidence = confidence


@dataclass(frozen=True)
class _Ctx:
    issue_date: date | None
    year_hint: int | None

    def base_year(self, what: str) -> tuple[int, str, float]:
        """(year, where it came from, confidence) for an expression printed without a year."""
        if self.issue_date is not None:
            return self.issue_date.year, f"the issue date {self.issue_date}", _FROM_ISSUE_YEAR
        if self.year_hint is not None:
            return self.year_hint, f"文号 〔{self.year_hint}〕 (year hint)", _FROM_HINT_YEAR
        raise _Unresolvable(f"{what}: no year printed, and no issue date or year hint to take it from")

    def issue(self, what: str) -> date:
        if self.issue_date is None:
            raise _Unresolvable(f"{what}: counted from the issue date, which is not known")
        return self.issue_date


@dataclass(frozen=True)
class _Span:
    """A resolved stretch of days; `time` applies to both ends (a single day) or as printed."""

    first: date
    last: date
    time: tuple[int, int] | None = None
    notes: tuple[str, ...] = ()
    confidence: float = _EXPLICIT
    year: int | None = None

    def but(self, *notes: str, confidence: float | None = None) -> _Span:
        conf = self.confidence if confidence is None else min(self.confidence, confidence)
        return replace(self, notes=self.notes + notes, confidence=conf)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(d: date, months: int) -> date:
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
        case "H1":
            return date(year, 1, 1), date(year, 6, 30), None
        case "H2":
            return date(year, 7, 1), date(year, 12, 31), None
        case _:
            return date(year, 1, 1), date(year, 12, 31), "a bare year: read as by its last day"


def _approximation(cal: _Cal) -> float:
    if cal.day is not None:
        return _EXPLICIT
    if cal.month is None and cal.month_rel is None and cal.part is None:
        return _BARE_YEAR
    if cal.part in ("end", "within") or (cal.part or "").startswith("Q") or cal.part in ("H1", "H2"):
        return _EXPLICIT
    return _APPROXIMATE


def _bounds(cal: _Cal, year: int, month: int | None) -> tuple[date, date, str | None]:
    if cal.day is not None:
        if month is None:
            raise _Unresolvable("a day with no month")
        try:
            d = date(year, month, cal.day)
        except ValueError:
            raise _Unresolvable(f"no such date: {year}-{month:02d}-{cal.day:02d}", 0.3) from None
        return d, d, None
    if month is not None:
        return _month_bounds(year, month, cal.part)
    return _year_bounds(year, cal.part)


def _place(cal: _Cal, ctx: _Ctx, *, roll: bool, carry: _Span | None = None) -> _Span:
    """Resolve a calendar atom to days, its year (and month) taken from what is printed, the
    first end of a range (`carry`), the issue date or the year hint, in that order."""
    choice = _choose_year(cal, ctx, carry)
    cal, year, month, notes, confidence = choice.cal, choice.year, choice.month, list(choice.notes), choice.confidence
    first, last, part_note = _bounds(cal, year, month)
    if carry is not None and cal.year is None and last < carry.first:
        # 12月20日至1月10日 → next year; 10月25日至5日 → next month
        if cal.month is None and cal.day is not None:
            nxt = _add_months(date(year, month or 1, 1), 1)
            year, month = nxt.year, nxt.month
        else:
            year += 1
        first, last, part_note = _bounds(cal, year, month)
    elif roll and choice.may_roll and ctx.issue_date is not None and last < ctx.issue_date:
        behind = ctx.issue_date - last
        if behind > _ROLL_AFTER:  # a December notice about 2月底前
            year += 1
            first, last, part_note = _bounds(cal, year, month)
            notes.append(f"year {year}: in {year - 1} the date would fall before the issue date {ctx.issue_date}")
            confidence = min(confidence, _ROLLED)
        else:  # a late forward or a reference back: safer shown as passed than pushed a year out
            notes.append(f"{last} is {behind.days} days before the issue date {ctx.issue_date}: "
                         f"kept in {year} (already passed, or a reference back; check)")  # fmt: skip
            confidence = min(confidence, _SUSPECT)
    if part_note:
        notes.append(part_note)
    span = _Span(first, last, cal.time, tuple(notes), min(confidence, _approximation(cal)), year)
    return _check_weekday(span, cal)


@dataclass(frozen=True)
class _YearChoice:
    cal: _Cal  # with 本季度 made concrete
    year: int
    month: int | None
    notes: tuple[str, ...]
    confidence: float
    may_roll: bool  # taken from the issue year, so a date before the issue date means next year


def _choose_year(cal: _Cal, ctx: _Ctx, carry: _Span | None) -> _YearChoice:
    if cal.year is not None:
        return _YearChoice(cal, cal.year, cal.month, (), _EXPLICIT, False)
    if cal.year_rel is not None:  # 明年3月底, 今年年底
        base, source, confidence = ctx.base_year("今年/明年")
        year = base + cal.year_rel
        return _YearChoice(cal, year, cal.month, (f"year {year} counted from {source}",), confidence, False)
    if cal.month_rel is not None:  # 本月底, 下月10日
        issue = ctx.issue("本月/下月")
        shifted = _add_months(issue.replace(day=1), cal.month_rel)
        note = f"month {shifted.year}-{shifted.month:02d} from the issue date {issue}"
        return _YearChoice(cal, shifted.year, shifted.month, (note,), _FROM_ISSUE_YEAR, False)
    if cal.part == "Qcur":  # 本季度末, 季度末
        issue = ctx.issue("季度末")
        quarter = replace(cal, part=f"Q{(issue.month - 1) // 3 + 1}")
        return _YearChoice(quarter, issue.year, None, (f"the quarter of the issue date {issue}",),
                           _FROM_ISSUE_YEAR, False)  # fmt: skip
    if carry is not None:  # the second end of a range: 10月9日至15日
        month = cal.month or (carry.first.month if cal.day is not None else None)
        return _YearChoice(cal, carry.year or carry.first.year, month, (), carry.confidence, False)
    year, source, confidence = ctx.base_year("date")
    return _YearChoice(cal, year, cal.month, (f"year {year} from {source}",), confidence, True)


def _check_weekday(span: _Span, cal: _Cal) -> _Span:
    if cal.weekday is None or span.first != span.last:
        return span
    if span.last.isoweekday() != cal.weekday:
        printed = "一二三四五六日"[cal.weekday - 1]
        actual = "一二三四五六日"[span.last.isoweekday() - 1]
        return span.but(f"the printed 星期{printed} does not match {span.last} (星期{actual}): check the date",
                        confidence=_SUSPECT)  # fmt: skip
    return span


def _place_issue_day(atom: _IssueDay, ctx: _Ctx) -> _Span:
    issue = ctx.issue(atom.label or "即日")
    if atom.week is not None and atom.weekday is not None:
        monday = issue - timedelta(days=issue.weekday()) + timedelta(weeks=atom.week)
        day = monday + timedelta(days=atom.weekday - 1)
        return _Span(day, day, atom.time, notes=(f"{atom.label}: the week of the issue date {issue}",),
                     confidence=_FROM_ISSUE_YEAR)  # fmt: skip
    day = issue + timedelta(days=atom.offset)
    what = "the day after the issue date" if atom.offset else "the issue date"
    return _Span(day, day, atom.time, notes=(f"{atom.label or '即日'}: {what} {issue}",), confidence=_FROM_ISSUE_YEAR)


def _place_time(atom: _Time, carry: _Span) -> _Span:
    return replace(carry, first=carry.last, time=atom.time)


def _place_any(atom: _Atom, ctx: _Ctx, *, roll: bool, carry: _Span | None = None) -> _Span:
    if isinstance(atom, _Cal):
        return _place(atom, ctx, roll=roll, carry=carry)
    if isinstance(atom, _IssueDay):
        return _place_issue_day(atom, ctx)
    if isinstance(atom, _Time) and carry is not None:
        return _place_time(atom, carry)
    raise _Unresolvable("cannot place this expression on the calendar")


# -- working days ---------------------------------------------------------------------------


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
        ), _UNCOVERED


def _shift(base: date, n: int, unit: str) -> tuple[date, tuple[str, ...], float]:
    """base ± n units, with any uncertainty notes and a confidence factor."""
    match unit:
        case "workday":
            return shift_workdays(base, n)
        case "day":
            return base + timedelta(days=n), (), 1.0
        case "week":
            return base + timedelta(weeks=n), (), 1.0
        case "month":
            return _add_months(base, n), (), 1.0
        case _:
            return _add_months(base, 12 * n), (), 1.0


_UNIT_WORDS = {"workday": "working day", "day": "day", "week": "week", "month": "month", "year": "year"}


def _count(n: int, unit: str) -> str:
    """3 working days, 1 week."""
    return f"{n} {_UNIT_WORDS[unit]}{'' if n == 1 else 's'}"


def _resolve_relative(atom: _Relative, ctx: _Ctx, event_base: str | None) -> When:
    if event_base:
        raise _Unresolvable(f"counted from {event_base.rstrip('的')}, an event whose date the text does not give", 0.8)
    issue = ctx.issue(f"{atom.label}: a relative date without a base")
    end, extra, factor = _shift(issue, atom.n, atom.unit)
    calendar_word = " on the official calendar" if atom.unit == "workday" else ""
    counted = f"counted {_count(atom.n, atom.unit)} from the issue date {issue}{calendar_word}"
    if atom.base == "issue":
        notes, confidence = [f"{counted} (自印发之日起)"], _FROM_ISSUE_YEAR
    elif atom.base == "receipt":
        notes = [f"{counted}: assumption, the day of receipt is not known so the issue date stands in"]
        confidence = _ASSUMED_BASE
    else:
        notes, confidence = [f"{counted}: assumption, the text names no base date"], _ASSUMED_BASE
    return When(kind="date", end=end.isoformat(), confidence=min(confidence, factor), notes=notes + list(extra))


# -- holidays -------------------------------------------------------------------------------

_FESTIVAL_NAMES = {
    Festival.new_year: "元旦", Festival.spring: "春节", Festival.qingming: "清明节",
    Festival.labour: "劳动节", Festival.dragon_boat: "端午节", Festival.mid_autumn: "中秋节",
    Festival.national: "国庆节",
}  # fmt: skip


def _festival_span(festival: Festival, year: int) -> tuple[date, date]:
    try:
        block = workdays.festival_block(festival, year)
    except CalendarNotCovered:
        raise _Unresolvable(
            f"holiday data does not cover {year}: the {_FESTIVAL_NAMES[festival]} holiday block is not known "
            "(upgrade chinesecalendar once the State Council has published it)",
            _UNCOVERED,
        ) from None
    if block is None:
        raise _Unresolvable(f"{_FESTIVAL_NAMES[festival]} was not a public holiday in {year}", 0.3)
    return block


def _holiday_days(atom: _Holiday, year: int) -> tuple[date | None, date | None, list[str]]:
    """(first, last) for one choice of the festival year; first or last None for open ends."""
    head, tail = atom.festivals[0], atom.festivals[-1]
    if atom.relation == "before":
        if head.fixed_day is not None:  # 国庆节前 → 09-30: the festival day itself is the anchor
            day = date(year, *head.fixed_day) - timedelta(days=1)
            notes = [f"{_FESTIVAL_NAMES[head]}前: the day before {_FESTIVAL_NAMES[head]} {date(year, *head.fixed_day)}"]
            if workdays.covered(year):
                block_start = _festival_span(head, year)[0]
                if block_start <= day:
                    notes.append(f"the official {year} holiday block already begins {block_start}")
            return None, day, notes
        block = _festival_span(head, year)  # 春节前 → the day before the official block begins
        day = block[0] - timedelta(days=1)
        return None, day, [f"the day before the official {_FESTIVAL_NAMES[head]} holiday {block[0]}..{block[1]}"]
    first = _festival_span(head, year)
    last = _festival_span(tail, year) if tail is not head else first
    note = f"official holiday {first[0]}..{last[1]}"
    if atom.relation == "after":
        return last[1] + timedelta(days=1), None, [f"after the {note}"]
    return first[0], last[1], [note]


def _resolve_holiday(atom: _Holiday, ctx: _Ctx, period: _Relative | None = None) -> When:
    first, last, notes, confidence = _choose_holiday(atom, ctx)
    if period is not None:  # 国庆节后一周内: counted from the holiday's last day
        assert first is not None
        holiday_end = first - timedelta(days=1)
        end, extra, factor = _shift(holiday_end, period.n, period.unit)
        notes = notes[:-1] + [f"counted {_count(period.n, period.unit)} from the last day of the holiday "
                              f"{holiday_end}", *extra]  # fmt: skip
        return When(kind="date", end=end.isoformat(), confidence=min(confidence, factor), notes=notes)
    if first is not None and last is not None:
        return When(kind="range", start=first.isoformat(), end=last.isoformat(), confidence=confidence, notes=notes)
    if first is not None:
        return When(kind="range", start=first.isoformat(), confidence=confidence, notes=notes + ["open-ended"])
    assert last is not None
    return When(kind="date", end=last.isoformat(), confidence=confidence, notes=notes)


def _choose_holiday(atom: _Holiday, ctx: _Ctx) -> tuple[date | None, date | None, list[str], float]:
    """The festival's days in the printed year, else in the first year whose occurrence does not
    end before the issue date (or before the 文号's year): a December notice's 春节前 is next year's."""
    if atom.year is not None:
        first, last, notes = _holiday_days(atom, atom.year)
        return first, last, notes, _EXPLICIT
    base, source, confidence = ctx.base_year(atom.label)
    if atom.year_rel is not None:  # 明年春节前
        year = base + atom.year_rel
        first, last, notes = _holiday_days(atom, year)
        return first, last, [f"year {year} counted from {source}", *notes], confidence
    threshold = ctx.issue_date or date(base, 1, 1)
    for year in (base, base + 1):
        first, last, notes = _holiday_days(atom, year)
        if max(d for d in (first, last) if d is not None) >= threshold:
            break
    name = _FESTIVAL_NAMES[atom.festivals[0]]
    return first, last, [f"the next {name} on or after {threshold} ({source}): {year}", *notes], confidence


# -- candidate → When -----------------------------------------------------------------------


def _iso(d: date, time: tuple[int, int] | None, notes: list[str]) -> str:
    if time is None:
        return d.isoformat()
    hour, minute = time
    if hour == 24:
        notes.append("24时 is the end of the day")
        return d.isoformat()
    return f"{d.isoformat()}T{hour:02d}:{minute:02d}"


def _evaluate(cand: _Candidate, ctx: _Ctx) -> When:
    try:
        when = _evaluate_strict(cand, ctx)
    except _Unresolvable as why:
        when = When(kind="undeterminable", confidence=why.confidence, notes=[why.note])
    if cand.skip:
        when = when.model_copy(
            update={"confidence": min(when.confidence, _NOT_A_DEADLINE), "notes": [cand.skip, *when.notes]}
        )
    return when


def _evaluate_strict(cand: _Candidate, ctx: _Ctx) -> When:
    atom = cand.first
    roll = cand.skip is None
    match atom:
        case _Recurring():
            return When(kind="recurring", rrule=atom.rrule, offset_workdays=atom.offset_workdays, confidence=_VAGUE,
                        notes=list(atom.notes))  # fmt: skip
        case _Vague():
            return When(kind="undeterminable", confidence=_VAGUE, notes=[_VAGUE_NOTES[atom.word]])
        case _Relative():
            return _resolve_relative(atom, ctx, cand.event_base)
        case _Holiday():
            return _resolve_holiday(atom, ctx, cand.last if isinstance(cand.last, _Relative) else None)
        case _Time():
            return When(kind="undeterminable", confidence=0.3,
                        notes=[f"a time of day {atom.time[0]:02d}:{atom.time[1]:02d} with no date"])  # fmt: skip

    notes: list[str] = []
    if cand.shape == "range":
        assert cand.last is not None
        try:
            head = _place_any(atom, ctx, roll=False)
        except _Unresolvable as why:
            if not isinstance(atom, _IssueDay):
                raise
            head = None
            notes.append(why.note)
        tail = _place_any(cand.last, ctx, roll=roll, carry=head)
        if head is not None and isinstance(atom, _Cal) and atom.year is None and ctx.issue_date and roll:
            head, tail = _roll_range(atom, cand.last, head, tail, ctx)
        confidence = min(tail.confidence, head.confidence if head else _ASSUMED_BASE)
        notes += list(dict.fromkeys([*(head.notes if head else ()), *tail.notes]))  # once each, in order
        start = _iso(head.first, head.time, notes) if head else None
        end = _iso(tail.last, tail.time, notes)
        return When(kind="range", start=start, end=end, confidence=confidence, notes=notes)

    span = _place_any(atom, ctx, roll=roll)
    notes += span.notes
    confidence = span.confidence
    if cand.before is not None:  # 11月20日前3个工作日
        n, unit = cand.before
        day, extra, factor = _shift(span.last, -n, unit)
        notes += [f"{_count(n, unit)} before {span.last}", *extra]
        return When(kind="date", end=day.isoformat(), confidence=min(confidence, factor), notes=notes)
    if cand.shape == "open":
        notes.append("open-ended: from this date on")
        return When(kind="range", start=_iso(span.first, span.time, notes), confidence=confidence, notes=notes)
    if cand.shape == "after":
        notes.append("open-ended: after this date")
        return When(kind="range", start=(span.last + timedelta(days=1)).isoformat(), confidence=confidence,
                    notes=notes)  # fmt: skip
    if not cand.marked and isinstance(atom, _Cal) and atom.day is None and atom.part is None:
        # 报送12月份数据: a whole month or year with no 前/止 is as often a reporting period
        notes.append("a whole period with no 前/止/截至: may name a reporting period rather than a deadline")
        confidence = min(confidence, _SUSPECT)
    return When(kind="date", end=_iso(span.last, span.time, notes), confidence=confidence, notes=notes)


def _roll_range(first: _Cal, last: _Atom, head: _Span, tail: _Span, ctx: _Ctx) -> tuple[_Span, _Span]:
    """A yearless range that ends well before the issue date is next year's, as a single date is."""
    assert ctx.issue_date is not None
    if ctx.issue_date - tail.last <= _ROLL_AFTER:
        return head, tail
    head = _place(replace(first, year=head.first.year + 1), ctx, roll=False)
    head = replace(head, notes=(f"year {head.first.year}: in {head.first.year - 1} the range would end before "
                                f"the issue date {ctx.issue_date}",), confidence=_ROLLED)  # fmt: skip
    tail = _place_any(last, ctx, roll=False, carry=head)
    return head, tail


# ---------------------------------------------------------------------------------------------
# 8. Public API


def find(text: str, *, issue_date: date | None = None, year_hint: int | None = None) -> list[Found]:
    """Every time expression in `text` that can bear on a deadline, with offsets into `text`.

    Left out: 文号 years, cited documents' dates, past references and narrative events
    (see the module docstring).  Undated duties (`及时`) and relative periods without a
    base are returned with kind "undeterminable".
    """
    ctx = _Ctx(issue_date, year_hint)
    norm = _normalise(text)
    found = []
    for cand in _usable(norm):
        if cand.skip:
            continue
        start, end = norm.span(cand.start, cand.end)
        found.append(Found(start=start, end=end, phrase=text[start:end], when=_evaluate(cand, ctx)))
    return found


def resolve(phrase: str, *, issue_date: date | None = None, year_hint: int | None = None) -> When:
    """Read one phrase (`请于11月20日前报送`, `每季度末前5个工作日`, `及时报送`).

    A dated reading is preferred over an undated duty word in the same phrase; a phrase with
    several dated expressions reads the first and says so.  A phrase with no time expression
    is "undeterminable".  A cited or past date is still read, with confidence 0.2 and a note.
    """
    ctx = _Ctx(issue_date, year_hint)
    norm = _normalise(phrase)
    cands = list(_usable(norm))
    if not cands:
        note = "no time expression"
        if _doc_number_spans(norm.text):
            note += "; the bracketed year is a 文号, not a date"
        return When(kind="undeterminable", confidence=_VAGUE, notes=[note])
    live = [c for c in cands if not c.skip] or cands
    dated = [c for c in live if not isinstance(c.first, _Vague | _Time)] or live
    when = _evaluate(dated[0], ctx)
    if len(dated) > 1:
        when.notes.append(f"the phrase holds {len(dated)} time expressions; this is the first")
    return when


def _usable(norm: _Norm) -> Iterator[_Candidate]:
    """Candidates that do not overlap a 文号."""
    numbers = _doc_number_spans(norm.text)
    for cand in _candidates(norm):
        if not any(cand.start < end and start < cand.end for start, end in numbers):
            yield cand
