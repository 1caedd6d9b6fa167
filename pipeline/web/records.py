"""The archive as the desk shows it: stored records read through the clerk's corrections.

    Archive, Stored                              every document corrected, its file, its log
    register_rows(archive, filters, today, earliest) -> (queue, rows)   the 收文登记簿, review queue first
    TaskRow, next_due, sorted_task_rows          every task with its next due day and 办结 state
    bucket(row, today)                           overdue / this_week / later / undated / done

Everything a page shows goes through `Archive` (read by pipeline.web.snapshot), so the
register, the document view, the deadlines and the .ics feed all see the same corrected
values (and filters match what is shown, not what the machine read before a clerk fixed it).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from models import Document, Task
from pipeline.store import overrides
from pipeline import store
from pipeline.tasks.ical import TZ
from pipeline.store.overrides import Corrected, Override
from pipeline.tasks.records import due_of, occurrences

Bucket = Literal["overdue", "this_week", "later", "undated", "done"]
SORTS = ("received", "issue_date", "doc_number", "issuer", "level", "status", "deadline")


def today_in_china() -> date:
    """Notices count days on Beijing time, wherever the server runs."""
    return datetime.now(TZ).date()


@dataclass(frozen=True)
class Stored:
    """One document: its corrected record, the file's status, where it came from, its log."""

    id: str
    corrected: Corrected
    status: str
    reason: str | None
    sha256: str
    file: str | None
    received: str | None  # the day the file was first stored (收文日期), Beijing time
    log: list[Override] = field(default_factory=list)

    @property
    def document(self) -> Document:
        return self.corrected.document

    @property
    def reviewed(self) -> Override | None:
        return overrides.reviewed(self.log)

    @property
    def in_queue(self) -> bool:
        return self.status == "needs_review" and self.reviewed is None


@dataclass(frozen=True)
class Archive:
    documents: dict[str, Stored]


def received_days(conn: sqlite3.Connection) -> dict[str, str]:
    """收文日期 of each file: the day it was stored, on Beijing time.
    (store.list_documents does not return `files.added_at` yet.)"""
    out = {}
    for sha256, added in conn.execute("SELECT sha256, added_at FROM files"):
        out[sha256] = datetime.fromisoformat(added).astimezone(TZ).date().isoformat()
    return out


# --- tasks ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    task: Task
    document_id: str
    next_due: date | None  # the deadline, a window's last day, or a recurring task's next due day
    done: Override | None


def next_due(task: Task, today: date) -> date | None:
    """When the task is next due: its own day, or for a recurring one the first due day from today."""
    if task.kind == "recurring":
        found = occurrences(task, 1, since=today)
        due = found[0].due if found else None
        return due.date() if isinstance(due, datetime) else due
    return due_of(task)


def sorted_task_rows(rows: list[TaskRow]) -> list[TaskRow]:
    """Soonest first, undated last."""
    return sorted(rows, key=lambda r: (r.next_due is None, r.next_due or date.max, r.task.document.doc_number or ""))


def bucket(row: TaskRow, today: date) -> Bucket:
    """逾期 before today; 本周 up to Sunday; 以后; no date; 办结 whatever the date."""
    if row.done is not None:
        return "done"
    if row.next_due is None:
        return "undated"
    if row.next_due < today:
        return "overdue"
    if row.next_due <= today + timedelta(days=6 - today.weekday()):
        return "this_week"
    return "later"


def earliest_open(rows: list[TaskRow]) -> dict[str, date]:
    """Each document's earliest due day among tasks not 办结."""
    out: dict[str, date] = {}
    for row in rows:
        if row.done is None and row.next_due is not None:
            current = out.get(row.document_id)
            out[row.document_id] = row.next_due if current is None else min(current, row.next_due)
    return out


# --- the register ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the register's form asks for; every field already validated by the view."""

    q: str = ""
    issuer: str = ""
    level: str = ""
    status: str = ""
    date_from: str = ""
    date_to: str = ""
    sort: str = "received"
    descending: bool = True


@dataclass(frozen=True)
class RegisterRow:
    stored: Stored
    deadline: date | None
    snippet: str | None = None

    @property
    def doc(self) -> Document:
        return self.stored.document


def _matches(stored: Stored, f: Filters) -> bool:
    doc = stored.document
    if f.issuer and not any(f.issuer in name for name in [doc.issuer_mark or "", *doc.issuers]):
        return False
    if f.level and doc.level != f.level:
        return False
    if f.status and stored.status != f.status:
        return False
    if f.date_from and (doc.issue_date or "") < f.date_from:
        return False
    return not (f.date_to and (doc.issue_date or "9999") > f.date_to)


def _sort_key(row: RegisterRow, sort: str) -> tuple[bool, Any]:
    doc = row.doc
    value: Any = {
        "received": row.stored.received,
        "issue_date": doc.issue_date,
        "doc_number": doc.doc_number,
        "issuer": doc.issuer_mark or " ".join(doc.issuers) or None,
        "level": doc.level,
        "status": row.stored.status,
        "deadline": row.deadline,
    }[sort]
    return value is None, "" if value is None else str(value)  # ISO dates sort as strings


def register_rows(
    archive: Archive, filters: Filters, earliest: dict[str, date], conn: sqlite3.Connection | None = None
) -> tuple[list[RegisterRow], list[RegisterRow]]:
    """(review queue, the rest): documents that match, sorted; the queue holds `needs_review`
    documents nobody has marked reviewed. `earliest` is each document's next open due day
    (earliest_open). Full-text search (`q`) needs `conn` for the index."""
    snippets: dict[str, str] | None = None
    if filters.q and conn is not None:
        snippets = {row["id"]: row["snippet"] for row in store.search(conn, filters.q, limit=1000)}
    rows = [
        RegisterRow(stored, earliest.get(doc_id), snippets.get(doc_id) if snippets else None)
        for doc_id, stored in archive.documents.items()
        if (snippets is None or doc_id in snippets) and _matches(stored, filters)
    ]
    ordered = sorted(rows, key=lambda r: (r.stored.id,))
    ordered.sort(key=lambda r: _sort_key(r, filters.sort)[1], reverse=filters.descending)
    ordered.sort(key=lambda r: _sort_key(r, filters.sort)[0])  # missing values last either way
    queue = [r for r in ordered if r.stored.in_queue]
    return queue, [r for r in ordered if not r.stored.in_queue]
