"""Holiday schedules read from stored notices: a year's days off and 调休 days, with their source.

In: a stored document's title and body.  When it is the State Council's schedule
(《国务院办公厅关于YYYY年部分节假日安排的通知》), its reading (`pipeline.when.schedule`) is kept
with the document as source, and removed with it.  Out: the stored schedules, and
`use_stored` hands them to the working-day calendar, which counts a year on them only where
chinesecalendar has no data.
"""

from __future__ import annotations

import sqlite3

from models.when import HolidaySchedule
from pipeline.when import workdays
from pipeline.when.schedule import read_schedule


def save_schedule(conn: sqlite3.Connection, document_id: str, title: str | None, body: str) -> HolidaySchedule | None:
    """Keep the schedule this document states, if it is one (inside the caller's transaction)."""
    schedule = read_schedule(f"{title or ''}\n{body}")
    if schedule is None or not schedule.holidays:
        return None
    schedule = schedule.model_copy(update={"source": schedule.source or document_id})
    conn.execute(
        "INSERT OR REPLACE INTO holiday_schedules (year, document_id, schedule) VALUES (?, ?, ?)",
        (schedule.year, document_id, schedule.model_dump_json()),
    )
    return schedule


def schedules(conn: sqlite3.Connection) -> list[HolidaySchedule]:
    """The stored schedules, one per year: the most recently stored notice of a year wins."""
    rows = conn.execute("SELECT schedule FROM holiday_schedules ORDER BY year, rowid").fetchall()
    by_year = {s.year: s for s in (HolidaySchedule.model_validate_json(row[0]) for row in rows)}
    return list(by_year.values())


def use_stored(conn: sqlite3.Connection) -> list[int]:
    """Count every stored schedule's year the package lacks on it; the years now in use."""
    return [s.year for s in schedules(conn) if workdays.use_schedule(s)]
