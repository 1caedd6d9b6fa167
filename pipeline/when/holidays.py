"""Named holidays as time expressions: `国庆节前`, `元旦春节期间`, `春节后3个工作日内`.

In: a match of a festival name with a relation word (前 / 期间 / 后).  Out: a `Holiday` atom and
the days it stands for, taken from the official holiday blocks (`pipeline.when.workdays`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pipeline.when.workdays as workdays
from models.when import When
from pipeline.when.context import EXPLICIT, UNCOVERED, Context, Unresolvable
from pipeline.when.numerals import YEAR, year_fields
from pipeline.when.offsets import Relative, quantity, shift
from pipeline.when.workdays import CalendarNotCovered, Festival


@dataclass(frozen=True)
class Holiday:
    festivals: tuple[Festival, ...]
    relation: str  # "before" | "during" | "after"
    year: int | None = None
    year_rel: int | None = None
    label: str = ""

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
    "十一": (Festival.national,),  # “十一”前: National Day (10.1), only with a relation word, never after a numeral
}
_HOLIDAY_RELATIONS = {
    "前": "before", "之前": "before", "以前": "before",
    "期间": "during", "假期": "during", "假期期间": "during", "放假期间": "during", "节日期间": "during",
    "后": "after", "之后": "after", "以后": "after", "节后": "after",
}  # fmt: skip
HOLIDAY_RE = re.compile(
    rf"(?:{YEAR})?(?<![〇零一二三四五六七八九十两百\d第])(?P<name>{'|'.join(sorted(map(re.escape, _HOLIDAY_NAMES), key=len, reverse=True))})"
    rf"(?P<rel>{'|'.join(sorted(_HOLIDAY_RELATIONS, key=len, reverse=True))})"
)


def holiday_atom(m: re.Match[str]) -> Holiday | None:
    # The relation word is required: 五一劳动奖章, 中秋月饼, 国庆70周年 are not times.
    return Holiday(
        festivals=_HOLIDAY_NAMES[m.group("name")],
        relation=_HOLIDAY_RELATIONS[m.group("rel")],
        label=m.group(),
        **year_fields(m),
    )


# -- holidays ---------------------------------------------------------------------------------

_FESTIVAL_NAMES = {
    Festival.new_year: "元旦", Festival.spring: "春节", Festival.qingming: "清明节",
    Festival.labour: "劳动节", Festival.dragon_boat: "端午节", Festival.mid_autumn: "中秋节",
    Festival.national: "国庆节",
}  # fmt: skip


def _festival_span(festival: Festival, year: int) -> tuple[date, date]:
    try:
        block = workdays.festival_block(festival, year)
    except CalendarNotCovered:
        raise Unresolvable(
            f"holiday data does not cover {year}: the {_FESTIVAL_NAMES[festival]} holiday block is not known "
            "(upgrade chinesecalendar once the State Council has published it)",
            UNCOVERED,
        ) from None
    if block is None:
        raise Unresolvable(f"{_FESTIVAL_NAMES[festival]} was not a public holiday in {year}", 0.3)
    return block


def _holiday_days(atom: Holiday, year: int) -> tuple[date | None, date | None, list[str]]:
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


def resolve_holiday(atom: Holiday, ctx: Context, period: Relative | None = None) -> When:
    first, last, notes, confidence = _choose_holiday(atom, ctx)
    if period is not None:  # 国庆节后一周内: counted from the holiday's last day
        assert first is not None
        holiday_end = first - timedelta(days=1)
        end, extra, factor = shift(holiday_end, period.n, period.unit)
        notes = notes[:-1] + [f"counted {quantity(period.n, period.unit)} from the last day of the holiday "
                              f"{holiday_end}", *extra]  # fmt: skip
        return When(kind="date", end=end.isoformat(), confidence=min(confidence, factor), notes=notes)
    if first is not None and last is not None:
        return When(kind="range", start=first.isoformat(), end=last.isoformat(), confidence=confidence, notes=notes)
    if first is not None:
        return When(kind="range", start=first.isoformat(), confidence=confidence, notes=notes + ["open-ended"])
    assert last is not None
    return When(kind="date", end=last.isoformat(), confidence=confidence, notes=notes)


def _choose_holiday(atom: Holiday, ctx: Context) -> tuple[date | None, date | None, list[str], float]:
    """The festival's days in the printed year, else in the first year whose occurrence does not
    end before the issue date (or before the 文号's year): a December notice's 春节前 is next year's."""
    if atom.year is not None:
        first, last, notes = _holiday_days(atom, atom.year)
        return first, last, notes, EXPLICIT
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
