"""Documents to tasks: every deadline and duty of a notice as a record a calendar can hold.

Clerks read notices to learn what must be done by when (shared/domain.md §3).  The parser
leaves that in `Document.deadlines` and `Document.ongoing_duties`; this module turns each into
a `Task` with the document it came from, the contact to call, and due days a calendar can use.
Everything here is a pure function of the records:

    tasks_from_document(doc, store_id=None) -> list[Task]     one notice's tasks
    occurrences(task, count, since=None) -> list[Occurrence]  due days of a recurring task
    anchor_rule(rrule) -> str                                 a rule with no day, anchored on its period's end
    select(tasks, TaskFilter(...)) -> list[Task]              the `gongwen deadlines` filters

Recurring duties.  The engine reads `每年至少开展1项…` as `FREQ=YEARLY` with no day: the duty
is due within each year.  A calendar needs a day, and RFC 5545 §3.8.5.3 gives every instance
of a recurring to-do the same exact duration (DUE - DTSTART), so a "whole year" or "whole
month" instance drifts across leap years and short months.  Such rules are therefore anchored
on the period's last day (`FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31`), which is what the notice
means by "each year".  Weekly duties with no day are due on Friday, the last day of the normal
working week.  A working-day offset (`每季度末前5个工作日`) moves each rule date on the official
calendar (`pipeline.when.workdays`), which RRULE cannot say: `occurrences` computes the real days.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from dateutil.rrule import rrulestr

from models import Contact, Deadline, Document, Task, TaskDocument
from pipeline.when import recurrence_label, resolve
from pipeline.when.recurrence import anchor_rule
from pipeline.when.offsets import due_on

__all__ = ["Occurrence", "TaskFilter", "anchor_rule", "due_of", "occurrences", "select", "tasks_from_document"]



# ---------------------------------------------------------------------------------------------
# Recurrence


def _rule_parts(rrule: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in rrule.split(";") if "=" in item)


@dataclass(frozen=True)
class Occurrence:
    """One due day of a recurring task: the rule's date and the due day after the working-day offset."""

    anchor: date | datetime
    due: date | datetime
    notes: tuple[str, ...] = ()


def _reference_date(task: Task) -> date | None:
    """The day a notice's recurring duties start from: its 成文日期, else 1 January of its 文号's year."""
    if task.document.issue_date:
        return date.fromisoformat(task.document.issue_date[:10])
    if task.document.year:
        return date(task.document.year, 1, 1)
    return None


def _shifted(anchor: date | datetime, offset: int | None) -> tuple[date | datetime, tuple[str, ...]]:
    if offset is None:
        return anchor, ()
    day = anchor.date() if isinstance(anchor, datetime) else anchor
    moved, notes, _ = due_on(day, offset)
    return (datetime.combine(moved, anchor.time()) if isinstance(anchor, datetime) else moved), notes


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def occurrences(task: Task, count: int, *, since: date | None = None) -> list[Occurrence]:
    """The first `count` due days of a recurring task that fall on or after `since`.

    Never before the notice's date (see `_reference_date`): a duty is not due before it was
    set.  [] when the task is not recurring or no start day is known.  Due days are timed
    (naive datetimes, Asia/Shanghai wall time) when the rule has BYHOUR, dates otherwise.
    Working-day offsets use the official calendar; a year it does not cover is counted Monday
    to Friday and the occurrence says so.
    """
    start = max((day for day in (since, _reference_date(task)) if day is not None), default=None)
    if start is not None and task.rrule is None and task.rdates:  # 每年春节前: the listed days
        days = [date.fromisoformat(day) for day in task.rdates]
        return [Occurrence(day, day) for day in days if day >= start][: max(count, 0)]
    if task.rrule is None or start is None or count <= 0:
        return []
    # A due day N working days *after* its rule date (结束后N个工作日内) can be on or after `start`
    # while the rule date is before it: begin the rule that much earlier.  N working days span
    # at most 2N + 14 calendar days, the longest holiday block included.
    lookback = 2 * -task.offset_workdays + 14 if (task.offset_workdays or 0) < 0 else 0
    first = date.fromordinal(start.toordinal() - lookback)
    rule = rrulestr(task.rrule, dtstart=datetime.combine(first, time()))
    timed = "BYHOUR" in _rule_parts(task.rrule)
    found: list[Occurrence] = []
    for when in rule:
        anchor: date | datetime = when if timed else when.date()
        due, notes = _shifted(anchor, task.offset_workdays)
        if _day(due) < start:
            continue
        found.append(Occurrence(anchor, due, notes))
        if len(found) == count:
            break
    return found


# ---------------------------------------------------------------------------------------------
# Deadlines and duties → tasks


def _iso(value: date | datetime) -> str:
    return value.isoformat(timespec="minutes") if isinstance(value, datetime) else value.isoformat()


def due_of(task: Task) -> date | None:
    """The task's (first) due day, without its time; None for a duty."""
    return date.fromisoformat(task.due[:10]) if task.due else None


def _source(doc: Document, store_id: str | None) -> TaskDocument:
    return TaskDocument(
        doc_number=doc.doc_number,
        title=doc.title,
        issuers=list(doc.issuers),
        level=doc.level,
        issue_date=doc.issue_date,
        year=doc.doc_number_parts.year if doc.doc_number_parts else None,
        store_id=store_id,
    )


def _contact_for(contacts: list[Contact], report_to: str | None, sentence: str | None) -> Contact | None:
    """The contact of the office the sentence names (`报省老龄办（省民政厅老龄工作处）` → the contact of
    省民政厅老龄工作处), else of the office reported to (`市民政局` → its 养老服务科), else the first."""
    where = f"{report_to or ''}\n{sentence or ''}"
    named = next((c for c in contacts if c.org and c.org in where), None)
    if named is None and report_to:
        named = next((c for c in contacts if c.org and c.org.startswith(report_to)), None)
    return named or (contacts[0] if contacts else None)


def _task_id(source: TaskDocument, what: str, due_key: str) -> str:
    """A hash of 文号 (or title), action and due: stable across re-exports and reparses."""
    key = "\x1f".join((source.doc_number or source.title or "", what, due_key))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def _offset(deadline: Deadline) -> int | None:
    """The working-day offset of a recurring deadline; read again from its text for records made
    before the parser carried `offset_workdays` (the reading must give the same rule)."""
    if deadline.offset_workdays is not None or not deadline.rrule:
        return deadline.offset_workdays
    again = resolve(deadline.text)
    return again.offset_workdays if again.rrule == deadline.rrule else None


def _deadline_task(deadline: Deadline, doc: Document, source: TaskDocument, index: int) -> Task:
    where = doc.provenance.get(f"deadlines[{index}]")
    fields = {
        "document": source,
        "action": deadline.action,
        "text": deadline.text,
        "assignees": list(deadline.assignees or doc.recipients),
        "report_to": deadline.report_to,
        "form": list(deadline.form),
        "contact": _contact_for(doc.contacts, deadline.report_to, deadline.sentence),
        "sentence": deadline.sentence,
        "page": deadline.page if deadline.page is not None else (where.page if where else None),
        "confidence": deadline.confidence,
        "date_note": deadline.date_note,
    }
    what = deadline.action or deadline.text
    if deadline.rdates and not deadline.rrule:
        task = Task(id=_task_id(source, what, "|".join(deadline.rdates)), kind="recurring", rdates=list(deadline.rdates),
                    recurring=deadline.recurring or "yearly", **fields)  # fmt: skip
        first = occurrences(task, 1)
        return task.model_copy(update={"due": _iso(first[0].due)}) if first else task
    if deadline.rrule:
        rule, offset = anchor_rule(deadline.rrule), _offset(deadline)
        task = Task(id=_task_id(source, what, f"{rule}|{offset}"), kind="recurring", rrule=rule,
                    recurring=deadline.recurring or recurrence_label(deadline.rrule), offset_workdays=offset,
                    **fields)  # fmt: skip
        first = occurrences(task, 1)
        return task.model_copy(update={"due": _iso(first[0].due)}) if first else task
    if deadline.date and deadline.start:
        due_key = f"{deadline.start}/{deadline.date}"
        return Task(
            id=_task_id(source, what, due_key), kind="window", start=deadline.start, due=deadline.date, **fields
        )
    if deadline.date:
        return Task(id=_task_id(source, what, deadline.date), kind="deadline", due=deadline.date, **fields)
    return Task(id=_task_id(source, what, deadline.start or ""), kind="duty", start=deadline.start, **fields)


def _duty_task(duty: str, doc: Document, source: TaskDocument, index: int) -> Task:
    where = doc.provenance.get(f"ongoing_duties[{index}]")
    return Task(
        id=_task_id(source, duty, ""),
        kind="duty",
        document=source,
        action=duty,
        text=duty,
        assignees=list(doc.recipients),
        contact=_contact_for(doc.contacts, None, duty),
        page=where.page if where else None,
    )


def tasks_from_document(doc: Document, *, store_id: str | None = None) -> list[Task]:
    """Every deadline and standing duty of one notice as a task, in the order the notice gives them.

    Two requirements that come out the same (same action and due) are one task.
    """
    source = _source(doc, store_id)
    tasks = [_deadline_task(d, doc, source, i) for i, d in enumerate(doc.deadlines)]
    tasks += [_duty_task(text, doc, source, i) for i, text in enumerate(doc.ongoing_duties)]
    unique: dict[str, Task] = {}
    for task in tasks:
        unique.setdefault(task.id, task)
    return list(unique.values())


# ---------------------------------------------------------------------------------------------
# Filters


@dataclass(frozen=True)
class TaskFilter:
    """What `gongwen deadlines` selects on.  Text filters are substrings; dates are inclusive.

    With a date bound, a recurring task is kept when one of its due days falls inside, and a
    duty with no date is left out.
    """

    since: date | None = None
    until: date | None = None
    assignee: str | None = None
    issuer: str | None = None
    level: str | None = None

    def matches(self, task: Task) -> bool:
        if self.assignee and not any(self.assignee in a for a in task.assignees):
            return False
        doc = task.document
        if self.issuer and not any(self.issuer in name for name in [*doc.issuers, doc.doc_number or ""]):
            return False
        if self.level and doc.level != self.level:
            return False
        return self._in_dates(task)

    def _in_dates(self, task: Task) -> bool:
        if self.since is None and self.until is None:
            return True
        span = _days(task, self.since)
        if span is None:
            return False
        first, last = span
        return (self.since is None or last >= self.since) and (self.until is None or first <= self.until)


def _days(task: Task, since: date | None) -> tuple[date, date] | None:
    """The first and last day a task asks for: a window's days, a deadline's day, the first due
    day of a recurring task on or after `since`; None for a duty."""
    if task.kind == "recurring":
        first = occurrences(task, 1, since=since)
        return (_day(first[0].due),) * 2 if first else None
    due = due_of(task)
    if due is None:
        return None
    return (date.fromisoformat(task.start) if task.kind == "window" and task.start else due), due


def select(tasks: Iterable[Task], task_filter: TaskFilter) -> list[Task]:
    """The tasks the filter keeps, in order."""
    return [task for task in tasks if task_filter.matches(task)]
