"""The store's schema and connections: a path in, an open, migrated sqlite3 connection out.

    connect(path, create=)        open (and migrate) the database; StoreError with the fix if it cannot
    transaction(conn)             BEGIN IMMEDIATE … COMMIT, ROLLBACK on any exception
    migrate(conn)                 apply the named steps of MIGRATIONS the database lacks
    translated / store_errors     sqlite3 and OS errors as StoreError (StoreBusy, StoreFull)

The schema is built by named migrations (MIGRATIONS), each recorded in `schema_migrations`;
a database carrying a migration this program does not know was written by a newer gongwen
and is refused rather than misread.

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
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from pipeline.errors import StoreError
from pipeline.store import holidays

BUSY_TIMEOUT_MS = 30_000  # a concurrent ingest commits one file at a time: far shorter than this


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
    Migration(
        "inputs_0001_routing",
        ("ALTER TABLE files ADD COLUMN routing TEXT CHECK (routing IS NULL OR json_valid(routing))",),
    ),
    Migration(
        "when_0001_holiday_schedules",
        (
            """CREATE TABLE holiday_schedules (
            year         INTEGER NOT NULL,
            document_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            schedule     TEXT NOT NULL CHECK (json_valid(schedule)),
            PRIMARY KEY (year, document_id)
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
        holidays.use_stored(conn)  # years the package lacks, counted on their stored schedule notice
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

