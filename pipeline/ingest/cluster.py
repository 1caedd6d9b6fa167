"""Parsing on a Dask cluster: Jobs in, Replies out, as from WorkerPool, but on the cluster's workers.

    ClusterPool(options, folder)    `options.cluster` is a scheduler address (tcp://host:8786) or
                                    local:N (a LocalCluster of N worker processes on this machine);
                                    has_room(), submit(job), collect(), like WorkerPool
    parse_remote(data, ...)         what runs on a Dask worker: one file's bytes to a Reply

The client stays the only writer of the store: workers get a file's bytes (under the caps
of pipeline.ingest.inputs, so they need not see the client's disk) and send back the parse;
statuses, quarantine, duplicates and the summary are decided by pipeline.ingest.batch as in
a local run.

On a worker, each Dask thread keeps one parsing process of its own (pipeline.ingest.workers):
Dask can neither stop a running task nor cap one task's memory, and that process gives the
same wall-time limit and address-space cap as a local run, with the same reasons.

Faults:
- a Dask worker killed mid-task: the scheduler runs the task on another worker; the reply
  comes back once, so the file is stored once;
- a worker over its memory limit: Dask's nanny kills it and starts a fresh one, and the
  scheduler runs its tasks elsewhere. A file that kills every worker it is given
  (`distributed.scheduler.allowed-failures`, 3 by default) ends in KilledWorker. The scheduler
  counts a death against every task on that worker, the one queued behind the culprit too, so
  such a file is tried once more alone (nothing else in flight): killing workers then, it is
  rejected with the reason (the nanny's memory kill, when it logged one) and the batch goes on;
  the others are stored;
- a worker whose OCR engine is missing or broken: said once for that worker on stderr; its
  scans are deferred, as in a local run;
- the scheduler gone: Dask cancels every future; the files in flight and the rest of the
  batch are deferred with exit code 10 (ClusterError), and a rerun finishes the batch.

Back-pressure: at most IN_FLIGHT_PER_THREAD files per Dask worker thread and
MAX_BYTES_IN_FLIGHT bytes are out at once, so the files waiting are not held in memory.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.errors import ClusterError, ExitCode
from pipeline.ingest.inputs import MAX_FILE_BYTES, Input
from pipeline.ingest.workers import Failure, Job, Options, Parsed, Reply, WorkerPool
from pipeline.store import Name

SCHEDULER_ENV = "GONGWEN_DASK_SCHEDULER"
IN_FLIGHT_PER_THREAD = 2  # one being parsed, one waiting on the worker: no worker idles between files
MAX_BYTES_IN_FLIGHT = 256 << 20  # a few large scans; one file always goes out, whatever its size
CONNECT_SECONDS = 30.0  # Dask's own connect timeout
WORKERS_SECONDS = 60.0  # a scheduler with no worker after this long is refused
POLL_SECONDS = 1.0  # how often a wait looks at the worker count
ENGINE_TROUBLE = (ExitCode.missing_dependency, ExitCode.engine)
MEMORY_EVENT = "worker-restart-memory"  # what Dask's nanny logs when it kills a worker over its memory limit
# Dask's housekeeping for its dashboard, which a batch does not show: a worker samples its
# running thread's stack every 10 ms, and every scheduler, nanny and worker checks its event
# loop every 20 ms and reads /proc every 0.5 s. On a shared 2-core machine that was 3.5 % of a
# core per idle worker and 4.5 % for the client; these settings cut both by two thirds and more
# (bench/cluster_bench.py). The nanny's memory watch (every 0.1 s) is not among them.
QUIET = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}

log = logging.getLogger(__name__)


class ClusterPool:
    """The files of a batch in flight on a Dask cluster."""

    def __init__(self, options: Options, folder: Path) -> None:
        from distributed import Client, LocalCluster

        assert options.cluster
        self.options = options
        self.cluster: Any = None
        self.address = options.cluster
        self.futures: dict[Any, tuple[Job, int]] = {}
        self.ready: list[tuple[Job, Reply, int | None]] = []
        self.bytes = 0
        self.said_lost = False
        self.said_engine: set[str] = set()
        self.memory_limits: dict[str, int | None] = {}
        self.suspects: deque[Job] = deque()  # got KilledWorker among others: to be tried alone
        self.alone: Job | None = None  # the suspect in flight by itself
        try:
            if options.cluster.startswith("local:"):
                import dask

                # processes, not threads: the parse holds the GIL, and a crash must not take the client.
                # Forked from one server that imported Dask and this program once, rather than
                # each spawned afresh: a worker (and the nanny's restart of one) starts in a
                # fraction of the CPU, and closes without waiting out an interpreter's shutdown.
                dask.config.set({"distributed.worker.multiprocessing-method": "forkserver", **QUIET})
                self.cluster = LocalCluster(
                    n_workers=local_workers(options.cluster),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    worker_dashboard_address=None,
                    silence_logs=logging.CRITICAL,
                )
                self.address = self.cluster.scheduler_address
            quiet_dask()
            self.client = Client(self.address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as e:
            self.close()
            raise ClusterError(
                f"cannot reach the Dask scheduler at {self.address}: {e}",
                hint="start one with `dask scheduler`, or check --cluster (or GONGWEN_DASK_SCHEDULER)",
            ) from e
        try:
            self.settings = self.check_workers()
        except BaseException:
            self.close()
            raise
        self.slots = self.count_slots()
        self.counted = time.monotonic()

    def __enter__(self) -> ClusterPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """The client, then a LocalCluster we started: its worker processes end with it."""
        client, self.client = getattr(self, "client", None), None
        if client is not None:
            for future in self.futures:
                future.release()
            client.close(timeout=10)
        if self.cluster is not None:
            self.cluster.close(timeout=30)
            self.cluster = None

    # --- the pool's interface (batch.ingest) --------------------------------------------------

    def has_room(self) -> bool:
        if self.suspects or self.alone is not None:
            return False  # a suspect goes alone: nothing more until it is settled
        if time.monotonic() - self.counted > 5 * POLL_SECONDS:  # workers come and go
            self.slots, self.counted = self.count_slots() or self.slots, time.monotonic()
        return not self.futures or (len(self.futures) < self.slots and self.bytes < MAX_BYTES_IN_FLIGHT)

    def busy(self) -> int:
        return len(self.futures) + len(self.ready) + len(self.suspects)

    def submit(self, job: Job) -> None:
        if self.client.status != "running":  # reconnecting after the scheduler went away
            self.ready.append((job, self.lost(), None))
            return
        try:
            data = job.path.read_bytes()
        except OSError as e:
            self.ready.append((job, Failure("rejected", f"cannot read: {e.strerror or e}"), None))
            return
        key = f"gongwen-parse-{job.sha256[:16]}-{uuid.uuid4().hex[:8]}"
        future = self.client.submit(parse_remote, data, job.input.name.text, job.sha256, self.settings, key=key, pure=False)
        self.futures[future] = (job, len(data))
        self.bytes += len(data)

    def collect(self) -> list[tuple[Job, Reply, int | None]]:
        """Wait for at least one finished file: its reply, or why it has none."""
        from distributed import wait

        done, self.ready = self.ready, []
        while not done:
            if not self.futures and self.alone is None and self.suspects:
                self.alone = self.suspects.popleft()
                self.submit(self.alone)
                if not self.futures:  # not sent (the scheduler gone, or unreadable): settled at once
                    self.alone = None
                done, self.ready = self.ready, []
                continue
            try:
                finished, _ = wait(list(self.futures), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
            except TimeoutError:
                if self.client.status == "running":
                    continue
                finished = set(self.futures)  # the scheduler is gone and Dask has not cancelled them (yet)
            except Exception:  # FuturesCancelledError: the scheduler went away
                finished = {f for f in self.futures if f.done()}
            for future in finished:
                job, size = self.futures.pop(future)
                self.bytes -= size
                reply, rss = self.reply(future, alone=job is self.alone)
                if job is self.alone:
                    self.alone = None
                if reply is None:
                    self.suspects.append(job)
                else:
                    done.append((job, reply, rss))
        return done

    # --- what a finished future means ----------------------------------------------------------

    def reply(self, future: Any, alone: bool) -> tuple[Reply | None, int | None]:
        """The file's reply; None for a file to try again alone (KilledWorker among others)."""
        from distributed import KilledWorker

        try:
            if not future.done():
                return self.lost(), None
            reply, rss, worker = future.result()
        except KilledWorker as e:
            if not alone:
                return None, None
            return Failure("rejected", self.killed(e)), None
        except Exception as e:
            if future.cancelled() or self.client.status != "running":
                return self.lost(), None
            return Failure("deferred", f"the cluster failed on it: {type(e).__name__}: {e}", exit_code=ExitCode.cluster), None
        finally:
            future.release()
        trouble = reply.reason if isinstance(reply, Failure) and reply.exit_code in ENGINE_TROUBLE else getattr(reply, "engine_broken", None)
        if trouble and worker not in self.said_engine:
            self.said_engine.add(worker)  # once a worker: its other scans are deferred for the same reason
            say(f"ingest: worker {worker}: {trouble}; its scans are deferred")
        if isinstance(reply, Parsed) and reply.result.parser_version != __version__:
            reason = f"parsed by a worker with gongwen {reply.result.parser_version}, not {__version__}: install the same gongwen on every machine"
            return Failure("deferred", reason, exit_code=ExitCode.cluster), None
        return reply, rss

    def killed(self, error: Any) -> str:
        """Why the workers died, for the file's reason: Dask's own message names the task key,
        not the file. The nanny logs a memory kill as an event, just before it kills."""
        worker = getattr(error.last_worker, "address", str(error.last_worker))
        n = error.allowed_failures + 1
        tries = f"{2 * n} workers died with it, the last {n} reading nothing else" if n > 1 else "2 workers died with it, the second reading nothing else"
        deadline = time.monotonic() + 2 * POLL_SECONDS  # the event and the worker's death race to the scheduler
        while True:
            try:
                events = [e for _, e in self.client.get_events(MEMORY_EVENT) if e.get("worker") == worker]
            except Exception:
                events = []
            if events or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if not events:
            return f"every cluster worker given it died while reading it ({tries}; a crash, or killed from outside): stopped"
        limits = set(self.memory_limits.values()) - {None, 0}
        limit = f" of {limits.pop() / 2**20:,.0f} MiB" if len(limits) == 1 else ""
        reached = events[-1]["rss"] / 2**20
        return f"it took every cluster worker given it over its memory limit ({tries}; the last reached {reached:,.0f} MiB{limit} and Dask restarted it): stopped"

    def lost(self) -> Failure:
        if not self.said_lost:
            say(f"ingest: the Dask scheduler at {self.address} went away mid-batch: the files not stored yet are deferred; start it again and run the same command")
            self.said_lost = True
        return Failure("deferred", f"the Dask scheduler at {self.address} went away mid-batch", hint="start it again and rerun the same command", exit_code=ExitCode.cluster)

    # --- the workers ---------------------------------------------------------------------------

    def count_slots(self) -> int:
        try:
            threads = sum(self.client.nthreads().values())
        except Exception:
            return 0
        return max(1, threads) * IN_FLIGHT_PER_THREAD

    def check_workers(self) -> dict[str, Any]:
        """Wait for the first workers, ask each what it runs, and refuse a mixed cluster.

        Returns the settings every task carries: the limits, the engine, and each worker's
        share of its machine's cores for the OCR engine's threads."""
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        except TimeoutError as e:
            raise ClusterError(f"the Dask scheduler at {self.address} has no workers", hint="start some with `dask worker ADDRESS --nthreads 1`") from e
        facts: dict[str, dict[str, Any]] = self.client.run(worker_facts)
        self.memory_limits = {addr: f["memory_limit"] for addr, f in facts.items()}
        versions = {f["gongwen"] for f in facts.values()} - {__version__}
        if versions:
            odd = sorted(addr for addr, f in facts.items() if f["gongwen"] != __version__)
            raise ClusterError(
                f"workers {', '.join(odd)} run gongwen {', '.join(sorted(versions))}, this client {__version__}",
                hint="install the same gongwen (and OCR models) on every machine",
            )
        threads_on_host: dict[str, int] = {}
        for addr, f in facts.items():
            threads_on_host[f["host"]] = threads_on_host.get(f["host"], 0) + f["nthreads"]
        shares = {addr: max(1, f["cores"] // threads_on_host[f["host"]]) for addr, f in facts.items()}
        return {"engine": self.options.engine, "timeout": self.options.timeout, "memory_mb": self.options.memory_mb, "threads": shares}


def quiet_dask() -> None:
    """Dask logs a lost scheduler as tracebacks at ERROR, from loggers its config sets one by one;
    the batch says what happened in one line instead. And a file's bytes travel inside its task
    on purpose (a scattered copy would die with its worker, and the retry with it): no warning
    about large graphs for a file under the caps."""
    import dask

    dask.config.set({"distributed.admin.large-graph-warning-threshold": f"{MAX_FILE_BYTES * 2}B"})
    for name in ["distributed", *logging.root.manager.loggerDict]:
        if name.startswith("distributed"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def local_workers(spec: str) -> int:
    count = spec.removeprefix("local:")
    if not count.isdigit() or int(count) < 1:
        raise ClusterError(f"--cluster {spec}: local: takes a number of worker processes, e.g. local:4")
    return int(count)


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- on a Dask worker ------------------------------------------------------------------------------

_local = threading.local()
_folder: list[Path] = []


def worker_facts(dask_worker: Any = None) -> dict[str, Any]:
    """This worker's gongwen and its share of the machine: cheap, so a batch starts at once."""
    nthreads = dask_worker.state.nthreads if dask_worker is not None else 1
    memory = getattr(getattr(dask_worker, "memory_manager", None), "memory_limit", None)
    return {"gongwen": __version__, "host": os.uname().nodename, "cores": os.cpu_count() or 1, "nthreads": nthreads, "memory_limit": memory}


def parse_remote(data: bytes, name: str, sha256: str, settings: dict[str, Any]) -> tuple[Reply, int | None, str]:
    """One file's bytes parsed on this worker, in this thread's parsing process; and which worker."""
    pool = thread_pool(settings)
    folder = pool.folder
    path = folder / f"{sha256[:16]}-{threading.get_ident()}"
    path.write_bytes(data)
    job = Job(Input(Name.of(name)), path, sha256, len(data), temporary=True)
    try:
        pool.submit(job)
        [(_, reply, rss)] = pool.collect()
    finally:
        path.unlink(missing_ok=True)
    return reply, rss, worker_address()


def thread_pool(settings: dict[str, Any]) -> WorkerPool:
    """This thread's pool of one parsing process, kept across tasks so models load once.
    Its process dies with this worker (die_with_parent, or the EOF on its stdin)."""
    pool: WorkerPool | None = getattr(_local, "pool", None)
    options = Options(
        quarantine=Path("."),  # the client quarantines; workers never write one
        engine=settings["engine"],
        timeout=settings["timeout"],
        memory_mb=settings["memory_mb"],
        ocr_threads=settings["threads"].get(worker_address(), 1),
    )
    if pool is not None and pool.options != options:
        pool.__exit__(None, None, None)
        pool = None
    if pool is None:
        if not _folder:
            _folder.append(Path(tempfile.mkdtemp(prefix="gongwen-worker-")))
        folder = _folder[0] / f"thread-{threading.get_ident()}"
        folder.mkdir(exist_ok=True)
        pool = WorkerPool(options, folder)
        _local.pool = pool
    return pool


def worker_address() -> str:
    from distributed import get_worker

    try:
        return get_worker().address
    except ValueError:
        return ""
