"""`gongwen ingest --cluster`: the batch parsed on a real Dask cluster (worker processes, not
threads) ends in the store a local run leaves, through a worker killed mid-task and through the
scheduler going away (a clear error, exit 10, and a rerun that finishes the batch).

Every process these tests start carries a marker in its environment; each test ends by checking
that none is left, the parsing processes on the workers included.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from pipeline.errors import ExitCode
from tests.test_ingest import write
from tests.test_kill_loop import GONGWEN, build_inbox, damage, fingerprint, integrity, run_to_the_end, summary_counts

ROOT = Path(__file__).resolve().parent.parent
DASK = Path(sys.executable).with_name("dask")
MARK = "GONGWEN_TEST_CLUSTER"
NO_DAMAGE = {"lost": [], "extra": [], "partial": [], "links": []}


@pytest.fixture
def marked(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """An environment whose processes (and theirs) can be found afterwards; none may outlive the test."""
    token = uuid.uuid4().hex
    monkeypatch.setenv(MARK, token)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    yield dict(os.environ)
    none_left(token)


def none_left(token: str) -> None:
    """No process of this token's environment outlives what started it (30 s to end); any that do are killed."""
    deadline = time.monotonic() + 30
    while (left := survivors(token)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for proc in left:
        proc.kill()
    assert not left, [" ".join(p.cmdline()[:4]) for p in left]


def survivors(token: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.pid == os.getpid() or proc.environ().get(MARK) != token:
                continue
            if proc.ppid() == os.getpid() and any(m in " ".join(proc.cmdline()) for m in ("resource_tracker", "forkserver")):
                continue  # multiprocessing's tracker and fork server for this process (a LocalCluster here): they end with pytest
            found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def ingest(box: Path, db: Path, *more: str) -> list[str]:
    return [str(GONGWEN), "ingest", str(box), "--db", str(db), *more]


def lines(stdout: str) -> dict[str, dict[str, object]]:
    return {line["file"]: line for line in map(json.loads, stdout.splitlines())}


def settled(stdout: str) -> dict[str, tuple[object, ...]]:
    """Each input's status, documents and reason. Of two re-reads of one notice, which is stored
    first is a race in any run: the first's line says done, the second's needs_review naming the
    first (the store then flags both). So both say only that they are one of such a pair."""
    found = lines(stdout)
    firsts = {Path(m).name for line in found.values() for m in re.findall(r"possible duplicate: .+? also in (.+?)(?:; |$)", str(line["reason"]))}
    out = {}
    for name, line in found.items():
        reason = str(line["reason"])
        pair = "possible duplicate" in reason or (line["status"] == "done" and Path(name).name in firsts)
        out[name] = ("stored, one of a possible-duplicate pair" if pair else line["status"], tuple(line["documents"]), None if pair else reason)  # type: ignore[arg-type]
    return out


def quarantined(folder: Path) -> dict[str, object]:
    """The quarantine's copies and notes, less the time each note was written."""
    out: dict[str, object] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".json":
            note = json.loads(path.read_text(encoding="utf-8"))
            note.pop("at")
            out[path.name] = note
        else:
            out[path.name] = path.read_bytes()
    return out


@dataclass(frozen=True)
class Reference:
    box: Path
    inputs: int
    db: Path
    run: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """An inbox of text notices, re-reads, copies and junk, and the store a local run leaves."""
    folder = tmp_path_factory.mktemp("cluster")
    box = folder / "inbox"
    inputs = build_inbox(box, distinct=15) + 1
    write(box / "seed.txt", (ROOT / "fixtures" / "seed" / "000_b23ec74a3ac5c572.txt").read_bytes())  # a notice with its attachment
    db = folder / "local" / "notices.db"
    return Reference(box, inputs, db, run_to_the_end(ingest(box, db, "--workers", "2")))


def test_a_cluster_run_stores_what_a_local_run_stores(reference: Reference, tmp_path: Path, marked: dict[str, str]) -> None:
    db = tmp_path / "cluster" / "notices.db"
    cluster = run_to_the_end(ingest(reference.box, db, "--cluster", "local:2"))

    assert settled(cluster.stdout) == settled(reference.run.stdout)
    assert len(lines(cluster.stdout)) == reference.inputs
    assert summary_counts(cluster.stderr) == summary_counts(reference.run.stderr)
    assert damage(db, fingerprint(reference.db)) == NO_DAMAGE
    assert integrity(db) == ("ok", [])
    junk = quarantined(reference.db.parent / "quarantine")
    assert len(junk) >= 4 and quarantined(db.parent / "quarantine") == junk  # written by the client, as locally


def test_a_worker_killed_mid_task_leaves_a_complete_store(reference: Reference, tmp_path: Path, marked: dict[str, str]) -> None:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        db = tmp_path / "cluster.db"
        proc = subprocess.Popen(ingest(reference.box, db, "--cluster", cluster.scheduler_address), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # the first file on a worker runs for seconds (its parsing process loads the parser): kill a worker then
        victim = None
        deadline = time.monotonic() + 300
        while victim is None and time.monotonic() < deadline and proc.poll() is None:
            busy = [addr for addr, keys in client.processing().items() if any(str(k).startswith("gongwen-parse-") for k in keys)]
            if busy:
                victim = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(victim, signal.SIGKILL)
            time.sleep(0.2)
        stdout, stderr = proc.communicate(timeout=600)
    assert victim is not None, "no task was seen running"
    assert proc.returncode == 0, stderr[-2000:]
    assert len(lines(stdout)) == reference.inputs and " + 0 deferred" in stderr
    assert damage(db, fingerprint(reference.db)) == NO_DAMAGE
    assert integrity(db) == ("ok", [])


def start_scheduler(folder: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    info = folder / "scheduler.json"
    proc = subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0", "--scheduler-file", str(info)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not info.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.3)  # written whole, then read
    return proc, json.loads(info.read_text())["address"]


def test_the_scheduler_gone_mid_batch_is_a_clear_error_and_a_rerun_finishes(reference: Reference, tmp_path: Path, marked: dict[str, str]) -> None:
    box, inputs = reference.box, reference.inputs
    scheduler, address = start_scheduler(tmp_path, marked)
    workers = subprocess.Popen(
        [str(DASK), "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
        env=marked, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    db = tmp_path / "cluster.db"
    try:
        proc = subprocess.Popen(ingest(box, db, "--cluster", address), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=marked)
        assert proc.stdout is not None
        first = proc.stdout.readline()  # one file stored: the batch is under way
        os.killpg(scheduler.pid, signal.SIGKILL)
        rest, stderr = proc.communicate(timeout=300)
    finally:
        for group in (scheduler, workers):
            try:
                os.killpg(group.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            group.wait()
    first_run = lines(first + rest)
    assert proc.returncode == ExitCode.cluster, stderr[-2000:]
    assert f"the Dask scheduler at {address} went away mid-batch" in stderr
    assert len(first_run) == inputs  # every input has its line: the rest deferred, untried
    deferred = [o for o in first_run.values() if o["status"] == "deferred"]
    assert deferred and f"ingest: {inputs} inputs = " in stderr and f"+ {len(deferred)} deferred" in stderr
    assert all(f"the Dask scheduler at {address} went away mid-batch" in str(o["reason"]) for o in deferred)
    assert damage(db, fingerprint(reference.db))["extra"] == []  # what was stored is stored whole
    assert integrity(db) == ("ok", [])

    again = run_to_the_end(ingest(box, db, "--cluster", "local:1"))
    assert " + 0 deferred" in again.stderr
    rerun = lines(again.stdout)
    for name, line in first_run.items():
        if line["status"] != "deferred":  # done before: only a name now, nothing stored twice
            assert rerun[name]["status"] in ("duplicate", "rejected"), (name, rerun[name])
    assert damage(db, fingerprint(reference.db)) == NO_DAMAGE
    assert integrity(db) == ("ok", [])


def test_a_worker_without_its_ocr_engine_says_so_once(tmp_path: Path, marked: dict[str, str]) -> None:
    scans = sorted((ROOT / "fixtures" / "scans").glob("h0[23]_*.pdf"))
    env = {**marked, "PATH": str(Path(sys.executable).parent)}  # no tesseract on the workers' PATH
    argv = [str(GONGWEN), "ingest", *map(str, scans), "--db", str(tmp_path / "notices.db"), "--engine", "tesseract", "--cluster", "local:1"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == ExitCode.missing_dependency, done.stderr[-2000:]
    said = [line for line in done.stderr.splitlines() if line.startswith("ingest: worker ")]
    assert len(said) == 1 and "'tesseract' is not installed" in said[0], done.stderr[-2000:]
    assert [line["status"] for line in lines(done.stdout).values()] == ["deferred", "deferred"]
