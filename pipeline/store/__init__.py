"""The embedded store: one SQLite file with every ingested file, its documents and pages.

    connect(path, create=)        open (and migrate) the database; StoreError with the fix if it cannot
    transaction(conn)             BEGIN IMMEDIATE … COMMIT, ROLLBACK on any exception
    save_file(conn, record)       one file and everything parsed from it, in one transaction
    replace_parse(conn, ...)      new documents for a stored file (reparse), in one transaction
    find_file / add_name / stored_pages / file_names / all_documents
    list_documents / list_files / show / search     what the look-up commands print

All SQL of gongwen lives here. The schema is built by named migrations (MIGRATIONS),
each recorded in `schema_migrations`; a database carrying a migration this program
does not know was written by a newer gongwen and is refused rather than misread.

Connection settings, and the SQLite behaviour each one handles:

    PRAGMA busy_timeout            a second `gongwen ingest` on the same file waits for the write
                                   lock instead of failing with SQLITE_BUSY at once
    PRAGMA journal_mode=WAL        readers (list, search) never block the writer, and a process
                                   killed mid-write leaves only whole committed transactions: the
                                   torn WAL tail is ignored at the next open
    PRAGMA synchronous=FULL        fsync the WAL at every commit, so "done" survives a power cut,
                                   not only a kill -9 (NORMAL may lose the last commits then)
    PRAGMA foreign_keys=ON         off by default on every new connection; pages, documents,
                                   deadlines and links hang off their file and cascade with it
    isolation_level=None           the sqlite3 module's implicit BEGIN (DEFERRED) is turned off:
                                   we issue BEGIN IMMEDIATE ourselves, taking the write lock first;
                                   a deferred transaction that reads and then writes can hit
                                   SQLITE_BUSY without the busy handler ever being called

Exactly once: a file's identity is the sha256 of its bytes. `save_file` checks inside its
transaction whether those bytes are stored already (another process may have stored them a
moment ago) and then only adds the name. A different scan of a stored notice (same 文号,
the same title) is stored too, and both files are flagged `needs_review` and linked in
`possible_duplicates`; nothing is merged.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from difflib import SequenceMatcher
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from models import Document, FileResult, Issue, Page
from pipeline.errors import StoreError

BUSY_TIMEOUT_MS = 30_000  # a concurrent ingest commits one file at a time: far shorter than this
SAME_TITLE_RATIO = 0.9  # two OCR reads of one title differ by a few characters at most
STORED = ("done", "partial", "needs_review")


class StoreBusy(StoreError):
    """The database stayed locked past the busy timeout: transient, the file is deferred."""


class StoreFull(StoreError):
    """The disk (or the database's size cap) is full: transient, the file is deferred."""


# --- schema -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    """A named step of the schema. Statements, not a script: `executescript` would COMMIT
    the transaction the step must run in together with its `schema_migrations` row."""

    name: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "0001_files",
        (
            """CREATE TABLE files (
                sha256          TEXT PRIMARY KEY CHECK (length(sha256) = 64),
                size            INTEGER NOT NULL,
                kind            TEXT,
                status          TEXT NOT NULL CHECK (status IN ('done', 'partial', 'needs_review', 'rejected')),
                reason          TEXT,
                engine          TEXT,
                parser_version  TEXT,
                problems        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(problems)),
                added_at        TEXT NOT NULL,
                updated_at      TEXT NOT NULL
            )""",
            # `raw` is the name as the OS gave it (bytes: names need not be UTF-8); `name` is for people
            """CREATE TABLE file_names (
                sha256      TEXT NOT NULL REFERENCES files (sha256) ON DELETE CASCADE,
                raw         BLOB NOT NULL,
                name        TEXT NOT NULL,
                first_seen  TEXT NOT NULL,
                PRIMARY KEY (sha256, raw)
            )""",
            "CREATE INDEX files_status ON files (status)",
        ),
    ),
    Migration(
        "0002_pages_and_documents",
        (
            # `page` is the models.Page JSON (lines, boxes, confidences): what reparse feeds back to the parser
            """CREATE TABLE pages (
                sha256      TEXT NOT NULL REFERENCES files (sha256) ON DELETE CASCADE,
                number      INTEGER NOT NULL,
                source      TEXT NOT NULL,
                raw_text    TEXT NOT NULL,
                text        TEXT NOT NULL,
                mean_conf   REAL,
                page        TEXT NOT NULL CHECK (json_valid(page)),
                PRIMARY KEY (sha256, number)
            )""",
            """CREATE TABLE documents (
                id                  TEXT PRIMARY KEY,
                sha256              TEXT NOT NULL REFERENCES files (sha256) ON DELETE CASCADE,
                ordinal             INTEGER NOT NULL,
                doc_number          TEXT,
                doc_number_printed  TEXT,
                agency_code         TEXT,
                doc_year            INTEGER,
                doc_serial          INTEGER,
                doc_type            TEXT,
                title               TEXT,
                issuer_mark         TEXT,
                issuers             TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(issuers)),
                level               TEXT,
                issue_date          TEXT,
                first_page          INTEGER,
                last_page           INTEGER,
                parser_version      TEXT NOT NULL,
                record              TEXT NOT NULL CHECK (json_valid(record)),
                UNIQUE (sha256, ordinal)
            )""",
            "CREATE INDEX documents_doc_number ON documents (doc_number)",
            "CREATE INDEX documents_issue_date ON documents (issue_date)",
        ),
    ),
    Migration(
        "0003_deadlines_duties_upstream",
        (
            """CREATE TABLE deadlines (
                document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
                ordinal     INTEGER NOT NULL,
                date        TEXT,
                start       TEXT,
                recurring   TEXT,
                rrule       TEXT,
                action      TEXT,
                report_to   TEXT,
                text        TEXT NOT NULL,
                page        INTEGER,
                record      TEXT NOT NULL CHECK (json_valid(record)),
                PRIMARY KEY (document_id, ordinal)
            )""",
            "CREATE INDEX deadlines_date ON deadlines (date)",
            """CREATE TABLE duties (
                document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
                ordinal     INTEGER NOT NULL,
                text        TEXT NOT NULL,
                PRIMARY KEY (document_id, ordinal)
            )""",
            """CREATE TABLE upstream (
                document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
                ordinal     INTEGER NOT NULL,
                relation    TEXT NOT NULL CHECK (relation IN ('forwards', 'attaches', 'cites')),
                doc_number  TEXT,
                title       TEXT,
                issuer      TEXT,
                PRIMARY KEY (document_id, ordinal)
            )""",
            "CREATE INDEX upstream_doc_number ON upstream (doc_number)",
        ),
    ),
    Migration(
        "0004_possible_duplicates",
        (
            # one row per unordered pair (first < second), so the link does not depend on which came first
            """CREATE TABLE possible_duplicates (
                first   TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
                second  TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
                PRIMARY KEY (first, second),
                CHECK (first < second)
            )""",
            "CREATE INDEX possible_duplicates_second ON possible_duplicates (second)",
        ),
    ),
    Migration(
        "0005_fulltext",
        (
            # trigram: Chinese has no spaces for unicode61 to split on, so a whole sentence would be
            # one token; trigrams match any substring of 3+ characters (SQLite >= 3.34)
            "CREATE VIRTUAL TABLE documents_fts USING fts5 (title, body, tokenize = 'trigram')",
        ),
    ),
    # The web desk's tables (pipeline.store.overrides, pipeline.store.users). Listed here, not only registered
    # when those modules are imported: a `gongwen list` that never imports them must still accept
    # a database the desk has written to.
    Migration(
        "desk_0001_overrides",
        (
            """CREATE TABLE overrides (
            id          INTEGER PRIMARY KEY,
            sha256      TEXT NOT NULL REFERENCES files (sha256) ON DELETE CASCADE,
            document_id TEXT NOT NULL,
            kind        TEXT NOT NULL CHECK (kind IN ('set', 'add', 'revert', 'review', 'task')),
            path        TEXT NOT NULL,
            value       TEXT NOT NULL CHECK (json_valid(value)),
            original    TEXT CHECK (original IS NULL OR json_valid(original)),
            anchor      TEXT,
            user        TEXT NOT NULL,
            note        TEXT NOT NULL DEFAULT '',
            at          TEXT NOT NULL
        )""",
            "CREATE INDEX overrides_document ON overrides (document_id, id)",
        ),
    ),
    Migration(
        "desk_0002_users",
        (
            """CREATE TABLE users (
            name        TEXT PRIMARY KEY,
            password    TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL
        )""",
        ),
    ),
)


# --- connecting ---------------------------------------------------------------------------------


@contextmanager
def store_errors(db: Path | str) -> Iterator[None]:
    """sqlite3 and OS errors as StoreError: StoreBusy and StoreFull are the transient ones."""
    try:
        yield
    except sqlite3.Error as e:
        raise classify(e, db) from e
    except OSError as e:
        if e.errno in (28, 122):  # ENOSPC, EDQUOT
            raise StoreFull(f"{db}: the disk is full: {e.strerror}", hint="free some space and run the command again") from e
        raise StoreError(f"{db}: {e.strerror or e}") from e


F = TypeVar("F", bound=Callable[..., Any])


def translated(func: F) -> F:
    """A public store function: sqlite3 errors leave it as StoreError (StoreBusy, StoreFull)."""

    @wraps(func)
    def wrapper(conn: sqlite3.Connection, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(conn, *args, **kwargs)
        except sqlite3.Error as e:
            raise classify(e, database_file(conn)) from e

    return wrapper  # type: ignore[return-value]


def database_file(conn: sqlite3.Connection) -> str:
    try:
        return conn.execute("PRAGMA database_list").fetchone()[2] or "the database"
    except sqlite3.Error:
        return "the database"


def classify(e: sqlite3.Error, db: Path | str) -> StoreError:
    primary = (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF
    name = getattr(e, "sqlite_errorname", "") or type(e).__name__
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreBusy(
            f"{db}: the database stayed locked past the busy timeout ({name})",
            hint="another gongwen is writing to it; run the command again when it is done",
        )
    if primary == sqlite3.SQLITE_FULL:
        return StoreFull(f"{db}: the database or its disk is full ({name})", hint="free some space and run the command again")
    if primary in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return StoreError(f"{db}: not a gongwen database, or a damaged one ({name}: {e})", hint="point --db at another file")
    if primary == sqlite3.SQLITE_CANTOPEN:
        return StoreError(f"{db}: cannot open the database ({name}: {e})", hint="check that the folder exists and is writable")
    return StoreError(f"{db}: {name}: {e}")


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """The store at `path`, migrated to this program's schema.

    `create=False` (the look-up commands) refuses a missing file instead of leaving an
    empty database behind a typo.
    """
    if not create and not path.exists():
        raise StoreError(f"{path}: no such database", hint="run `gongwen ingest` first, or point --db (or GONGWEN_DB) at it")
    with store_errors(path):
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.05
        while True:
            try:
                return _open(path)
            except sqlite3.OperationalError as e:
                # Two processes creating one database at once: switching a new file to WAL needs
                # an exclusive lock and SQLite answers SQLITE_BUSY at once, without its busy
                # handler. Try again until the busy timeout, as the handler would have.
                busy = ((getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
                if not busy or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, holding the write lock from its first statement."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def migrate(conn: sqlite3.Connection, db: Path | str = "database") -> list[str]:
    """Apply the migrations the database lacks, in order, in one transaction; their names."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    with transaction(conn):
        applied = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
        unknown = sorted(applied - {m.name for m in MIGRATIONS})
        if unknown:
            raise StoreError(
                f"{db}: written by a newer gongwen (schema steps {', '.join(unknown)} are unknown here)",
                hint="upgrade gongwen, or point --db at another file",
            )
        done = []
        for migration in MIGRATIONS:
            if migration.name in applied:
                continue
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (migration.name, now()))
            done.append(migration.name)
    return done


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- records going in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    """A name a file was seen under: `raw` as the OS gave it (identity), `text` for people.

    File names are bytes on Linux and need not be UTF-8; `text` shows undecodable bytes
    as \\xNN escapes so that it always fits in JSON and in a TEXT column.
    """

    text: str
    raw: bytes

    @classmethod
    def of(cls, name: str) -> Name:
        raw = name.encode(sys.getfilesystemencoding(), "surrogateescape")
        return cls(raw.decode("utf-8", "backslashreplace"), raw)


@dataclass(frozen=True)
class Verdict:
    """A file's status and why (None when done)."""

    status: str
    reason: str | None = None

    def worse(self, status: str, reason: str) -> Verdict:
        """Add a reason; the status becomes `status` unless the current one is worse."""
        order = {"done": 0, "needs_review": 1, "partial": 2, "rejected": 3}
        kept = self.status if order[self.status] >= order[status] else status
        return Verdict(kept, f"{self.reason}; {reason}" if self.reason else reason)


@dataclass(frozen=True)
class FileRecord:
    """One file as it goes into the store. Rejected files have no parse (result None)."""

    sha256: str
    size: int
    name: Name
    verdict: Verdict
    kind: str | None = None
    result: FileResult | None = None
    pages: list[Page] = field(default_factory=list)
    page_texts: list[str] = field(default_factory=list)  # normalised text, one per page
    bodies: list[str] = field(default_factory=list)  # normalised text, one per document


@dataclass(frozen=True)
class Saved:
    """What the store made of a FileRecord: a duplicate of stored bytes, or the new row."""

    verdict: Verdict
    document_ids: list[str]
    duplicate_of: str | None = None  # a name the stored file was first seen under


def document_id(sha256: str, ordinal: int) -> str:
    """Stable across runs and reparses: the file's content hash and the document's place in it."""
    return hashlib.sha256(f"{sha256}/{ordinal}".encode()).hexdigest()[:16]


def same_title(a: str | None, b: str | None) -> bool:
    """Two reads of one title: equal without whitespace, or nearly so (OCR slips)."""
    if not a or not b:
        return False
    a, b = "".join(a.split()), "".join(b.split())
    return a == b or SequenceMatcher(None, a, b, autojunk=False).ratio() >= SAME_TITLE_RATIO


# --- writing ------------------------------------------------------------------------------------


@translated
def save_file(conn: sqlite3.Connection, record: FileRecord) -> Saved:
    """Store a file and all parsed from it, or only its name when the bytes are stored already.

    A previously rejected file is replaced: rejection is not a verdict on the bytes forever
    (a newer reader, a bigger limit) and it carries no documents to lose.
    """
    with transaction(conn):
        row = conn.execute("SELECT status, reason FROM files WHERE sha256 = ?", (record.sha256,)).fetchone()
        if row is not None and row[0] != "rejected":
            first = first_name(conn, record.sha256)
            insert_name(conn, record.sha256, record.name)
            return Saved(Verdict(row[0], row[1]), document_ids_of(conn, record.sha256), duplicate_of=first)
        stamp = now()
        conn.execute(
            """INSERT INTO files (sha256, size, kind, status, reason, engine, parser_version, problems, added_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (sha256) DO UPDATE SET kind = excluded.kind, status = excluded.status,
                   reason = excluded.reason, engine = excluded.engine, parser_version = excluded.parser_version,
                   problems = excluded.problems, updated_at = excluded.updated_at""",
            (
                record.sha256,
                record.size,
                record.kind,
                record.verdict.status,
                record.verdict.reason,
                record.result.engine if record.result else None,
                record.result.parser_version if record.result else None,
                problems_json(record.result.problems if record.result else []),
                stamp,
                stamp,
            ),
        )
        insert_name(conn, record.sha256, record.name)
        if record.result is None:
            return Saved(record.verdict, [])
        for page, text in zip(record.pages, padded(record.page_texts, len(record.pages))):
            insert_page(conn, record.sha256, page, text)
        ids = insert_documents(conn, record.sha256, record.result, record.bodies)
        verdict = link_possible_duplicates(conn, record.sha256, ids, record.verdict)
        if verdict != record.verdict:
            set_verdict(conn, record.sha256, verdict)
    return Saved(verdict, ids)


@translated
def replace_parse(
    conn: sqlite3.Connection, sha256: str, result: FileResult, bodies: list[str], verdict: Verdict
) -> Saved:
    """A stored file's documents replaced by a new parse of its stored pages (reparse)."""
    with transaction(conn):
        conn.execute("DELETE FROM documents_fts WHERE rowid IN (SELECT rowid FROM documents WHERE sha256 = ?)", (sha256,))
        conn.execute("DELETE FROM documents WHERE sha256 = ?", (sha256,))
        ids = insert_documents(conn, sha256, result, bodies)
        verdict = link_possible_duplicates(conn, sha256, ids, verdict)
        conn.execute(
            "UPDATE files SET status = ?, reason = ?, parser_version = ?, problems = ?, updated_at = ? WHERE sha256 = ?",
            (verdict.status, verdict.reason, result.parser_version, problems_json(result.problems), now(), sha256),
        )
    return Saved(verdict, ids)


@translated
def add_name(conn: sqlite3.Connection, sha256: str, name: Name) -> None:
    with transaction(conn):
        insert_name(conn, sha256, name)


def insert_name(conn: sqlite3.Connection, sha256: str, name: Name) -> None:
    conn.execute(
        "INSERT INTO file_names (sha256, raw, name, first_seen) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (sha256, name.raw, name.text, now()),
    )


def insert_page(conn: sqlite3.Connection, sha256: str, page: Page, text: str) -> None:
    conn.execute(
        "INSERT INTO pages (sha256, number, source, raw_text, text, mean_conf, page) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (sha256, page.number, page.source, page.raw_text, text, page.mean_conf, page.model_dump_json()),
    )


def insert_documents(conn: sqlite3.Connection, sha256: str, result: FileResult, bodies: list[str]) -> list[str]:
    ids = []
    for ordinal, (doc, body) in enumerate(zip(result.documents, padded(bodies, len(result.documents)))):
        doc_id = document_id(sha256, ordinal)
        parts = doc.doc_number_parts
        cursor = conn.execute(
            """INSERT INTO documents (id, sha256, ordinal, doc_number, doc_number_printed, agency_code, doc_year,
                   doc_serial, doc_type, title, issuer_mark, issuers, level, issue_date, first_page, last_page,
                   parser_version, record)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                doc_id,
                sha256,
                ordinal,
                doc.doc_number,
                doc.doc_number_printed,
                parts.agency_code if parts else None,
                parts.year if parts else None,
                parts.serial if parts else None,
                doc.doc_type,
                doc.title,
                doc.issuer_mark,
                json.dumps(doc.issuers, ensure_ascii=False),
                doc.level,
                doc.issue_date,
                min(doc.pages, default=None),
                max(doc.pages, default=None),
                result.parser_version,
                doc.model_dump_json(),
            ),
        )
        conn.execute(
            "INSERT INTO documents_fts (rowid, title, body) VALUES (?, ?, ?)", (cursor.lastrowid, indexable(doc.title or ""), indexable(body))
        )
        insert_document_parts(conn, doc_id, doc)
        ids.append(doc_id)
    return ids


def insert_document_parts(conn: sqlite3.Connection, doc_id: str, doc: Document) -> None:
    conn.executemany(
        """INSERT INTO deadlines (document_id, ordinal, date, start, recurring, rrule, action, report_to, text, page, record)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            (doc_id, i, d.date, d.start, d.recurring, d.rrule, d.action, d.report_to, d.text, d.page, d.model_dump_json())
            for i, d in enumerate(doc.deadlines)
        ],
    )
    conn.executemany(
        "INSERT INTO duties (document_id, ordinal, text) VALUES (?, ?, ?)",
        [(doc_id, i, duty) for i, duty in enumerate(doc.ongoing_duties)],
    )
    conn.executemany(
        "INSERT INTO upstream (document_id, ordinal, relation, doc_number, title, issuer) VALUES (?, ?, ?, ?, ?, ?)",
        [(doc_id, i, u.relation, u.doc_number, u.title, u.issuer) for i, u in enumerate(doc.upstream)],
    )


def link_possible_duplicates(conn: sqlite3.Connection, sha256: str, ids: list[str], verdict: Verdict) -> Verdict:
    """Link each new document to documents of other files with its 文号 and title; flag both files."""
    for doc_id in ids:
        number, title = conn.execute("SELECT doc_number, title FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if not number:
            continue
        candidates = conn.execute(
            "SELECT id, title, sha256 FROM documents WHERE doc_number = ? AND sha256 != ?", (number, sha256)
        ).fetchall()
        for other_id, other_title, other_sha in candidates:
            if not same_title(title, other_title):
                continue
            conn.execute(
                "INSERT INTO possible_duplicates (first, second) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (min(doc_id, other_id), max(doc_id, other_id)),
            )
            verdict = flag(verdict, number, first_name(conn, other_sha) or other_sha[:12])
            status, reason = conn.execute("SELECT status, reason FROM files WHERE sha256 = ?", (other_sha,)).fetchone()
            other = flag(Verdict(status, reason), number, first_name(conn, sha256) or sha256[:12])
            if other != Verdict(status, reason):
                set_verdict(conn, other_sha, other)
    return verdict


def flag(verdict: Verdict, number: str, elsewhere: str) -> Verdict:
    """needs_review for a possible duplicate, saying where the first twin of `number` is;
    further twins of the same 文号 are in `possible_duplicates`, not in an ever longer reason."""
    if f"possible duplicate: {number} " in (verdict.reason or ""):
        return verdict
    return verdict.worse("needs_review", f"possible duplicate: {number} also in {elsewhere}")


def set_verdict(conn: sqlite3.Connection, sha256: str, verdict: Verdict) -> None:
    conn.execute(
        "UPDATE files SET status = ?, reason = ?, updated_at = ? WHERE sha256 = ?", (verdict.status, verdict.reason, now(), sha256)
    )


def indexable(text: str) -> str:
    """FTS5 stops tokenizing a value at a NUL (it reads C strings): OCR garbage must not hide the rest."""
    return text.replace("\x00", " ")


def problems_json(problems: list[Issue]) -> str:
    return json.dumps([p.model_dump(mode="json") for p in problems], ensure_ascii=False)


def padded(items: list[str], length: int) -> list[str]:
    return (items + [""] * length)[:length]


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    kind: str | None
    status: str
    reason: str | None
    engine: str | None
    problems: list[Issue]


@translated
def find_file(conn: sqlite3.Connection, sha256: str) -> StoredFile | None:
    row = conn.execute(
        "SELECT sha256, size, kind, status, reason, engine, problems FROM files WHERE sha256 = ?", (sha256,)
    ).fetchone()
    if row is None:
        return None
    problems = [Issue.model_validate(p) for p in json.loads(row[6])]
    return StoredFile(row[0], row[1], row[2], row[3], row[4], row[5], problems)


@translated
def first_name(conn: sqlite3.Connection, sha256: str) -> str | None:
    row = conn.execute(
        "SELECT name FROM file_names WHERE sha256 = ? ORDER BY first_seen, name LIMIT 1", (sha256,)
    ).fetchone()
    return row[0] if row else None


@translated
def file_names(conn: sqlite3.Connection, sha256: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM file_names WHERE sha256 = ? ORDER BY first_seen, name", (sha256,))]


@translated
def document_ids_of(conn: sqlite3.Connection, sha256: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM documents WHERE sha256 = ? ORDER BY ordinal", (sha256,))]


@translated
def all_documents(conn: sqlite3.Connection) -> list[tuple[str, Document]]:
    """Every stored document's id and record, in id order: what the chain and audit commands read."""
    return [(r[0], Document.model_validate_json(r[1])) for r in conn.execute("SELECT id, record FROM documents ORDER BY id")]


@translated
def stored_pages(conn: sqlite3.Connection, sha256: str) -> list[Page]:
    rows = conn.execute("SELECT page FROM pages WHERE sha256 = ? ORDER BY number", (sha256,))
    return [Page.model_validate_json(r[0]) for r in rows]


@translated
def files_to_reparse(conn: sqlite3.Connection, keys: list[str] | None) -> list[str]:
    """Stored (not rejected) files: all of them, or those holding the documents or files named
    by id, id prefix or 文号. A key that names nothing raises StoreError naming it."""
    if keys is None:
        return [r[0] for r in conn.execute("SELECT sha256 FROM files WHERE status != 'rejected' ORDER BY added_at, sha256")]
    found: list[str] = []
    for key in keys:
        shas = [
            r[0]
            for r in conn.execute(
                f"""SELECT DISTINCT f.sha256 FROM files f LEFT JOIN documents d ON d.sha256 = f.sha256
                    WHERE f.status != 'rejected' AND ({_NAMED} OR (length(:key) >= 4 AND substr(f.sha256, 1, length(:key)) = :key))""",
                {"key": key},
            )
        ]
        if not shas:
            raise StoreError(f"no stored document or file matches {key!r}", hint="gongwen list prints the ids")
        found += [s for s in shas if s not in found]
    return found


# --- look-ups -----------------------------------------------------------------------------------

_DOCUMENT_COLUMNS = """d.id, d.doc_number, d.title, d.issuer_mark, d.issuers, d.level, d.issue_date, d.doc_type,
    f.status, f.reason, d.first_page, d.last_page, d.parser_version, d.sha256,
    (SELECT name FROM file_names n WHERE n.sha256 = d.sha256 ORDER BY first_seen, name LIMIT 1) AS file"""
_DOCUMENTS = f"SELECT {_DOCUMENT_COLUMNS} FROM documents d JOIN files f ON f.sha256 = d.sha256"
# a document named by an id prefix (4+ hex digits) or by its 文号, canonical or as printed
_NAMED = "((length(:key) >= 4 AND substr(d.id, 1, length(:key)) = :key) OR d.doc_number = :key OR d.doc_number_printed = :key)"


def document_row(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["issuers"] = json.loads(out["issuers"])
    return out


@translated
def list_documents(
    conn: sqlite3.Connection,
    *,
    issuer: str | None = None,
    level: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Documents, newest first; `issuer` matches any part of any issuer or the 发文机关标志."""
    where, args = [], []
    if issuer:
        where.append(
            "(d.issuer_mark LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM json_each(d.issuers) WHERE value LIKE ? ESCAPE '\\'))"
        )
        args += [like_pattern(issuer)] * 2
    for clause, value in (("d.level = ?", level), ("d.issue_date >= ?", date_from), ("d.issue_date <= ?", date_to), ("f.status = ?", status)):
        if value:
            where.append(clause)
            args.append(value)
    sql = _DOCUMENTS + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY d.issue_date IS NULL, d.issue_date DESC, d.doc_number, d.id"
    return [document_row(r) for r in rows(conn, sql, args)]


@translated
def list_files(conn: sqlite3.Connection, *, status: str | None = None) -> list[dict[str, Any]]:
    sql = """SELECT f.sha256, f.status, f.reason, f.kind, f.size, f.engine, f.parser_version,
                    (SELECT count(*) FROM documents d WHERE d.sha256 = f.sha256) AS documents,
                    (SELECT count(*) FROM pages p WHERE p.sha256 = f.sha256) AS pages
             FROM files f""" + (" WHERE f.status = ?" if status else "") + " ORDER BY f.added_at, f.sha256"
    out = []
    for row in rows(conn, sql, [status] if status else []):
        item = dict(row)
        item["names"] = file_names(conn, item["sha256"])
        out.append(item)
    return out


@translated
def show(conn: sqlite3.Connection, key: str) -> list[dict[str, Any]]:
    """Every document whose id starts with `key` or whose 文号 (canonical or as printed) is `key`:
    its record, its file, its pages' confidence, what it cites and what cites it."""
    found = rows(conn, f"{_DOCUMENTS} WHERE {_NAMED} ORDER BY d.id", {"key": key})
    out = []
    for row in found:
        doc_id, sha = row["id"], row["sha256"]
        record = json.loads(conn.execute("SELECT record FROM documents WHERE id = ?", (doc_id,)).fetchone()[0])
        pages = [
            dict(r)
            for r in rows(
                conn,
                "SELECT number, source, round(mean_conf, 1) AS mean_conf, length(text) AS characters FROM pages WHERE sha256 = ? AND number BETWEEN ? AND ? ORDER BY number",
                [sha, row["first_page"] or 0, row["last_page"] or 1 << 30],
            )
        ]
        cited_by = [
            dict(r)
            for r in rows(
                conn,
                "SELECT DISTINCT u.relation, d.id, d.doc_number, d.title FROM upstream u JOIN documents d ON d.id = u.document_id WHERE u.doc_number = ? AND u.doc_number IS NOT NULL ORDER BY d.id",
                [row["doc_number"]],
            )
        ]
        twins = [
            r[0]
            for r in conn.execute(
                "SELECT second FROM possible_duplicates WHERE first = ? UNION SELECT first FROM possible_duplicates WHERE second = ?",
                (doc_id, doc_id),
            )
        ]
        file = {"sha256": sha, "names": file_names(conn, sha), "status": row["status"], "reason": row["reason"]}
        out.append({"id": doc_id, "file": file, "record": record, "pages": pages, "cited_by": cited_by, "possible_duplicates": twins})
    return out


@translated
def search(conn: sqlite3.Connection, query: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Documents whose title or text holds every term of `query` (whitespace-separated).

    Terms of three or more characters go through the trigram index (ranked by bm25);
    shorter ones (`民政`) cannot be trigrams and are found with instr() over the same table
    (not LIKE: SQLite 3.40's trigram LIKE answers nothing for patterns under 3 characters).
    """
    terms = query.split()
    if not terms:
        return []
    long_terms = [t for t in terms if len(t) >= 3]
    where, args = [], []
    if long_terms:
        where.append("documents_fts MATCH ?")
        args.append(" AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms))
    for term in terms:
        if len(term) < 3:
            where.append("(instr(s.title, ?) > 0 OR instr(s.body, ?) > 0)")
            args += [term, term]
    order = "rank" if long_terms else "d.issue_date DESC"
    sql = (
        f"SELECT s.body, {_DOCUMENT_COLUMNS} FROM documents_fts s JOIN documents d ON d.rowid = s.rowid"
        f" JOIN files f ON f.sha256 = d.sha256 WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
    )
    out = []
    for row in rows(conn, sql, args + [limit]):
        item = document_row(row)
        item["snippet"] = snippet(item.pop("body"), terms)
        out.append(item)
    return out


def snippet(body: str, terms: list[str], width: int = 24) -> str:
    """The text around the first term found, the term in 【】."""
    for term in terms:
        at = body.lower().find(term.lower())
        if at >= 0:
            start, end = max(0, at - width), min(len(body), at + len(term) + width)
            text = body[start:at] + "【" + body[at : at + len(term)] + "】" + body[at + len(term) : end]
            return ("…" if start else "") + text.replace("\n", " ").replace("\f", " ") + ("…" if end < len(body) else "")
    return body[: 2 * width].replace("\n", " ")


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def rows(conn: sqlite3.Connection, sql: str, args: list[Any] | dict[str, Any]) -> list[sqlite3.Row]:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, args).fetchall()
