"""Uploads: files a clerk drops on the page, ingested in the background as `gongwen ingest` does.

    Uploads(db, scans, options)         one background thread running upload jobs in turn
    Uploads.receive(files) -> Job       save the files under names we choose, queue the job
    Uploads.snapshot(job_id)            progress: inputs found, outcomes so far, finished or not
    label_of_upload(name) -> str        what an uploaded name may be shown as
    Uploads.close()

The uploaded name is a label, never a path: each file is written to `uploads/<job>/<n>` (our
name) and the label, cut to its last component and cleaned of control characters, is what
the store records as the file's name, as `gongwen ingest` records a path. What a file is
comes from its bytes (pipeline.reading.sniff, inside ingest), never from its name; zip archives go
through ingest's member, size and ratio caps. The size cap on a request is enforced while
the body arrives (pipeline.web.security.BodyLimit), before anything is parsed or written.

Statuses and reasons are ingest's own (`Outcome.line()`): done, partial, needs_review,
duplicate, rejected (quarantined beside the database), deferred. Parsing runs in ingest's
worker processes, so the server keeps answering while a batch reads; one thread with its own
store connection (sqlite3 connections belong to one thread) runs the batches one at a time,
as two `gongwen ingest` runs on one database would queue on its write lock anyway.
"""

from __future__ import annotations

import queue
import secrets
import shutil
import threading
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from pipeline import ingest
from pipeline.ingest.inputs import extract_member, inputs_at

from pipeline import store
from pipeline.errors import GongwenError
from pipeline.store import Name
from pipeline.web.scans import Scans

JobState = Literal["queued", "running", "finished", "failed"]
MAX_LABEL = 120


def label_of_upload(name: str | None) -> str:
    """`../../etc/passwd` → `passwd`, `C:\\扫描\\通知.pdf` → `通知.pdf`; control characters dropped."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    return cleaned[:MAX_LABEL] or "未命名文件"


@dataclass
class Job:
    id: str
    labels: list[str]
    folder: Path
    state: JobState = "queued"
    total: int | None = None  # inputs once the files (and zip members) are listed
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "labels": list(self.labels),
            "total": self.total,
            "done": len(self.outcomes),
            "outcomes": list(self.outcomes),
            "error": self.error,
        }


class Uploads:
    def __init__(self, db: Path, scans: Scans, options: ingest.Options | None = None) -> None:
        self.db = db
        self.scans = scans
        self.folder = db.parent / "uploads"
        self.options = options or ingest.Options(quarantine=ingest.quarantine_folder(db), workers=1)
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.queue: queue.Queue[Job | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="gongwen-uploads", daemon=True)
        self.thread.start()

    def receive(self, files: list[tuple[str | None, IO[bytes]]]) -> Job:
        """Copy each (uploaded name, stream) to a file we name, and queue them as one job."""
        job_id = secrets.token_hex(8)
        folder = self.folder / job_id
        folder.mkdir(parents=True, exist_ok=False)
        labels = []
        for n, (name, stream) in enumerate(files):
            with (folder / f"{n:04d}").open("wb") as out:
                shutil.copyfileobj(stream, out, 1 << 20)
            labels.append(label_of_upload(name))
        job = Job(job_id, labels, folder)
        with self.lock:
            self.jobs[job_id] = job
        self.queue.put(job)
        return job

    def snapshot(self, job_id: str) -> dict[str, Any] | None:
        with self.lock:
            job = self.jobs.get(job_id)
            return job.snapshot() if job else None

    def close(self) -> None:
        self.queue.put(None)

    def _run(self) -> None:
        while (job := self.queue.get()) is not None:
            try:
                self._ingest(job)
            except (GongwenError, OSError) as e:  # the store cannot be opened: the job says so
                with self.lock:
                    job.state, job.error = "failed", str(e)
            finally:
                shutil.rmtree(job.folder, ignore_errors=True)

    def _ingest(self, job: Job) -> None:
        inputs: list[ingest.Input] = []
        for n, label in enumerate(job.labels):
            inputs += inputs_at(job.folder / f"{n:04d}", Name.of(label), top=True, skipped=set())
        with self.lock:
            job.state, job.total = "running", len(inputs)

        def report(outcome: ingest.Outcome) -> None:
            with self.lock:
                job.outcomes.append({**outcome.line(), "pages": outcome.pages})

        conn = store.connect(self.db)
        try:
            outcomes = ingest.ingest(inputs, conn, self.options, report)
        finally:
            conn.close()
        self._keep_originals(inputs, outcomes)
        with self.lock:
            job.state = "finished"

    def _keep_originals(self, inputs: list[ingest.Input], outcomes: list[ingest.Outcome]) -> None:
        """Keep the bytes of every stored file, for the page pictures (see pipeline.web.scans)."""
        by_name = {item.name.raw: item for item in inputs}
        for outcome in outcomes:
            item = by_name.get(outcome.name.raw)
            if outcome.sha256 is None or item is None or item.path is None or outcome.status in ("rejected", "deferred"):
                continue
            if item.member is None:
                self.scans.keep(outcome.sha256, item.path)
                continue
            member = item.path.with_name(f"{item.path.name}.member")
            try:
                with zipfile.ZipFile(item.path) as archive:
                    extract_member(archive, item, member)
                self.scans.keep(outcome.sha256, member)
            except (GongwenError, OSError, zipfile.BadZipFile):
                continue  # the member was stored; its picture falls back to the facsimile
            finally:
                member.unlink(missing_ok=True)
