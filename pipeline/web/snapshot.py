"""The archive as the desk shows it, read once for each state of the store and shared by the requests.

    Snapshots(db)                     one database's read connections and its latest snapshot
    Snapshots.connection()            this thread's read-only connection, opened once and kept
    Snapshots.current()               the Snapshot of the store as it is now
    Snapshots.pages(conn, sha256)     a file's stored pages and their normalised text
    Snapshot.archive                  every document corrected, its file, its log (records.Archive)
    Snapshot.task_rows(today)         every task with its next due day
    Snapshot.chain() / .findings()    the forwarding graph over the corrected records, and its audit
    Snapshot.page(key, make)          a rendered page kept for this state of the store (pipeline.web.desk.shown)

Every page of the desk reads the whole archive: the register filters and sorts it, the document
view places a notice in the forwarding chain, which is built over every notice. Parsing each
record, applying its corrections, reading its deadlines as tasks and building the chain cost
tens of milliseconds a request, and they change only when the store does. SQLite says when:
`PRAGMA data_version` on one connection changes whenever any other connection (a thread of the
desk writing a correction, an ingest in another process) has committed since. A request asks
it (microseconds) and gets the snapshot built for that value, or builds the next one: a write
is seen by the very next request, so a clerk's correction shows on the page its form
redirects to.

A new snapshot reuses what did not change: a document whose stored record text and correction
log are those it had keeps its parsed, corrected record and its tasks, so an ingest storing a
file a second costs the parse of that file's documents, not of the archive. Tasks count
working days on the stored holiday schedules too, so they are read again when those change.
The chain and the audit are built when a snapshot first needs them, once, whoever asks.

Connections: one per thread (the server runs views on a pool of reused threads), read-only
with query_only on, in autocommit, so no statement keeps an old WAL snapshot pinned between
requests. A snapshot is read in one read transaction, so its parts agree with each other.

What a snapshot hands out is shared by every request: views read records and never change
them (a write reads its own copy through pipeline.store.overrides).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from models import ChainReport, Document, Finding, Page, Task
from models.when import HolidaySchedule
from pipeline import store
from pipeline.chain.audit import audit
from pipeline.chain.links import build_chain
from pipeline.store import holidays, overrides
from pipeline.store.overrides import Corrected, Override
from pipeline.store.schema import BUSY_TIMEOUT_MS, store_errors
from pipeline.tasks.records import tasks_from_document
from pipeline.text.normalise import normalise
from pipeline.when import workdays
from pipeline.web.records import Archive, Stored, TaskRow, next_due, received_days, sorted_task_rows

MAX_FILES_KEPT = 256  # files whose pages stay parsed: those a clerk has open, and more
MAX_PAGES_KEPT = 256  # rendered pages kept for one state of the store


@dataclass
class _Parsed:
    """One document as last read: the text and log it came from, what was made of them."""

    record: str
    log: tuple[int, ...]
    corrected: Corrected
    tasks: list[Task] | None = None


@dataclass(frozen=True)
class FilePages:
    """A file's stored pages, parsed, and the normalised text their spans point into."""

    raw: tuple[str, ...]
    pages: list[Page]
    text: str


@dataclass
class Snapshot:
    version: tuple[int, int]
    archive: Archive
    calendar: list[HolidaySchedule]
    parsed: dict[str, _Parsed]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rows: tuple[date, list[TaskRow]] | None = None
    _chain: ChainReport | None = None
    _findings: list[Finding] | None = None
    _pages: dict[tuple[object, ...], str] = field(default_factory=dict)

    def documents(self) -> list[tuple[str, Document]]:
        return [(doc_id, stored.document) for doc_id, stored in self.archive.documents.items()]

    def tasks_of(self, doc_id: str) -> list[Task]:
        """The document's tasks, read from its corrected record once."""
        parsed = self.parsed[doc_id]
        if parsed.tasks is None:
            parsed.tasks = tasks_from_document(parsed.corrected.document, store_id=doc_id)
        return parsed.tasks

    def task_rows(self, today: date) -> list[TaskRow]:
        with self._lock:
            if self._rows is None or self._rows[0] != today:
                rows = []
                for stored in self.archive.documents.values():
                    done = overrides.done_tasks(stored.log)
                    rows += [TaskRow(task, stored.id, next_due(task, today), done.get(task.id)) for task in self.tasks_of(stored.id)]
                self._rows = (today, sorted_task_rows(rows))
            return self._rows[1]

    def chain(self) -> ChainReport:
        with self._lock:
            if self._chain is None:
                self._chain = build_chain(self.documents())
            return self._chain

    def findings(self) -> list[Finding]:
        report = self.chain()
        with self._lock:
            if self._findings is None:
                self._findings = audit(report, dict(self.documents()))
            return self._findings

    def page(self, key: tuple[object, ...], make: Callable[[], str]) -> str:
        """The page `key` names, made once for this snapshot (rendered outside the lock: making
        it may need the chain, which takes it)."""
        with self._lock:
            kept = self._pages.get(key)
        if kept is not None:
            return kept
        made = make()
        with self._lock:
            while len(self._pages) >= MAX_PAGES_KEPT:
                del self._pages[next(iter(self._pages))]
            self._pages[key] = made
        return made


def _read(conn: sqlite3.Connection, version: tuple[int, int], before: Snapshot | None) -> Snapshot:
    """The archive as the store holds it now, reusing what `before` parsed of unchanged documents."""
    conn.execute("BEGIN")  # one read transaction: the documents, their files and logs of one moment
    try:
        rows = {row["id"]: row for row in store.list_documents(conn)}
        logs = overrides.by_document(conn)
        received = received_days(conn)
        records = store.document_records(conn)
        calendar = holidays.schedules(conn)
    finally:
        conn.execute("COMMIT")
    if before is None or calendar != before.calendar:
        for schedule in calendar:  # a schedule stored since: count working days on it here too
            workdays.use_schedule(schedule)
    known = before.parsed if before is not None else {}
    parsed: dict[str, _Parsed] = {}
    documents = {}
    for doc_id, text in records:
        row = rows.get(doc_id)
        if row is None:
            continue
        log: list[Override] = logs.get(doc_id, [])
        key = tuple(o.id for o in log)
        found = known.get(doc_id)
        if found is None or found.record != text or found.log != key:
            found = _Parsed(text, key, overrides.apply(Document.model_validate_json(text), log))
        elif before is not None and calendar != before.calendar:
            found = _Parsed(text, key, found.corrected)  # tasks counted again on the new calendar
        parsed[doc_id] = found
        documents[doc_id] = Stored(doc_id, found.corrected, row["status"], row["reason"], row["sha256"], row["file"], received.get(row["sha256"]), log)
    return Snapshot(version, Archive(documents), calendar, parsed)


class Snapshots:
    def __init__(self, db: Path) -> None:
        self.db = db
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.RLock()  # the list of connections, and the version connection
        self._build = threading.Lock()  # one thread builds the next snapshot, the others wait for it
        self._latest: Snapshot | None = None
        self._watch: sqlite3.Connection | None = None
        self._watches = 0  # watching connections opened so far (close() drops the last)
        self._pages: OrderedDict[str, FilePages] = OrderedDict()
        self._pages_lock = threading.Lock()

    def _open(self) -> sqlite3.Connection:
        with store_errors(self.db):
            conn = sqlite3.connect(
                f"{self.db.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
            conn.execute("PRAGMA query_only = ON")
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        with self._lock:
            self._opened.append(conn)
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (it is used by this thread only, and closed by close())."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        return conn

    def version(self) -> tuple[int, int]:
        """SQLite's data_version on the watching connection, which moves at every commit of any
        other, beside which watching connection it is: only values of one connection compare."""
        with self._lock, store_errors(self.db):
            if self._watch is None:
                self._watch = self._open()
                self._watches += 1
            return self._watches, int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def current(self) -> Snapshot:
        version = self.version()  # asked before reading: a commit in between only makes the next request read again
        latest = self._latest
        if latest is not None and latest.version == version:
            return latest
        with self._build:
            latest = self._latest
            if latest is not None and latest.version == version:
                return latest
            with store_errors(self.db):
                latest = _read(self.connection(), version, latest)
            self._latest = latest
            return latest

    def pages(self, conn: sqlite3.Connection, sha256: str) -> FilePages:
        """The file's pages: read as stored text each time (cheap), parsed only when it changed."""
        raw = tuple(store.page_records(conn, sha256))
        with self._pages_lock:
            kept = self._pages.get(sha256)
            if kept is not None and kept.raw == raw:
                self._pages.move_to_end(sha256)
                return kept
        pages = [Page.model_validate_json(text) for text in raw]
        kept = FilePages(raw, pages, normalise(pages).text)
        with self._pages_lock:
            self._pages[sha256] = kept
            while len(self._pages) > MAX_FILES_KEPT:
                self._pages.popitem(last=False)
        return kept

    def close(self) -> None:
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
            self._watch = None
        self._local = threading.local()
