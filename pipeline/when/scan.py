"""Find the atoms of a folded text: every pattern of every family, leftmost-longest, no overlaps.

In: folded text.  Out: `Hit`s (start, end, atom) in text order; ties go to the earlier family in
`_ATOM_RULES`.  Undated duty words (`及时`, `尽快`) are atoms of their own here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.when.dates import (
    BARE_PART_RE,
    BLANK_RE,
    DAY_RE,
    MONTH_RANGE_RE,
    MONTH_RE,
    NUMERIC_RE,
    TIME_RE,
    YEAR_RANGE_RE,
    YEAR_RE,
    Blank,
    Cal,
    MonthRange,
    TimeOfDay,
    YearRange,
    blank_atom,
    cal_from_bare_part,
    cal_from_day,
    cal_from_month,
    cal_from_year,
    month_range_atom,
    standalone_time_atom,
    year_range_atom,
)
from pipeline.when.holidays import HOLIDAY_RE, Holiday, holiday_atom
from pipeline.when.offsets import (
    BEFORE_EVENT_RE,
    ISSUE_DAY_RE,
    RELATIVE_RE,
    BeforeEvent,
    IssueDay,
    Relative,
    before_event_atom,
    issue_day_atom,
    relative_atom,
)
from pipeline.when.recurrence import RECURRING_RE, Recurring, recurring_atom


@dataclass(frozen=True)
class Vague:
    word: str

Atom = Cal | Holiday | Relative | IssueDay | Recurring | Vague | TimeOfDay | YearRange | MonthRange | Blank | BeforeEvent


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    atom: Atom

VAGUE_NOTES = {
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
_VAGUE_RE = re.compile("|".join(sorted(VAGUE_NOTES, key=len, reverse=True)))


def _vague(m: re.Match[str]) -> Vague | None:
    return Vague(m.group())


# -- all atom patterns, in the order that breaks ties -----------------------------------------

_ATOM_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Atom | None]], ...] = (
    (DAY_RE, cal_from_day),
    (NUMERIC_RE, cal_from_day),
    (MONTH_RE, cal_from_month),
    (YEAR_RE, cal_from_year),
    (BARE_PART_RE, cal_from_bare_part),
    (YEAR_RANGE_RE, year_range_atom),
    (MONTH_RANGE_RE, month_range_atom),
    (BLANK_RE, blank_atom),
    (HOLIDAY_RE, holiday_atom),
    (BEFORE_EVENT_RE, before_event_atom),
    (RELATIVE_RE, relative_atom),
    (ISSUE_DAY_RE, issue_day_atom),
    (RECURRING_RE, recurring_atom),
    (_VAGUE_RE, _vague),
    (TIME_RE, standalone_time_atom),
)


def find_atoms(text: str) -> list[Hit]:
    """All atoms, leftmost-longest without overlaps (ties go to the earlier rule)."""
    hits: list[tuple[int, int, int, Atom]] = []
    for rank, (pattern, build) in enumerate(_ATOM_RULES):
        for m in pattern.finditer(text):
            if m.end() == m.start():
                continue
            atom = build(m)
            if atom is not None:
                hits.append((m.start(), -(m.end() - m.start()), rank, atom))
    chosen: list[Hit] = []
    covered_to = 0
    for start, neg_len, _, atom in sorted(hits, key=lambda h: h[:3]):
        if start >= covered_to:
            chosen.append(Hit(start, start - neg_len, atom))
            covered_to = start - neg_len
    return chosen
