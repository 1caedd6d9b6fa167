"""pipeline.store.overrides: corrections as a log applied on read, kept across reparse, withdrawn by revert."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from models import Deadline
from pipeline import ingest
from pipeline.store import overrides
from pipeline import store
from pipeline.ingest.workers import document_bodies, page_texts
from pipeline.reading.read import read_file
from pipeline.run import parse_pages
from pipeline.store import Name, Verdict

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "fixtures" / "seed" / "000_b23ec74a3ac5c572.txt"


def store_file(conn: sqlite3.Connection, path: Path, name: str | None = None) -> list[str]:
    """Read, parse and store a text or text-layer file in this process (no OCR, no workers); its document ids."""
    data = path.read_bytes()
    read = read_file(path)
    result, text = parse_pages(read.pages, file=name or path.name, kind=read.kind, engine=read.engine)
    record = store.FileRecord(
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        name=Name.of(name or path.name),
        verdict=Verdict("done"),
        kind=read.kind,
        result=result,
        pages=read.pages,
        page_texts=page_texts(text, read.pages),
        bodies=document_bodies(result, text),
    )
    return store.save_file(conn, record).document_ids


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = store.connect(tmp_path / "notices.db")
    yield connection
    connection.close()


@pytest.fixture
def city(conn: sqlite3.Connection) -> str:
    """The seed's city notice (临市民函〔2024〕89号), stored."""
    return store_file(conn, SEED)[0]


def test_parse_value_checks_and_normalises() -> None:
    assert overrides.parse_value("doc_number", "临市民函[2024]89号") == "临市民函〔2024〕89号"
    assert overrides.parse_value("issue_date", "2024年10月25日") == "2024-10-25"
    assert overrides.parse_value("deadlines[0].date", "2024-11-20T17:00") == "2024-11-20T17:00"
    assert overrides.parse_value("recipients", "各县民政局\n\n 各县老龄办 \n") == ["各县民政局", "各县老龄办"]
    assert overrides.parse_value("title", "  ") is None
    for path, text in (("doc_number", "第八十九号"), ("issue_date", "去年"), ("level", "township"), ("issue_date", "2024-13-01")):
        with pytest.raises(ValueError):
            overrides.parse_value(path, text)
    with pytest.raises(ValueError):
        overrides.parse_value("provenance", "x")  # not a correctable field


def test_a_correction_wins_and_keeps_what_the_machine_read(conn: sqlite3.Connection, city: str) -> None:
    overrides.record(conn, city, "doc_number", "临市民函〔2024〕98号", user="clerk", note="扫描件上是98号")
    corrected = overrides.corrected(conn, city)
    assert corrected.document.doc_number == "临市民函〔2024〕98号"
    assert corrected.document.doc_number_parts is not None and corrected.document.doc_number_parts.serial == 98
    applied = corrected.applied["doc_number"]
    assert applied.override.original == "临市民函〔2024〕89号"
    assert (applied.override.user, applied.override.note) == ("clerk", "扫描件上是98号")
    assert not applied.machine_changed
    assert overrides.machine_document(conn, city).doc_number == "临市民函〔2024〕89号"  # the record itself is untouched


def test_the_newest_correction_wins_and_revert_withdraws_it(conn: sqlite3.Connection, city: str) -> None:
    first = overrides.record(conn, city, "title", "第一次更正", user="a")
    second = overrides.record(conn, city, "title", "第二次更正", user="b")
    assert overrides.corrected(conn, city).document.title == "第二次更正"
    overrides.revert(conn, city, second.id, user="a", note="改错了")
    assert overrides.corrected(conn, city).document.title == "第一次更正"
    overrides.revert(conn, city, first.id, user="a")
    assert overrides.corrected(conn, city).document.title == overrides.machine_document(conn, city).title
    assert [o.kind for o in overrides.for_document(conn, city)] == ["set", "set", "revert", "revert"]  # nothing deleted
    with pytest.raises(LookupError):
        overrides.revert(conn, city, 9999, user="a")


def test_corrections_review_and_done_tasks_survive_reparse(conn: sqlite3.Connection, city: str) -> None:
    overrides.record(conn, city, "recipients", ["各县（市、区）民政局"], user="clerk", note="多识别了一项")
    overrides.record(conn, city, "deadlines[0].date", "2024-11-15", user="clerk")
    overrides.mark_reviewed(conn, city, True, user="clerk")
    overrides.mark_task(conn, city, "0123456789abcdef0123", True, user="clerk", note="已报送")
    outcomes = list(ingest.reparse(conn, None))
    assert outcomes and all(o.status in store.STORED for o in outcomes)
    assert city in outcomes[0].documents  # the id is the file's hash and the place in it
    corrected = overrides.corrected(conn, city)
    assert corrected.document.recipients == ["各县（市、区）民政局"]
    assert corrected.document.deadlines[0].date == "2024-11-15"
    assert overrides.reviewed(corrected.history) is not None
    assert "0123456789abcdef0123" in overrides.done_tasks(corrected.history)


def test_a_deadline_correction_follows_its_deadline_by_printed_text(conn: sqlite3.Connection, city: str) -> None:
    machine = overrides.machine_document(conn, city)
    overrides.record(conn, city, "deadlines[0].action", "报送学习贯彻情况", user="clerk")
    moved = machine.model_copy(deep=True)
    moved.deadlines.insert(0, Deadline(text="请于12月1日前另报一份"))  # a later parse finds one more, earlier
    corrected = overrides.apply(moved, overrides.for_document(conn, city))
    assert corrected.document.deadlines[0].action is None
    assert corrected.document.deadlines[1].action == "报送学习贯彻情况"
    gone = machine.model_copy(deep=True)
    gone.deadlines = []
    assert overrides.apply(gone, overrides.for_document(conn, city)).applied["deadlines[0].action"].orphaned


def test_machine_change_under_a_correction_is_reported(conn: sqlite3.Connection, city: str) -> None:
    overrides.record(conn, city, "title", "人工标题", user="clerk")
    machine = overrides.machine_document(conn, city)
    machine.title = "新版解析器读出的标题"
    applied = overrides.apply(machine, overrides.for_document(conn, city)).applied["title"]
    assert applied.machine_changed and applied.machine == "新版解析器读出的标题"


def test_added_deadline_and_exports_read_corrected_values(conn: sqlite3.Connection, city: str) -> None:
    overrides.add_deadline(conn, city, Deadline(text="（人工添加）报送名单", date="2024-12-01", action="报送名单"), user="clerk")
    overrides.record(conn, city, "doc_number", "临市民函〔2024〕98号", user="clerk")
    documents = dict(overrides.corrected_documents(conn))
    assert documents[city].doc_number == "临市民函〔2024〕98号"
    assert documents[city].deadlines[-1].action == "报送名单"


def test_unknown_document_and_bad_task_id_are_refused(conn: sqlite3.Connection, city: str) -> None:
    with pytest.raises(LookupError):
        overrides.record(conn, "0" * 16, "title", "x", user="clerk")
    with pytest.raises(LookupError):
        overrides.record(conn, city, "deadlines[99].date", "2024-01-01", user="clerk")
    with pytest.raises(ValueError):
        overrides.mark_task(conn, city, "../../etc", True, user="clerk")
