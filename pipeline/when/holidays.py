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
from pipeline.when.recurrence import first_due
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


def yearly_holiday(atom: Holiday, ctx: Context) -> When:
    """A duty due each year at a festival (`每年春节前`, `每年国庆节前`).

    A festival on a fixed Gregorian day is one yearly rule (`每年国庆节前` is
    `FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=30`).  The lunar ones (春节, 端午, 中秋) and 清明 (a solar
    term) move every year, so no RRULE holds them: the due days are listed as RDATEs for every
    year the official calendar covers, from the issue date on, and the note says where the list
    stops; a yearly rule would put every year's reminder on the first year's date.
    """
    since_notes: list[str] = []
    since = ctx.issue_date or (date(ctx.year_hint, 1, 1) if ctx.year_hint else None)
    if ctx.issue_date is None and since is not None:
        since_notes.append(f"no issue date: due days counted from {since} (文号's year)")
    head = atom.festivals[0]
    if atom.relation == "before" and head.fixed_day is not None:
        day = date(2001, *head.fixed_day) - timedelta(days=1)  # any year: the day before a fixed date
        rrule = f"FREQ=YEARLY;BYMONTH={day.month};BYMONTHDAY={day.day}"
        first = first_due(rrule, None, since)[0] if since else None
        notes = [f"the day before {_FESTIVAL_NAMES[head]} each year", *since_notes]
        return When(kind="recurring", rrule=rrule, first=first, confidence=EXPLICIT, notes=notes)
    if since is None:
        raise Unresolvable(f"{atom.label}: a festival's date each year, but no year to start from")
    last_year = max(workdays.sources())
    days: list[date] = []
    for year in range(since.year, last_year + 1):
        try:
            first, last, _ = _holiday_days(atom, year)
        except Unresolvable:
            continue
        due = last if last is not None else first
        if due is not None and due >= since:
            days.append(due)
    name = _FESTIVAL_NAMES[head]
    notes = [f"{name} moves each year: due days listed for the years the official calendar covers "
             f"(to {last_year}); later years follow once their schedule is published", *since_notes]  # fmt: skip
    if not days:  # a duty each year, but not one of its days is known yet: never a guess
        notes.append(f"no {name} on or after {since} is known yet")
        return When(kind="undeterminable", confidence=UNCOVERED, notes=notes)
    return When(kind="recurring", rdates=[d.isoformat() for d in days], first=days[0].isoformat() if days else None,
                confidence=EXPLICIT if days else UNCOVERED, notes=notes)  # fmt: skip
