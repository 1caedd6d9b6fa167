"""What every resolution step shares: the confidence levels callers threshold on, the context
(issue date, 文号 year) a phrase is read against, and the span of days a step resolves to.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta


# Confidence levels (documented here so callers can threshold on them)

EXPLICIT = 0.95  # a printed full date
FROM_ISSUE_YEAR = 0.9  # year taken from the issue date
_FROM_HINT_YEAR = 0.85  # year taken from the 文号 (year_hint)
ROLLED = 0.75  # moved to next year because it fell before the issue date
APPROXIMATE = 0.8  # 上旬/中旬/下旬, 月初, a whole month, quarter or half-year as a deadline
BARE_YEAR = 0.6  # "2025年" alone read as "by 2025-12-31"
ASSUMED_BASE = 0.7  # relative period counted from the issue date though the text says receipt
SUSPECT = 0.5  # weekday mismatch, date before the issue date kept
UNCOVERED = 0.4  # working days or holiday block in a year without official data
NOT_A_DEADLINE = 0.2  # event / cited / past, when resolve() is asked about it anyway
VAGUE = 0.9  # 及时, 尽快: sure there is no date

ROLL_AFTER = timedelta(days=31)


# -- Resolution against the issue date --------------------------------------------------------


class Unresolvable(Exception):
    """The expression is real but its date cannot be known (no base, no data)."""

    def __init__(self, note: str, confidence: float = 0.5):
        super().__init__(note)
        self.note = note
        self.confidence = confidence


@dataclass(frozen=True)
class Context:
    issue_date: date | None
    year_hint: int | None

    def base_year(self, what: str) -> tuple[int, str, float]:
        """(year, where it came from, confidence) for an expression printed without a year."""
        if self.issue_date is not None:
            return self.issue_date.year, f"the issue date {self.issue_date}", FROM_ISSUE_YEAR
        if self.year_hint is not None:
            return self.year_hint, f"文号 〔{self.year_hint}〕 (year hint)", _FROM_HINT_YEAR
        raise Unresolvable(f"{what}: no year printed, and no issue date or year hint to take it from")

    def issue(self, what: str) -> date:
        if self.issue_date is None:
            raise Unresolvable(f"{what}: counted from the issue date, which is not known")
        return self.issue_date


@dataclass(frozen=True)
class Span:
    """A resolved stretch of days; `time` applies to both ends (a single day) or as printed."""

    first: date
    last: date
    time: tuple[int, int] | None = None
    notes: tuple[str, ...] = ()
    confidence: float = EXPLICIT
    year: int | None = None

    def but(self, *notes: str, confidence: float | None = None) -> Span:
        conf = self.confidence if confidence is None else min(self.confidence, confidence)
        return replace(self, notes=self.notes + notes, confidence=conf)
