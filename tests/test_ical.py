"""Tasks to iCalendar (pipeline.tasks.ical), its checker, and the `gongwen deadlines` command.

Every file built here is parsed back and checked with `check_calendar`; alarm instants and
recurrence instances are computed from the parsed file, as a calendar client would.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
from hypothesis import given, settings
from hypothesis import strategies as st
from test_tasks import CITY, PROVINCE, SEED, make_task, seed_tasks
from typer.testing import CliRunner

import pipeline.cli.calendar  # noqa: F401  (registers `deadlines` on the app)
from models import Contact, TaskDocument
from pipeline.tasks.ical import TZ, CalendarOptions, build_calendar, calendar_bytes, check_calendar, uid_of
from pipeline.cli.main import app
from pipeline.run import parse_file

STAMP = datetime(2024, 11, 1, 8, 0, tzinfo=UTC)
OPTIONS = CalendarOptions(stamp=STAMP)
QUARTER_ENDS = "FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1"


def components(data: bytes) -> dict[str, icalendar.Component]:
    """UID → VTODO/VEVENT of a checked file."""
    assert check_calendar(data) == []
    cal = icalendar.Calendar.from_ical(data)
    return {str(c["UID"]): c for c in cal.walk() if c.name in ("VTODO", "VEVENT")}


def alarm_instants(component: icalendar.Component) -> list[datetime | date]:
    """When each alarm rings: the end (DUE or DTEND) plus the TRIGGER, as RFC 5545 §3.8.6.3 says."""
    end = (component.get("DUE") or component["DTEND"]).dt
    if not isinstance(end, datetime):
        end = datetime.combine(end, datetime.min.time())
    out = []
    for alarm in component.walk("VALARM"):
        assert alarm["TRIGGER"].params["RELATED"] == "END"
        out.append(end + alarm["TRIGGER"].dt)
    return sorted(out)


# --- the seed ---------------------------------------------------------------------------------


def test_the_seed_exports_the_november_20_task_with_contact_and_reminders() -> None:
    tasks = seed_tasks()
    (task,) = [t for t in tasks if t.due == "2024-11-20"]
    todo = components(calendar_bytes(tasks, OPTIONS))[uid_of(task)]
    assert todo.name == "VTODO"
    assert todo["DUE"].dt == date(2024, 11, 20)  # all-day: no time printed
    assert "DTSTART" not in todo
    assert todo["DTSTAMP"].dt == STAMP
    assert str(todo["SUMMARY"]).startswith("报送学习贯彻")
    assert str(todo["SUMMARY"]).endswith("→ 省老龄办（省民政厅老龄工作处）")
    description = str(todo["DESCRIPTION"])
    for needle in ("张书毓", "0351-6387015", "15972913611", PROVINCE, "省老龄委各成员单位、各市民政局、各市老龄办",
                   "报送：省老龄办（省民政厅老龄工作处）", "形式：电子版", "2024年11月20日前"):  # fmt: skip
        assert needle in description
    assert "0351-6387015、15972913611" in str(todo["CONTACT"])
    # default reminders 3 days and 1 day before, at 09:00
    assert alarm_instants(todo) == [datetime(2024, 11, 17, 9), datetime(2024, 11, 19, 9)]


def test_the_seed_s_yearly_duties_recur_every_31_december() -> None:
    tasks = [t for t in seed_tasks() if t.kind == "recurring"]
    data = calendar_bytes(tasks, OPTIONS)
    cal = icalendar.Calendar.from_ical(data)
    for task in tasks:
        todo = components(data)[uid_of(task)]
        assert todo["RRULE"].to_ical() in (
            b"FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31",
            b"FREQ=YEARLY;BYMONTHDAY=31;BYMONTH=12",
        )
        assert todo["DTSTART"].dt == todo["DUE"].dt == date(2024, 12, 31)
    instances = recurring_ical_events.of(cal, components=("VTODO",)).between(date(2024, 1, 1), date(2027, 1, 1))
    by_uid: dict[str, list[date]] = {}
    for instance in instances:
        by_uid.setdefault(str(instance["UID"]), []).append(instance["DUE"].dt)
    for task in tasks:
        assert sorted(by_uid[uid_of(task)]) == [date(2024, 12, 31), date(2025, 12, 31), date(2026, 12, 31)]


def test_exporting_again_keeps_every_uid() -> None:
    first = components(calendar_bytes(seed_tasks(), OPTIONS))
    later = components(calendar_bytes(seed_tasks(), CalendarOptions(stamp=STAMP + timedelta(days=30))))
    assert first.keys() == later.keys()
    assert len(first) == 4
    for uid in first:
        a, b = first[uid].to_ical(), later[uid].to_ical()
        assert a.replace(b"DTSTAMP:20241101T080000Z", b"") == b.replace(b"DTSTAMP:20241201T080000Z", b"")


# --- one component per kind -------------------------------------------------------------------


def test_a_timed_deadline_is_due_in_shanghai_time_with_its_vtimezone() -> None:
    task = make_task(due="2024-09-29T17:00", action="报送国庆节期间值班安排表")
    data = calendar_bytes([task], OPTIONS)
    assert b"DUE;TZID=Asia/Shanghai:20240929T170000" in data
    cal = icalendar.Calendar.from_ical(data)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    todo = components(data)[uid_of(task)]
    assert todo["DUE"].dt == datetime(2024, 9, 29, 17, tzinfo=TZ)
    assert [t.replace(tzinfo=None) for t in alarm_instants(todo)] == [
        datetime(2024, 9, 26, 17),
        datetime(2024, 9, 28, 17),
    ]


def test_an_all_day_file_has_no_vtimezone() -> None:
    data = calendar_bytes([make_task(due="2024-12-01")], OPTIONS)
    assert b"VTIMEZONE" not in data and b"TZID" not in data


def test_a_window_is_an_all_day_event_that_does_not_block_time() -> None:
    task = make_task(kind="window", start="2024-10-09", due="2024-10-15", action="填报意见建议")
    event = components(calendar_bytes([task], OPTIONS))[uid_of(task)]
    assert event.name == "VEVENT"
    assert (event["DTSTART"].dt, event["DTEND"].dt) == (date(2024, 10, 9), date(2024, 10, 16))  # DTEND exclusive
    assert event["TRANSP"] == "TRANSPARENT"
    # 3 days and 1 day before the last day (10-15), not before the exclusive DTEND
    assert alarm_instants(event) == [datetime(2024, 10, 12, 9), datetime(2024, 10, 14, 9)]
    assert "2024年10月9日至2024年10月15日" in str(event["DESCRIPTION"])


def test_a_window_with_a_time_is_timed_at_both_ends() -> None:
    task = make_task(kind="window", start="2024-10-09", due="2024-10-15T17:00")
    event = components(calendar_bytes([task], OPTIONS))[uid_of(task)]
    assert event["DTSTART"].dt == datetime(2024, 10, 9, tzinfo=TZ)
    assert event["DTEND"].dt == datetime(2024, 10, 15, 17, tzinfo=TZ)


def test_a_recurring_duty_with_a_working_day_offset_becomes_one_task_per_quarter() -> None:
    task = make_task(kind="recurring", rrule=QUARTER_ENDS, offset_workdays=5, recurring="quarterly",
                     document=TaskDocument(doc_number="晋卫老龄发〔2024〕19号", issue_date="2024-10-08"))  # fmt: skip
    found = components(calendar_bytes([task], CalendarOptions(stamp=STAMP, occurrences=4)))
    assert list(found) == [uid_of(task, date(2024, 12, 31)), uid_of(task, date(2025, 3, 31)),
                           uid_of(task, date(2025, 6, 30)), uid_of(task, date(2025, 9, 30))]  # fmt: skip
    dues = [c["DUE"].dt for c in found.values()]
    assert dues == [date(2024, 12, 24), date(2025, 3, 24), date(2025, 6, 23), date(2025, 9, 24)]
    assert all("RRULE" not in c for c in found.values())
    last = found[uid_of(task, date(2025, 9, 30))]
    assert "（2025年9月30日期）" in str(last["SUMMARY"])
    assert "本期截止 2025年9月24日（2025年9月30日前5个工作日" in str(last["DESCRIPTION"])


def test_expansion_starts_from_the_given_day() -> None:
    task = make_task(kind="recurring", rrule=QUARTER_ENDS, offset_workdays=5)
    found = components(calendar_bytes([task], CalendarOptions(stamp=STAMP, occurrences=2, since=date(2025, 4, 1))))
    assert [c["DUE"].dt for c in found.values()] == [date(2025, 6, 23), date(2025, 9, 24)]


def test_a_weekly_timed_duty_is_one_rule_in_shanghai_time() -> None:
    task = make_task(kind="recurring", rrule="FREQ=WEEKLY;BYDAY=FR;BYHOUR=16;BYMINUTE=0", recurring="weekly",
                     document=TaskDocument(issue_date="2024-10-30"))  # fmt: skip
    data = calendar_bytes([task], OPTIONS)
    todo = components(data)[uid_of(task)]
    assert todo["DTSTART"].dt == todo["DUE"].dt == datetime(2024, 11, 1, 16, tzinfo=TZ)
    fridays = recurring_ical_events.of(icalendar.Calendar.from_ical(data), components=("VTODO",)).between(
        date(2024, 11, 1), date(2024, 11, 16)
    )
    assert [i["DUE"].dt.replace(tzinfo=None) for i in fridays] == [datetime(2024, 11, d, 16) for d in (1, 8, 15)]


def test_a_duty_without_a_date_has_no_due_and_no_alarm() -> None:
    task = make_task(kind="duty", action="将有关信息及时报送")
    todo = components(calendar_bytes([task], OPTIONS))[uid_of(task)]
    assert "DUE" not in todo and "DTSTART" not in todo
    assert todo.walk("VALARM") == []
    assert "无明确日期" in str(todo["DESCRIPTION"])


def test_a_recurring_duty_with_no_known_start_is_kept_as_an_undated_task() -> None:
    task = make_task(kind="recurring", rrule="FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31", document=TaskDocument())
    todo = components(calendar_bytes([task], OPTIONS))[uid_of(task)]
    assert "RRULE" not in todo and "DUE" not in todo


def test_reminders_are_configurable() -> None:
    task = make_task(due="2024-12-01")
    todo = components(calendar_bytes([task], CalendarOptions(stamp=STAMP, reminders=(7,), reminder_hour=8)))[
        uid_of(task)
    ]
    assert alarm_instants(todo) == [datetime(2024, 11, 24, 8)]
    bare = components(calendar_bytes([task], CalendarOptions(stamp=STAMP, reminders=())))[uid_of(task)]
    assert bare.walk("VALARM") == []


def test_the_contact_property_carries_office_name_phones_and_email() -> None:
    contact = Contact(name="张书毓", org="省民政厅老龄工作处", phones=["0351-6387015", "15972913611"],
                      emails=["sxsmztllgzc@163.com"])  # fmt: skip
    todo = components(calendar_bytes([make_task(due="2024-11-20", contact=contact)], OPTIONS))["gongwen-t1"]
    assert str(todo["CONTACT"]) == "省民政厅老龄工作处 张书毓 电话 0351-6387015、15972913611 邮箱 sxsmztllgzc@163.com"


# --- folding and the checker ------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=300))
def test_any_text_folds_into_lines_of_at_most_75_octets(action: str) -> None:
    data = calendar_bytes([make_task(due="2024-11-20", action=action, sentence=action * 2)], OPTIONS)
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    assert str(components(data)["gongwen-t1"]["SUMMARY"]) == action


GOOD = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    "BEGIN:VTODO\r\nUID:a\r\nDTSTAMP:20241101T000000Z\r\nDTSTART;VALUE=DATE:20241101\r\nDUE;VALUE=DATE:20241120\r\n"
    "SUMMARY:报送\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("SUMMARY:报送", "SUMMARY:" + "报" * 30), "over 75"),
        (("UID:a\r\n", ""), "no UID"),
        (("DTSTAMP:20241101T000000Z\r\n", ""), "no DTSTAMP"),
        (("DTSTAMP:20241101T000000Z", "DTSTAMP:20241101T000000"), "not in UTC"),
        (("DUE;VALUE=DATE:20241120", "DUE;VALUE=DATE:20241020"), "before it starts"),
        (("DUE;VALUE=DATE:20241120", "DUE:20241120T170000"), "value type"),
        (("DUE;VALUE=DATE:20241120", "DUE;TZID=Asia/Shanghai:20241120T170000"), "has no VTIMEZONE"),
        (("SUMMARY:报送\r\n", "SUMMARY:报送\r\nRRULE:FREQ=YEARLY;UNTIL=20200101\r\n"), "no instance"),
        (("SUMMARY:报送\r\n", "SUMMARY:报送\r\nRRULE:BYMONTH=2\r\n"), "do not expand"),
        (("SUMMARY:报送\r\n", "SUMMARY:报送\r\nRRULE:FREQ=SOMETIMES\r\n"), "does not parse"),
        (("DTSTART;VALUE=DATE:20241101\r\n", "RRULE:FREQ=YEARLY\r\n"), "RRULE without DTSTART"),
        (
            ("END:VTODO", "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-P1D\r\nEND:VALARM\r\nEND:VTODO"),
            "without DESCRIPTION",
        ),
        (("\r\n", "\n"), "CRLF"),
        (("VERSION:2.0\r\n", ""), "without VERSION"),
    ],
)
def test_the_checker_names_what_is_wrong(change: tuple[str, str], problem: str) -> None:
    assert check_calendar(GOOD.encode()) == []
    bad = GOOD.replace(*change).encode()
    assert any(problem in p for p in check_calendar(bad)), check_calendar(bad)


def test_the_checker_refuses_a_fold_inside_a_utf8_character() -> None:
    # 报 is E6 8A A5: folding after its first byte leaves two lines that are not UTF-8 on their own
    bad = GOOD.encode().replace("SUMMARY:报送".encode(), b"SUMMARY:\xe6\r\n \x8a\xa5" + "送".encode())
    assert any("inside a character" in p for p in check_calendar(bad))


def test_the_checker_refuses_a_related_end_alarm_without_an_end() -> None:
    no_end = GOOD.replace("DUE;VALUE=DATE:20241120\r\n", "").replace(
        "END:VTODO", "BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER;RELATED=END:-P1D\r\nEND:VALARM\r\nEND:VTODO"
    )
    assert any("no end" in p for p in check_calendar(no_end.encode()))


def test_the_checker_refuses_a_uid_used_twice_and_garbage() -> None:
    todo = GOOD[GOOD.index("BEGIN:VTODO") : GOOD.index("END:VCALENDAR")]
    twice = GOOD.replace("END:VCALENDAR", todo + "END:VCALENDAR")
    assert any("UID used twice" in p for p in check_calendar(twice.encode()))
    assert check_calendar(b"not a calendar\r\n") != []


def test_the_whole_calendar_carries_name_and_no_method() -> None:
    cal = build_calendar(seed_tasks(), OPTIONS)
    assert str(cal["X-WR-CALNAME"]) == "公文期限"
    assert "METHOD" not in cal  # RFC 4791 §4.1: calendar object resources carry no METHOD


# --- the command ------------------------------------------------------------------------------

runner = CliRunner()


def said(result) -> str:
    """stderr with rich's line wrapping undone."""
    return " ".join(result.stderr.split())


@pytest.fixture(scope="module")
def seed_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result, _ = parse_file(SEED)
    path = tmp_path_factory.mktemp("parsed") / "seed.json"
    path.write_text(json.dumps(result.model_dump(mode="json"), ensure_ascii=False), encoding="utf-8")
    return path


def test_deadlines_prints_tasks_as_json_and_writes_a_checked_ics(seed_json: Path, tmp_path: Path) -> None:
    ics = tmp_path / "deadlines.ics"
    result = runner.invoke(app, ["deadlines", "--input", str(seed_json), "--ics", str(ics)])
    assert result.exit_code == 0, result.output
    tasks = json.loads(result.stdout)["tasks"]
    assert len(tasks) == 4
    assert {t["document"]["doc_number"] for t in tasks} == {PROVINCE, CITY}
    assert check_calendar(ics.read_bytes()) == []
    assert ics.read_bytes().count(b"BEGIN:VTODO") == 4
    assert f"wrote 4 tasks to {ics}" in said(result)


def test_deadlines_filters_and_prints_a_table(seed_json: Path) -> None:
    result = runner.invoke(app, ["deadlines", "-i", str(seed_json), "--from", "2024-11-01", "--to", "2024-11-30",
                                 "--assignee", "各市民政局", "--table"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 项任务" in result.stdout and "张书毓" in result.stdout
    json_out = runner.invoke(app, ["deadlines", "-i", str(seed_json), "--level", "city"])
    assert {t["kind"] for t in json.loads(json_out.stdout)["tasks"]} == {"recurring", "duty"}


def test_deadlines_reminders_and_occurrences_options(seed_json: Path, tmp_path: Path) -> None:
    ics = tmp_path / "d.ics"
    result = runner.invoke(app, ["deadlines", "-i", str(seed_json), "--ics", str(ics), "--remind", "5"])
    assert result.exit_code == 0, result.output
    assert ics.read_bytes().count(b"TRIGGER;RELATED=END:-P4DT15H") == 3  # the undated duty has none
    assert b"-P2DT15H" not in ics.read_bytes()


@pytest.mark.parametrize(("content", "message"), [("{", "cannot read"), ('{"files": []}', 'no "documents"')])
def test_deadlines_rejects_input_that_is_not_parse_json(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["deadlines", "--input", str(bad)])
    assert result.exit_code == 3
    assert message in said(result)


def test_deadlines_without_a_store_says_how_to_make_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["deadlines", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 7
    assert "no such database" in said(result)


def test_deadlines_reads_the_store(tmp_path: Path) -> None:
    from pipeline import store
    result, _ = parse_file(SEED)
    data = SEED.read_bytes()
    record = store.FileRecord(sha256=hashlib.sha256(data).hexdigest(), size=len(data), name=store.Name.of(SEED.name),
                              verdict=store.Verdict("done"), kind=result.kind, result=result)  # fmt: skip
    db = tmp_path / "notices.db"
    conn = store.connect(db)
    saved = store.save_file(conn, record)
    conn.close()
    out = runner.invoke(app, ["deadlines", "--db", str(db)])
    assert out.exit_code == 0, out.output
    tasks = json.loads(out.stdout)["tasks"]
    assert {t["document"]["store_id"] for t in tasks} == set(saved.document_ids)
    assert any(t["due"] == "2024-11-20" and t["contact"]["name"] == "张书毓" for t in tasks)


def test_two_scans_of_one_notice_give_each_task_once(tmp_path: Path) -> None:
    """A second scan of a stored notice is stored beside it; its tasks are the same tasks."""
    from pipeline import store
    result, _ = parse_file(SEED)
    db = tmp_path / "notices.db"
    conn = store.connect(db)
    for copy, data in enumerate((SEED.read_bytes(), SEED.read_bytes() + b"\n")):
        record = store.FileRecord(sha256=hashlib.sha256(data).hexdigest(), size=len(data), name=store.Name.of(f"scan{copy}.txt"),
                                  verdict=store.Verdict("done"), kind=result.kind, result=result)  # fmt: skip
        store.save_file(conn, record)
    conn.close()
    ics = tmp_path / "deadlines.ics"
    out = runner.invoke(app, ["deadlines", "--db", str(db), "--ics", str(ics)])
    assert out.exit_code == 0, out.output
    tasks = json.loads(out.stdout)["tasks"]
    assert len(tasks) == len({t["id"] for t in tasks}) == 4
    assert check_calendar(ics.read_bytes()) == []
