"""The desk reads the archive once per state of the store and keeps rendered pages and page
pictures (pipeline.web.snapshot): what it keeps must never hide a change or mix up sessions.

A write through another connection (an ingest, a command, another thread) shows at the very
next request; a page kept for every session carries each session's own CSRF token; a page
picture carries an ETag and a browser that has it gets 304.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from starlette.applications import Starlette  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from pipeline import store  # noqa: E402
from pipeline.store import overrides  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402
from tests.test_overrides import SEED, store_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TEXT_LAYER = ROOT / "fixtures" / "scans" / "h01_ministry_fire_campaign.pdf"
CHAIN_TOP = next(iter(sorted((ROOT / "fixtures" / "chains" / "three_level").glob("*.txt"))))
LOCAL = ("127.0.0.1", 50000)
BASE = "http://127.0.0.1:8000"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
T = TypeVar("T")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "notices.db"


def write(db: Path, action: Callable[[sqlite3.Connection], T]) -> T:
    """Run `action` on a connection of its own, as another program writing to the store would."""
    conn = store.connect(db)
    try:
        return action(conn)
    finally:
        conn.close()


@pytest.fixture
def seed_id(db: Path) -> str:
    return write(db, lambda conn: store_file(conn, SEED))[0]


@pytest.fixture
def app(db: Path, seed_id: str) -> Starlette:
    return create_app(db)


def test_a_write_by_another_connection_shows_at_the_next_request(app: Starlette, db: Path, seed_id: str) -> None:
    with TestClient(app, client=LOCAL, base_url=BASE) as client:
        before = client.get("/").text.count("<tr data-id=")
        assert before >= 1
        assert client.get(f"/documents/{seed_id}").text == client.get(f"/documents/{seed_id}").text  # kept, and the same
        new_ids = write(db, lambda conn: store_file(conn, CHAIN_TOP))
        after = client.get("/").text
        assert after.count("<tr data-id=") == before + len(new_ids) and f'data-id="{new_ids[0]}"' in after
        write(db, lambda conn: overrides.record(conn, seed_id, "title", "关于更正后的标题的通知", user="王丽", note="核对原件"))
        page = client.get(f"/documents/{seed_id}").text
        assert "关于更正后的标题的通知" in page and "核对原件" in page
        assert "关于更正后的标题的通知" in client.get("/").text


def test_a_kept_page_carries_each_sessions_own_token(app: Starlette, seed_id: str) -> None:
    with TestClient(app, client=LOCAL, base_url=BASE) as alice, TestClient(app, client=LOCAL, base_url=BASE) as bob:
        page_a, page_b = alice.get(f"/documents/{seed_id}").text, bob.get(f"/documents/{seed_id}").text
        tokens_a, tokens_b = set(CSRF.findall(page_a)), set(CSRF.findall(page_b))
        assert len(tokens_a) == 1 and len(tokens_b) == 1 and tokens_a != tokens_b
        assert CSRF.sub("", page_a) == CSRF.sub("", page_b)  # the same page otherwise
        (token_a,), (token_b,) = tokens_a, tokens_b
        refused = alice.post(f"/documents/{seed_id}/review", data={"csrf": token_b, "reviewed": "1"}, follow_redirects=False)
        assert refused.status_code == 403
        done = alice.post(f"/documents/{seed_id}/review", data={"csrf": token_a, "reviewed": "1"}, follow_redirects=False)
        assert done.status_code == 303
        assert "已复核" in bob.get("/").text  # the review is a change of the store: every session sees it


def test_a_page_picture_has_an_etag_and_a_browser_that_has_it_gets_304(db: Path, seed_id: str) -> None:
    write(db, lambda conn: store_file(conn, TEXT_LAYER, name=str(TEXT_LAYER)))  # its name is where the original is
    sha256 = hashlib.sha256(TEXT_LAYER.read_bytes()).hexdigest()
    with TestClient(create_app(db), client=LOCAL, base_url=BASE) as client:
        picture = client.get(f"/scans/{sha256}/1.jpg")
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
        assert picture.content[:3] == b"\xff\xd8\xff"
        etag = picture.headers["etag"]
        assert etag == '"' + hashlib.sha256(picture.content).hexdigest()[:32] + '"'
        again = client.get(f"/scans/{sha256}/1.jpg", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        other = client.get(f"/scans/{sha256}/1.jpg", headers={"If-None-Match": '"0123"'})
        assert other.status_code == 200 and other.content == picture.content
        assert client.get(f"/scans/{sha256}/9.jpg").status_code == 404  # no such page, whatever is kept
