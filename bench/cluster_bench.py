#!/usr/bin/env python3
"""Ingest on a Dask cluster against local workers, the cluster path's cost per file, the one
writer's limit, and what that projects to. Not a test: figures for the README ("On a cluster").

    python bench/cluster_bench.py                 every fixture scan, 2,000 generated text notices
    python bench/cluster_bench.py --quick         two scans, 300 notices: a smoke run
    python bench/cluster_bench.py --scans 6       the first six scans
    python bench/cluster_bench.py --files 100000 --text-only   the memory run: the client's RSS
                                                  every 1,000 files of one long batch (stderr as it goes)

Rows:
- scans, the same fixture scans, a fresh database each, in one run: 2 local workers; a
  standing cluster (a LocalCluster of 2 started before the clock, as `dask scheduler` and
  `dask worker` are on a real cluster); `--cluster local:2` (the LocalCluster started and
  closed inside the batch). Wall time and the CPU seconds of the whole process tree (this
  process, the parsing processes, Dask's workers): the machine is shared, so the CPU shows
  what each way costs when the wall clock is at the mercy of the neighbours. Parsing
  processes start and load their models inside the clock in all three;
- the LocalCluster's start and close on their own, wall and CPU;
- text notices through local:2: files/s, and the client's CPU seconds per file (read the bytes,
  serialise, send, receive, deserialise, decide, store);
- the one writer: documents/s that `store.save_file` commits (synchronous=FULL, one
  transaction per file), on records of the same notices with fresh hashes;
- client RSS at a quarter, half and the end of the text batch: flat when files in flight are bounded;
- projection: pages/min for 10, 50 and 200 workers of this machine's kind (one worker = one
  process with one thread, i.e. half of this 2-core machine's local:2 rate), capped by the writer
  and by the client, and the worker count where the cap is reached.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import ingest, store  # noqa: E402
from pipeline.ingest.workers import parse  # noqa: E402
from pipeline.reading.load import load  # noqa: E402
from pipeline.reading.sniff import sniff  # noqa: E402
from tests.test_ingest import notice  # noqa: E402

SCANS = ROOT / "fixtures" / "scans"
TEXT_LAYER = SCANS / "h01_ministry_fire_campaign.pdf"
WORKERS = (10, 50, 200)


def scans(count: int | None) -> list[Path]:
    found = sorted(p for p in SCANS.iterdir() if p.suffix in (".pdf", ".tiff", ".jpg") and p != TEXT_LAYER)
    return found[:count] if count else found


class TreeCPU:
    """CPU seconds of this process and every process under it, sampled every 0.2 s so the ones
    that end (parsing processes, Dask's workers) are counted too."""

    def __init__(self) -> None:
        self.me = psutil.Process()
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()

    def sample(self) -> float:
        for proc in [self.me, *self.me.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                self.seen[proc.pid] = times.user + times.system
            except psutil.Error:
                pass
        return sum(self.seen.values())

    def loop(self) -> None:
        while not self.stop.wait(0.2):
            self.sample()


@contextmanager
def tree_cpu() -> Iterator[list[float]]:
    """Yields a list that holds, after the block, the CPU seconds the tree spent in it."""
    meter = TreeCPU()
    before = meter.sample()
    thread = threading.Thread(target=meter.loop, daemon=True)
    thread.start()
    spent: list[float] = []
    try:
        yield spent
    finally:
        meter.stop.set()
        thread.join()
        spent.append(meter.sample() - before)


def cluster_start(engine: str) -> tuple[float, float, float]:
    """A LocalCluster of 2 started, its workers checked, closed: wall seconds to start, to close, and CPU."""
    from pipeline.ingest.cluster import ClusterPool

    with tempfile.TemporaryDirectory(prefix="gongwen-bench-start-") as tmp, tree_cpu() as cpu:
        started = time.perf_counter()
        pool = ClusterPool(ingest.Options(quarantine=Path(tmp), engine=engine, cluster="local:2"), Path(tmp))
        up = time.perf_counter()
        pool.close()
        closed = time.perf_counter()
    return up - started, closed - up, cpu[0]


@contextmanager
def standing_cluster() -> Iterator[str]:
    """A LocalCluster of 2 worker processes, up before any clock starts: its scheduler's address."""
    import dask
    from distributed import LocalCluster

    from pipeline.ingest.cluster import QUIET  # as README's `dask worker` line sets them

    dask.config.set({"distributed.worker.multiprocessing-method": "forkserver", **QUIET})
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, worker_dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def run(paths: list[Path], engine: str, *, cluster: str | None, workers: int = 2, report=lambda o: None) -> tuple[float, float, list[ingest.Outcome]]:
    """One batch into a fresh database: wall seconds, CPU seconds of the process tree, outcomes."""
    with tempfile.TemporaryDirectory(prefix="gongwen-bench-cluster-") as tmp:
        db = Path(tmp) / "notices.db"
        conn = store.connect(db)
        options = ingest.Options(quarantine=ingest.quarantine_folder(db), engine=engine, workers=workers, timeout=3600, cluster=cluster)
        inputs = ingest.collect(paths)
        with tree_cpu() as cpu:
            started = time.perf_counter()
            outcomes = ingest.ingest(inputs, conn, options, report)
            seconds = time.perf_counter() - started
        conn.close()
    bad = [o for o in outcomes if o.status not in store.STORED]
    if bad:
        sys.exit(f"bench batch not clean: {bad[0].name.text}: {bad[0].status} {bad[0].reason}")
    return seconds, cpu[0], outcomes


def loadavg() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def text_batch(folder: Path, count: int) -> list[Path]:
    for n in range(count):
        (folder / f"notice-{n:06d}.txt").write_text(notice(1000 + n), encoding="utf-8")
    return [folder]


def writer_rate(folder: Path, seconds: float = 10.0) -> float:
    """Documents a second the store commits, on parsed notices saved under fresh hashes."""
    from models import FileResult, Page

    records = []
    for n in range(5):
        path = folder / f"sample-{n}.txt"
        path.write_text(notice(900_000 + n), encoding="utf-8")
        reply = parse(path, path.name, "auto")
        result = FileResult.model_validate(reply["result"])
        records.append((result, [Page.model_validate(p) for p in reply["pages"]], reply["page_texts"], reply["bodies"]))
    conn = store.connect(folder / "writer.db")
    documents, n, started = 0, 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        result, pages, texts, bodies = records[n % len(records)]
        sha = f"{n:064x}"
        # a fresh 文号 per copy, so the possible-duplicate look-up finds nothing, as for distinct notices
        docs = [d.model_copy(update={"doc_number": f"{d.doc_number}-{n}" if d.doc_number else None}) for d in result.documents]
        record = store.FileRecord(sha, 1000, store.Name.of(f"copy-{n}.txt"), store.Verdict("done"), "text", result.model_copy(update={"documents": docs}), pages, texts, bodies)
        documents += len(store.save_file(conn, record).document_ids)
        n += 1
    conn.close()
    return documents / (time.perf_counter() - started)


def memory_run(files: int, engine: str, every: int) -> tuple[float, float, dict[int, float]]:
    """One batch of `files` text notices through a fresh local:2: the client's RSS every `every`
    files, said on stderr as it goes. Wall seconds, this process's CPU seconds, RSS by files done."""
    me = psutil.Process()
    rss: dict[int, float] = {}
    done = [0]

    def report(outcome: ingest.Outcome) -> None:
        done[0] += 1
        if done[0] % every == 0 or done[0] == files:
            rss[done[0]] = me.memory_info().rss / 2**20
            print(f"{done[0]:>7,} files  client RSS {rss[done[0]]:6.1f} MiB  {time.perf_counter() - started:7.0f} s  {loadavg()}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="gongwen-bench-text-") as tmp:
        batch = text_batch(Path(tmp), files)
        cpu = time.process_time()
        started = time.perf_counter()
        seconds, _, _ = run(batch, engine, cluster="local:2", report=report)
        cpu = time.process_time() - cpu
    return seconds, cpu, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="tesseract", choices=["tesseract", "rapidocr", "auto"])
    parser.add_argument("--quick", action="store_true", help="two scans and 300 text notices")
    parser.add_argument("--scans", type=int, help="the first N fixture scans (default all; 2 with --quick)")
    parser.add_argument("--files", type=int, help="text notices in the batch (default 2,000; 300 with --quick)")
    parser.add_argument("--text-only", action="store_true", help="only the text batch, the client's RSS every --every files")
    parser.add_argument("--every", type=int, default=1000, help="with --text-only: files between RSS samples")
    args = parser.parse_args()
    files = args.files or (300 if args.quick else 2000)
    if args.text_only:
        seconds, cpu, rss = memory_run(files, args.engine, args.every)
        values = list(rss.values())
        print(f"{files:,} text notices through local:2 in {seconds:,.0f} s ({files / seconds:.1f} files/s, {loadavg()}); "
              f"client CPU {cpu / files * 1000:.1f} ms a file; client RSS {min(values):.0f}–{max(values):.0f} MiB over {len(values)} samples")
        return
    paths = scans(args.scans or (2 if args.quick else None))
    pages = sum(load(p, sniff(p)).page_count for p in paths)
    rows: list[tuple[str, str, str]] = []
    print(f"{len(paths)} scans, {pages} pages, engine {args.engine}, {os.cpu_count()} cores; {files} text notices; {loadavg()}", file=sys.stderr)

    local, local_cpu, _ = run(paths, args.engine, cluster=None)
    at_local = loadavg()
    with standing_cluster() as address:
        standing, standing_cpu, _ = run(paths, args.engine, cluster=address)
        at_standing = loadavg()
    fresh, fresh_cpu, outcomes = run(paths, args.engine, cluster="local:2")
    at_fresh = loadavg()
    pages_per_doc = pages / max(1, sum(len(o.documents) for o in outcomes))
    per_worker = pages / standing * 60 / 2
    rows.append(("scans, 2 local workers", f"{local:.0f} s, {local_cpu:.0f} CPU-s", f"{pages / local * 60:.1f} pages/min; {at_local}"))
    rows.append(("scans, a standing cluster of 2", f"{standing:.0f} s, {standing_cpu:.0f} CPU-s", f"{standing / local:.2f}× local's wall, {standing_cpu / local_cpu:.2f}× its CPU (aim ≤ 1.1); {at_standing}"))
    rows.append(("scans, --cluster local:2", f"{fresh:.0f} s, {fresh_cpu:.0f} CPU-s", f"{fresh / local:.2f}× local's wall, {fresh_cpu / local_cpu:.2f}× its CPU, the LocalCluster's start and close inside; {at_fresh}"))
    up, close, start_cpu = cluster_start(args.engine)
    rows.append(("LocalCluster of 2: start, close", f"{up:.1f} s, {close:.1f} s", f"{start_cpu:.1f} CPU-s; {loadavg()}"))

    me = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="gongwen-bench-text-") as tmp:
        batch = text_batch(Path(tmp), files)
        marks = {files // 4: "¼", files // 2: "½", files: "end"}
        rss: dict[str, float] = {}
        done = [0]

        def report(outcome: ingest.Outcome) -> None:
            done[0] += 1
            if done[0] in marks:
                rss[marks[done[0]]] = me.memory_info().rss / 2**20

        with standing_cluster() as address:
            cpu = time.process_time()
            seconds, _, outcomes = run(batch, args.engine, cluster=address, report=report)
            cpu = time.process_time() - cpu
        rows.append(("text notices, a standing cluster of 2", f"{files / seconds:.1f} files/s", f"{files} files, {seconds:.0f} s; {loadavg()}"))
        rows.append(("client CPU per file", f"{cpu / files * 1000:.1f} ms", "read, serialise, send, receive, decide, store; the LocalCluster's scheduler runs in the client"))
        rows.append(("client RSS at ¼, ½, end", " / ".join(f"{rss.get(k, 0):.0f}" for k in ("¼", "½", "end")) + " MiB", f"{files} files in one batch"))
        writer = writer_rate(Path(tmp))
    rows.append(("the one writer (save_file)", f"{writer:.0f} documents/s", "synchronous=FULL, one transaction a file"))

    client_files = files / cpu if cpu else float("inf")
    cap = min(writer, client_files) * pages_per_doc * 60
    saturation = cap / per_worker
    for workers in WORKERS:
        rows.append((f"projected, {workers} workers", f"{min(workers * per_worker, cap):,.0f} pages/min", "writer-bound" if workers > saturation else f"{per_worker:.1f} pages/min a worker"))
    rows.append(("the one writer saturates at", f"~{saturation:,.0f} workers", f"{cap:,.0f} pages/min at {pages_per_doc:.1f} pages a document (the scans)"))

    print(f"| measure ({args.engine}, {os.cpu_count()} cores) | value | note |")
    print("| --- | ---: | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
