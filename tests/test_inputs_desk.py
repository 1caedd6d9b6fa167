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


def test_the_desk_shows_how_an_outlook_message_and_a_mailbox_message_arrived(tmp_path: Path):
    """Stored by `gongwen ingest` itself: the committed Outlook .msg and an mbox holding an .eml."""
    import mailbox
    import shutil
    import subprocess
    import sys
    from email import message_from_bytes, policy

    from notice_forms import make_eml
    from pipeline.store.queries import all_documents

    inbox, db = tmp_path / "inbox", tmp_path / "notices.db"
    inbox.mkdir()
    shutil.copyfile(Path(__file__).resolve().parent.parent / "fixtures" / "inputs" / "晋民函〔2024〕169号.msg", inbox / "收文.msg")
    mail = make_eml(tmp_path / "m.eml", [("省厅通知.docx", make_docx(tmp_path / "通知.docx").read_bytes())])
    box = mailbox.mbox(inbox / "Inbox")
    box.add(message_from_bytes(mail.read_bytes(), policy=policy.default))
    box.close()
    gongwen = [sys.executable, "-c", "from pipeline.cli.main import main; main()"]
    subprocess.run([*gongwen, "ingest", str(inbox), "--db", str(db)], capture_output=True, text=True, timeout=600, check=True)
    conn = store.connect(db)
    try:
        ids = {doc.routing.attachment: doc_id for doc_id, doc in all_documents(conn) if doc.routing}
    finally:
        conn.close()
    assert set(ids) == {"晋民函〔2024〕169号.txt", "省厅通知.docx"}
    app = create_app(db, ingest_options=ingest.Options(quarantine=ingest.quarantine_folder(db), workers=1))
    with TestClient(app, client=LOCAL, base_url=BASE) as client:
        from_msg = client.get(f"/documents/{ids['晋民函〔2024〕169号.txt']}").text
        from_mbox = client.get(f"/documents/{ids['省厅通知.docx']}").text
    assert "收文：来自 省民政厅老龄工作处 &lt;sxsmztllgzc@163.com&gt; · 收到 2024-11-06T01:12:30+00:00" in from_msg
    assert "主题 转发：省民政厅关于转发银龄行动回信精神的通知 · 附件 晋民函〔2024〕169号.txt" in from_msg
    assert "收文：来自 省民政厅老龄工作处 &lt;sxsmztllgzc@163.com&gt; · 收到 2024-11-06T09:12:30+08:00" in from_mbox
    assert "附件 省厅通知.docx" in from_mbox
