"""The result of reading one time expression (the deadline engine's output)."""

from typing import Literal

from pydantic import BaseModel, Field

WhenKind = Literal["date", "range", "recurring", "undeterminable"]


class When(BaseModel):
    kind: WhenKind
    start: str | None = Field(default=None, description="ISO date or datetime; for a range its first day")
    end: str | None = Field(default=None, description="ISO date or datetime: the last day (inclusive) or due time")
    rrule: str | None = Field(default=None, description="RFC 5545 RRULE value for recurring duties")
    offset_workdays: int | None = Field(
        default=None,
        description="for recurring duties: due this many working days before each occurrence (每季度末前5个工作日); "
        "negative: that many working days after it (每季度结束后10个工作日内); 0: on the last working day on or "
        "before it (每月最后一个工作日)",
    )
    first: str | None = Field(
        default=None,
        description="for recurring duties: the first due day on or after the issue date (ISO date or datetime), "
        "its working-day offset applied; null when no issue date or year is known",
    )
    rdates: list[str] = Field(
        default_factory=list,
        description="for recurring duties no RRULE can hold (每年春节前: a lunar festival moves each year): "
        "every due day the official calendar knows, from the issue date on; `rrule` is then null",
    )
    confidence: float = 0.0
    notes: list[str] = Field(default_factory=list, description="how the year or base date was chosen, uncertainty")


class ScheduleDay(BaseModel):
    """One day of a State Council holiday schedule, with the line it was read from."""

    day: str = Field(description="ISO date")
    festival: str = Field(description="the festival the line names, as printed: 春节, 中秋节、国庆节")
    start: int = Field(description="offset of the line in the notice text")
    end: int


class HolidaySchedule(BaseModel):
    """A year's public holidays and 调休 working days as the State Council's notice gives them
    (《国务院办公厅关于YYYY年部分节假日安排的通知》)."""

    year: int
    holidays: list[ScheduleDay] = Field(description="every day off of every holiday block")
    workdays: list[ScheduleDay] = Field(description="weekend days that become working days (调休上班)")
    source: str | None = Field(default=None, description="the notice it was read from: 文号, or a store id")
