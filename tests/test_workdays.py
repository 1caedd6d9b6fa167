"""Working-day arithmetic on China's official calendar (holidays and 调休 weekends)."""

from __future__ import annotations

import json
import warnings
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from models.when import HolidaySchedule, ScheduleDay
from pipeline.when.schedule import read_schedule
from pipeline.when.workdays import (
    CalendarNotCovered,
    Festival,
    add_workdays,
    coverage,
    covered,
    drop_schedule,
    festival_block,
    is_workday,
    sources,
    use_schedule,
)


def test_ten_working_days_cross_the_national_day_block() -> None:
    # 09-29 (Sunday) is a make-up working day, 10-01..10-07 are off, 10-12 (Saturday) works.
    assert add_workdays(date(2024, 9, 20), 10) == date(2024, 10, 10)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2024, 9, 29), True),  # Sunday, 调休 working day
        (date(2024, 10, 1), False),  # National Day
        (date(2024, 10, 12), True),  # Saturday, 调休 working day
        (date(2024, 11, 20), True),
        (date(2024, 11, 23), False),  # an ordinary Saturday
        (date(2025, 1, 28), False),  # Spring Festival eve, a holiday from 2025
    ],
)
def test_is_workday(day: date, working: bool) -> None:
    assert is_workday(day) is working


def test_zero_and_negative_counts() -> None:
    assert add_workdays(date(2024, 9, 20), 0) == date(2024, 9, 20)
    assert add_workdays(date(2024, 10, 8), -1) == date(2024, 9, 30)
    assert add_workdays(date(2024, 10, 8), -2) == date(2024, 9, 29)


def test_coverage() -> None:
    first, last = coverage()
    assert first <= 2024 <= last
    assert covered(2024)
    assert not covered(last + 1)
    assert not covered(first - 1)


def test_uncovered_year_is_never_guessed_silently() -> None:
    _, last = coverage()
    start = date(last, 12, 30)
    with pytest.raises(CalendarNotCovered) as err:
        add_workdays(start, 5)
    assert str(last + 1) in str(err.value)
    with pytest.raises(CalendarNotCovered):
        is_workday(date(last + 1, 3, 3))
    # An explicit estimate counts Monday to Friday; the caller must report it as uncertain.
    assert is_workday(date(last + 1, 1, 1), estimate=True) is (date(last + 1, 1, 1).weekday() < 5)


@pytest.mark.parametrize(
    ("festival", "year", "block"),
    [
        (Festival.new_year, 2024, (date(2023, 12, 30), date(2024, 1, 1))),
        (Festival.spring, 2025, (date(2025, 1, 28), date(2025, 2, 4))),
        (Festival.qingming, 2024, (date(2024, 4, 4), date(2024, 4, 6))),
        (Festival.labour, 2023, (date(2023, 4, 29), date(2023, 5, 3))),
        (Festival.dragon_boat, 2024, (date(2024, 6, 8), date(2024, 6, 10))),
        (Festival.mid_autumn, 2023, (date(2023, 9, 29), date(2023, 10, 6))),
        (Festival.national, 2024, (date(2024, 10, 1), date(2024, 10, 7))),
    ],
)
def test_festival_block(festival: Festival, year: int, block: tuple[date, date]) -> None:
    assert festival_block(festival, year) == block


def test_festival_block_before_the_festival_was_a_holiday() -> None:
    assert festival_block(Festival.dragon_boat, 2007) is None


def test_next_years_schedule_is_installed_after_november() -> None:
    """A reminder, not a failure: the State Council publishes next year's schedule in autumn."""
    today = date.today()
    if today.month >= 11 and not covered(today.year + 1):
        warnings.warn(
            f"chinesecalendar covers {coverage()}, not {today.year + 1}: upgrade it once the State Council "
            "has published next year's holiday schedule (see pipeline/when/workdays.py)",
            stacklevel=1,
        )


# --- schedules read from the State Council's notice -------------------------------------------

SCHEDULES = Path(__file__).parent.parent / "fixtures" / "holidays"
PAST_YEARS = (2021, 2022, 2023, 2024, 2025)


def _schedule(year: int) -> HolidaySchedule:
    schedule = read_schedule((SCHEDULES / f"{year}.txt").read_text(encoding="utf-8"))
    assert schedule is not None and schedule.year == year
    return schedule


def _days(days: list[ScheduleDay]) -> set[date]:
    return {date.fromisoformat(d.day) for d in days}


@pytest.mark.parametrize("year", PAST_YEARS)
def test_a_schedule_notice_reads_into_the_days_the_package_holds(year: int) -> None:
    """Day by day over the whole year, the notice and chinesecalendar agree on what is a working
    day; every day the notice gives off is a holiday in the package and every 调休 day a package
    working day.  (The package also lists 2023-12-30/31, the weekend before 2024's 元旦 that the
    notice calls 与周末连休; weekends are off either way.)"""
    schedule = _schedule(year)
    off, worked = _days(schedule.holidays), _days(schedule.workdays)
    assert off <= set(chinese_calendar.holidays) and worked == {d for d in chinese_calendar.workdays if d.year == year}
    day = date(year, 1, 1)
    while day.year == year:
        by_notice = day in worked or (day.weekday() < 5 and day not in off)
        assert by_notice is chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_the_lines_of_a_schedule_carry_their_festival_and_offsets() -> None:
    text = (SCHEDULES / "2025.txt").read_text(encoding="utf-8")
    schedule = _schedule(2025)
    assert schedule.source == "国办发明电〔2024〕12号"
    (eve,) = [d for d in schedule.holidays if d.day == "2025-01-28"]
    assert eve.festival == "春节" and text[eve.start : eve.end].startswith("春节：1月28日")
    assert [d.day for d in schedule.workdays if d.festival == "国庆节、中秋节"] == ["2025-09-28", "2025-10-11"]


def test_a_new_year_block_printed_from_the_year_before_keeps_its_years() -> None:
    assert {"2022-12-31", "2023-01-01", "2023-01-02"} <= {d.day for d in _schedule(2023).holidays}


def test_a_notice_that_is_not_a_schedule_is_not_read() -> None:
    assert read_schedule("关于做好2025年元旦春节期间安全生产工作的通知\n元旦：1月1日放假。") is None


def test_the_package_wins_for_a_year_it_covers() -> None:
    assert use_schedule(_schedule(2025)) is False
    assert sources()[2025].startswith("chinesecalendar")


@pytest.fixture
def schedule_2027():
    assert not covered(2027), "chinesecalendar now covers 2027: this test needs a year it lacks"
    assert use_schedule(_schedule(2027))
    yield
    drop_schedule(2027)


def test_a_2027_schedule_notice_makes_2027_counts_certain(schedule_2027) -> None:
    from pipeline.when import resolve

    assert covered(2027) and sources()[2027] == "notice 国办发明电〔2026〕9号"
    # 10-01..10-07 off; 10-08 (Friday) is the first working day, 10-09 (Saturday) a 调休 day
    assert add_workdays(date(2027, 9, 30), 1) == date(2027, 10, 8)
    assert is_workday(date(2027, 10, 9)) and is_workday(date(2027, 2, 14))
    # 02-05..02-12 off, then Saturday 02-13 off as any weekend, Sunday 02-14 a 调休 working day
    assert festival_block(Festival.spring, 2027) == (date(2027, 2, 5), date(2027, 2, 13))
    when = resolve("请于春节前报送", issue_date=date(2026, 12, 10))
    assert (when.kind, when.end) == ("date", "2027-02-04")
    assert not any("does not cover" in note for note in when.notes)
    # from Friday 09-24: 09-26 (调休 Sunday), 09-27..09-30, 10-08, 10-09 (调休 Saturday), 10-11..10-13
    counted = resolve("请自本通知印发之日起10个工作日内报送", issue_date=date(2027, 9, 24))
    assert counted.end == "2027-10-13" and counted.confidence == pytest.approx(0.9)


def test_a_duty_each_spring_festival_gains_its_2027_day_from_the_schedule_notice(schedule_2027) -> None:
    from pipeline.when import resolve

    # the 2027 block begins 02-05 (the notice's 春节 line), so 春节前 is 02-04; a yearly rule could not say it
    when = resolve("每年春节前报送", issue_date=date(2026, 12, 10))
    assert (when.kind, when.rrule, when.rdates, when.first) == ("recurring", None, ["2027-02-04"], "2027-02-04")


def test_a_duty_each_spring_festival_is_undeterminable_while_no_calendar_covers_the_next_one() -> None:
    from pipeline.when import resolve

    when = resolve("每年春节前报送", issue_date=date(2026, 12, 10))
    assert when.kind == "undeterminable" and any("no 春节 on or after 2026-12-10" in note for note in when.notes)


def test_without_the_2027_notice_2027_stays_uncertain() -> None:
    from pipeline.when import resolve

    when = resolve("请于春节前报送", issue_date=date(2026, 12, 10))
    assert when.kind == "undeterminable" and any("2027" in note for note in when.notes)


def test_a_stored_schedule_notice_is_kept_with_its_source_and_shown_by_gongwen_calendar(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pipeline.cli.main import app

    db = tmp_path / "notices.db"
    runner = CliRunner()
    try:
        ingested = runner.invoke(app, ["ingest", "--db", str(db), str(SCHEDULES / "2027.txt")])
        assert ingested.exit_code == 0, ingested.output
        shown = runner.invoke(app, ["calendar", "--db", str(db)])
        assert shown.exit_code == 0, shown.output
        years = {entry["year"]: entry["source"] for entry in json.loads(shown.stdout)["years"]}
        assert years[2027] == "notice 国办发明电〔2026〕9号"
        assert years[2026].startswith("chinesecalendar") and min(years) == coverage()[0]
        assert add_workdays(date(2027, 9, 30), 1) == date(2027, 10, 8)  # counted on the stored notice
    finally:
        drop_schedule(2027)
