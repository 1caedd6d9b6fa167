"""Reading the store: a connection and a key in, records and plain dicts (for JSON) out.

    find_file / first_name / file_names / document_ids_of / stored_pages / files_to_reparse
    all_documents                                   every record, for the chain and audit commands
    document_records / page_records                 the same as stored JSON text, for a reader that caches the parse
    possible_duplicates                             the documents flagged as another scan of one
    list_documents / list_files / show / search     what the look-up commands print
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from models import Document, Issue, Page, Routing
from pipeline.errors import StoreError
from pipeline.store.schema import translated

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
    routing: Routing | None = None


@translated
def find_file(conn: sqlite3.Connection, sha256: str) -> StoredFile | None:
    row = conn.execute(
        "SELECT sha256, size, kind, status, reason, engine, problems, routing FROM files WHERE sha256 = ?", (sha256,)
    ).fetchone()
    if row is None:
        return None
    problems = [Issue.model_validate(p) for p in json.loads(row[6])]
    routing = Routing.model_validate_json(row[7]) if row[7] else None
    return StoredFile(row[0], row[1], row[2], row[3], row[4], row[5], problems, routing)


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
def document_records(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Every document's id and record as the JSON text stored, in id order (parse it with
    Document.model_validate_json): equal text is an equal record, so a reader can keep its parse."""
    return [(r[0], r[1]) for r in conn.execute("SELECT id, record FROM documents ORDER BY id")]


@translated
def page_records(conn: sqlite3.Connection, sha256: str) -> list[str]:
    """A file's pages as the JSON text stored (models.Page), in page order."""
    return [r[0] for r in conn.execute("SELECT page FROM pages WHERE sha256 = ? ORDER BY number", (sha256,))]


@translated
def possible_duplicates(conn: sqlite3.Connection, doc_id: str) -> list[str]:
    """The documents stored as possibly another scan of `doc_id` (either side of the pair)."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT second FROM possible_duplicates WHERE first = ? UNION SELECT first FROM possible_duplicates WHERE second = ?",
            (doc_id, doc_id),
        )
    ]


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
        twins = possible_duplicates(conn, doc_id)
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
