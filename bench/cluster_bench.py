#!/usr/bin/env python3
"""Ingest on a Dask cluster against local workers, the cluster path's cost per file, the one
writer's limit, and what that projects to. Not a test: figures for the README ("On a cluster").

    python bench/cluster_bench.py                 every fixture scan, 2,000 generated text notices
    python bench/cluster_bench.py --quick         two scans, 300 notices: a smoke run
    python bench/cluster_bench.py --scans 6       the first six scans
    python bench/cluster_bench.py --files 100000  the memory run: client RSS over a long batch

Rows:
- scans, `--cluster local:2` ÷ `--workers 2`: the same fixture scans, a fresh database each,
  wall time of the whole batch (workers started and models loaded inside it, both ways);
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
import time
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


def cluster_start(engine: str) -> float:
    """Seconds to start a LocalCluster of 2 and check its workers, then close it: the fixed cost."""
    from pipeline.ingest.cluster import ClusterPool

    with tempfile.TemporaryDirectory(prefix="gongwen-bench-start-") as tmp:
        started = time.perf_counter()
        with ClusterPool(ingest.Options(quarantine=Path(tmp), engine=engine, cluster="local:2"), Path(tmp)):
            seconds = time.perf_counter() - started
    return seconds


def run(paths: list[Path], engine: str, *, cluster: str | None, workers: int = 2, report=lambda o: None) -> tuple[float, list[ingest.Outcome]]:
    with tempfile.TemporaryDirectory(prefix="gongwen-bench-cluster-") as tmp:
        db = Path(tmp) / "notices.db"
        conn = store.connect(db)
        options = ingest.Options(quarantine=ingest.quarantine_folder(db), engine=engine, workers=workers, timeout=3600, cluster=cluster)
        inputs = ingest.collect(paths)
        started = time.perf_counter()
        outcomes = ingest.ingest(inputs, conn, options, report)
        seconds = time.perf_counter() - started
        conn.close()
    bad = [o for o in outcomes if o.status not in store.STORED]
    if bad:
        sys.exit(f"bench batch not clean: {bad[0].name.text}: {bad[0].status} {bad[0].reason}")
    return seconds, outcomes


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="tesseract", choices=["tesseract", "rapidocr", "auto"])
    parser.add_argument("--quick", action="store_true", help="two scans and 300 text notices")
    parser.add_argument("--scans", type=int, help="the first N fixture scans (default all; 2 with --quick)")
    parser.add_argument("--files", type=int, help="text notices in the batch (default 2,000; 300 with --quick)")
    args = parser.parse_args()
    files = args.files or (300 if args.quick else 2000)
    paths = scans(args.scans or (2 if args.quick else None))
    pages = sum(load(p, sniff(p)).page_count for p in paths)
    rows: list[tuple[str, str, str]] = []
    print(f"{len(paths)} scans, {pages} pages, engine {args.engine}, {os.cpu_count()} cores; {files} text notices", file=sys.stderr)

    local, _ = run(paths, args.engine, cluster=None)
    cluster, outcomes = run(paths, args.engine, cluster="local:2")
    pages_per_doc = pages / max(1, sum(len(o.documents) for o in outcomes))
    per_worker = pages / cluster * 60 / 2
    rows.append(("scans, 2 local workers", f"{pages / local * 60:.1f} pages/min", f"{local:.0f} s for {pages} pages"))
    rows.append(("scans, --cluster local:2", f"{pages / cluster * 60:.1f} pages/min", f"{cluster:.0f} s, LocalCluster start included"))
    rows.append(("cluster ÷ local (wall)", f"{cluster / local:.2f}", "aim ≤ 1.1"))
    start = cluster_start(args.engine)
    rows.append(("cluster ÷ local, cluster already up", f"{(cluster - start) / local:.2f}", f"less the LocalCluster's start and checks, {start:.1f} s"))

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

        cpu = time.process_time()
        seconds, outcomes = run(batch, args.engine, cluster="local:2", report=report)
        cpu = time.process_time() - cpu
        text_pages = sum(o.pages for o in outcomes)
        rows.append(("text notices, --cluster local:2", f"{files / seconds:.1f} files/s", f"{files} files, {seconds:.0f} s"))
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
