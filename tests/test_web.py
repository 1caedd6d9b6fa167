"""The web desk in process (Starlette's test client): routes, forms, corrections, tasks, uploads, safety.

Documents are stored in this process from the seed's text (no OCR); the upload tests run
ingest's real worker processes on small text files, and wait for the job by polling its
progress, as the page does.
"""

from __future__ import annotations

import re
import sqlite3
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

from pipeline import ingest  # noqa: E402

from pipeline.store import overrides

from pipeline import store

from pipeline.store import users
from pipeline.errors import GongwenError  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402
from pipeline.web.uploads import label_of_upload  # noqa: E402
from tests.test_overrides import SEED, store_file  # noqa: E402

LOCAL = ("127.0.0.1", 50000)
BASE = "http://127.0.0.1:8000"  # the desk answers only the names it is served under
ELSEWHERE = ("203.0.113.7", 50000)  # TEST-NET-3: a client that is not this machine (no traffic is sent)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# OCR text carrying markup, in the body and in the title
SCRIPT_NOTICE = (
    SEED.read_text(encoding="utf-8")
    .replace("现就有关事项通知如下", "现就有关事项<script>alert('x')</script>通知如下", 1)
    .replace("重要回信精神的通知", "重要回信精神的通知<script>alert(1)</script>", 1)
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "notices.db"


@pytest.fixture
def ids(db: Path) -> list[str]:
    conn = store.connect(db)
    try:
        return store_file(conn, SEED)
    finally:
        conn.close()


@pytest.fixture
def client(db: Path, ids: list[str]) -> Iterator[TestClient]:
    with TestClient(create_app(db, ingest_options=ingest.Options(quarantine=ingest.quarantine_folder(db), workers=1)), client=LOCAL, base_url=BASE) as c:
        yield c


def token(client: TestClient, url: str = "/upload") -> str:
    found = CSRF.search(client.get(url).text)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def wait_for_job(client: TestClient, url: str) -> dict[str, object]:
    """Poll the job's progress until it is finished (bounded, not timed: the batch runs real workers)."""
    for _ in range(2400):
        job = client.get(f"{url}.json").json()
        if job["state"] in ("finished", "failed"):
            return job
        time.sleep(0.25)
    raise AssertionError(f"the upload job never finished: {job}")


# --- pages ----------------------------------------------------------------------------------------


def test_register_lists_both_documents_with_the_register_columns(client: TestClient, ids: list[str]) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for heading in ("收文日期", "来文单位", "文号", "标题", "层级", "成文日期", "状态", "最近期限"):
        assert heading in page.text
    assert "临市民函〔2024〕89号" in page.text and "晋民函〔2024〕169号" in page.text
    assert all(f"/documents/{doc_id}" in page.text for doc_id in ids)
    assert "2024-11-20" in page.text  # the province's deadline is the earliest open one


def test_register_filters_search_and_sort(client: TestClient) -> None:
    assert "晋民函〔2024〕169号" not in client.get("/?level=city").text
    assert "临市民函〔2024〕89号" in client.get("/?issuer=临汾").text
    assert "临市民函〔2024〕89号" not in client.get("/?issuer=山西省").text
    found = client.get("/?q=银龄行动")
    assert found.status_code == 200 and "【银龄行动】" in found.text
    assert "晋民函" not in client.get("/?q=不存在的词语组合").text
    assert client.get("/?sort=deadline&order=asc").status_code == 200
    for bad in ("/?level=township", "/?status=lost", "/?sort=rowid", "/?from=yesterday", "/?q=" + "长" * 101):
        assert client.get(bad).status_code == 400, bad


def test_review_queue_comes_first_and_marking_reviewed_takes_a_document_out(client: TestClient, db: Path, ids: list[str]) -> None:
    conn = store.connect(db)
    try:
        conn.execute("UPDATE files SET status = 'needs_review'")
    finally:
        conn.close()
    page = client.get("/").text
    assert "待复核（2）" in page
    response = client.post(f"/documents/{ids[0]}/review", data={"csrf": token(client), "reviewed": "1", "note": "已核对"}, follow_redirects=False)
    assert response.status_code == 303
    assert "待复核（1）" in client.get("/").text
    assert "已复核" in client.get(f"/documents/{ids[0]}").text


def test_document_view_draws_boxes_and_marks_the_chosen_span(client: TestClient, ids: list[str]) -> None:
    page = client.get(f"/documents/{ids[0]}?field=doc_number")
    assert page.status_code == 200
    assert '<mark id="mark">临市民函〔2024〕89号</mark>' in page.text
    assert 'class="where selected"' in page.text
    assert "晋民函〔2024〕169号" in page.text  # the attached provincial notice, linked upstream
    assert f'href="/documents/{ids[1]}"' in page.text
    assert client.get(f"/documents/{ids[0]}?field=<x>").status_code == 400
    assert client.get("/documents/../../etc/passwd").status_code == 404
    assert client.get("/documents/ffffffffffffffff").status_code == 404


def test_a_correction_is_shown_exported_and_kept_across_reparse(client: TestClient, db: Path, ids: list[str]) -> None:
    doc = ids[0]
    response = client.post(
        f"/documents/{doc}/corrections",
        data={"csrf": token(client), "value:doc_number": "临市民函[2024]98号", "note": "原件为98号"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(f"/documents/{doc}").text
    assert "临市民函〔2024〕98号" in page and "人工更正" in page and "原件为98号" in page
    assert client.get(f"/documents/{doc}.json").json()["record"]["doc_number"] == "临市民函〔2024〕98号"
    assert "临市民函〔2024〕98号" in client.get("/").text
    conn = store.connect(db)
    try:
        assert list(ingest.reparse(conn, None))
    finally:
        conn.close()
    exported = client.get(f"/documents/{doc}.json").json()
    assert exported["record"]["doc_number"] == "临市民函〔2024〕98号"
    assert exported["corrections"][0]["original"] == "临市民函〔2024〕89号"


def test_bad_correction_values_are_refused(client: TestClient, ids: list[str]) -> None:
    csrf = token(client)
    assert client.post(f"/documents/{ids[0]}/corrections", data={"csrf": csrf, "value:issue_date": "去年"}).status_code == 400
    assert client.post(f"/documents/{ids[0]}/corrections", data={"csrf": csrf, "value:provenance": "{}"}).status_code == 400
    assert client.post(f"/documents/{ids[0]}/corrections", data={"csrf": csrf}).status_code == 400


def test_add_a_deadline_then_revert_it(client: TestClient, db: Path, ids: list[str]) -> None:
    csrf = token(client)
    added = client.post(f"/documents/{ids[0]}/deadlines", data={"csrf": csrf, "action": "报送志愿者名单", "date": "2024-12-05", "assignees": "各县（市、区）民政局"})
    assert added.status_code == 200 and "报送志愿者名单" in added.text and "人工添加" in added.text
    conn = store.connect(db)
    try:
        row = overrides.for_document(conn, ids[0])[-1]
    finally:
        conn.close()
    assert client.post(f"/documents/{ids[0]}/corrections/{row.id}/revert", data={"csrf": csrf}).status_code == 200
    assert "人工添加" not in client.get(f"/documents/{ids[0]}").text.split('id="history"')[0]


def test_deadlines_mark_done_and_the_ics_feed(client: TestClient, ids: list[str]) -> None:
    page = client.get("/deadlines").text
    assert "已逾期" in page and "本周到期" in page and "以后到期" in page
    task_id = re.search(r'data-task="([0-9a-f]{20})"', page).group(1)  # type: ignore[union-attr]
    done = client.post(f"/tasks/{ids[1]}/{task_id}", data={"csrf": token(client, "/deadlines"), "done": "1", "note": "已报送省厅", "next": "https://evil.example/"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/deadlines"
    assert "已报送省厅" in client.get("/deadlines").text
    feed = client.get("/deadlines.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in feed.content and b"STATUS:COMPLETED" in feed.content
    assert client.post(f"/tasks/{ids[1]}/nothex", data={"csrf": token(client)}).status_code == 404


def test_caldav_push_refuses_a_non_http_address(client: TestClient) -> None:
    assert client.post("/deadlines/caldav", data={"csrf": token(client), "url": "file:///etc/passwd"}).status_code == 400


def test_chain_picture_and_audit(client: TestClient, ids: list[str]) -> None:
    chain = client.get(f"/chain?key={ids[0]}")
    assert chain.status_code == 200 and "晋民函〔2024〕169号" in chain.text and "/chain.svg?key=" in chain.text
    picture = client.get(f"/chain.svg?key={ids[0]}")
    if picture.status_code == 503:
        pytest.skip("Graphviz is not installed (apt-get install graphviz)")
    assert picture.headers["content-type"].startswith("image/svg+xml") and b"<svg" in picture.content
    audit = client.get("/audit")
    assert audit.status_code == 200 and "审计发现" in audit.text


# --- uploads --------------------------------------------------------------------------------------


def test_upload_runs_in_the_background_with_ingest_statuses(client: TestClient, db: Path, tmp_path: Path) -> None:
    notice = SEED.read_text(encoding="utf-8").replace("〔2024〕89号", "〔2024〕77号").encode("utf-8")
    response = client.post(
        "/upload",
        data={"csrf": token(client, "/upload")},
        files=[("files", ("../../../evil/通知.txt", notice, "application/pdf")), ("files", ("again.txt", SEED.read_bytes(), "text/plain"))],
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    job = wait_for_job(client, response.json()["url"])
    statuses = {o["file"]: o["status"] for o in job["outcomes"]}  # type: ignore[union-attr]
    assert statuses["again.txt"] == "duplicate" and statuses["通知.txt"] in store.STORED  # needs_review: its attachment is stored already
    assert not (tmp_path.parent / "evil").exists() and not list(tmp_path.rglob("evil"))
    assert "临市民函〔2024〕77号" in client.get("/").text
    conn = store.connect(db)
    try:
        names = [n for row in store.list_files(conn) for n in row["names"]]
    finally:
        conn.close()
    assert "通知.txt" in names and not any("/" in n or ".." in n for n in names)
    assert client.get(response.json()["url"]).status_code == 200
    assert client.get("/uploads/notajob").status_code == 404


def test_upload_names_are_labels_not_paths() -> None:
    assert label_of_upload("../../etc/passwd") == "passwd"
    assert label_of_upload("C:\\扫描\\通知.pdf") == "通知.pdf"
    assert label_of_upload("..") == "未命名文件"
    assert label_of_upload("a\x00b\nc.pdf") == "abc.pdf"


def test_oversized_upload_is_refused_before_it_is_read(db: Path, ids: list[str]) -> None:
    with TestClient(create_app(db, max_upload_mb=1), client=LOCAL, base_url=BASE) as client:
        csrf = token(client, "/upload")
        big = b"x" * (2 << 20)
        declared = client.post("/upload", data={"csrf": csrf}, files={"files": ("big.pdf", big, "application/pdf")})
        assert declared.status_code == 413

        def chunks() -> Iterator[bytes]:
            for _ in range(4):
                yield b"y" * (1 << 19) + b"\n"

        streamed = client.post("/upload", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=xyz"})
        assert streamed.status_code == 413
    assert not (db.parent / "uploads").exists() or not any((db.parent / "uploads").iterdir())


# --- safety ----------------------------------------------------------------------------------------


def test_forms_without_the_csrf_token_are_refused(client: TestClient, db: Path, ids: list[str]) -> None:
    token(client)  # the session has a token; the form does not carry it
    for url, data in (
        (f"/documents/{ids[0]}/corrections", {"value:title": "被篡改的标题"}),
        (f"/documents/{ids[0]}/review", {"reviewed": "1"}),
        ("/upload", {}),
        (f"/documents/{ids[0]}/corrections", {"value:title": "被篡改的标题", "csrf": "forged"}),
    ):
        assert client.post(url, data=data).status_code == 403, url
    conn = store.connect(db)
    try:
        assert overrides.for_document(conn, ids[0]) == []
    finally:
        conn.close()


def test_a_script_in_ocr_text_is_escaped(db: Path, tmp_path: Path) -> None:
    notice = tmp_path / "script.txt"
    notice.write_text(SCRIPT_NOTICE, encoding="utf-8")
    conn = store.connect(db)
    try:
        [doc_id, *_] = store_file(conn, notice, name="<img src=x onerror=alert(2)>.txt")
    finally:
        conn.close()
    with TestClient(create_app(db), client=LOCAL, base_url=BASE) as client:
        for url in ("/", f"/documents/{doc_id}", "/?q=有关事项", "/deadlines", "/chain", "/audit"):
            page = client.get(url)
            assert page.status_code == 200, url
            assert "<script>alert" not in page.text and "<img src=x" not in page.text, url
            assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in client.get(f"/documents/{doc_id}").text


def test_read_views_cannot_write(client: TestClient, db: Path) -> None:
    from starlette.requests import Request

    from pipeline.web.desk import reading

    scope = {"type": "http", "app": client.app, "headers": []}
    with reading(Request(scope)) as conn, pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM files")


def test_sign_in_is_required_off_this_machine(db: Path, ids: list[str]) -> None:
    with pytest.raises(GongwenError, match="no users") as refused:
        create_app(db, host="0.0.0.0")
    assert "gongwen user add" in (refused.value.hint or "")
    conn = store.connect(db)
    try:
        users.add(conn, "wangli", "correct horse battery")
    finally:
        conn.close()
    with TestClient(create_app(db, host="0.0.0.0"), client=LOCAL, base_url=BASE) as client:
        first = client.get("/deadlines", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
        assert client.get("/deadlines.ics", follow_redirects=False).status_code == 303  # the feed needs its token
        csrf = token(client, "/login")
        wrong = client.post("/login", data={"csrf": csrf, "name": "wangli", "password": "wrong password!"})
        assert wrong.status_code == 401
        right = client.post("/login", data={"csrf": csrf, "name": "wangli", "password": "correct horse battery", "next": "//evil.example/"}, follow_redirects=False)
        assert right.status_code == 303 and right.headers["location"] == "/"
        page = client.get("/deadlines")
        assert page.status_code == 200 and "wangli" in page.text
        feed_url = re.search(r'value="http://127\.0\.0\.1:8000(/deadlines\.ics\?token=[0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
    with TestClient(create_app(db, host="0.0.0.0"), client=LOCAL, base_url=BASE) as calendar_program:
        assert calendar_program.get(feed_url).status_code == 200
        assert calendar_program.get("/deadlines.ics?token=" + "0" * 32, follow_redirects=False).status_code == 303
    with TestClient(create_app(db), client=ELSEWHERE, base_url=BASE) as remote:  # bound to 127.0.0.1, but the client is not local
        assert remote.get("/", follow_redirects=False).status_code == 303
        assert remote.post(f"/documents/{ids[0]}/review", data={}).status_code == 401


def test_passwords_are_hashed(db: Path) -> None:
    conn = store.connect(db)
    try:
        users.add(conn, "clerk", "a long enough password")
        stored = conn.execute("SELECT password FROM users WHERE name = 'clerk'").fetchone()[0]
        assert stored.startswith("scrypt$") and "a long enough password" not in stored
        assert users.verify(conn, "clerk", "a long enough password")
        assert not users.verify(conn, "clerk", "a long enough passwort")
        assert not users.verify(conn, "nobody", "a long enough password")
        with pytest.raises(ValueError):
            users.add(conn, "clerk", "short")
        with pytest.raises(ValueError):
            users.add(conn, "../root", "a long enough password")
    finally:
        conn.close()


def test_cli_user_add_and_serve_refuses_to_listen_beyond_this_machine_without_users(db: Path) -> None:
    from typer.testing import CliRunner

    import pipeline.cli.web  # noqa: F401  registers serve and user on the app
    from pipeline.cli.main import app

    runner = CliRunner()
    refused = runner.invoke(app, ["serve", "--db", str(db), "--host", "0.0.0.0", "--port", "8999"])
    assert refused.exit_code == 1 and "gongwen user add" in refused.output
    short = runner.invoke(app, ["user", "add", "clerk", "--db", str(db), "--password-stdin"], input="short\n")
    assert short.exit_code == 3
    made = runner.invoke(app, ["user", "add", "clerk", "--db", str(db), "--password-stdin"], input="a long enough password\n")
    assert made.exit_code == 0
    conn = store.connect(db)
    try:
        assert users.verify(conn, "clerk", "a long enough password")
    finally:
        conn.close()
