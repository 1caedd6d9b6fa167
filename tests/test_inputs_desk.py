"""The desk shows how a mailed Word notice arrived (收文) and where each line sat in the file."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

from models import Routing  # noqa: E402
from notice_forms import make_docx  # noqa: E402
from pipeline import ingest, store  # noqa: E402
from pipeline.ingest.workers import document_bodies, page_texts  # noqa: E402
from pipeline.reading.read import read_file  # noqa: E402
from pipeline.run import parse_pages  # noqa: E402
from pipeline.store import Name, Verdict  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402

LOCAL = ("127.0.0.1", 50000)
BASE = "http://127.0.0.1:8000"  # the desk answers only its own host names


def test_document_page_shows_routing_and_where_lines_sat(tmp_path: Path):
    docx, db = make_docx(tmp_path / "通知.docx"), tmp_path / "notices.db"
    routing = Routing(sender="省民政厅老龄工作处 <sxsmztllgzc@163.com>", received="2024-11-06T09:12:30+08:00", subject="转发：省厅通知", attachment="通知.docx")
    read = read_file(docx)
    result, text = parse_pages(read.pages, file="收文.eml!/通知.docx", kind=read.kind)
    for doc in result.documents:
        doc.routing = routing
    data = docx.read_bytes()
    record = store.FileRecord(
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), name=Name.of("收文.eml!/通知.docx"), verdict=Verdict("done"),
        kind=read.kind, result=result, pages=read.pages, page_texts=page_texts(text, read.pages), bodies=document_bodies(result, text), routing=routing,
    )  # fmt: skip
    conn = store.connect(db)
    try:
        (doc_id,) = store.save_file(conn, record).document_ids
    finally:
        conn.close()
    app = create_app(db, ingest_options=ingest.Options(quarantine=ingest.quarantine_folder(db), workers=1))
    with TestClient(app, client=LOCAL, base_url=BASE) as client:
        page = client.get(f"/documents/{doc_id}")
    assert page.status_code == 200
    assert "收文：来自 省民政厅老龄工作处 &lt;sxsmztllgzc@163.com&gt; · 收到 2024-11-06T09:12:30+08:00" in page.text
    assert "附件 通知.docx" in page.text
    assert "晋民函〔2024〕169号  <span class=\"where\">〔table 1 row 2 cell 1〕</span>" in page.text
