#!/usr/bin/env python3
"""The desk under load: concurrent clerks reading while an ingest writes to the same store.
Not a test (tests/test_web_load.py runs a short version): figures for the README.

    python bench/desk_load.py                      20 clients for 60 s, an ingest of 50 files meanwhile
    python bench/desk_load.py --clients 4 --requests 20 --files 5     bounded by count instead of time

What runs, all real and all on 127.0.0.1: `gongwen serve` on a free port over a fresh store
holding the seed notice and the text-layer PDF h01 (its page picture is rendered like a scan's);
N client threads, each with its own connection, asking in turn for the register, a full-text
search, a document page and that document's page picture; and `gongwen ingest` of F text
notices (fixture texts, each made a distinct file) into the same database from its own worker
processes. Every request is timed; a status other than 200, a refused connection or a timeout
is an error; "database is locked" is looked for in every answer and in the server's and the
ingest's output. The run stops by itself: after --seconds, or after --requests per client.

Prints a markdown table (p50, p95, max per kind of page, with the goals: pages 300 ms at p95,
search 1 s), the CPU time each party used during the run (the server's per request, which a
shared machine's load inflates far less than the latencies) and the load average at the start
and the end, and a JSON summary line on stdout; exit code 1 on any error or lock, 0 otherwise
(a missed latency goal is reported, not failed: the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
GONGWEN = [sys.executable, "-m", "pipeline.cli.main"]
SEED = ROOT / "fixtures" / "seed" / "000_b23ec74a3ac5c572.txt"
TEXT_LAYER = ROOT / "fixtures" / "scans" / "h01_ministry_fire_campaign.pdf"
TEXTS = sorted([*ROOT.glob("fixtures/chains/*/*.txt"), *ROOT.glob("fixtures/scans/*.truth.txt"), SEED])
GOALS_MS = {"register": 300, "document": 300, "page image": 300, "search": 1000}
LOCKED = "database is locked"
STARTUP_SECONDS = 120  # the most the server may take to answer its first request: a safety net only


@dataclass
class Report:
    clients: int
    seconds: float
    requests: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    locked: int = 0
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    ingest_files: int = 0
    ingest_statuses: dict[str, int] = field(default_factory=dict)
    ingest_seconds: float = 0.0
    ingest_exit: int | None = None
    server_cpu_s: float = 0.0  # the desk's process, user + system, during the load
    clients_cpu_s: float = 0.0  # the client threads (this process)
    ingest_cpu_s: float = 0.0  # `gongwen ingest` and its worker processes
    load_average: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at the start and at the end

    @property
    def server_ms_per_request(self) -> float:
        total = sum(self.requests.values())
        return round(self.server_cpu_s * 1000 / total, 2) if total else 0.0

    @property
    def ok(self) -> bool:
        return not self.errors and self.locked == 0 and self.ingest_exit == 0


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(folder: Path, files: int) -> tuple[Path, Path, list[Path]]:
    """A store with the seed and h01 in it, and `files` distinct text notices to ingest later."""
    db = folder / "notices.db"
    subprocess.run([*GONGWEN, "ingest", "--db", str(db), str(SEED), str(TEXT_LAYER)], env=env(), check=True, stdout=subprocess.DEVNULL)
    inbox = folder / "inbox"
    inbox.mkdir()
    made = []
    for n in range(files):
        source = TEXTS[n % len(TEXTS)]
        target = inbox / f"{n:03d}_{source.name}"
        # the same notice again, as another file (its own bytes): trailing blank lines change nothing read
        target.write_bytes(source.read_bytes() + b"\n" * (n // len(TEXTS) + 1))
        made.append(target)
    return db, inbox, made


def targets(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        doc_id, sha256 = conn.execute(
            "SELECT d.id, d.sha256 FROM documents d JOIN files f ON f.sha256 = d.sha256 WHERE f.kind LIKE 'pdf%' ORDER BY d.id LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return {"register": "/", "search": "/?q=消防安全", "document": f"/documents/{doc_id}", "page image": f"/scans/{sha256}/1.jpg"}


def serve(db: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        server = subprocess.Popen([*GONGWEN, "serve", "--db", str(db), "--port", str(port)], env=env(), stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.2)
    stop(server)
    raise RuntimeError(f"the desk did not start: {log.read_text(errors='replace')[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def client(base: str, urls: dict[str, str], offset: int, more: Callable[[int], bool], timings: dict[str, list[float]], errors: list[str], locks: list[int]) -> None:
    kinds = list(urls)
    with httpx.Client(base_url=base, timeout=30) as http:
        n = 0
        while more(n):
            kind = kinds[(offset + n) % len(kinds)]
            start = time.perf_counter()
            try:
                response = http.get(urls[kind])
                elapsed = (time.perf_counter() - start) * 1000
                if kind != "page image" and LOCKED in response.text:
                    locks.append(1)
                if response.status_code != 200:
                    errors.append(f"{kind}: HTTP {response.status_code}")
                timings[kind].append(elapsed)
            except httpx.HTTPError as e:
                errors.append(f"{kind}: {type(e).__name__}: {e}")
            n += 1


def run(clients: int = 20, seconds: float | None = 60.0, requests: int | None = None, files: int = 50) -> Report:
    """The load, bounded by `seconds` (or by `requests` per client when seconds is None)."""
    with tempfile.TemporaryDirectory(prefix="gongwen-load-") as tmp:
        folder = Path(tmp)
        print(f"preparing a store and {files} files to ingest…", file=sys.stderr)
        db, inbox, made = prepare(folder, files)
        urls = targets(db)
        port = free_port()
        server = serve(db, port, folder / "server.log")
        try:
            base = f"http://127.0.0.1:{port}"
            for url in urls.values():  # the page picture is rendered once and cached, as for a clerk
                httpx.get(base + url, timeout=120).raise_for_status()
            timings: dict[str, list[float]] = {kind: [] for kind in urls}
            errors: list[str] = []
            locks: list[int] = []
            print(f"{clients} clients on {base} while `gongwen ingest` stores {files} files…", file=sys.stderr)
            load_before = os.getloadavg()[0]
            desk_process = psutil.Process(server.pid)
            server_cpu, clients_cpu = sum(desk_process.cpu_times()[:2]), time.process_time()
            children_cpu = _children_cpu()
            started = time.monotonic()
            ingest_log = folder / "ingest.log"
            with ingest_log.open("wb") as log:
                ingest = subprocess.Popen([*GONGWEN, "ingest", "--db", str(db), str(inbox)], env=env(), stdout=subprocess.PIPE, stderr=log)
            if seconds is not None:
                until = started + seconds
                more: Callable[[int], bool] = lambda n: time.monotonic() < until  # noqa: E731
            else:
                assert requests is not None
                more = lambda n: n < requests  # noqa: E731
            threads = [threading.Thread(target=client, args=(base, urls, i, more, timings, errors, locks)) for i in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            server_cpu = sum(desk_process.cpu_times()[:2]) - server_cpu
            clients_cpu = time.process_time() - clients_cpu
            load_after = os.getloadavg()[0]
            out, _ = ingest.communicate(timeout=1800)
            ingest_seconds = time.monotonic() - started
            ingest_cpu = _children_cpu() - children_cpu  # the ingest is the only child reaped meanwhile
        finally:
            stop(server)
        statuses: dict[str, int] = {}
        for line in out.decode("utf-8").splitlines():
            status = json.loads(line)["status"]
            statuses[status] = statuses.get(status, 0) + 1
        outputs = (folder / "server.log").read_text(errors="replace") + ingest_log.read_text(errors="replace")
        report = Report(
            clients=clients,
            seconds=round(elapsed, 1),
            requests={kind: len(times) for kind, times in timings.items()},
            errors=errors[:20] + ([f"… {len(errors) - 20} more"] if len(errors) > 20 else []),
            locked=len(locks) + outputs.count(LOCKED),
            latency_ms={
                kind: {"p50": round(percentile(t, 0.5), 1), "p95": round(percentile(t, 0.95), 1), "max": round(max(t, default=0.0), 1)}
                for kind, t in timings.items()
            },
            ingest_files=len(made),
            ingest_statuses=statuses,
            ingest_seconds=round(ingest_seconds, 1),
            ingest_exit=ingest.returncode,
            server_cpu_s=round(server_cpu, 1),
            clients_cpu_s=round(clients_cpu, 1),
            ingest_cpu_s=round(ingest_cpu, 1),
            load_average=(round(load_before, 1), round(load_after, 1)),
        )
        return report


def _children_cpu() -> float:
    """User + system seconds of the child processes reaped so far (and of their own children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def table(report: Report) -> str:
    rows = [
        f"{report.clients} clients, {report.seconds} s, while `gongwen ingest` stored {report.ingest_files} files "
        f"({', '.join(f'{k} {v}' for k, v in sorted(report.ingest_statuses.items()))}; {report.ingest_seconds} s)",
        "",
        "| page | requests | p50 ms | p95 ms | max ms | goal p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, figures in report.latency_ms.items():
        goal = GOALS_MS[kind]
        met = "met" if figures["p95"] <= goal else "missed"
        rows.append(f"| {kind} | {report.requests[kind]} | {figures['p50']} | {figures['p95']} | {figures['max']} | ≤ {goal} ({met}) |")
    rows.append("")
    rows.append(f"errors: {len(report.errors)}; `database is locked`: {report.locked}; ingest exit code {report.ingest_exit}")
    rows.append(
        f"CPU during the load: desk {report.server_cpu_s} s ({report.server_ms_per_request} ms a request), "
        f"clients {report.clients_cpu_s} s, ingest {report.ingest_cpu_s} s; "
        f"load average {report.load_average[0]} at the start, {report.load_average[1]} at the end ({os.cpu_count()} cores)"
    )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--requests", type=int, default=None, help="requests per client instead of --seconds")
    parser.add_argument("--files", type=int, default=50)
    args = parser.parse_args()
    report = run(args.clients, None if args.requests else args.seconds, args.requests, args.files)
    print(table(report))
    print(json.dumps({**asdict(report), "server_ms_per_request": report.server_ms_per_request}, ensure_ascii=False))
    for error in report.errors:
        print(error, file=sys.stderr)
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
