"""Writing to the store: a FileRecord (or a reparse) in, one transaction, a Saved out.

    save_file(conn, record)       one file and everything parsed from it, in one transaction
    replace_parse(conn, ...)      new documents for a stored file (reparse), in one transaction
    add_name(conn, sha256, name)  one more name for stored bytes

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
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from models import Document, FileResult, Issue, Page, Routing
from pipeline.store import holidays, schema
from pipeline.store.queries import document_ids_of, first_name
from pipeline.store.schema import now, translated

SAME_TITLE_RATIO = 0.9  # two OCR reads of one title differ by a few characters at most
STORED = ("done", "partial", "needs_review")


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
    routing: Routing | None = None  # the e-mail the file came in (收文), kept for reparse


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
    with schema.transaction(conn):
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
        if record.routing is not None:
            conn.execute("UPDATE files SET routing = ? WHERE sha256 = ?", (record.routing.model_dump_json(), record.sha256))
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
    with schema.transaction(conn):
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
    with schema.transaction(conn):
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
        if holidays.save_schedule(conn, doc_id, doc.title, body):
            holidays.use_stored(conn)
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
