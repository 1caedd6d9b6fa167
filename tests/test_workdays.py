"""Working-day arithmetic on China's official calendar (holidays and 调休 weekends)."""

from __future__ import annotations

import warnings
from datetime import date

import pytest

from pipeline.when.workdays import CalendarNotCovered, Festival, add_workdays, coverage, covered, festival_block, is_workday


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
