"""Deadlines printed in a table: a 报送时间 column, one due date per row (shared/domain.md §3).

A reporting system (报送制度, 时间安排表) lists what is due in rows, with a column headed
`报送时间` (or 上报时间, 截止时间, 完成时限 …) holding each row's date.  Read as text, from a Word
copy or a web page, each cell stands on its own line: the header cells, then per row the item
and its date (`第一季度…情况` / `2011年3月5日之前`).  Such a date has no 请 or 于 in front of it and
no sentence around it, so the sentence rules never take it; the column's header is what makes
it a deadline.  In: the document's lines (body and the attachments printed after it).  Out:
one `FoundDeadline` per dated cell, its action `报送` + the row's item.
"""

from __future__ import annotations

import re
from datetime import date

from models import Deadline
from pipeline.parsing.duties import FoundDeadline
from pipeline.text.split import TextLine
from pipeline.when import find

# A column header naming when each row is due: 报送时间, 上报时限, 截止日期, 完成时间要求.
_HEADER_RE = re.compile(r"^(?P<verb>报送|上报|提交|报|完成|截止|办结)(?:时间|时限|日期)(?:要求)?$")
_VERB = {"报送": "报送", "上报": "报送", "提交": "提交", "报": "报送", "完成": "完成", "截止": "报送", "办结": "办结"}
# The rows end at the next numbered heading (`二、…`) or after this many lines without a date.
_HEADING_RE = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])")
_MAX_GAP = 6
# What may stand in a date cell beside the date itself.
_CELL_REST_RE = re.compile(r"^[\s前之以止（）()、，,。.]*$")


def table_deadlines(
    lines: list[TextLine], recipients: list[str], *, issue_date: date | None, year_hint: int | None
) -> list[FoundDeadline]:
    """Every dated cell under a 报送时间-like column header in `lines`."""
    out: list[FoundDeadline] = []
    verb: str | None = None
    gap = 0
    item: TextLine | None = None
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        header = _HEADER_RE.match(re.sub(r"\s+", "", text))
        if header:
            verb, gap, item = _VERB[header.group("verb")], 0, None
            continue
        if verb is None:
            continue
        if _HEADING_RE.match(text) or gap > _MAX_GAP:
            verb = None
            continue
        cell = _date_cell(text, issue_date=issue_date, year_hint=year_hint)
        if cell is None:
            item, gap = line, gap + 1
            continue
        gap = 0
        due, notes, confidence = cell
        action = f"{verb}{item.text.strip()}" if item is not None else None
        deadline = Deadline(
            text=text, date=due, action=action, assignees=list(recipients), date_note=notes or None,
            confidence=confidence, sentence=f"{item.text.strip()} {text}" if item is not None else text,
        )  # fmt: skip
        out.append(FoundDeadline(deadline=deadline, start=line.start, end=line.end))
        item = None
    return out


def _date_cell(text: str, *, issue_date: date | None, year_hint: int | None) -> tuple[str, str, float] | None:
    """(due, notes, confidence) when the whole cell is one date (`2011年3月5日之前`, `3月5日前`)."""
    found = find(text, issue_date=issue_date, year_hint=year_hint)
    if len(found) != 1 or found[0].when.kind != "date" or not found[0].when.end:
        return None
    rest = text[: found[0].start] + text[found[0].end :]
    if not _CELL_REST_RE.match(rest):
        return None
    when = found[0].when
    return when.end, "; ".join(when.notes), when.confidence
