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
        "negative: that many working days after it (每季度结束后10个工作日内)",
    )
    confidence: float = 0.0
    notes: list[str] = Field(default_factory=list, description="how the year or base date was chosen, uncertainty")
