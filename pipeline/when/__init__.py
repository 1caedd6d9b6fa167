"""Read the time expressions of Chinese official notices into `When` records.

Clerks read a notice to learn what must be done by when; this package turns the "when" part
into dates.  Two entry points, both pure:

    resolve(phrase, issue_date=..., year_hint=...) -> When        one phrase
    find(text, issue_date=..., year_hint=...) -> list[Found]       every expression in a sentence

and two helpers the task and chain stages share: `recurrence_label(rrule)` (yearly, quarterly, …)
and `shift_workdays(day, n)` (n working days on, with notes where the calendar has no data).

The modules, in the order a text passes through them: `folding` (step 1 below), `scan` with one
module per family of atoms — `dates` (absolute dates, months, years, their parts, times of day),
`offsets` (the issue day and periods counted from it), `holidays`, `recurrence` — built on the
shared fragments of `numerals` (step 2), `ranges` (steps 3 and 4), and `resolver`, which turns
candidates into `When` records and holds `find` and `resolve`.  `context` holds the confidence
levels and the reading context; `workdays` the official calendar.

How it reads (one pass per text):

1. Normalise a copy of the text, keeping a map back to the original offsets: OCR spaces and
   line breaks and quotes are dropped (`11 月 20 日`, `“五一”前`), full-width ASCII becomes
   half-width (`１１月２０日`, `（`), `○` becomes `〇`, `O`/`o` and `l`/`I` inside a run of digits
   become 0 and 1 (`2O24年`), traditional characters become simplified (`報送`, `個工作日`).
2. Find atoms with small regexes, leftmost-longest: calendar dates (`二〇二四年十一月二十日`,
   `2024-11-20`, `11月中旬`, `年底`, `一季度`, `本月底`), holidays (`国庆节前`, `元旦春节期间`),
   relative periods (`自印发之日起30日内`, `收到通知后10个工作日内`), the issue day (`即日起`),
   recurring duties (`每季度末前5个工作日`, `每周五`), times of day and undated duties (`及时`).
3. Combine atoms with what surrounds them: ranges (`10月9日至15日`, `6月3-7日`, `4-5月`, `自…起…止`,
   `即日起至…`), open starts (`自2025年1月1日起施行`), deadlines (`前/之前/以前/截止/截至/止`),
   lists of dates (`分别于5月底和8月底前`, `7月16、17日`: one candidate per date, the 前 after the
   last holding for all, a bare day taking the month before it), and a recurring duty's end
   (`每季度末报送，至2026年底` → `UNTIL`).
4. Mark what is not a deadline (see below) and resolve the rest against the issue date.

What is not a deadline.  A 文号 (`〔2024〕89号`, any bracket style) has no 年 and never forms a
date.  A cited document's date (`2024年3月5日印发的《…》`, inside `《…》`, or in the brackets
after `》`), a past reference (`…以来`, `…召开的`) and a narrative event (`10月9日，习近平总书记…
回信`: a plain date with no 前/止 at the start of a sentence, followed by a comma) are left out
of `find`, whose callers build deadlines from what it returns.  `resolve`, asked about such a
phrase explicitly, still reads the date but with confidence 0.2 and a note naming the reason
(`event: …`, `cited: …`, `past: …`).  Holiday names count only with a relation word
(`春节前`, `国庆期间`, `节后`): `五一劳动奖章` is not a time.  A blank date line of a form
(`2025年 月 日`), a period with no start (`一个月内完成`, `3个工作日内`) and one counted back
from an undated event (`会前3天`) are undeterminable with the reason, never a guess.

Periods.  A period named as a whole with no 前/止/截至 (`2024年第二季度`, `今年上半年`, `全年`,
`4-5月`, `10月中下旬`, `报送12月份数据`) is a range from its first day to its last; with a
deadline word (`第一季度末前`, `年底前`) only its last day counts.  A period counted from the
issue date (`自印发之日起30日内`) is a range that opens on the issue date.  Periodic duties keep
their rhythm as an RRULE: quarter and half-year ends as `FREQ=MONTHLY;BYMONTH=3,6,9,12;
BYMONTHDAY=-1` (and 6,12), 双月 as the even months, `每年第一季度末前` as the end of that part,
`每年10月至12月` (`每年3-4月`) as a window each year due by its last month's end.
`每月最后一个工作日` is the month's end with `offset_workdays` 0: the last working day on or
before it on the official calendar (a month ending in a holiday block or a weekend steps back;
a 调休 Saturday counts).  Every recurring `When` carries `first`, its first due day on or after
the issue date (else 1 January of the 文号's year), the offset applied, and `UNTIL` where the text
bounds it (`…，至2026年底`; `2024—2026年，每季度…`, which also starts it no earlier than 2024).  A duty at a festival each year: one on a fixed day is a yearly rule (`每年国庆节前`:
`BYMONTH=9;BYMONTHDAY=30`); 春节, 清明, 端午 and 中秋 move every year, so no RRULE holds them and
their due days are listed in `rdates` for each year the official calendar covers (undeterminable,
with the reason, when it covers none after the issue date).

Confidence: 0.95 a printed full date; 0.9 year or base from the issue date; 0.85 year from the
文号; 0.8 an approximate part (上旬, 月初, a whole month); 0.75 rolled to next year; 0.7 counted
from the issue date as a stand-in for the day of receipt; 0.5 suspect (weekday mismatch, date
kept before the issue date); 0.4 or less without official holiday data;
0.2 not a deadline.

Years.  An explicit year wins.  Otherwise the issue date's year, else `year_hint` (the parser
passes the 文号's year); the note says which.  With an issue date, a yearless date more than
31 days before it is next year's (a December notice about `2月底前`); one at most 31 days
before it stays in the issue year with a warning (a late forward or a past reference, which
is safer shown as already passed than pushed a year out).  Past references never roll.

Working days are counted on the official calendar (`pipeline.when.workdays`); a year without
holiday data is counted Monday to Friday, marked uncertain (confidence at most 0.4, note).
"""

from pipeline.when.offsets import shift_workdays
from pipeline.when.recurrence import recurrence_label
from pipeline.when.resolver import Found, find, resolve

__all__ = ["Found", "find", "recurrence_label", "resolve", "shift_workdays"]
