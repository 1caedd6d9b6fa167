"""Tie the families together: candidates to `When` records, and the public entry points
`find` (every expression in a text) and `resolve` (one phrase).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

from pydantic import BaseModel

from models.when import When
from pipeline.when.context import (
    ASSUMED_BASE,
    NOT_A_DEADLINE,
    ROLLED,
    ROLL_AFTER,
    VAGUE,
    Context,
    Span,
    Unresolvable,
)
from pipeline.when.dates import Blank, Cal, TimeOfDay, YearRange, place, place_time
from pipeline.when.folding import Folded, fold
from pipeline.when.holidays import Holiday, resolve_holiday, yearly_holiday
from pipeline.when.offsets import BeforeEvent, IssueDay, Relative, place_issue_day, quantity, resolve_relative, shift
from pipeline.when.ranges import Candidate, candidates, doc_number_spans
from pipeline.when.recurrence import Recurring, first_due
from pipeline.when.scan import VAGUE_NOTES, Atom, Vague


class Found(BaseModel):
    """One time expression located in a text: `text[start:end] == phrase`."""

    start: int
    end: int
    phrase: str
    when: When


def _place_any(atom: Atom, ctx: Context, *, roll: bool, carry: Span | None = None) -> Span:
    if isinstance(atom, Cal):
        return place(atom, ctx, roll=roll, carry=carry)
    if isinstance(atom, IssueDay):
        return place_issue_day(atom, ctx)
    if isinstance(atom, TimeOfDay) and carry is not None:
        return place_time(atom, carry)
    raise Unresolvable("cannot place this expression on the calendar")


# -- candidate → When ------------------------------------------------------------------------


def _iso(d: date, time: tuple[int, int] | None, notes: list[str]) -> str:
    if time is None:
        return d.isoformat()
    hour, minute = time
    if hour == 24:
        notes.append("24时 is the end of the day")
        return d.isoformat()
    return f"{d.isoformat()}T{hour:02d}:{minute:02d}"


def _evaluate(cand: Candidate, ctx: Context) -> When:
    try:
        when = _evaluate_strict(cand, ctx)
    except Unresolvable as why:
        when = When(kind="undeterminable", confidence=why.confidence, notes=[why.note])
    if cand.skip:
        when = when.model_copy(
            update={"confidence": min(when.confidence, NOT_A_DEADLINE), "notes": [cand.skip, *when.notes]}
        )
    return when


def _evaluate_strict(cand: Candidate, ctx: Context) -> When:
    atom = cand.first
    roll = cand.skip is None
    match atom:
        case Recurring():
            return _recurring(atom, cand.last, ctx)
        case BeforeEvent():
            return When(kind="undeterminable", confidence=0.8,
                        notes=[f"{atom.label}: counted back from {atom.event}, an event whose date the text does not give"])  # fmt: skip
        case Blank():
            return When(kind="undeterminable", confidence=VAGUE,
                        notes=[f"{atom.label}: a blank date line of a form, to be filled in; not a date"])  # fmt: skip
        case Vague():
            return When(kind="undeterminable", confidence=VAGUE, notes=[VAGUE_NOTES[atom.word]])
        case Relative():
            return resolve_relative(atom, ctx, cand.event_base)
        case Holiday():
            return resolve_holiday(atom, ctx, cand.last if isinstance(cand.last, Relative) else None)
        case TimeOfDay():
            return When(kind="undeterminable", confidence=0.3,
                        notes=[f"a time of day {atom.time[0]:02d}:{atom.time[1]:02d} with no date"])  # fmt: skip

    notes: list[str] = []
    if cand.shape == "range":
        assert cand.last is not None
        try:
            head = _place_any(atom, ctx, roll=False)
        except Unresolvable as why:
            if not isinstance(atom, IssueDay):
                raise
            head = None
            notes.append(why.note)
        tail = _place_any(cand.last, ctx, roll=roll, carry=head)
        if head is not None and isinstance(atom, Cal) and atom.year is None and ctx.issue_date and roll:
            head, tail = _roll_range(atom, cand.last, head, tail, ctx)
        confidence = min(tail.confidence, head.confidence if head else ASSUMED_BASE)
        notes += list(dict.fromkeys([*(head.notes if head else ()), *tail.notes]))  # once each, in order
        start = _iso(head.first, head.time, notes) if head else None
        end = _iso(tail.last, tail.time, notes)
        return When(kind="range", start=start, end=end, confidence=confidence, notes=notes)

    carry = _place_any(cand.carry, ctx, roll=roll) if cand.carry is not None else None
    span = _place_any(atom, ctx, roll=roll, carry=carry)
    notes += span.notes
    confidence = span.confidence
    if cand.before is not None:  # 11月20日前3个工作日
        n, unit = cand.before
        day, extra, factor = shift(span.last, -n, unit)
        notes += [f"{quantity(n, unit)} before {span.last}", *extra]
        return When(kind="date", end=day.isoformat(), confidence=min(confidence, factor), notes=notes)
    if cand.shape == "open":
        notes.append("open-ended: from this date on")
        return When(kind="range", start=_iso(span.first, span.time, notes), confidence=confidence, notes=notes)
    if cand.shape == "after":
        notes.append("open-ended: after this date")
        return When(kind="range", start=(span.last + timedelta(days=1)).isoformat(), confidence=confidence,
                    notes=notes)  # fmt: skip
    if not cand.marked and isinstance(atom, Cal) and atom.day is None and atom.part not in _BY_ITS_END:
        # 2024年第二季度, 今年上半年, 4月中下旬, 2025年度: a period named as a whole is a window from its
        # first day to its last; with 前/止/截至 (6月前, 第二季度末前) only its end is the deadline.
        notes.append("a period named as a whole: from its first day to its last")
        return When(kind="range", start=span.first.isoformat(), end=span.last.isoformat(), confidence=confidence,
                    notes=notes)  # fmt: skip
    return When(kind="date", end=_iso(span.last, span.time, notes), confidence=confidence, notes=notes)


# 年底, 月末, 年内: a part that names a period's end, read as a deadline on its last day
_BY_ITS_END = ("end", "within")


def _recurring(atom: Recurring, until: Atom | None, ctx: Context) -> When:
    """A recurring duty's rule, bounded by the date after it when there is one (`…，至2026年底`),
    with its first due day on or after the issue date."""
    if isinstance(until, Holiday):  # 每年春节前, 每年国庆节前
        return yearly_holiday(until, ctx)
    rrule, notes = atom.rrule, list(atom.notes)
    begin = None
    if isinstance(until, Cal) and until.year is None and until.year_rel is None and until.month is not None:
        # 每年10月至12月: the window's last month ends each year's duty (a window, not an UNTIL)
        opens = rrule.split("BYMONTH=")[1].split(";")[0]
        rrule = f"FREQ=YEARLY;BYMONTH={until.month};BYMONTHDAY=-1"
        notes.append(f"a window each year from {opens}月 to {until.month}月: due by {until.month}月's end")
        until = None
    if isinstance(until, YearRange):  # 2024—2026年每季度: from the first year's start to the last's end
        begin, until = date(until.first, 1, 1), Cal(year=until.last)
    if isinstance(until, Cal):
        try:
            last = place(until, ctx, roll=False).last
        except Unresolvable as why:
            notes.append(f"the end of the duty is not known: {why.note}")
        else:
            # RFC 5545 §3.3.10: UNTIL takes DTSTART's value type, and a zoned DTSTART (timed rules,
            # Asia/Shanghai) needs UNTIL in UTC: the day's end 23:59:59 +08:00 is 15:59:59Z.
            stamp = last.strftime("%Y%m%d") + ("T155959Z" if "BYHOUR=" in rrule else "")
            rrule += f";UNTIL={stamp}"
            notes.append(f"until {last}, as the text bounds it")
    first = None
    since = _since(ctx, notes)
    if begin is not None and (since is None or since < begin):
        since = begin
    if since is not None:
        first, extra = first_due(rrule, atom.offset_workdays, since)
        notes += [f"first due {first}" if first else f"no occurrence on or after {since}", *extra]
    return When(kind="recurring", rrule=rrule, offset_workdays=atom.offset_workdays, first=first,
                confidence=VAGUE, notes=notes)  # fmt: skip


def _since(ctx: Context, notes: list[str]) -> date | None:
    """The day a recurring duty starts: the issue date, else the first day of the 文号's year."""
    if ctx.issue_date is not None:
        return ctx.issue_date
    if ctx.year_hint is not None:
        notes.append(f"no issue date: the first due day is counted from {ctx.year_hint}-01-01 (文号's year)")
        return date(ctx.year_hint, 1, 1)
    return None


def _roll_range(first: Cal, last: Atom, head: Span, tail: Span, ctx: Context) -> tuple[Span, Span]:
    """A yearless range that ends well before the issue date is next year's, as a single date is."""
    assert ctx.issue_date is not None
    if ctx.issue_date - tail.last <= ROLL_AFTER:
        return head, tail
    head = place(replace(first, year=head.first.year + 1), ctx, roll=False)
    head = replace(head, notes=(f"year {head.first.year}: in {head.first.year - 1} the range would end before "
                                f"the issue date {ctx.issue_date}",), confidence=ROLLED)  # fmt: skip
    tail = _place_any(last, ctx, roll=False, carry=head)
    return head, tail


# -- Public API -------------------------------------------------------------------------------


def find(text: str, *, issue_date: date | None = None, year_hint: int | None = None) -> list[Found]:
    """Every time expression in `text` that can bear on a deadline, with offsets into `text`.

    Left out: 文号 years, cited documents' dates, past references and narrative events
    (see the package docstring, `pipeline.when`).  Undated duties (`及时`) and relative periods without a
    base are returned with kind "undeterminable".
    """
    ctx = Context(issue_date, year_hint)
    norm = fold(text)
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
    ctx = Context(issue_date, year_hint)
    norm = fold(phrase)
    cands = list(_usable(norm))
    if not cands:
        note = "no time expression"
        if doc_number_spans(norm.text):
            note += "; the bracketed year is a 文号, not a date"
        return When(kind="undeterminable", confidence=VAGUE, notes=[note])
    live = [c for c in cands if not c.skip] or cands
    dated = [c for c in live if not isinstance(c.first, Vague | TimeOfDay | Blank)] or live
    when = _evaluate(dated[0], ctx)
    if len(dated) > 1:
        when.notes.append(f"the phrase holds {len(dated)} time expressions; this is the first")
    return when


def _usable(norm: Folded) -> Iterator[Candidate]:
    """Candidates that do not overlap a 文号."""
    numbers = doc_number_spans(norm.text)
    for cand in candidates(norm):
        if not any(cand.start < end and start < cand.end for start, end in numbers):
            yield cand
