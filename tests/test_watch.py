"""`gongwen watch` as a clerk runs it: a real process over a folder that files are dropped into."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from notice_forms import make_docx

SEED = Path(__file__).parent.parent / "fixtures" / "seed" / "000_b23ec74a3ac5c572.txt"
GONGWEN = [sys.executable, "-c", "from pipeline.cli.main import main; main()"]
PATIENCE = 600  # seconds to wait for the watcher on a loaded machine before the test gives up


@contextmanager
def watching(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, Path]]:
    """The watcher on tmp_path/inbox; killed at the end if a test left it running."""
    inbox, db = tmp_path / "inbox", tmp_path / "notices.db"
    inbox.mkdir()
    proc = subprocess.Popen(
        [*GONGWEN, "watch", str(inbox), "--db", str(db), "--interval", "0.2", "--settle", "1", "--timeout", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, inbox, db
    finally:
        if proc.poll() is None:
            proc.kill()


def wait_for(condition, what: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the watcher ended early while waiting for {what}: {proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)


def stored_names(db: Path) -> set[str]:
    if not db.exists():
        return set()
    with sqlite3.connect(db) as conn:
        try:
            return {Path(r[0]).name for r in conn.execute("SELECT name FROM file_names")}
        except sqlite3.OperationalError:
            return set()


def test_watch_ingests_dropped_files_moves_them_aside_and_stops_on_sigterm(tmp_path: Path):
    with watching(tmp_path) as (proc, inbox, db):
        # dropped while it runs: a notice, a .docx, garbage, and a file that arrives in two pieces
        shutil.copyfile(SEED, inbox / "seed.txt")
        make_docx(tmp_path / "n.docx")
        shutil.copyfile(tmp_path / "n.docx", inbox / "通知.docx")
        (inbox / "garbage.pdf").write_bytes(os.urandom(4096))
        text = SEED.read_bytes()
        with (inbox / "slow.txt").open("wb") as f:
            f.write(text[: len(text) // 3])  # cut inside the first notice: read now, it would lose the rest
            f.flush()
            time.sleep(0.6)
            f.write(text[len(text) // 3 :])
        wait_for(lambda: len(list((inbox / "done").glob("*"))) == 3 and len(list((inbox / "rejected").glob("*"))) == 1, "four files moved", proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=PATIENCE) == 0
    out, talk = proc.communicate()
    lines = [json.loads(line) for line in out.splitlines()]
    status = {Path(line["file"]).name: line["status"] for line in lines}
    assert status["seed.txt"] == "done" and status["garbage.pdf"] == "rejected"
    # the .docx holds 晋民函〔2024〕169号 again, from other bytes: stored, flagged as a possible duplicate
    assert status["通知.docx"] == "needs_review"
    # the slow file was read whole: identical bytes to seed.txt, so it is the same stored file
    assert status["slow.txt"] == "duplicate"
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["seed.txt", "slow.txt", "通知.docx"]
    assert [p.name for p in (inbox / "rejected").iterdir()] == ["garbage.pdf"]
    assert "garbage.pdf" in talk and "watch: stopped" in talk
    assert {"seed.txt", "通知.docx", "slow.txt"} <= stored_names(db)


def test_sigterm_while_a_file_is_read_leaves_it_stored_whole_or_not_at_all(tmp_path: Path):
    with watching(tmp_path) as (proc, inbox, db):
        shutil.copyfile(SEED, inbox / "seed.txt")
        wait_for(lambda: _said(proc, "watch: ingesting"), "the batch to start", proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=PATIENCE) == 0
    stored = "seed.txt" in stored_names(db)
    moved = (inbox / "done" / "seed.txt").exists()
    assert stored == moved and stored != (inbox / "seed.txt").exists()
    if stored:
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 2


_TALK: list[str] = []


def _said(proc: subprocess.Popen[str], words: str) -> bool:
    """Read the watcher's stderr line by line without blocking past one line."""
    import selectors

    assert proc.stderr is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    if sel.select(timeout=0.2):
        _TALK.append(proc.stderr.readline())
    sel.close()
    return any(words in line for line in _TALK)
