"""Parsing in worker processes: Jobs (a file and its hash) in, Replies (Parsed or Failure) out.

    WorkerPool(options, folder)     up to `options.workers` processes; submit(job), collect()
    worker_main(memory_mb)          a worker's loop (`python -m pipeline.ingest --worker`)
    work(path, name, sha256, ...)   one file read, normalised, split and parsed, as a JSON reply

Isolation: every file is parsed in a worker process (`python -m pipeline.ingest --worker`)
with an address-space cap (RLIMIT_AS) and a wall-time limit; workers live across files so
the OCR models load once per worker. A worker that crashes, hangs or runs out of memory
is killed with everything it started, the file gets a status and a reason, and a fresh
worker takes the next file. Workers only parse; they never open the store.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import traceback
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from models import FileResult, Page, Text
from pipeline.errors import EngineError, ExitCode, GongwenError, MissingDependency
from pipeline.ingest.inputs import Input, hash_file
from pipeline.reading.engines.interface import THREADS_VARIABLE, ocr_threads
from pipeline.store import Name

WORKER_START_SECONDS = 120.0  # imports and model loads; longer means the worker is broken
LOG_TAIL_BYTES = 600


@dataclass(frozen=True)
class Options:
    """How a batch runs. `timeout` is wall seconds per file, `memory_mb` the address space a worker may map.

    One worker by default: each engine already keeps every core busy with one file (rapidocr
    spreads a page over all cores, tesseract reads two pages at once). On 2 cores a second
    worker gave +6 % pages/min with tesseract and -5 % with rapidocr, at twice the memory
    (bench/ingest_bench.py); it pays off for text-layer PDFs and text, which need no OCR.
    """

    quarantine: Path
    engine: str = "auto"
    workers: int = 1
    timeout: float = 900.0
    memory_mb: int = 4096
    retry_rejected: bool = False
    cluster: str | None = None  # a Dask scheduler address or local:N (pipeline.ingest.cluster)
    ocr_threads: int | None = None  # a worker's OCR threads; None: its share of this machine's cores



@dataclass(frozen=True)
class Failure:
    """A file that was not parsed: rejected (its fault) or deferred (a passing problem)."""

    status: Literal["rejected", "deferred"]
    reason: str
    hint: str | None = None
    exit_code: int = ExitCode.error



@dataclass
class Job:
    """An input ready for a worker: the bytes at `path` (a temporary copy for zip members) hash to `sha256`."""

    input: Input
    path: Path
    sha256: str
    size: int
    temporary: bool = False


@dataclass(frozen=True)
class Parsed:
    """A worker's parse of one file, ready for the store."""

    result: FileResult
    pages: list[Page]
    page_texts: list[str]
    bodies: list[str]
    engine_broken: str | None = None


Reply = Parsed | Failure


# --- worker processes -----------------------------------------------------------------------------


class Worker:
    """One worker process and the job it is on. Its own session, so a kill takes the programs it
    started (tesseract) too; stderr goes to a log whose tail explains a crash."""

    def __init__(self, options: Options, log: Path) -> None:
        self.log = log
        env = {**os.environ, "MALLOC_ARENA_MAX": "2"}  # glibc maps 64 MiB per thread arena: address space RLIMIT_AS counts
        # each worker's OCR takes its share of the cores: processes scale, contending threads do not
        # (on a cluster the client works out each worker's share of its own machine: ocr_threads)
        env.setdefault(THREADS_VARIABLE, str(options.ocr_threads or max(1, ocr_threads() // max(1, options.workers))))
        with log.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pipeline.ingest", "--worker", "--memory-mb", str(options.memory_mb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
                start_new_session=True,
            )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = bytearray()
        self.ready = False
        self.job: Job | None = None
        self.deadline = time.monotonic() + WORKER_START_SECONDS

    def send(self, job: Job, options: Options) -> None:
        self.job = job
        if self.ready:
            self.deadline = time.monotonic() + options.timeout
        os.truncate(self.log, 0)  # the child appends (O_APPEND): it goes on writing at the new end
        request = {"path": str(job.path), "name": job.input.name.text, "sha256": job.sha256, "engine": options.engine}
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # it died: the EOF on its stdout reports it

    def lines(self) -> Iterator[dict[str, Any]] | None:
        """Complete reply lines read so far; None at EOF (the worker is gone) or on a line that
        is not JSON (the worker is broken: it is retired like a dead one)."""
        assert self.proc.stdout is not None
        try:
            chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
        except BlockingIOError:  # a spurious wake-up: nothing new
            return iter(())
        if not chunk:
            return None
        self.buffer += chunk
        *complete, rest = self.buffer.split(b"\n")
        self.buffer = bytearray(rest)
        try:
            return iter([json.loads(line) for line in complete if line.strip()])
        except ValueError:
            return None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass

    def close(self) -> None:
        """EOF on stdin ends the worker's loop; one that does not go is killed."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def death(self) -> str:
        """Why the worker ended, for a reason line: its exit status and its last words."""
        code = self.proc.wait()
        how = f"killed by {signal_name(-code)}" if code < 0 else f"exit code {code}"
        tail = self.log.read_bytes()[-LOG_TAIL_BYTES:].decode("utf-8", "replace").strip().replace("\n", " | ")
        return how + (f": {tail}" if tail else "")


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class WorkerPool:
    """Up to `options.workers` workers, started when first needed."""

    def __init__(self, options: Options, folder: Path) -> None:
        self.options = options
        self.folder = folder
        self.workers: list[Worker] = []
        self.started = 0
        self.selector = selectors.DefaultSelector()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self.workers:
            if exc[0] is None:
                worker.close()
            else:
                worker.kill()
        self.selector.close()

    def has_room(self) -> bool:
        return self.busy() < max(1, self.options.workers)

    def busy(self) -> int:
        return sum(1 for w in self.workers if w.job is not None)

    def submit(self, job: Job) -> None:
        for idle in [w for w in self.workers if w.job is None and w.proc.poll() is not None]:
            self.retire(idle)  # died between files (killed from outside): not this file's doing
        worker = next((w for w in self.workers if w.job is None), None)
        if worker is None:
            worker = self.start()
        worker.send(job, self.options)

    def start(self) -> Worker:
        self.started += 1
        worker = Worker(self.options, self.folder / f"worker-{self.started}.log")
        assert worker.proc.stdout is not None
        self.selector.register(worker.proc.stdout, selectors.EVENT_READ, worker)
        self.workers.append(worker)
        return worker

    def retire(self, worker: Worker) -> None:
        assert worker.proc.stdout is not None
        self.selector.unregister(worker.proc.stdout)
        worker.kill()
        self.workers.remove(worker)

    def collect(self) -> list[tuple[Job, Reply, int | None]]:
        """Wait for at least one finished job (a reply, a crash or a timeout)."""
        done: list[tuple[Job, Reply, int | None]] = []
        while not done:
            wait = min(w.deadline for w in self.workers if w.job is not None) - time.monotonic()
            for key, _ in self.selector.select(timeout=max(0.0, wait)):
                done += self.read(key.data)
            done += self.expire()
        return done

    def read(self, worker: Worker) -> list[tuple[Job, Reply, int | None]]:
        lines = worker.lines()
        if lines is None:
            return self.lost(worker)
        done: list[tuple[Job, Reply, int | None]] = []
        for message in lines:
            if message.get("ready"):
                worker.ready = True
                if worker.job is not None:
                    worker.deadline = time.monotonic() + self.options.timeout
                continue
            job, worker.job = worker.job, None
            if job is None:
                continue
            done.append((job, reply_of(message), message.get("rss_kb")))
            if message.get("restart"):
                self.retire(worker)
                break
        return done

    def lost(self, worker: Worker) -> list[tuple[Job, Reply, int | None]]:
        """The worker died: a crash while parsing is the file's doing; a crash at start-up is not."""
        job, started = worker.job, worker.ready
        self.retire(worker)
        if job is None:
            return []
        why = worker.death()
        if not started:
            return [(job, Failure("deferred", f"the worker process did not start ({why})", exit_code=ExitCode.error), None)]
        if "MemoryError" in why or "bad_alloc" in why or "Cannot allocate memory" in why:
            reason = f"it needed more than the {self.options.memory_mb} MB a worker may use; the worker died ({why})"
        else:
            reason = f"it crashed the reader ({why})"
        return [(job, Failure("rejected", reason), None)]

    def expire(self) -> list[tuple[Job, Reply, int | None]]:
        done: list[tuple[Job, Reply, int | None]] = []
        now = time.monotonic()
        for worker in [w for w in self.workers if w.job is not None and w.deadline <= now]:
            job, started = worker.job, worker.ready
            self.retire(worker)
            assert job is not None
            if started:
                done.append((job, Failure("rejected", f"reading it took longer than {self.options.timeout:g} s: stopped"), None))
            else:
                done.append((job, Failure("deferred", f"the worker process did not start within {WORKER_START_SECONDS:g} s"), None))
        return done


def reply_of(message: dict[str, Any]) -> Reply:
    if "failed" in message:
        return Failure(**message["failed"])
    parsed = message["parsed"]
    return Parsed(
        result=FileResult.model_validate(parsed["result"]),
        pages=[Page.model_validate(p) for p in parsed["pages"]],
        page_texts=parsed["page_texts"],
        bodies=parsed["bodies"],
        engine_broken=parsed.get("engine_broken"),
    )


# --- inside a worker --------------------------------------------------------------------------------


def worker_main(memory_mb: int) -> None:
    """Parse the files named on stdin, one JSON request a line; one JSON reply a line.

    The address-space cap is set before anything heavy is imported, so the OCR models count
    against it. Replies go to a private copy of stdout; fd 1 is pointed at stderr so a library
    printing to stdout cannot corrupt the protocol.
    """
    import resource

    limit = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    die_with_parent()
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a worker stops

    import pipeline.run  # noqa: F401  the parser and its models load before the first file's clock starts

    def send(message: dict[str, Any]) -> None:
        message["rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    send({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        send(work(Path(request["path"]), request["name"], request["sha256"], request["engine"], memory_mb))


def die_with_parent() -> None:
    """Linux: SIGKILL this worker when the batch process dies (kill -9 included), so an orphan
    never goes on parsing. Elsewhere the worker ends at the EOF on its stdin instead."""
    if sys.platform != "linux":
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def work(path: Path, name: str, sha256: str, engine: str, memory_mb: int) -> dict[str, Any]:
    """One file: read, normalise, split, parse. Errors become a `failed` reply naming `name`."""
    try:
        actual, _ = hash_file(path, Name.of(name))
        if actual != sha256:
            return {"failed": asdict(Failure("deferred", "changed while being ingested (still being copied?)"))}
        return {"parsed": parse(path, name, engine)}
    except MemoryError:
        failure = Failure("rejected", f"it needed more than the {memory_mb} MB a worker may use")
        return {"failed": asdict(failure), "restart": True}
    except GongwenError as e:
        return {"failed": asdict(failure_of(e, str(path), name))}
    except Exception as e:  # a bug in a stage: the file is kept in quarantine to reproduce it
        where = traceback.extract_tb(e.__traceback__)[-1]
        reason = f"gongwen failed on it: {type(e).__name__}: {' '.join(str(e).split())} (at {Path(where.filename).name}:{where.lineno}; please report it)"
        return {"failed": asdict(Failure("rejected", reason)), "restart": True}


def parse(path: Path, name: str, engine: str) -> dict[str, Any]:
    from pipeline.reading.read import read_file
    from pipeline.run import parse_pages

    read = read_file(path, engine=engine)
    result, text = parse_pages(read.pages, file=name, kind=read.kind, engine=read.engine)
    result.problems = read.problems + result.problems
    failed = {p.page for p in result.problems if p.severity == "error" and p.page is not None}
    broken = engine_health(engine) if read.pages and len(failed) == len(read.pages) else None
    return {
        "result": result.model_dump(mode="json"),
        "pages": [p.model_dump(mode="json") for p in read.pages],
        "page_texts": page_texts(text, read.pages),
        "bodies": document_bodies(result, text),
        "engine_broken": broken,
    }


def page_texts(text: Text, pages: list[Page]) -> list[str]:
    """The normalised text of each page: every character goes to the page its raw character was
    read on, so a paragraph the normaliser reflowed across a page break is cut back at it."""
    starts = [line.start for line in text.raw_lines]
    numbers = [p.number for p in pages]
    chars: dict[int, list[str]] = {n: [] for n in numbers}
    page = numbers[0] if numbers else None
    for ch, origin in zip(text.text, text.origin):
        line = bisect_right(starts, origin) - 1 if origin >= 0 else -1
        if line >= 0:
            page = text.raw_lines[line].page
        if page in chars:
            chars[page].append(ch)
    return ["".join(chars[n]).strip() for n in numbers]


def document_bodies(result: FileResult, text: Text) -> list[str]:
    return [text.text[d.span.start : d.span.end] if d.span else "" for d in result.documents]


def engine_health(name: str) -> str | None:
    """When every page failed: is it the engine? A blank page must read as nothing, not fail."""
    import numpy as np

    from pipeline.reading.engines import get_engine

    try:
        get_engine(name).read(np.full((64, 64, 3), 255, np.uint8), page_number=0, dpi=None, timeout=30)
    except GongwenError as e:
        return e.message
    return None


def failure_of(e: GongwenError, path: str, name: str) -> Failure:
    """The engine missing or broken is not the file's fault (deferred); any input error is."""
    message = e.message.replace(path, name)
    if isinstance(e, MissingDependency | EngineError):
        return Failure("deferred", message, e.hint, int(e.exit_code))
    return Failure("rejected", message, e.hint, int(e.exit_code))
