"""Two `gongwen ingest` processes on the same inbox and database at once end with the store one
process alone would leave: the same files, names, pages, documents and links, nothing twice."""

import subprocess
from pathlib import Path

from tests.test_kill_loop import GONGWEN, build_inbox, command, damage, fingerprint, integrity, run_to_the_end, summary_counts


def test_two_ingests_at_once_store_what_one_does(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    inputs = build_inbox(box, distinct=30)
    reference = tmp_path / "one.db"
    run_to_the_end(command(GONGWEN, box, reference))

    db = tmp_path / "two.db"
    procs = [subprocess.Popen(command(GONGWEN, box, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [proc.communicate(timeout=600) for proc in procs]
    for proc, (stdout, stderr) in zip(procs, results):
        assert proc.returncode == 0, stderr[-2000:]
        assert summary_counts(stderr).startswith(f"ingest: {inputs} inputs = ") and " + 0 deferred" in stderr
        assert len(stdout.splitlines()) == inputs
    assert damage(db, fingerprint(reference)) == {"lost": [], "extra": [], "partial": [], "links": []}
    assert fingerprint(db)["counts"] == fingerprint(reference)["counts"]
    assert integrity(db) == ("ok", [])
