"""The kill loop: the real `gongwen ingest` on an inbox of 100+ files (copies, re-reads and junk
among them), SIGKILLed at random moments at least KILLS times, then run to the end. Compared
with one clean run: no file lost, none stored twice, no half-written file, integrity_check ok.

Half the runs use the installed command as is; the other half go through a wrapper that
makes every write statement slow, so that most kills land inside a file's transaction.
The same loop run on a store that commits statement by statement must find the damage:
that is what shows the checks can fail.
"""

import json
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_ingest import make_zip, notice, write

KILLS = 20
GONGWEN = Path(sys.executable).with_name("gongwen")
SLOW_WRITES_SECONDS = 0.02


def build_inbox(box: Path, distinct: int = 80) -> int:
    """Notices, re-reads of some (same 文号 and title, other bytes), exact copies, junk; the input count."""
    numbers = range(100, 100 + distinct)
    for n in numbers:
        write(box / f"notice-{n}.txt", notice(n))
    for n in numbers[:5]:
        write(box / f"reread-{n}.txt", notice(n, tail="\n（此件公开发布）\n"))
    for n in numbers[:15]:
        write(box / "copies" / f"副本 {n}.txt", notice(n))
    write(box / "junk" / "empty.pdf", b"")
    write(box / "junk" / "portal.pdf", "<html><body>502 Bad Gateway</body></html>")
    write(box / "junk" / "noise.pdf", random.Random(1).randbytes(2048))
    write(box / "junk" / "nul.txt", "临汾\x00市")
    (box / "junk" / "loop").symlink_to(box)
    make_zip(box / "junk" / "bundle.zip", {f"in-zip-{n}.txt": notice(n).encode() for n in (900, 901, 902)} | {"bad.pdf": b"%PDF-1.4 cut"})
    return distinct + 5 + 15 + 5 + 4


def wrapper(folder: Path, *, slow: bool, per_statement: bool) -> Path:
    """A script that runs the gongwen CLI with its store patched: slow writes (a wide window for a
    kill inside a transaction, each BEGIN and COMMIT logged to `<script>.log` to count those kills)
    and, for the broken store, no transactions at all."""
    log = folder / "transactions.log"
    script = f'''
import contextlib, os, sys, time
from pipeline import store
from pipeline.store import schema
if {slow!r}:
    connect = store.connect
    log = os.open({str(log)!r}, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND)

    def trace(sql):
        verb = sql.lstrip().split(None, 1)[0].upper()
        if verb in ("BEGIN", "COMMIT", "ROLLBACK"):
            os.write(log, verb.encode() + b"\\n")
        elif verb in ("INSERT", "UPDATE", "DELETE"):
            time.sleep({SLOW_WRITES_SECONDS})

    def slow_connect(path, **kwargs):
        conn = connect(path, **kwargs)
        conn.set_trace_callback(trace)
        return conn

    store.connect = slow_connect

if {per_statement!r}:
    @contextlib.contextmanager
    def every_statement_commits(conn):
        yield conn  # the broken store: autocommit, so a kill leaves part of a file behind

    schema.transaction = every_statement_commits

from pipeline.cli.main import main
sys.argv[0] = "gongwen"
main()
'''
    path = folder / f"gongwen-{'slow' if slow else 'fast'}-{'broken' if per_statement else 'ok'}.py"
    path.write_text(script)
    return path


def command(program: Path, box: Path, db: Path) -> list[str]:
    head = [str(program)] if program == GONGWEN else [sys.executable, str(program)]
    return head + ["ingest", str(box), "--db", str(db), "--workers", "2"]


def run_to_the_end(argv: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def kill_at_random(argv: list[str], rng: random.Random) -> bool:
    """Start the command and SIGKILL it at a random moment: during start-up and the walk, or a
    little after the k-th file it newly stored or rejected (files stored by earlier runs go by in
    a blink). True if it was killed, False if it finished first."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    seen = threading.Semaphore(0)

    def count_lines() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            outcome = json.loads(line)
            if outcome["status"] != "duplicate" and "rejected before" not in (outcome["reason"] or ""):
                seen.release()
        seen.release(4)  # EOF: the run is over, stop waiting for files

    reader = threading.Thread(target=count_lines, daemon=True)
    reader.start()
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0.0, 3.0))
    else:
        for _ in range(rng.randint(0, 3)):
            if not seen.acquire(timeout=60):
                break
        time.sleep(rng.uniform(0.0, 0.5))
    alive = proc.poll() is None
    if alive:
        proc.kill()  # SIGKILL: no handler, no cleanup; the workers die with it (PR_SET_PDEATHSIG)
    proc.wait()
    reader.join(timeout=10)
    return alive


# --- comparing stores -----------------------------------------------------------------------------


def fingerprint(db: Path) -> dict[str, object]:
    """What a store holds, independent of the order files arrived in: per file its status, names,
    pages and documents with all their parts; and the possible-duplicate pairs."""
    conn = sqlite3.connect(db)
    try:
        files: dict[str, object] = {}
        for sha, status, kind in conn.execute("SELECT sha256, status, kind FROM files"):
            names = sorted(r[0] for r in conn.execute("SELECT raw FROM file_names WHERE sha256 = ?", (sha,)))
            pages = conn.execute("SELECT number, text, page FROM pages WHERE sha256 = ? ORDER BY number", (sha,)).fetchall()
            docs = []
            for doc_id, record, rowid in conn.execute("SELECT id, record, rowid FROM documents WHERE sha256 = ? ORDER BY ordinal", (sha,)):
                parts = tuple(
                    conn.execute(f"SELECT count(*) FROM {table} WHERE document_id = ?", (doc_id,)).fetchone()[0]
                    for table in ("deadlines", "duties", "upstream")
                )
                indexed = conn.execute("SELECT count(*) FROM documents_fts WHERE rowid = ?", (rowid,)).fetchone()[0]
                docs.append((doc_id, record, parts, indexed))
            files[sha] = (status, kind, tuple(names), tuple(pages), tuple(docs))
        pairs = sorted(conn.execute("SELECT first, second FROM possible_duplicates").fetchall())
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("documents", "documents_fts", "pages")}
        return {"files": files, "pairs": pairs, "counts": counts}
    finally:
        conn.close()


def damage(db: Path, reference: dict[str, object]) -> dict[str, list[str]]:
    """Files lost, stored twice (or unknown to the clean run), or different from the clean run's."""
    got = fingerprint(db)
    want_files, got_files = reference["files"], got["files"]
    assert isinstance(want_files, dict) and isinstance(got_files, dict)
    return {
        "lost": sorted(set(want_files) - set(got_files)),
        "extra": sorted(set(got_files) - set(want_files)),
        "partial": sorted(sha for sha in set(want_files) & set(got_files) if want_files[sha] != got_files[sha]),
        "links": [] if got["pairs"] == reference["pairs"] else ["possible_duplicates differ"],
    }


def half_written(db: Path, reference: dict[str, object]) -> list[str]:
    """Stored files (not rejected) that differ from the clean run: what a kill mid-file leaves."""
    if not db.exists():
        return []
    got = fingerprint(db)["files"]
    want = reference["files"]
    assert isinstance(got, dict) and isinstance(want, dict)
    return [sha for sha, row in got.items() if sha in want and row[0] != "rejected" and (row[3], row[4]) != (want[sha][3], want[sha][4])]


def integrity(db: Path) -> tuple[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0], conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()


# --- the tests ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, dict[str, object]]:
    """The inbox, its input count, and the fingerprint of one clean run over it."""
    root = tmp_path_factory.mktemp("kill")
    box = root / "inbox"
    inputs = build_inbox(box)
    db = root / "reference.db"
    done = run_to_the_end(command(GONGWEN, box, db))
    assert f"ingest: {inputs} inputs = " in done.stderr and " + 0 deferred" in done.stderr
    return box, inputs, fingerprint(db)


def summary_counts(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith("ingest: "))


def test_kill_loop(inbox: tuple[Path, int, dict[str, object]], tmp_path: Path) -> None:
    box, inputs, reference = inbox
    db = tmp_path / "notices.db"
    rng = random.Random(20241120)
    launchers: list[Callable[[], list[str]]] = [
        lambda: command(GONGWEN, box, db),
        lambda: command(wrapper(tmp_path, slow=True, per_statement=False), box, db),
    ]
    log = tmp_path / "transactions.log"
    kills = runs = inside = 0
    while kills < KILLS:
        runs += 1
        assert runs <= 3 * KILLS, f"only {kills} kills landed in {runs} runs: the inbox is too small"
        log.unlink(missing_ok=True)
        kills += kill_at_random(launchers[runs % 2](), rng)
        inside += log.exists() and log.read_text().splitlines()[-1:] == ["BEGIN"]
    final = run_to_the_end(command(GONGWEN, box, db))
    assert summary_counts(final.stderr).startswith(f"ingest: {inputs} inputs = ")
    assert damage(db, reference) == {"lost": [], "extra": [], "partial": [], "links": []}
    assert integrity(db) == ("ok", [])
    counts = fingerprint(db)["counts"]
    assert counts == reference["counts"]
    print(f"kill loop: {kills} kills in {runs} runs ({inside} inside a transaction), then one run to the end; 0 lost, 0 duplicated, 0 partial")


def test_the_kill_loop_catches_a_store_that_commits_per_statement(inbox: tuple[Path, int, dict[str, object]], tmp_path: Path) -> None:
    box, _, reference = inbox
    db = tmp_path / "broken.db"
    broken = command(wrapper(tmp_path, slow=True, per_statement=True), box, db)
    rng = random.Random(7)
    found: list[str] = []
    kills = 0
    while not found and kills < KILLS:
        kills += kill_at_random(broken, rng)
        found = half_written(db, reference)
    assert found, f"{kills} kills of a store without transactions left no half-written file"
    print(f"store without transactions: {len(found)} half-written file(s) after {kills} kills")
    run_to_the_end(command(GONGWEN, box, db))  # a rerun takes the half-written file for stored
    assert damage(db, reference)["partial"], "the damage went unnoticed after the rerun"
