"""A task: one deadline or duty of a notice, as a clerk tracks it in a calendar (shared/domain.md §3).

Tasks are derived from `Document` records by `pipeline.tasks.records` and never edited by hand: a
reparse derives them again, and their `id` (a hash of the content) stays the same as long
as the document, the action and the due date do, so calendars are updated, not duplicated.
"""

from typing import Literal

from pydantic import BaseModel, Field

from models.document import Contact, Level

TaskKind = Literal["deadline", "window", "recurring", "duty"]


class TaskDocument(BaseModel):
    """The notice a task comes from, as the task's description names it."""

    doc_number: str | None = None
    title: str | None = None
    issuers: list[str] = Field(default_factory=list)
    level: Level | None = None
    issue_date: str | None = Field(default=None, description="成文日期, ISO")
    year: int | None = Field(default=None, description="the 文号's year, when there is no 成文日期")
    store_id: str | None = Field(default=None, description="the document's id in the store, when read from it")


class Task(BaseModel):
    """One thing recipients must do, by a date, in a window, on a schedule, or with no date.

    kind:
      deadline   `due` is the last day (inclusive) or the due time
      window     `start`..`due`, both inclusive (`10月9日至10月15日`)
      recurring  `rrule` (or `rdates`, for a festival that moves each year) gives every due day;
                 `due` is the first one on or after the notice's date, with `offset_workdays`
                 applied (`每季度末前5个工作日`)
      duty       no date (`及时报送`); `start` may hold the day it begins (`即日起`)
    """

    id: str = Field(description="stable hash of 文号 (or title), action and due: the same task keeps its id")
    kind: TaskKind
    document: TaskDocument
    action: str | None = Field(default=None, description="报送什么 / 开展什么")
    text: str = Field(description="the requirement as printed")
    assignees: list[str] = Field(default_factory=list)
    report_to: str | None = None
    form: list[str] = Field(default_factory=list, description="电子版 / 纸质版 / 盖章 ...")
    due: str | None = Field(default=None, description="ISO date or datetime (Asia/Shanghai wall time)")
    start: str | None = Field(default=None, description="first day of a window, ISO")
    rrule: str | None = Field(
        default=None,
        description="RFC 5545 RRULE of the due days; a rule with no day (每年) is anchored on the period's end",
    )
    recurring: str | None = Field(
        default=None, description="yearly / half-yearly / quarterly / monthly / weekly / daily"
    )
    rdates: list[str] = Field(
        default_factory=list,
        description="due days no RRULE holds (每年春节前: a lunar festival moves each year), ISO; `rrule` is then null",
    )
    offset_workdays: int | None = Field(
        default=None,
        description="due this many official working days before each rule date (negative: after; 0: the last "
        "working day on or before it)",
    )
    contact: Contact | None = None
    sentence: str | None = None
    page: int | None = None
    confidence: float | None = Field(default=None, description="the time-expression engine's confidence")
    date_note: str | None = Field(default=None, description="how the date was read (year source, assumptions)")
