"""Human corrections over machine records: what a clerk changed, why, when and who.

    parse_value(path, text) -> value                    a form's text checked into a value, or ValueError
    record(conn, document_id, path, value, user=, note=, seen=) -> Override   one correction of a field or task
    version_of(value) -> str                            what `seen` names: the value a form was written from
    add_deadline(conn, document_id, deadline, user=, note=) -> Override   a deadline the parser missed
    revert(conn, document_id, override_id, user=, note=)                 withdraw a correction
    mark_reviewed(conn, document_id, reviewed, user=, note=)             in or out of the review queue
    mark_task(conn, document_id, task_id, done, user=, note=)            a task 办结 (done) or open again
    for_document(conn, document_id) / by_document(conn)                   the log, oldest first
    apply(document, overrides) -> Corrected              the record as the clerk sees it, and how
    corrected_documents(conn) -> [(id, Document)]        `store.all_documents` with corrections applied
    reviewed(overrides) / task_states(overrides)         the latest review and 办结 decisions

Why a log beside the record rather than an edit of it: `gongwen reparse` replaces every
document of a file with a fresh parse (pipeline.store.replace_parse), so an edited record would
lose the clerk's work at the next parser upgrade. Corrections are rows of their own, applied on
read, and the newest row for a field wins. Nothing is ever deleted: a withdrawn correction is a
`revert` row, so the log says who changed what, when and why, as a 收文登记簿 must.

Rows are keyed by the store's document id, which is a hash of the file's bytes and the
document's place in the file, so it survives a reparse. They hang off the file (deleting the
file deletes them) and not off the document: reparse deletes and re-inserts documents, and a
foreign key there would cascade the corrections away.

A correction keeps the machine value it replaced (`original`). When a later parse reads
something else there, the correction still wins and the view says the machine now reads
differently (`Applied.machine_changed`). A correction of a deadline also keeps the deadline's
printed text (`anchor`), so it follows that deadline if a new parse finds more deadlines or
finds them in another order; a deadline no parse finds any more leaves the correction
`orphaned`, shown but not applied.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Literal, get_args

from models import Deadline, Document
from models.document import Level
from pipeline import store
from pipeline.errors import CorrectionConflict
from pipeline.store import schema
from pipeline.parsing.docnumber import canonical, parse_line

Kind = Literal["set", "add", "revert", "review", "task"]

# The table lives with the store's other named migrations (pipeline/store/schema.py), so any program
# that opens a database knows it.
MIGRATION = next(m for m in schema.MIGRATIONS if m.name == "desk_0001_overrides")


# --- what a clerk may correct ----------------------------------------------------------------------

ValueKind = Literal["text", "date", "datetime", "level", "lines", "doc_number"]

FIELDS: dict[str, tuple[str, ValueKind]] = {
    "doc_number": ("发文字号", "doc_number"),
    "title": ("标题", "text"),
    "issuer_mark": ("发文机关标志", "text"),
    "issuers": ("发文机关", "lines"),
    "level": ("层级", "level"),
    "doc_type": ("文种", "text"),
    "recipients": ("主送机关", "lines"),
    "issue_date": ("成文日期", "date"),
    "attachments": ("附件", "lines"),
    "cc": ("抄送", "lines"),
    "printed_by": ("印发机关", "text"),
    "printed_date": ("印发日期", "date"),
    "secrecy": ("密级", "text"),
    "urgency": ("紧急程度", "text"),
    "copy_number": ("份号", "text"),
    "signers": ("签发人", "lines"),
    "notes": ("附注", "lines"),
    "ongoing_duties": ("经常性工作", "lines"),
}
DEADLINE_FIELDS: dict[str, tuple[str, ValueKind]] = {
    "date": ("期限", "datetime"),
    "start": ("起始日期", "date"),
    "action": ("事项", "text"),
    "assignees": ("承办单位", "lines"),
    "report_to": ("报送单位", "text"),
}
MAX_TEXT = 2000  # a title or an action; longer is not a correction but a paste gone wrong
MAX_LINES = 200
_DEADLINE_PATH = re.compile(r"^deadlines\[(\d{1,4})\]\.(\w+)$")
_CHINESE_DATE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")


_OTHER_LABELS = {"deadlines": "期限", "contacts": "联系人", "upstream": "上游文件"}
_INDEXED = re.compile(r"^(\w+)\[(\d{1,4})\]$")


def label_of(path: str) -> str:
    """The Chinese name of a field path, for the view and the log: `recipients[1]` → 主送机关2."""
    if path in FIELDS:
        return FIELDS[path][0]
    m = _DEADLINE_PATH.match(path)
    if m and m.group(2) in DEADLINE_FIELDS:
        return f"期限{int(m.group(1)) + 1}·{DEADLINE_FIELDS[m.group(2)][0]}"
    m = _INDEXED.match(path)
    if m:
        name = FIELDS[m.group(1)][0] if m.group(1) in FIELDS else _OTHER_LABELS.get(m.group(1), m.group(1))
        return f"{name}{int(m.group(2)) + 1}"
    return path


def value_kind(path: str) -> ValueKind:
    """What a path holds; ValueError for a path a clerk may not correct."""
    if path in FIELDS:
        return FIELDS[path][1]
    m = _DEADLINE_PATH.match(path)
    if m and m.group(2) in DEADLINE_FIELDS:
        return DEADLINE_FIELDS[m.group(2)][1]
    raise ValueError(f"不能更正的字段：{path}")


def parse_value(path: str, text: str) -> Any:
    """The value a form's text means for `path`, checked: ISO or 年月日 dates, a known level, a
    发文字号 that parses (stored canonical), one list item a line. Empty text clears the value.
    ValueError carries a message for the clerk."""
    kind = value_kind(path)
    text = text.replace("\r\n", "\n").strip()
    if kind == "lines":
        items = [line.strip() for line in text.split("\n") if line.strip()]
        if len(items) > MAX_LINES or any(len(item) > MAX_TEXT for item in items):
            raise ValueError("内容过长")
        return items
    if not text:
        return None
    if len(text) > MAX_TEXT or "\x00" in text:
        raise ValueError("内容过长或含有无效字符")
    if kind == "text":
        return " ".join(text.split())
    if kind == "level":
        if text not in get_args(Level):
            raise ValueError(f"层级须为 {' / '.join(get_args(Level))} 之一")
        return text
    if kind == "doc_number":
        number = canonical(text)
        if number is None:
            raise ValueError("不是有效的发文字号，应如 临市民函〔2024〕89号")
        return number
    return parse_date(text, with_time=kind == "datetime")


def parse_date(text: str, *, with_time: bool = False) -> str:
    """`2024-11-20`, `2024年11月20日`, and with `with_time` also `2024-11-20T17:00`: an ISO string."""
    m = _CHINESE_DATE.match(text)
    if m:
        text = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    try:
        if with_time and "T" in text:
            return datetime.fromisoformat(text).isoformat(timespec="minutes")
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError("日期格式应为 2024-11-20 或 2024年11月20日" + ("（可加时间 2024-11-20T17:00）" if with_time else "")) from None


# --- the log --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    """One row of the log."""

    id: int
    document_id: str
    kind: Kind
    path: str
    value: Any
    original: Any
    anchor: str | None
    user: str
    note: str
    at: str


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _insert(
    conn: sqlite3.Connection, document_id: str, kind: Kind, path: str, value: Any, *,
    user: str, note: str, original: Any = None, anchor: str | None = None, check: Callable[[], None] | None = None,
) -> Override:  # fmt: skip
    """Append one row in its own write transaction; LookupError when no such document is stored.
    `check` runs inside the transaction, under the write lock, before the row is added."""
    with store.transaction(conn):
        row = conn.execute("SELECT sha256 FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is None:
            raise LookupError(f"no stored document {document_id}")
        if check is not None:
            check()
        at = _now()
        cursor = conn.execute(
            """INSERT INTO overrides (sha256, document_id, kind, path, value, original, anchor, user, note, at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (row[0], document_id, kind, path, _json(value), None if original is None else _json(original), anchor, user, note.strip(), at),
        )
    assert cursor.lastrowid is not None
    return Override(cursor.lastrowid, document_id, kind, path, value, original, anchor, user, note.strip(), at)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def version_of(value: Any) -> str:
    """A short digest of a value as the view shows it: a form carries it and gives it back as `seen`."""
    return hashlib.sha256(_json(value).encode("utf-8")).hexdigest()[:16]


def record(
    conn: sqlite3.Connection, document_id: str, path: str, value: Any, *, user: str, note: str = "", seen: str | None = None
) -> Override:
    """Correct one field (`doc_number`, `recipients`, `deadlines[0].date` …) of a stored document.

    `value` is what `parse_value` returns. The machine value it replaces is kept beside it; for a
    deadline, so is the deadline's printed text, which later parses are matched on.

    `seen` is the version of the value the clerk was shown (`version_of`). Two clerks correcting
    one field from the same reading: the first correction is stored, the second is refused with
    CorrectionConflict (the value now there, and who put it) instead of silently replacing it.
    The check runs under the write lock, so two corrections arriving together cannot both pass.
    """
    value_kind(path)
    document = machine_document(conn, document_id)
    anchor = None
    m = _DEADLINE_PATH.match(path)
    if m:
        index = int(m.group(1))
        if index >= len(document.deadlines):
            raise LookupError(f"{document_id} has no deadline {index + 1}")
        anchor = document.deadlines[index].text
    original = value_at(document, path)

    def unchanged() -> None:
        if seen is None:
            return
        now = corrected(conn, document_id)
        if version_of(value_at(now.document, path)) != seen:
            latest = now.applied.get(path)
            by = latest.override.user if latest is not None else None
            raise CorrectionConflict(
                f"{label_of(path)} changed since it was shown", path=path, current=value_at(now.document, path), by=by
            )

    return _insert(conn, document_id, "set", path, value, user=user, note=note, original=original, anchor=anchor, check=unchanged)


def add_deadline(conn: sqlite3.Connection, document_id: str, deadline: Deadline, *, user: str, note: str = "") -> Override:
    """A deadline the parser missed, appended after the machine's own."""
    return _insert(conn, document_id, "add", "deadlines", deadline.model_dump(mode="json", exclude_defaults=True), user=user, note=note)


def revert(conn: sqlite3.Connection, document_id: str, override_id: int, *, user: str, note: str = "") -> Override:
    """Withdraw correction `override_id` of this document (the row stays in the log)."""
    if not any(o.id == override_id and o.kind in ("set", "add") for o in for_document(conn, document_id)):
        raise LookupError(f"{document_id} has no correction {override_id}")
    return _insert(conn, document_id, "revert", str(override_id), override_id, user=user, note=note)


def mark_reviewed(conn: sqlite3.Connection, document_id: str, reviewed_: bool, *, user: str, note: str = "") -> Override:
    """Take a document out of the review queue (or put it back)."""
    return _insert(conn, document_id, "review", "", reviewed_, user=user, note=note)


def mark_task(conn: sqlite3.Connection, document_id: str, task_id: str, done: bool, *, user: str, note: str = "") -> Override:
    """A task of this document 办结 (done), or open again. `task_id` is `models.Task.id`."""
    if not re.fullmatch(r"[0-9a-f]{8,64}", task_id):
        raise ValueError("无效的任务编号")
    return _insert(conn, document_id, "task", task_id, done, user=user, note=note)


def machine_document(conn: sqlite3.Connection, document_id: str) -> Document:
    """The record as the parser left it; LookupError when no such document is stored."""
    row = conn.execute("SELECT record FROM documents WHERE id = ?", (document_id,)).fetchone()
    if row is None:
        raise LookupError(f"no stored document {document_id}")
    return Document.model_validate_json(row[0])


_SELECT = "SELECT id, document_id, kind, path, value, original, anchor, user, note, at FROM overrides"


def _rows(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()) -> list[Override]:
    return [
        Override(r[0], r[1], r[2], r[3], json.loads(r[4]), None if r[5] is None else json.loads(r[5]), r[6], r[7], r[8], r[9])
        for r in conn.execute(sql, args)
    ]


def for_document(conn: sqlite3.Connection, document_id: str) -> list[Override]:
    """The document's log, oldest first."""
    return _rows(conn, f"{_SELECT} WHERE document_id = ? ORDER BY id", (document_id,))


def by_document(conn: sqlite3.Connection) -> dict[str, list[Override]]:
    """Every document's log, oldest first."""
    out: dict[str, list[Override]] = {}
    for override in _rows(conn, f"{_SELECT} ORDER BY id"):
        out.setdefault(override.document_id, []).append(override)
    return out


# --- reading through the log ----------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    """A correction as the view shows it: the row, the machine's value today, whether it took."""

    override: Override
    machine: Any = None
    machine_changed: bool = False
    orphaned: bool = False


@dataclass(frozen=True)
class Corrected:
    """A document with its corrections applied; `applied` maps each corrected path to how."""

    document: Document
    applied: dict[str, Applied] = field(default_factory=dict)
    added: list[Applied] = field(default_factory=list)
    history: list[Override] = field(default_factory=list)


def active(overrides: Iterable[Override]) -> list[Override]:
    """Corrections not withdrawn, oldest first."""
    rows = list(overrides)
    reverted = {o.value for o in rows if o.kind == "revert"}
    return [o for o in rows if o.kind in ("set", "add") and o.id not in reverted]


def apply(document: Document, overrides: Iterable[Override]) -> Corrected:
    """The record with every active correction applied (the newest per path wins).

    A corrected 文号 also sets its parts (agency code, year, serial); the provenance of a corrected
    value still points where the machine read it, which is where a clerk checks it.
    """
    rows = list(overrides)
    latest: dict[str, Override] = {}
    added: list[Override] = []
    for o in active(rows):
        if o.kind == "add":
            added.append(o)
        else:
            latest[o.path] = o
    # A deep copy of a record costs more than reading it from the store; with nothing to apply
    # (most documents) the record is given back as it came, freshly read by every caller.
    doc = document.model_copy(deep=True) if latest or added else document
    applied: dict[str, Applied] = {}
    for path, o in latest.items():
        applied[path] = _apply_one(doc, o)
    extra = []
    for o in added:
        try:
            doc.deadlines.append(Deadline.model_validate(o.value))
            extra.append(Applied(o))
        except ValueError:
            extra.append(Applied(o, orphaned=True))
    return Corrected(doc, applied, extra, rows)


def _apply_one(doc: Document, o: Override) -> Applied:
    m = _DEADLINE_PATH.match(o.path)
    if m is None:
        machine = getattr(doc, o.path)
        setattr(doc, o.path, o.value)
        if o.path == "doc_number":
            found = parse_line(o.value) if o.value else None
            doc.doc_number_parts = found.parts if found else None
        return Applied(o, machine, machine != o.original)
    index, name = int(m.group(1)), m.group(2)
    target = next((d for d in doc.deadlines if d.text == o.anchor), None) if o.anchor is not None else None
    if target is None and o.anchor is None and index < len(doc.deadlines):
        target = doc.deadlines[index]
    if target is None:
        return Applied(o, orphaned=True)
    machine = getattr(target, name)
    setattr(target, name, o.value)
    return Applied(o, machine, machine != o.original)


def corrected(conn: sqlite3.Connection, document_id: str) -> Corrected:
    """One stored document with its corrections applied."""
    return apply(machine_document(conn, document_id), for_document(conn, document_id))


def value_at(document: Document, path: str) -> Any:
    """The value at a correctable path (`title`, `deadlines[0].date`); None past the last deadline."""
    m = _DEADLINE_PATH.match(path)
    if m is None:
        return getattr(document, path)
    index = int(m.group(1))
    return getattr(document.deadlines[index], m.group(2)) if index < len(document.deadlines) else None


def corrected_documents(conn: sqlite3.Connection) -> list[tuple[str, Document]]:
    """Every stored document with its corrections: what exports (chain, audit, calendars) read."""
    logs = by_document(conn)
    return [(doc_id, apply(doc, logs.get(doc_id, [])).document) for doc_id, doc in store.all_documents(conn)]


def reviewed(overrides: Iterable[Override]) -> Override | None:
    """The latest review decision if it says reviewed, else None."""
    last = None
    for o in overrides:
        if o.kind == "review":
            last = o
    return last if last is not None and last.value else None


def task_states(overrides: Iterable[Override]) -> dict[str, Override]:
    """The latest 办结 decision of each task id (value True: done)."""
    states: dict[str, Override] = {}
    for o in overrides:
        if o.kind == "task":
            states[o.path] = o
    return states


def done_tasks(overrides: Iterable[Override]) -> dict[str, Override]:
    """Tasks whose latest decision is 办结."""
    return {task_id: o for task_id, o in task_states(overrides).items() if o.value}

