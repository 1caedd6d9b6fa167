"""pipeline.store: schema and migrations, exactly-once writes, possible duplicates, look-ups, round trips."""

import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Box, Deadline, DocNumber, Document, FileResult, Issue, Line, Page, Upstream
from pipeline import store
from pipeline.store import schema, writes
from pipeline.errors import StoreError
from pipeline.store import FileRecord, Name, Verdict

TITLE = "临汾市民政局关于深入学习贯彻重要回信精神的通知"


def document(number: str | None = "临市民函〔2024〕89号", title: str | None = TITLE, **extra: object) -> Document:
    return Document(doc_number=number, title=title, issuers=["临汾市民政局"], level="city", **extra)


def record(sha: str, name: str = "inbox/a.pdf", docs: list[Document] | None = None, status: str = "done", pages: int = 1) -> FileRecord:
    docs = [document()] if docs is None else docs
    page_list = [Page(number=n, source="text", lines=[Line(text=f"第{n}页 {TITLE}")]) for n in range(1, pages + 1)]
    result = FileResult(file=name, kind="text", parser_version="0.1.0", documents=docs)
    return FileRecord(
        sha256=sha,
        size=100,
        name=Name.of(name),
        verdict=Verdict(status),
        kind="text",
        result=result,
        pages=page_list,
        page_texts=[p.raw_text for p in page_list],
        bodies=[f"{d.title} 请于11月20日前报送工作总结" for d in docs],
    )


def sha(n: int) -> str:
    return f"{n:064x}"


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    c = store.connect(tmp_path / "notices.db")
    yield c
    c.close()


# --- schema -------------------------------------------------------------------------------------


def test_connection_settings(conn: sqlite3.Connection) -> None:
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == schema.BUSY_TIMEOUT_MS
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_migrations_are_named_recorded_and_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "notices.db"
    store.connect(path).close()
    conn = store.connect(path)
    names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert names == [m.name for m in schema.MIGRATIONS]
    assert schema.migrate(conn) == []
    conn.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notices.db"
    conn = store.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES ('0099_from_the_future', 'x')")
    conn.close()
    with pytest.raises(StoreError, match="newer gongwen.*0099_from_the_future"):
        store.connect(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("这不是数据库" * 100)
    with pytest.raises(StoreError, match="notes.txt: not a gongwen database"):
        store.connect(path)


def test_look_ups_do_not_create_a_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such database"):
        store.connect(tmp_path / "typo.db", create=False)
    assert not (tmp_path / "typo.db").exists()


# --- exactly once -------------------------------------------------------------------------------


def test_same_bytes_twice_adds_only_the_name(conn: sqlite3.Connection) -> None:
    first = store.save_file(conn, record(sha(1), "inbox/a.pdf"))
    again = store.save_file(conn, record(sha(1), "另一个 名字.pdf"))
    assert first.duplicate_of is None and again.duplicate_of == "inbox/a.pdf"
    assert again.document_ids == first.document_ids == [store.document_id(sha(1), 0)]
    assert store.file_names(conn, sha(1)) == ["inbox/a.pdf", "另一个 名字.pdf"]
    assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 1


def test_a_rejected_file_is_replaced_when_read_again(conn: sqlite3.Connection) -> None:
    store.save_file(conn, FileRecord(sha(1), 10, Name.of("a.pdf"), Verdict("rejected", "timed out")))
    saved = store.save_file(conn, record(sha(1)))
    assert saved.duplicate_of is None and saved.verdict.status == "done"
    assert store.find_file(conn, sha(1)).status == "done"  # type: ignore[union-attr]


def test_a_different_scan_of_a_stored_notice_is_linked_and_both_flagged(conn: sqlite3.Connection) -> None:
    store.save_file(conn, record(sha(1), "scan-a.pdf"))
    # the same notice read again with an OCR slip in its title
    saved = store.save_file(conn, record(sha(2), "scan-b.pdf", [document(title=TITLE.replace("回信", "回言"))]))
    assert saved.verdict == Verdict("needs_review", "possible duplicate: 临市民函〔2024〕89号 also in scan-a.pdf")
    assert store.find_file(conn, sha(1)).status == "needs_review"  # type: ignore[union-attr]
    assert store.find_file(conn, sha(2)).status == "needs_review"  # type: ignore[union-attr]
    [shown] = store.show(conn, store.document_id(sha(1), 0))
    assert shown["possible_duplicates"] == [store.document_id(sha(2), 0)]
    assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 2  # never merged


def test_same_number_with_another_title_is_not_a_duplicate(conn: sqlite3.Connection) -> None:
    store.save_file(conn, record(sha(1)))
    saved = store.save_file(conn, record(sha(2), docs=[document(title="临汾市民政局关于开展养老服务质量检查的通知")]))
    assert saved.verdict == Verdict("done")


def test_many_twins_do_not_grow_the_reason(conn: sqlite3.Connection) -> None:
    for n in range(1, 6):
        store.save_file(conn, record(sha(n), f"scan-{n}.pdf"))
    reason = store.find_file(conn, sha(1)).reason  # type: ignore[union-attr]
    assert reason == "possible duplicate: 临市民函〔2024〕89号 also in scan-2.pdf"
    assert conn.execute("SELECT count(*) FROM possible_duplicates").fetchone()[0] == 10  # every pair, once


def test_a_failure_mid_file_leaves_nothing(conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("killed between the documents and their deadlines")

    monkeypatch.setattr(writes, "insert_document_parts", boom)
    with pytest.raises(RuntimeError):
        store.save_file(conn, record(sha(1)))
    for table in ("files", "file_names", "pages", "documents", "documents_fts"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_a_full_disk_is_store_full_and_keeps_what_is_stored(conn: sqlite3.Connection) -> None:
    store.save_file(conn, record(sha(1)))
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    big = record(sha(2), docs=[document(number=None, title="大" * 200_000)])
    with pytest.raises(store.StoreFull, match="full"):
        store.save_file(conn, big)
    assert store.find_file(conn, sha(2)) is None and store.find_file(conn, sha(1)) is not None


def test_a_locked_database_is_store_busy(tmp_path: Path) -> None:
    path = tmp_path / "notices.db"
    holder = store.connect(path)
    waiter = store.connect(path)
    waiter.execute("PRAGMA busy_timeout = 50")
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(store.StoreBusy, match="notices.db: the database stayed locked"):
            store.save_file(waiter, record(sha(1)))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        waiter.close()


# --- look-ups -----------------------------------------------------------------------------------


def test_list_filters(conn: sqlite3.Connection) -> None:
    store.save_file(conn, record(sha(1), docs=[document(issue_date="2024-10-25")]))
    province = Document(doc_number="晋民函〔2024〕169号", title="省民政厅关于转发的通知", issuers=["山西省民政厅", "山西省老龄工作委员会办公室"], level="province", issue_date="2024-10-18")
    store.save_file(conn, record(sha(2), docs=[province]))
    assert [d["doc_number"] for d in store.list_documents(conn)] == ["临市民函〔2024〕89号", "晋民函〔2024〕169号"]
    assert [d["level"] for d in store.list_documents(conn, issuer="老龄")] == ["province"]
    assert [d["level"] for d in store.list_documents(conn, level="city")] == ["city"]
    assert [d["level"] for d in store.list_documents(conn, date_from="2024-10-20")] == ["city"]
    assert [d["level"] for d in store.list_documents(conn, date_to="2024-10-20")] == ["province"]
    assert store.list_documents(conn, status="rejected") == []
    assert store.list_documents(conn, issuer="100%_") == []  # LIKE wildcards are literal


def test_search_long_and_short_terms_and_hostile_queries(conn: sqlite3.Connection) -> None:
    store.save_file(conn, record(sha(1)))
    [hit] = store.search(conn, "回信精神")
    assert hit["doc_number"] == "临市民函〔2024〕89号" and "【回信精神】" in hit["snippet"]
    assert len(store.search(conn, "民政")) == 1  # two characters: no trigram, still found
    assert len(store.search(conn, "民政 工作总结")) == 1
    assert store.search(conn, "民政 不存在的词") == []
    for hostile in ['" OR 1=1 --', "'); DROP TABLE documents; --", "NEAR(a b)", "*", "a AND"]:
        assert store.search(conn, hostile) == []
    assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 1


def test_show_by_id_prefix_or_number_with_references(conn: sqlite3.Connection) -> None:
    city = document(upstream=[Upstream(relation="forwards", doc_number="晋民函〔2024〕169号")])
    store.save_file(conn, record(sha(1), docs=[city, Document(doc_number="晋民函〔2024〕169号", title="省里的通知")], pages=2))
    doc_id = store.document_id(sha(1), 1)
    [by_number] = store.show(conn, "晋民函〔2024〕169号")
    [by_prefix] = store.show(conn, doc_id[:6])
    assert by_number == by_prefix and by_number["id"] == doc_id
    assert by_number["cited_by"] == [{"relation": "forwards", "id": store.document_id(sha(1), 0), "doc_number": "临市民函〔2024〕89号", "title": TITLE}]
    assert store.show(conn, doc_id[:3]) == []  # too short to be an id


def test_all_documents_reads_every_record_back(conn: sqlite3.Connection) -> None:
    store.save_file(conn, record(sha(1), docs=[document(), Document(doc_number="晋民函〔2024〕169号", title="省里的通知")]))
    found = dict(store.all_documents(conn))
    assert found == {store.document_id(sha(1), 0): document(), store.document_id(sha(1), 1): Document(doc_number="晋民函〔2024〕169号", title="省里的通知")}


def test_files_to_reparse(conn: sqlite3.Connection) -> None:
    store.save_file(conn, record(sha(1)))
    store.save_file(conn, FileRecord(sha(2), 10, Name.of("junk.pdf"), Verdict("rejected", "HTML")))
    assert store.files_to_reparse(conn, None) == [sha(1)]
    assert store.files_to_reparse(conn, ["临市民函〔2024〕89号"]) == [sha(1)]
    with pytest.raises(StoreError, match="no stored document or file matches 'nope'"):
        store.files_to_reparse(conn, ["nope"])


# --- round trips (hypothesis) -------------------------------------------------------------------

# any text, NUL, control characters and SQL included: OCR of a bad page produces all of them
texts = st.text(max_size=40) | st.sampled_from(["'); DROP TABLE files; --", "\x00\x01\x1b[31m", "临市民函〔2024〕89号", '"*" NEAR'])
boxes = st.builds(Box, x0=st.floats(0, 5000), y0=st.floats(0, 5000), x1=st.floats(0, 5000), y1=st.floats(0, 5000))
lines = st.builds(Line, text=texts, box=st.none() | boxes, conf=st.none() | st.floats(0, 100))
deadlines = st.builds(Deadline, text=texts, date=st.none() | st.dates().map(str), action=st.none() | texts, assignees=st.lists(texts, max_size=3))
upstreams = st.builds(Upstream, relation=st.sampled_from(["forwards", "attaches", "cites"]), doc_number=st.none() | texts, title=st.none() | texts)
documents = st.builds(
    Document,
    doc_number=st.none() | texts,
    doc_number_parts=st.none() | st.builds(DocNumber, agency_code=texts, year=st.integers(1949, 2100), serial=st.integers(1, 9999)),
    title=st.none() | texts,
    issuers=st.lists(texts, max_size=3),
    level=st.none() | st.sampled_from(["state", "ministry", "province", "city", "county"]),
    deadlines=st.lists(deadlines, max_size=3),
    ongoing_duties=st.lists(texts, max_size=2),
    upstream=st.lists(upstreams, max_size=2),
    problems=st.lists(st.builds(Issue, code=texts, message=texts), max_size=2),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(documents, max_size=3), page_lines=st.lists(st.lists(lines, max_size=4), min_size=1, max_size=3))
def test_round_trip_records_and_pages(conn: sqlite3.Connection, docs: list[Document], page_lines: list[list[Line]]) -> None:
    digest = os.urandom(32).hex()
    pages = [Page(number=n, source="ocr", lines=ls) for n, ls in enumerate(page_lines, start=1)]
    result = FileResult(file="x", kind="pdf", parser_version="0.1.0", documents=docs)
    rec = FileRecord(digest, 1, Name.of("x"), Verdict("done"), "pdf", result, pages, [p.raw_text for p in pages], [d.title or "" for d in docs])
    saved = store.save_file(conn, rec)
    assert store.stored_pages(conn, digest) == pages
    for doc, doc_id in zip(docs, saved.document_ids):
        [shown] = [s for s in store.show(conn, doc_id) if s["id"] == doc_id]
        assert Document.model_validate(shown["record"]) == doc
        stored_deadlines = conn.execute("SELECT text FROM deadlines WHERE document_id = ? ORDER BY ordinal", (doc_id,)).fetchall()
        assert [r[0] for r in stored_deadlines] == [d.text for d in doc.deadlines]
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@given(raw=st.binary(min_size=1, max_size=40).filter(lambda b: b"\x00" not in b and b"/" not in b))
def test_names_round_trip_any_bytes(raw: bytes) -> None:
    name = Name.of(os.fsdecode(raw))
    assert name.raw == raw
    name.text.encode("utf-8")  # always printable as JSON / TEXT
    if is_utf8(raw):
        assert name.text == raw.decode("utf-8")


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_odd_names_are_stored_and_told_apart(conn: sqlite3.Connection) -> None:
    odd = ["通知 (1).pdf", "two\nlines.pdf", os.fsdecode(b"gbk-\xcd\xa8\xd6\xaa.pdf"), os.fsdecode(b"bad-\xff.pdf")]
    for name in odd:
        store.save_file(conn, record(sha(1), name))
    names = store.file_names(conn, sha(1))
    assert sorted(names) == sorted(Name.of(n).text for n in odd)
    assert r"bad-\xff.pdf" in names
    assert conn.execute("SELECT count(DISTINCT raw) FROM file_names").fetchone()[0] == 4
