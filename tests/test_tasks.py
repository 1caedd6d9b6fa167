"""Documents to tasks (pipeline.tasks.records): the seed's tasks, stable ids, contacts, recurrence and filters.

Working-day expectations are derived by hand from the State Council's holiday schedules
(《国务院办公厅关于2024年/2025年部分节假日安排的通知》), as tests/test_when.py does.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path

import pytest

from models import Contact, Deadline, Document, Task, TaskDocument
from pipeline.run import parse_file
from pipeline.tasks.records import TaskFilter, anchor_rule, occurrences, select, tasks_from_document

SEED = Path(__file__).parent.parent / "fixtures" / "seed" / "000_b23ec74a3ac5c572.txt"
PROVINCE = "晋民函〔2024〕169号"
CITY = "临市民函〔2024〕89号"


@cache
def seed_documents() -> tuple[Document, ...]:
    result, _ = parse_file(SEED)
    return tuple(result.documents)


def seed_tasks() -> list[Task]:
    return [task for doc in seed_documents() for task in tasks_from_document(doc)]


def make_task(**fields) -> Task:
    """A task as tasks_from_document would make it, with only what a test needs."""
    defaults = {"id": "t1", "kind": "deadline", "document": TaskDocument(doc_number="测试〔2024〕1号", year=2024),
                "text": "请于…报送"}  # fmt: skip
    return Task(**{**defaults, **fields})


def notice_tasks(path: Path, text: str) -> list[Task]:
    """The tasks of a notice written to `path` and parsed as a user's file is."""
    path.write_text(text, encoding="utf-8")
    result, _ = parse_file(path)
    return [t for doc in result.documents for t in tasks_from_document(doc)]


# --- the seed ---------------------------------------------------------------------------------


def test_the_seed_yields_the_november_20_reporting_task_with_the_contact() -> None:
    (task,) = [t for t in seed_tasks() if t.due == "2024-11-20"]
    assert task.kind == "deadline"
    assert task.document.doc_number == PROVINCE
    assert task.document.level == "province"
    assert task.assignees == ["省老龄委各成员单位", "各市民政局", "各市老龄办"]
    assert task.action.startswith("报送") and "回信精神的情况" in task.action
    assert task.report_to == "省老龄办（省民政厅老龄工作处）"
    assert task.form == ["电子版"]
    assert task.contact is not None
    assert task.contact.name == "张书毓"
    assert task.contact.org == "省民政厅老龄工作处"
    assert task.contact.phones == ["0351-6387015", "15972913611"]
    assert "请于11月20日前" in task.sentence
    assert task.page is not None
    assert task.confidence == pytest.approx(0.85)  # the year comes from the 文号
    assert "〔2024〕" in task.date_note


def test_the_seed_yields_a_yearly_activity_duty_for_each_level() -> None:
    yearly = [t for t in seed_tasks() if t.kind == "recurring"]
    assert sorted(t.document.doc_number for t in yearly) == sorted([PROVINCE, CITY])
    for task in yearly:
        assert task.recurring == "yearly"
        assert "银龄行动" in task.action and "至少" in task.action
        # 每年至少开展1项: due within each year, so by each 31 December, the first in 2024
        assert task.rrule == "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31"
        assert task.due == "2024-12-31"
    city = next(t for t in yearly if t.document.doc_number == CITY)
    assert city.contact is not None and city.contact.name == "晋白雪"


def test_the_seed_s_standing_duty_is_an_undated_task() -> None:
    (duty,) = [t for t in seed_tasks() if t.kind == "duty"]
    assert duty.document.doc_number == CITY
    assert duty.due is None and duty.rrule is None
    assert "及时" in duty.action


def test_task_ids_are_stable_across_reparses_and_distinct() -> None:
    first = [t.id for t in seed_tasks()]
    again = [t.id for doc in parse_file(SEED)[0].documents for t in tasks_from_document(doc)]
    assert first == again
    assert len(set(first)) == len(first)


def test_the_store_id_does_not_change_the_task_id() -> None:
    doc = seed_documents()[1]
    plain, stored = tasks_from_document(doc), tasks_from_document(doc, store_id="abc")
    assert [t.id for t in plain] == [t.id for t in stored]
    assert {t.document.store_id for t in stored} == {"abc"}


def test_a_requirement_stated_twice_is_one_task() -> None:
    deadline = Deadline(text="请于12月1日前报送总结", date="2024-12-01", action="报送总结")
    doc = Document(doc_number="测试〔2024〕1号", deadlines=[deadline, deadline.model_copy()])
    assert len(tasks_from_document(doc)) == 1


# --- contacts ---------------------------------------------------------------------------------


CONTACTS = [
    Contact(name="甲", org="市民政局办公室", phones=["0357-1000001"]),
    Contact(name="乙", org="市民政局养老服务科", phones=["0357-1000002"]),
]


@pytest.mark.parametrize(
    ("report_to", "sentence", "expected"),
    [
        ("市民政局养老服务科", "请于12月1日前报送市民政局养老服务科", "乙"),  # the office reported to
        ("省厅", "请于12月1日前报送省厅（市民政局养老服务科汇总）", "乙"),  # named in the sentence
        ("市民政局", "请于12月1日前报送市民政局", "甲"),  # the office's first contact
        (None, "请于12月1日前完成自查", "甲"),  # nobody named: the first
    ],
)
def test_the_contact_is_the_one_of_the_office_named(report_to: str | None, sentence: str, expected: str) -> None:
    deadline = Deadline(text=sentence, date="2024-12-01", action="报送", report_to=report_to, sentence=sentence)
    (task,) = tasks_from_document(Document(title="测试", deadlines=[deadline], contacts=CONTACTS))
    assert task.contact is not None and task.contact.name == expected


# --- recurrence -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rrule", "anchored"),
    [
        ("FREQ=YEARLY", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31"),
        ("FREQ=MONTHLY;INTERVAL=6", "FREQ=MONTHLY;BYMONTH=6,12;BYMONTHDAY=-1"),
        ("FREQ=MONTHLY;INTERVAL=3", "FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1"),
        ("FREQ=MONTHLY", "FREQ=MONTHLY;BYMONTHDAY=-1"),
        ("FREQ=MONTHLY;INTERVAL=2", "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1"),
        ("FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=FR"),
        ("FREQ=DAILY", "FREQ=DAILY"),
        ("FREQ=MONTHLY;BYMONTHDAY=5", "FREQ=MONTHLY;BYMONTHDAY=5"),
        ("FREQ=WEEKLY;BYDAY=FR;BYHOUR=16;BYMINUTE=0", "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16;BYMINUTE=0"),
        ("FREQ=MONTHLY;BYMONTH=6,12;BYMONTHDAY=-1", "FREQ=MONTHLY;BYMONTH=6,12;BYMONTHDAY=-1"),
    ],
)
def test_a_rule_without_a_day_is_anchored_on_its_period_end(rrule: str, anchored: str) -> None:
    assert anchor_rule(rrule) == anchored


QUARTER_ENDS = "FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1"


def test_quarterly_reports_five_working_days_before_each_quarter_end() -> None:
    task = make_task(kind="recurring", rrule=QUARTER_ENDS, offset_workdays=5,
                     document=TaskDocument(issue_date="2024-10-08"))  # fmt: skip
    got = [(o.anchor.isoformat(), o.due.isoformat()) for o in occurrences(task, 4)]
    assert got == [
        ("2024-12-31", "2024-12-24"),  # Mon 30, Fri 27, Thu 26, Wed 25, Tue 24
        ("2025-03-31", "2025-03-24"),
        ("2025-06-30", "2025-06-23"),
        ("2025-09-30", "2025-09-24"),  # Sunday 09-28 is a 调休 working day: 29, 28, 26, 25, 24
    ]


def test_a_due_day_before_since_is_skipped_even_when_its_rule_date_is_after() -> None:
    task = make_task(kind="recurring", rrule=QUARTER_ENDS, offset_workdays=5)
    (first,) = occurrences(task, 1, since=date(2024, 12, 26))
    assert (first.anchor, first.due) == (date(2025, 3, 31), date(2025, 3, 24))


def test_no_due_day_falls_before_the_notice_was_issued() -> None:
    task = make_task(kind="recurring", rrule=QUARTER_ENDS, document=TaskDocument(issue_date="2024-10-08"))
    (first,) = occurrences(task, 1, since=date(2024, 1, 1))
    assert first.due == date(2024, 12, 31)


def test_a_report_due_working_days_after_the_quarter_skips_national_day() -> None:
    # 每季度结束后10个工作日内: 2024-10-01..07 off, Saturday 10-12 a 调休 working day
    task = make_task(kind="recurring", rrule=QUARTER_ENDS, offset_workdays=-10)
    (first,) = occurrences(task, 1, since=date(2024, 9, 1))
    assert (first.anchor, first.due) == (date(2024, 9, 30), date(2024, 10, 18))


def test_a_due_day_after_since_is_found_even_when_its_rule_date_is_before() -> None:
    task = make_task(kind="recurring", rrule=QUARTER_ENDS, offset_workdays=-10)
    (first,) = occurrences(task, 1, since=date(2024, 10, 10))
    assert (first.anchor, first.due) == (date(2024, 9, 30), date(2024, 10, 18))


def test_working_days_in_a_year_without_holiday_data_are_marked_estimated() -> None:
    task = make_task(kind="recurring", rrule=QUARTER_ENDS, offset_workdays=5)
    (late,) = occurrences(task, 1, since=date(2030, 1, 1))
    assert any("does not cover 2030" in note for note in late.notes)


def test_timed_rules_give_timed_due_days() -> None:
    task = make_task(kind="recurring", rrule="FREQ=WEEKLY;BYDAY=FR;BYHOUR=16;BYMINUTE=0",
                     document=TaskDocument(issue_date="2024-10-30"))  # fmt: skip
    assert [o.due for o in occurrences(task, 2)] == [datetime(2024, 11, 1, 16), datetime(2024, 11, 8, 16)]


def test_the_first_due_day_of_a_recurring_deadline_is_filled_in() -> None:
    deadline = Deadline(text="于每季度末前5个工作日将进展情况报送", rrule=QUARTER_ENDS, recurring="quarterly",
                        action="报送进展情况")  # fmt: skip
    (task,) = tasks_from_document(Document(doc_number="测试〔2024〕2号", issue_date="2024-10-08", deadlines=[deadline]))
    # read again from the text while the parser does not carry offset_workdays yet
    assert task.offset_workdays == 5
    assert task.due == "2024-12-24"


def test_no_occurrences_without_a_rule_or_a_start() -> None:
    assert occurrences(make_task(), 3) == []
    assert occurrences(make_task(kind="recurring", rrule="FREQ=YEARLY", document=TaskDocument()), 3) == []


# --- filters ----------------------------------------------------------------------------------


def _ids(task_filter: TaskFilter) -> list[str]:
    return [t.document.doc_number + ":" + t.kind for t in select(seed_tasks(), task_filter)]


def test_filter_by_dates_keeps_deadlines_and_recurring_due_days_inside() -> None:
    assert _ids(TaskFilter(since=date(2024, 11, 1), until=date(2024, 11, 30))) == [f"{PROVINCE}:deadline"]
    december = _ids(TaskFilter(since=date(2024, 12, 1), until=date(2024, 12, 31)))
    assert sorted(december) == sorted([f"{PROVINCE}:recurring", f"{CITY}:recurring"])
    # the yearly duty is due again on 2025-12-31
    assert len(_ids(TaskFilter(since=date(2025, 6, 1), until=date(2025, 12, 31)))) == 2


def test_filter_by_assignee_issuer_and_level() -> None:
    assert set(_ids(TaskFilter(assignee="各市民政局"))) == {f"{PROVINCE}:deadline", f"{PROVINCE}:recurring"}
    assert set(_ids(TaskFilter(issuer="临汾市民政局"))) == {f"{CITY}:recurring", f"{CITY}:duty"}
    assert set(_ids(TaskFilter(issuer="晋民函"))) == {f"{PROVINCE}:deadline", f"{PROVINCE}:recurring"}
    assert set(_ids(TaskFilter(level="city"))) == {f"{CITY}:recurring", f"{CITY}:duty"}
    assert _ids(TaskFilter(level="county")) == []


def test_a_window_matches_when_it_overlaps_the_dates() -> None:
    window = make_task(kind="window", start="2024-10-09", due="2024-10-15")
    assert select([window], TaskFilter(since=date(2024, 10, 14))) == [window]
    assert select([window], TaskFilter(until=date(2024, 10, 9))) == [window]
    assert select([window], TaskFilter(since=date(2024, 10, 16))) == []


# --- several dates and windows in one requirement ----------------------------------------------

LISTS_NOTICE = """某市民政局文件

某民函〔2025〕12号

关于做好2025年养老服务统计工作的通知

各县（市、区）民政局：
    为做好养老服务统计工作，现将有关事项通知如下。
    一、请各县（市、区）民政局分别于6月15日、9月15日前将季度统计报表报送市民政局养老服务科。
    二、请各县（市、区）民政局于6月3日至7日到市民政局领取统计软件。

                                    某市民政局
                                  2025年5月20日
"""


def test_a_requirement_with_several_dates_gives_a_task_per_date_each_with_its_reminder(tmp_path: Path) -> None:
    from pipeline.tasks.ical import CalendarOptions, calendar_bytes, check_calendar

    tasks = notice_tasks(tmp_path / "lists.txt", LISTS_NOTICE)
    reports = sorted((t for t in tasks if t.kind == "deadline"), key=lambda t: t.due or "")
    assert [t.due for t in reports] == ["2025-06-15", "2025-09-15"]
    assert reports[0].action == reports[1].action and "季度统计报表" in reports[0].action
    assert reports[0].id != reports[1].id
    (window,) = [t for t in tasks if t.kind == "window"]
    assert (window.start, window.due) == ("2025-06-03", "2025-06-07")
    data = calendar_bytes(tasks, CalendarOptions(reminders=(1,)))
    assert check_calendar(data) == []
    text = data.decode()
    assert text.count("BEGIN:VTODO") == 2 and text.count("BEGIN:VEVENT") == 1
    assert text.count("BEGIN:VALARM") == 3  # a reminder before each due day and before the window's end


def test_a_date_right_before_its_report_verb_is_a_deadline() -> None:
    from pipeline.parsing import duties

    body = "请各县（市、区）民政局5月8日上报第一批名单，此后每月上报一次。"
    found, _ = duties.extract(body, 0, ["各县（市、区）民政局"], issue_date=date(2025, 4, 20), year_hint=None)
    assert [f.deadline.date for f in found if f.deadline.date] == ["2025-05-08"]


def test_a_window_in_brackets_describes_the_report_not_its_deadline() -> None:
    from pipeline.parsing import duties

    body = "请将本地（2025年7月至11月）拟举办的赛事活动于7月20日下午5时前报送市体育局。"
    found, _ = duties.extract(body, 0, [], issue_date=date(2025, 7, 1), year_hint=None)
    assert [(f.deadline.date, f.deadline.start) for f in found] == [("2025-07-20T17:00", None)]


def test_handing_in_is_an_action_that_makes_a_dated_sentence_a_requirement() -> None:
    from pipeline.parsing import duties

    body = "9月10日前各学院将选课汇总表交教务处。"
    found, _ = duties.extract(body, 0, [], issue_date=date(2025, 9, 1), year_hint=None)
    assert [f.deadline.date for f in found] == ["2025-09-10"]


# --- the last working day, festivals each year -----------------------------------------------


def test_the_last_working_day_of_each_month_steps_back_over_holidays_and_keeps_make_up_saturdays() -> None:
    # 每月最后一个工作日 from 2025-12-15: 2025-12-31 a Wednesday; 2026-01-31 a Saturday → Fri 01-30;
    # 2026-02-28 a Saturday, but a 调休 working day after the 春节 block (02-15..02-23)
    task = make_task(kind="recurring", rrule="FREQ=MONTHLY;BYMONTHDAY=-1", offset_workdays=0,
                     document=TaskDocument(issue_date="2025-12-15"))  # fmt: skip
    assert [o.due.isoformat() for o in occurrences(task, 3)] == ["2025-12-31", "2026-01-30", "2026-02-28"]


def test_the_last_working_day_before_a_month_end_inside_the_spring_festival() -> None:
    # 2025-01-31 lies in the 春节 block 01-28..02-04; Sunday 01-26 was a 调休 working day, Monday 01-27 the last
    task = make_task(kind="recurring", rrule="FREQ=MONTHLY;BYMONTHDAY=-1", offset_workdays=0,
                     document=TaskDocument(issue_date="2025-01-10"))  # fmt: skip
    (first,) = occurrences(task, 1)
    assert (first.anchor, first.due) == (date(2025, 1, 31), date(2025, 1, 27))


FESTIVAL_NOTICE = """关于做好困难群众节日慰问工作的通知
各县（市、区）民政局：
    请各县（市、区）民政局每年春节前将困难群众走访慰问情况报送市民政局社会救助科。
                                    某市民政局
                                  2025年3月3日
"""


def test_a_duty_each_spring_festival_lists_each_years_day_and_one_reminder_each(tmp_path: Path) -> None:
    from pipeline.tasks.ical import CalendarOptions, calendar_bytes, check_calendar

    (task,) = notice_tasks(tmp_path / "festival.txt", FESTIVAL_NOTICE)
    # 2026: the 春节 block is 02-15..02-23, so 春节前 is 02-14; no rule can say that every year
    assert (task.kind, task.rrule, task.rdates, task.due) == ("recurring", None, ["2026-02-14"], "2026-02-14")
    data = calendar_bytes([task], CalendarOptions(reminders=(1,)))
    assert check_calendar(data) == []
    text = data.decode()
    assert text.count("BEGIN:VTODO") == 1 and "DUE;VALUE=DATE:20260214" in text and "RRULE" not in text
