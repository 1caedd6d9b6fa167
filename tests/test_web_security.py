"""The desk's trust boundaries, tried as an outsider would: foreign Host headers, guessed
passwords, stolen or stale cookies, framing and inline script, paths instead of ids, too many
files, and two clerks correcting one field at once.

The desk runs in process (Starlette's test client) over a store holding the seed notice; the
real middleware, sessions and store are used throughout.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

from pipeline import store  # noqa: E402
from pipeline.store import overrides, users  # noqa: E402
from pipeline.web import security  # noqa: E402
from pipeline.web.app import HERE, create_app  # noqa: E402
from pipeline.web.sessions import COOKIE, Sessions  # noqa: E402
from tests.test_overrides import SEED, store_file  # noqa: E402
from tests.test_web import BASE, CSRF, ELSEWHERE, LOCAL, client, db, token, wait_for_job  # noqa: E402, F401  fixtures

PASSWORD = "correct horse battery"


@pytest.fixture
def ids(db: Path) -> list[str]:
    """The seed stored, and two clerks who may sign in."""
    conn = store.connect(db)
    try:
        found = store_file(conn, SEED)
        users.add(conn, "wangli", PASSWORD)
        users.add(conn, "zhaomin", PASSWORD)
        return found
    finally:
        conn.close()


@pytest.fixture
def local(db: Path, ids: list[str]) -> Iterator[TestClient]:
    with TestClient(create_app(db), client=LOCAL, base_url=BASE) as c:
        yield c


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> int:
    return client.post("/login", data={"csrf": token(client, "/login"), "name": name, "password": password}, follow_redirects=False).status_code


# --- hosts ---------------------------------------------------------------------------------------


def test_a_foreign_host_is_refused(local: TestClient) -> None:
    """DNS rebinding: a page on attacker.example resolving to 127.0.0.1 sends its own name as Host."""
    for host in ("attacker.example", "attacker.example:8000", "127.0.0.1.attacker.example", "evil.localhost", ""):
        response = local.get("/", headers={"Host": host})
        assert response.status_code == 400, host
        assert "临市民函" not in response.text
    for host in ("127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000", "127.0.0.1"):
        assert local.get("/", headers={"Host": host}).status_code == 200, host


def test_names_beyond_this_machine_are_answered_only_when_allowed(db: Path, ids: list[str]) -> None:
    app = create_app(db, host="0.0.0.0", allowed_hosts=["desk.example.cn", "2001:db8::5"])
    with TestClient(app, client=ELSEWHERE, base_url="http://desk.example.cn") as remote:
        assert remote.get("/login").status_code == 200
        assert remote.get("/login", headers={"Host": "[2001:db8::5]:8000"}).status_code == 200
        assert remote.get("/login", headers={"Host": "other.example.cn"}).status_code == 400
    assert security.allowed_hosts("192.0.2.10") == ["127.0.0.1", "localhost", "[::1]", "192.0.2.10"]
    assert security.allowed_hosts("::") == ["127.0.0.1", "localhost", "[::1]"]


# --- sign-in ---------------------------------------------------------------------------------------


def test_guessing_a_password_is_throttled_per_user_and_per_address(db: Path, ids: list[str]) -> None:
    with TestClient(create_app(db, host="0.0.0.0"), client=ELSEWHERE, base_url=BASE) as client:
        for _ in range(security.MAX_FAILURES_PER_USER):
            assert sign_in(client, "wangli", "wrong password!") == 401
        locked = client.post("/login", data={"csrf": token(client, "/login"), "name": "wangli", "password": PASSWORD})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0  # even the right password waits
        assert "登录失败次数过多" in locked.text
        assert sign_in(client, "zhaomin") == 303  # another user from this address may still sign in
    with TestClient(create_app(db, host="0.0.0.0"), client=("198.51.100.9", 40000), base_url=BASE) as other:
        for n in range(security.MAX_FAILURES_PER_ADDRESS):
            assert sign_in(other, f"guess{n}", "wrong password!") == 401
        assert sign_in(other, "zhaomin") == 429  # this address has guessed too often, whatever the name


def test_the_throttle_forgets_failures_past_its_window() -> None:
    now = [1000.0]
    throttle = security.Throttle(clock=lambda: now[0])
    for _ in range(security.MAX_FAILURES_PER_USER):
        throttle.failed("wangli", "192.0.2.1")
    assert throttle.wait("wangli", "192.0.2.2") > 0 and throttle.wait("zhaomin", "192.0.2.1") == 0
    now[0] += security.FAILURE_WINDOW + 1
    assert throttle.wait("wangli", "192.0.2.1") == 0
    throttle.failed("wangli", "192.0.2.1")
    throttle.succeeded("wangli")
    assert throttle.wait("wangli", "192.0.2.1") == 0


def test_the_session_cookie_is_rotated_at_sign_in_and_dead_after_sign_out(db: Path, ids: list[str]) -> None:
    with TestClient(create_app(db, host="0.0.0.0"), client=LOCAL, base_url=BASE) as client:
        csrf = token(client, "/login")
        before = client.cookies[COOKIE]
        response = client.post("/login", data={"csrf": csrf, "name": "wangli", "password": PASSWORD}, follow_redirects=False)
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain http on this machine: a Secure cookie would never come back
        signed_in = client.cookies[COOKIE]
        assert signed_in != before
        assert client.get("/deadlines").status_code == 200
        page = client.get("/deadlines").text
        client.post("/logout", data={"csrf": CSRF.search(page).group(1)}, follow_redirects=False)  # type: ignore[union-attr]
    with TestClient(create_app(db, host="0.0.0.0"), client=LOCAL, base_url=BASE) as thief:
        for stolen in (before, signed_in):  # the pre-sign-in id, and the copy taken before sign-out
            thief.cookies.set(COOKIE, stolen)
            assert thief.get("/deadlines", follow_redirects=False).status_code == 303


def test_a_restarted_desk_knows_no_old_session(db: Path, ids: list[str]) -> None:
    with TestClient(create_app(db, host="0.0.0.0"), client=LOCAL, base_url=BASE) as client:
        assert sign_in(client, "wangli") == 303
        cookie = client.cookies[COOKIE]
    with TestClient(create_app(db, host="0.0.0.0"), client=LOCAL, base_url=BASE) as later:
        later.cookies.set(COOKIE, cookie)
        assert later.get("/deadlines", follow_redirects=False).status_code == 303


def test_the_cookie_is_secure_over_tls(db: Path, ids: list[str]) -> None:
    with TestClient(create_app(db, host="0.0.0.0"), client=LOCAL, base_url="https://127.0.0.1") as client:
        csrf = token(client, "/login")
        response = client.post("/login", data={"csrf": csrf, "name": "wangli", "password": PASSWORD}, follow_redirects=False)
        assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]


def test_an_idle_session_expires() -> None:
    now = [0.0]
    sessions = Sessions(idle_seconds=60, clock=lambda: now[0])
    sid = sessions.put(None, {"user": "wangli"})
    now[0] = 59
    assert sessions.get(sid) == {"user": "wangli"}  # used: its idle time starts again
    now[0] = 118
    assert sessions.get(sid) == {"user": "wangli"}
    now[0] = 179
    assert sessions.get(sid) is None and len(sessions) == 0
    assert sessions.get("made-up") is None


# --- browser headers and templates -------------------------------------------------------------------


def test_every_answer_carries_the_strict_headers(local: TestClient, ids: list[str]) -> None:
    for url in ("/", f"/documents/{ids[0]}", "/static/desk.css", "/nothing-here"):
        headers = local.get(url).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp, url
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"


def test_no_template_carries_inline_script_or_style() -> None:
    """What the CSP would block must not be in the templates: inline <script>, on…= handlers,
    javascript: links, <style> blocks and style= attributes."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:|<style\b|\sstyle\s*=", re.IGNORECASE)
    templates = sorted((HERE / "templates").glob("*.html"))
    assert templates
    for path in templates:
        found = inline.search(path.read_text(encoding="utf-8"))
        assert found is None, f"{path.name}: {found.group(0) if found else ''}"
    assert inline.search('<div style="color:red">') and inline.search("<script>x()</script>") and not inline.search('<script src="/s.js">')


# --- files -------------------------------------------------------------------------------------------


def test_paths_instead_of_ids_are_refused(local: TestClient, db: Path, ids: list[str]) -> None:
    secret = (db.parent / f".{db.name}.web-secret").read_bytes()
    probes = [
        "/scans/../../etc/passwd",
        "/scans/..%2F..%2Fetc%2Fpasswd/1.jpg",
        "/scans/%2e%2e/%2e%2e/etc/passwd/1.jpg",
        "/scans/%2Fetc%2Fpasswd/1.jpg",
        "/scans//etc/passwd/1.jpg",
        f"/scans/{'0' * 64}/..%2F..%2F.{db.name}.web-secret",
        "/static/../app.py",
        "/static/..%2Fapp.py",
        "/static/%2e%2e/%2e%2e/store/users.py",
        "/static/%2e%2e%2f%2e%2e%2fstore%2fusers.py",
        "/static//etc/passwd",
        f"/documents/..%2F.{db.name}.web-secret",
        "/uploads/..%2F..%2Fnotices.db",
    ]
    for url in probes:
        response = local.get(url)
        assert response.status_code in (400, 404), (url, response.status_code)
        assert b"root:" not in response.content and b"def " not in response.content and secret not in response.content, url
    assert local.get("/static/desk.css").status_code == 200  # the one way in still works


def test_too_many_files_in_one_upload_are_refused(local: TestClient, db: Path) -> None:
    files = [("files", (f"{n}.txt", b"x", "text/plain")) for n in range(101)]
    response = local.post("/upload", data={"csrf": token(local, "/upload")}, files=files)
    assert response.status_code == 400
    assert not (db.parent / "uploads").exists() or not any((db.parent / "uploads").iterdir())


def test_an_upload_is_what_its_bytes_say_not_what_its_name_says(client: TestClient, db: Path) -> None:
    """A web page saved as `通知.pdf` is refused by its bytes and quarantined, as `gongwen ingest` does."""
    page = b"<!DOCTYPE html><html><head><title>\xe9\x80\x9a\xe7\x9f\xa5</title></head><body>login</body></html>"
    response = client.post(
        "/upload", data={"csrf": token(client, "/upload")}, files=[("files", ("通知.pdf", page, "application/pdf"))],
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert response.status_code == 200
    job = wait_for_job(client, response.json()["url"])
    [outcome] = job["outcomes"]  # type: ignore[misc]
    assert outcome["file"] == "通知.pdf" and outcome["status"] == "rejected"
    assert "html" in (outcome["reason"] or "").lower() and outcome["documents"] == []
    conn = store.connect(db)
    try:
        assert [row["status"] for row in store.list_files(conn) if "通知.pdf" in row["names"]] in ([], ["rejected"])
    finally:
        conn.close()
    assert any((db.parent / "quarantine").iterdir())  # kept apart with a note, as ingest keeps what it refuses


# --- two clerks, one field -------------------------------------------------------------------------


def correction_form(client: TestClient, doc_id: str, path: str) -> dict[str, str]:
    page = client.get(f"/documents/{doc_id}").text
    seen = re.search(rf'name="seen:{re.escape(path)}" value="([0-9a-f]+)"', page)
    assert seen, f"no version for {path} on the page"
    return {"csrf": CSRF.search(page).group(1), f"seen:{path}": seen.group(1)}  # type: ignore[union-attr]


def test_the_second_of_two_corrections_from_one_reading_is_told_and_nothing_is_lost(db: Path, ids: list[str]) -> None:
    doc = ids[0]
    with (
        TestClient(create_app(db, host="0.0.0.0"), client=LOCAL, base_url=BASE) as wang,
        TestClient(create_app(db, host="0.0.0.0"), client=LOCAL, base_url=BASE) as zhao,
    ):
        assert sign_in(wang, "wangli") == 303 and sign_in(zhao, "zhaomin") == 303
        wang_form, zhao_form = correction_form(wang, doc, "title"), correction_form(zhao, doc, "title")  # the same reading
        first = wang.post(f"/documents/{doc}/corrections", data={**wang_form, "value:title": "王莉核对后的标题", "note": "对照原件"}, follow_redirects=False)
        assert first.status_code == 303
        second = zhao.post(f"/documents/{doc}/corrections", data={**zhao_form, "value:title": "赵敏核对后的标题"}, headers={"Accept": "text/html"})
        assert second.status_code == 409
        assert "王莉核对后的标题" in second.text and "赵敏核对后的标题" in second.text and "wangli" in second.text
        conn = store.connect(db)
        try:
            log = overrides.for_document(conn, doc)
            assert [(o.path, o.value, o.user) for o in log] == [("title", "王莉核对后的标题", "wangli")]
        finally:
            conn.close()
        again = zhao.post(f"/documents/{doc}/corrections", data={**correction_form(zhao, doc, "title"), "value:title": "赵敏核对后的标题"}, follow_redirects=False)
        assert again.status_code == 303  # read afresh, the correction goes in on top
    conn = store.connect(db)
    try:
        log = overrides.for_document(conn, doc)
        assert [(o.value, o.user) for o in log] == [("王莉核对后的标题", "wangli"), ("赵敏核对后的标题", "zhaomin")]
        assert overrides.corrected(conn, doc).document.title == "赵敏核对后的标题"
    finally:
        conn.close()


def test_a_conflict_is_caught_under_the_write_lock(db: Path, ids: list[str]) -> None:
    """The version check inside the store, for a writer that read before another wrote."""
    from pipeline.errors import CorrectionConflict

    doc = ids[0]
    conn = store.connect(db)
    try:
        shown = overrides.version_of(overrides.corrected(conn, doc).document.doc_number)
        overrides.record(conn, doc, "doc_number", "临市民函〔2024〕98号", user="wangli", seen=shown)
        with pytest.raises(CorrectionConflict) as conflict:
            overrides.record(conn, doc, "doc_number", "临市民函〔2024〕99号", user="zhaomin", seen=shown)
        assert conflict.value.current == "临市民函〔2024〕98号" and conflict.value.by == "wangli"
        assert [o.value for o in overrides.for_document(conn, doc)] == ["临市民函〔2024〕98号"]
    finally:
        conn.close()


def test_a_deadline_field_carries_its_version_too(local: TestClient, ids: list[str]) -> None:
    page = local.get(f"/documents/{ids[0]}").text
    assert re.search(r'name="seen:deadlines\[0\]\.date" value="[0-9a-f]{16}"', page)
