"""`gongwen ingest --cluster` through the faults a cluster adds to a file's own: a file over the
time limit or over a parsing process's memory cap on a Dask worker gets the reason a local run
gives it, and a file that takes every Dask worker it lands on over the worker's memory limit
(Dask's nanny kills and restarts it) ends rejected with that reason after the allowed tries,
while the files around it are stored. The batch goes on through all of it.

One LocalCluster of worker processes (with nannies, as `dask worker` starts them) serves the
module: a small memory limit per worker, one death allowed per task so a killer file costs few
restarts, and a fault-injecting reader in the parsing processes (as in test_bad_inputs).
"""

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import store
from tests.test_bad_inputs import FAULTS, MEMORY_MB
from tests.test_cluster import MARK, ROOT, ingest, lines, none_left
from tests.test_ingest import notice, write
from tests.test_kill_loop import integrity

# A Dask worker here holds ~160 MiB (Python, distributed, the parsing side's imports); the
# nanny kills it at 95 % of its limit. A file's bytes are held by the worker that reads it,
# so one of KILLER_MB cannot fit, while any ordinary notice leaves room to spare.
WORKER_LIMIT_MB = 320
KILLER_MB = 240
# Per file, from when its parsing process is ready: the first file of a fresh parsing process
# loads the parser's dictionaries inside it, which takes seconds when the machine is shared.
TIMEOUT = 40


@dataclass(frozen=True)
class Cluster:
    address: str
    client: object
    env: dict[str, str]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import dask
    from distributed import Client, LocalCluster

    faults = tmp_path_factory.mktemp("faults")
    # only the parsing processes (`python -m pipeline.ingest --worker`) get the faulty reader
    write(faults / "sitecustomize.py", 'import sys\nif "--worker" in sys.argv:\n' + "".join(f"    {line}\n" if line else "\n" for line in FAULTS.splitlines()))
    token = uuid.uuid4().hex
    config = {
        "distributed.scheduler.allowed-failures": 0,  # a death is a try: the alone retry makes the second
        "distributed.worker.multiprocessing-method": "forkserver",  # the nanny's restarts are forks, not fresh interpreters
        # the nanny's kill is what is under test: no spilling or pausing on the way to it
        "distributed.worker.memory.target": False,
        "distributed.worker.memory.spill": False,
        "distributed.worker.memory.pause": False,
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(MARK, token)
        mp.setenv("PYTHONPATH", os.pathsep.join([str(faults), str(ROOT)]))
        with dask.config.set(config), LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, memory_limit=f"{WORKER_LIMIT_MB}MiB", dashboard_address=None, worker_dashboard_address=None
        ) as local, Client(local) as client:
            yield Cluster(local.scheduler_address, client, dict(os.environ))
    none_left(token)


def run(argv: list[str], env: dict[str, str]) -> tuple[dict[str, dict[str, object]], str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return lines(done.stdout), done.stderr


def test_over_the_time_limit_or_a_parsing_process_memory_cap_on_a_worker_is_the_file_own_reason(cluster: Cluster, tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    write(box / "1-hang.txt", "HANG\n" + notice(71))
    write(box / "2-balloon.txt", "BALLOON\n" + notice(72))
    for n in range(3, 6):
        write(box / f"{n}-fine.txt", notice(70 + n))
    db = tmp_path / "notices.db"
    out, stderr = run(ingest(box, db, "--cluster", cluster.address, "--timeout", str(TIMEOUT), "--memory", str(MEMORY_MB)), cluster.env)

    status = {Path(str(k)).name: (v["status"], str(v["reason"])) for k, v in out.items()}
    assert {k: s for k, (s, _) in status.items()} == {
        "1-hang.txt": "rejected", "2-balloon.txt": "rejected", "3-fine.txt": "done", "4-fine.txt": "done", "5-fine.txt": "done",
    }, stderr[-2000:]
    assert status["1-hang.txt"][1].startswith(str(box / "1-hang.txt")) and f"took longer than {TIMEOUT} s" in status["1-hang.txt"][1]
    assert f"needed more than the {MEMORY_MB} MB a worker may use" in status["2-balloon.txt"][1]
    assert "ingest: 5 inputs = 3 stored (3 done) + 0 duplicates + 2 rejected + 0 deferred" in stderr
    notes = {json.loads(p.read_text(encoding="utf-8"))["reason"] for p in (tmp_path / "quarantine").glob("*.json")}
    assert len(notes) == 2 and any(f"took longer than {TIMEOUT} s" in n for n in notes)  # quarantined by the client, with the note
    assert integrity(db) == ("ok", [])


def test_a_file_that_takes_every_worker_over_its_memory_limit_is_rejected_and_the_rest_stored(cluster: Cluster, tmp_path: Path) -> None:
    from distributed import Client

    box = tmp_path / "inbox"
    for n in range(1, 4):
        write(box / f"{n}-fine.txt", notice(80 + n))
    killer = box / "4-huge.pdf"
    with killer.open("wb") as f:  # a scan too large for a worker's memory: its bytes alone exceed it
        f.write(b"%PDF-1.4\n")
        f.truncate(KILLER_MB << 20)
    for n in range(5, 8):
        write(box / f"{n}-fine.txt", notice(80 + n))
    db = tmp_path / "notices.db"
    out, stderr = run(ingest(box, db, "--cluster", cluster.address), cluster.env)

    status = {Path(str(k)).name: (v["status"], str(v["reason"])) for k, v in out.items()}
    assert {k: s for k, (s, _) in status.items()} == {**{f"{n}-fine.txt": "done" for n in (1, 2, 3, 5, 6, 7)}, "4-huge.pdf": "rejected"}, stderr[-2000:]
    reason = status["4-huge.pdf"][1]
    assert reason.startswith(str(killer)) and "over its memory limit" in reason and f"of {WORKER_LIMIT_MB} MiB" in reason, reason
    assert "gongwen-parse-" not in reason  # the file is named, not Dask's task key
    assert "ingest: 7 inputs = 6 stored (6 done) + 0 duplicates + 1 rejected + 0 deferred" in stderr
    conn = store.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM files WHERE status = 'done'").fetchone()[0] == 6
    finally:
        conn.close()
    assert integrity(db) == ("ok", [])
    client = cluster.client
    assert isinstance(client, Client)
    client.wait_for_workers(2, timeout=120)  # the nanny started fresh workers in place of the killed ones
    assert sorted(client.nthreads().values()) == [1, 1]

    _, again = run(ingest(box, db, "--cluster", cluster.address), cluster.env)  # a rerun: nothing parsed twice
    assert " 6 duplicates + 1 rejected + 0 deferred" in again, again[-2000:]
