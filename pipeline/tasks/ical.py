"""Tasks to an iCalendar file (RFC 5545) that Outlook, Thunderbird, Apple and Google calendars import.

    build_calendar(tasks, options) -> icalendar.Calendar
    calendar_bytes(tasks, options) -> bytes          built, serialised and checked
    check_calendar(data) -> list[str]                 what is wrong with a file, [] when nothing
    uid_of(task, anchor=None) -> str

One component per task, chosen by what the task asks:

    deadline   VTODO with DUE (§3.6.2): a DATE when no time is printed, else Asia/Shanghai time
    window     VEVENT from DTSTART to DTEND (§3.6.1), TRANSP:TRANSPARENT so it does not block time
    recurring  VTODO with DTSTART = DUE = the first due day and the RRULE (§3.8.5.3)
    duty       VTODO without DUE (及时报送 has no date), DTSTART when it has a first day

Recurring duties with a working-day offset (`每季度末前5个工作日`) cannot be one RRULE: the due
day moves with holidays and 调休 in each period.  They become one VTODO per occurrence for the
next `CalendarOptions.occurrences` rule dates, each DUE computed on the official calendar
(`pipeline.tasks.records.occurrences`), each with its own UID (task id + rule date) so that every
quarter's report can be ticked off on its own and a re-export updates the same items.  RDATEs
were the other choice; they share one completion state and one alarm set across instances in
most clients, and a recurrence instance cannot carry its own DUE shift.

UIDs (§3.8.4.7) are `gongwen-<task id>`, a hash of the content, so exporting again replaces the
same tasks instead of adding copies.  DTSTAMP (§3.8.7.2) is the time of export in UTC, or a
fixed `CalendarOptions.stamp` for reproducible files.  Reminders are VALARMs relative to the due
time (`TRIGGER;RELATED=END`, §3.8.6.3): by default 3 days and 1 day before; for all-day tasks
they ring at `reminder_hour` (09:00) on that day rather than at midnight.  No METHOD property:
the same objects go to CalDAV servers, where RFC 4791 §4.1 forbids it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from models import Task
from pipeline.errors import CalendarError
from pipeline.tasks.records import Occurrence, occurrences

__all__ = [
    "PRODID",
    "RECURRENCE_NAMES",
    "CalendarOptions",
    "TZ",
    "build_calendar",
    "calendar_bytes",
    "check_calendar",
    "offset_words",
    "uid_of",
]

TZ = ZoneInfo("Asia/Shanghai")
PRODID = "-//gongwen//deadlines of official notices//ZH"
_MAX_OCTETS = 75  # RFC 5545 §3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break
RECURRENCE_NAMES = {
    "yearly": "每年", "half-yearly": "每半年", "quarterly": "每季度",
    "monthly": "每月", "weekly": "每周", "daily": "每日",
}  # fmt: skip
_COMPONENTS = ("VTODO", "VEVENT", "VJOURNAL")
# How far the check expands each recurrence: two years covers every rule notices use.
_EXPANSION_WINDOW = timedelta(days=731)


@dataclass(frozen=True)
class CalendarOptions:
    """How tasks become a calendar.

    reminders      days before the due day (or the window's last day) at which a VALARM rings
    reminder_hour  the hour those reminders ring on all-day tasks, local time
    occurrences    rule dates expanded for a recurring duty with a working-day offset
    since          expand from this day (default: each notice's own date, so files are reproducible)
    stamp          DTSTAMP, UTC (default: now)
    name           the calendar's name (RFC 7986 NAME and X-WR-CALNAME)
    """

    reminders: tuple[int, ...] = (3, 1)
    reminder_hour: int = 9
    occurrences: int = 8
    since: date | None = None
    stamp: datetime | None = None
    name: str = "公文期限"


def uid_of(task: Task, anchor: date | datetime | None = None) -> str:
    """`gongwen-<task id>`, and `-YYYYMMDD` of the rule date for one occurrence of an expanded duty."""
    return f"gongwen-{task.id}" + (f"-{anchor:%Y%m%d}" if anchor is not None else "")


# ---------------------------------------------------------------------------------------------
# Values


def _value(iso: str) -> date | datetime:
    """An ISO date as a DATE, an ISO datetime as Asia/Shanghai local time (TZID, §3.3.5 form 3)."""
    if "T" not in iso:
        return date.fromisoformat(iso)
    return datetime.fromisoformat(iso).replace(tzinfo=TZ)


def _local(value: date | datetime) -> date | datetime:
    return value.replace(tzinfo=TZ) if isinstance(value, datetime) else value


def _at_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=TZ)


def _chinese_date(value: date | datetime) -> str:
    """2024年11月20日, 2024年11月20日16:00."""
    text = f"{value.year}年{value.month}月{value.day}日"
    return text + (f"{value:%H:%M}" if isinstance(value, datetime) else "")


# ---------------------------------------------------------------------------------------------
# Text: SUMMARY, DESCRIPTION, CONTACT in Chinese


def _summary(task: Task) -> str:
    what = task.action or task.text
    return f"{what} → {task.report_to}" if task.report_to else what


def _contact_line(task: Task) -> str | None:
    """`省民政厅老龄工作处 张书毓 电话 0351-6387015、15972913611 邮箱 sxsmztllgzc@163.com` (CONTACT, §3.8.4.2)."""
    c = task.contact
    if c is None:
        return None
    parts = [p for p in (c.org, c.name) if p]
    if c.phones:
        parts.append("电话 " + "、".join(c.phones))
    if c.emails:
        parts.append("邮箱 " + "、".join(c.emails))
    return " ".join(parts) or None


def offset_words(offset_workdays: int | None) -> str:
    """前5个工作日 / 后10个工作日 / 或此前最后一个工作日 (0) / "" (none) for a task's working-day offset."""
    if offset_workdays is None:
        return ""
    if offset_workdays == 0:
        return "或此前最后一个工作日"
    return f"{'前' if offset_workdays > 0 else '后'}{abs(offset_workdays)}个工作日"


def _when_line(task: Task, occurrence: Occurrence | None) -> str | None:
    if occurrence is not None:
        how = offset_words(task.offset_workdays)
        anchor = _chinese_date(occurrence.anchor)
        return f"本期截止 {_chinese_date(occurrence.due)}（{anchor}{how}，按国家法定节假日和调休安排推算）"
    if task.kind == "recurring":
        label = RECURRENCE_NAMES.get(task.recurring or "", "定期")
        return f"{label}（首次 {_chinese_date(_value(task.due))}前）" if task.due else label
    if task.kind == "window" and task.start and task.due:
        return f"{_chinese_date(_value(task.start))}至{_chinese_date(_value(task.due))}"
    if task.due:
        return f"{_chinese_date(_value(task.due))}前"
    return "无明确日期（及时办理）"


def _description(task: Task, occurrence: Occurrence | None = None) -> str:
    doc = task.document
    source = " ".join(p for p in (doc.doc_number, f"《{doc.title}》" if doc.title else None) if p)
    where = f"第{task.page}页" if task.page else None
    confidence = f"{task.confidence:.2f}" if task.confidence is not None else None
    notes = "；".join([*(occurrence.notes if occurrence else ()), *([task.date_note] if task.date_note else [])])
    lines = [
        ("事项", task.action or task.text),
        ("期限", _when_line(task, occurrence)),
        ("承办", "、".join(task.assignees) or None),
        ("报送", task.report_to),
        ("形式", "、".join(task.form) or None),
        ("联系人", _contact_line(task)),
        ("文件", source or None),
        ("发文机关", "、".join(doc.issuers) or None),
        ("原文", " ".join(p for p in (where, task.sentence or task.text) if p)),
        ("日期识别", " ".join(p for p in (f"可信度 {confidence}" if confidence else None, notes or None) if p) or None),
    ]
    return "\n".join(f"{label}：{value}" for label, value in lines if value)


# ---------------------------------------------------------------------------------------------
# Components


def _alarms(
    task: Task, options: CalendarOptions, last_day: date | datetime, exclusive_end: bool
) -> Iterator[icalendar.Alarm]:
    """DISPLAY alarms N days before the last day, relative to the component's end (§3.8.6.3).

    For an all-day VEVENT the end (DTEND) is the day after the last day, hence `exclusive_end`.
    """
    for days in sorted(set(options.reminders), reverse=True):
        if isinstance(last_day, datetime):
            trigger = -timedelta(days=days)
        else:
            trigger = -timedelta(days=days + exclusive_end) + timedelta(hours=options.reminder_hour)
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{days}天后到期：{_summary(task)}")
        alarm.add("trigger", trigger, parameters={"RELATED": "END"})
        yield alarm


def _component(
    kind: type[icalendar.Todo] | type[icalendar.Event],
    task: Task,
    uid: str,
    stamp: datetime,
    occurrence: Occurrence | None = None,
) -> icalendar.Todo | icalendar.Event:
    """A VTODO or VEVENT with the properties every task has: UID, DTSTAMP, SUMMARY, DESCRIPTION, CONTACT."""
    component = kind()
    component.add("uid", uid)
    component.add("dtstamp", stamp)
    summary = _summary(task)
    if occurrence is not None:
        summary += f"（{_chinese_date(occurrence.anchor)}期）"
    component.add("summary", summary)
    component.add("description", _description(task, occurrence))
    contact = _contact_line(task)
    if contact:
        component.add("contact", contact)
    if task.document.doc_number:
        component.add("categories", [task.document.doc_number])
    if kind is icalendar.Todo:
        component.add("status", "NEEDS-ACTION")
    return component


def _todo(task: Task, options: CalendarOptions, stamp: datetime, *, due: date | datetime | None,
          uid: str, occurrence: Occurrence | None = None) -> icalendar.Todo:  # fmt: skip
    todo = _component(icalendar.Todo, task, uid, stamp, occurrence)
    if due is not None:
        todo.add("due", due)
        for alarm in _alarms(task, options, due, exclusive_end=False):
            todo.add_component(alarm)
    return todo


def _window(task: Task, options: CalendarOptions, stamp: datetime) -> icalendar.Event:
    """A VEVENT: all-day from the first to the last day (DTEND the day after, §3.6.1), or timed
    when either end has a time; both ends then get one (an untimed start at 00:00, an untimed
    last day ending at the next midnight), since DTSTART and DTEND must have the same value type."""
    assert task.start is not None and task.due is not None
    start, last = _value(task.start), _value(task.due)
    event = _component(icalendar.Event, task, uid_of(task), stamp)
    timed = isinstance(start, datetime) or isinstance(last, datetime)
    if timed:
        start = start if isinstance(start, datetime) else _at_midnight(start)
        end = last if isinstance(last, datetime) else _at_midnight(last + timedelta(days=1))
    else:
        end = last + timedelta(days=1)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("transp", "TRANSPARENT")
    for alarm in _alarms(task, options, end if timed else last, exclusive_end=not timed):
        event.add_component(alarm)
    return event


def _recurring(task: Task, options: CalendarOptions, stamp: datetime) -> Iterator[icalendar.Todo]:
    """One VTODO with the RRULE, or one per occurrence when a working-day offset moves each due day."""
    assert task.rrule is not None or task.rdates
    # A working-day offset, or due days no rule holds (a festival that moves each year): one
    # VTODO per due day, each with its own reminders.
    expanded = task.offset_workdays is not None or task.rrule is None
    first = occurrences(task, options.occurrences if expanded else 1, since=options.since)
    if not first:  # no day to start the rule from: listed as a duty rather than dropped
        yield _todo(task, options, stamp, due=None, uid=uid_of(task))
        return
    if expanded:
        for occurrence in first:
            yield _todo(task, options, stamp, due=_local(occurrence.due), uid=uid_of(task, occurrence.anchor),
                        occurrence=occurrence)  # fmt: skip
        return
    due = _local(first[0].due)
    todo = _todo(task, options, stamp, due=due, uid=uid_of(task))
    todo.add("dtstart", due)  # §3.8.5.3: the rule's first instance; DUE = DTSTART, as §3.8.2.3 allows
    todo.add("rrule", icalendar.vRecur.from_ical(task.rrule))
    yield todo


def _components(task: Task, options: CalendarOptions, stamp: datetime) -> Iterator[icalendar.Component]:
    match task.kind:
        case "recurring":
            yield from _recurring(task, options, stamp)
        case "window" if task.start and task.due:
            yield _window(task, options, stamp)
        case "deadline" if task.due:
            yield _todo(task, options, stamp, due=_value(task.due), uid=uid_of(task))
        case _:
            todo = _todo(task, options, stamp, due=None, uid=uid_of(task))
            if task.start:
                todo.add("dtstart", _value(task.start))
            yield todo


def build_calendar(tasks: Iterable[Task], options: CalendarOptions = CalendarOptions()) -> icalendar.Calendar:
    """A VCALENDAR with one component per task (several for an expanded recurring duty) and the
    VTIMEZONE of every TZID used (§3.2.19 requires one per TZID)."""
    stamp = (options.stamp or datetime.now(UTC)).astimezone(UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("name", options.name)
    cal.add("x-wr-calname", options.name)
    for task in tasks:
        for component in _components(task, options, stamp):
            cal.add_component(component)
    cal.add_missing_timezones()
    return cal


def calendar_bytes(tasks: Iterable[Task], options: CalendarOptions = CalendarOptions()) -> bytes:
    """The calendar as RFC 5545 bytes, checked with `check_calendar`: a file we write always reads back."""
    data = build_calendar(tasks, options).to_ical()
    problems = check_calendar(data)
    if problems:
        raise CalendarError(
            "the calendar built from the tasks does not check: " + "; ".join(problems[:5]),
            hint="report this with the input: it is a bug in pipeline/tasks/ical.py",
        )
    return data


# ---------------------------------------------------------------------------------------------
# The check


def _line_problems(data: bytes) -> list[str]:
    """§3.1: CRLF line breaks, lines of at most 75 octets, folded between characters, never inside
    a UTF-8 sequence (so every physical line decodes on its own)."""
    problems = []
    if not data.endswith(b"\r\n") or b"\n" in data.replace(b"\r\n", b""):
        problems.append("lines must end with CRLF (§3.1)")
    for number, line in enumerate(data.split(b"\r\n")[:-1], 1):
        if len(line) > _MAX_OCTETS:
            problems.append(f"line {number} is {len(line)} octets, over 75 (§3.1)")
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {number} is not UTF-8 on its own: folded inside a character (§3.1)")
    return problems


def _time_problems(component: icalendar.Component, where: str, tzids: set[str]) -> list[str]:
    """DUE (VTODO) or DTEND (VEVENT) not before DTSTART and of the same value type (§3.6.1, §3.6.2,
    §3.8.2.3), and every TZID defined by a VTIMEZONE (§3.2.19)."""
    problems = []
    start = component.get("DTSTART")
    end = component.get("DUE" if component.name == "VTODO" else "DTEND")
    if start is not None and end is not None:
        a, b = start.dt, end.dt
        if isinstance(a, datetime) != isinstance(b, datetime):
            problems.append(
                f"{where}: DTSTART and {'DUE' if component.name == 'VTODO' else 'DTEND'} differ in value type"
            )
        elif b < a:
            problems.append(f"{where}: ends ({b}) before it starts ({a})")
    for name in ("DTSTART", "DUE", "DTEND"):
        prop = component.get(name)
        tzid = prop.params.get("TZID") if prop is not None else None
        if tzid and tzid not in tzids:
            problems.append(f"{where}: TZID {tzid} has no VTIMEZONE (§3.2.19)")
    return problems


def _alarm_problems(component: icalendar.Component, where: str) -> list[str]:
    """§3.6.6: ACTION and TRIGGER; DESCRIPTION for DISPLAY; RELATED=END needs DUE or DTEND."""
    problems = []
    has_end = "DUE" in component or "DTEND" in component or "DURATION" in component
    for alarm in component.walk("VALARM"):
        if "ACTION" not in alarm or "TRIGGER" not in alarm:
            problems.append(f"{where}: VALARM without ACTION or TRIGGER")
            continue
        if alarm["ACTION"] == "DISPLAY" and "DESCRIPTION" not in alarm:
            problems.append(f"{where}: DISPLAY VALARM without DESCRIPTION")
        if alarm["TRIGGER"].params.get("RELATED") == "END" and not has_end:
            problems.append(f"{where}: alarm RELATED=END but the component has no end")
    return problems


def _expansion_problems(cal: icalendar.Calendar, recurring: dict[str, date]) -> list[str]:
    """Every RRULE expands (with recurring-ical-events) to at least one instance within two years."""
    if not recurring:
        return []
    first = min(recurring.values())
    try:
        instances = recurring_ical_events.of(cal, components=("VEVENT", "VTODO")).between(
            first, first + _EXPANSION_WINDOW
        )
    except Exception as e:  # the library raises many kinds of error on a broken rule
        return [f"recurrences do not expand: {type(e).__name__}: {e}"]
    expanded = {str(instance["UID"]) for instance in instances}
    return [f"{uid}: its RRULE gives no instance within two years" for uid in recurring if uid not in expanded]


def check_calendar(data: bytes) -> list[str]:
    """What is wrong with an iCalendar file, by RFC 5545 section; [] when nothing.

    Checks: line breaks, lengths and folding (§3.1); that it parses; VERSION and PRODID
    (§3.6); UID and DTSTAMP on every component (§3.6.1, §3.6.2), UIDs unique, DTSTAMP in UTC
    (§3.8.7.2); DUE / DTEND not before DTSTART; TZIDs defined; alarms complete; every RRULE
    expands.
    """
    problems = _line_problems(data)
    try:
        cal = icalendar.Calendar.from_ical(data)
    except ValueError as e:
        return [*problems, f"does not parse: {e}"]
    for prop in ("VERSION", "PRODID"):
        if prop not in cal:
            problems.append(f"VCALENDAR without {prop} (§3.6)")
    tzids = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    seen: set[str] = set()
    recurring: dict[str, date] = {}
    for number, component in enumerate((c for c in cal.walk() if c.name in _COMPONENTS), 1):
        problems += [f"{component.name} {number}: {error}" for error in component.errors]
        uid = str(component.get("UID", ""))
        where = f"{component.name} {uid or number}"
        if not uid:
            problems.append(f"{where}: no UID")
        elif uid in seen:
            problems.append(f"{where}: UID used twice")
        seen.add(uid)
        stamp = component.get("DTSTAMP")
        if stamp is None:
            problems.append(f"{where}: no DTSTAMP")
        elif not isinstance(stamp.dt, datetime) or stamp.dt.utcoffset() != timedelta(0):
            problems.append(f"{where}: DTSTAMP is not in UTC (§3.8.7.2)")
        problems += _time_problems(component, where, tzids)
        problems += _alarm_problems(component, where)
        if "RRULE" in component:
            if "DTSTART" not in component:
                problems.append(f"{where}: RRULE without DTSTART (§3.8.5.3)")
            else:
                start = component["DTSTART"].dt
                recurring[uid] = start.date() if isinstance(start, datetime) else start
    return problems + _expansion_problems(cal, recurring)
