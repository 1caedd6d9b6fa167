"""The batch: Inputs in, one Outcome per input out, each file stored once (or quarantined).

    ingest(inputs, conn, options, report=)     the batch; one Outcome per input, in completion order
    reparse(conn, keys) -> Iterator[Outcome]   stored pages parsed again, without OCR
    Summary.of(inputs, outcomes)               the batch invariant
    assess(parsed)                             a parse's status, from its problems

Statuses, one per input:

    done           stored, nothing to look at
    partial        stored, some pages could not be read
    needs_review   stored, but low OCR confidence, a blank page, no notice found, or a
                   possible duplicate of a notice from other bytes
    duplicate      these bytes are stored already (under another name): only the name is added
    rejected       not a notice we can read (or it crashed, hung or blew up the reader): the
                   file is copied to the quarantine folder beside the database with a JSON note
    deferred       a passing problem (disk full, database busy, OCR engine broken or missing):
                   nothing is recorded, so the next run picks the file up

After every batch: inputs = stored (done + partial + needs_review) + duplicates + rejected + deferred.

Workers only parse (pipeline.ingest.workers); this process alone writes, one transaction
per file (pipeline.store), so a kill -9 anywhere leaves no half-written file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from sqlite3 import Connection
from typing import TYPE_CHECKING, Any

from pipeline import store
from pipeline.errors import ExitCode, InputError, StoreError
from pipeline.ingest.inputs import Input, close_archives, extract_member, hash_file, open_archive
from pipeline.ingest.workers import Failure, Job, Options, Parsed, Reply, WorkerPool, document_bodies
from pipeline.store import Name, Verdict
from pipeline.store.schema import now

if TYPE_CHECKING:
    from pipeline.ingest.cluster import ClusterPool

QUARANTINE_MAX_BYTES = 256 << 20  # larger rejected files get a note but no copy
# A deferral with one of these codes halts the batch: every later file would fail the same way.
HALTING = {ExitCode.store: "the store", ExitCode.cluster: "the cluster"}


def quarantine_folder(db: Path) -> Path:
    return db.parent / "quarantine"


# --- outcomes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What became of one input: the JSON line `ingest` prints, plus what the batch counts."""

    name: Name
    status: str
    reason: str | None = None
    documents: list[str] = field(default_factory=list)
    sha256: str | None = None
    pages: int = 0
    exit_code: int = ExitCode.ok  # for deferred: the code of the passing problem
    peak_rss_kb: int | None = None

    def line(self) -> dict[str, Any]:
        return {"file": self.name.text, "status": self.status, "reason": self.reason, "documents": self.documents}



@dataclass(frozen=True)
class Summary:
    inputs: int
    counts: Counter[str]

    @classmethod
    def of(cls, inputs: int, outcomes: Iterable[Outcome]) -> Summary:
        return cls(inputs, Counter(o.status for o in outcomes))

    @property
    def stored(self) -> int:
        return sum(self.counts[s] for s in store.STORED)

    @property
    def balanced(self) -> bool:
        """inputs = stored + duplicates + rejected + deferred, and no status outside those."""
        known = self.stored + self.counts["duplicate"] + self.counts["rejected"] + self.counts["deferred"]
        return self.inputs == known == sum(self.counts.values())

    def __str__(self) -> str:
        detail = ", ".join(f"{self.counts[s]} {s}" for s in store.STORED if self.counts[s])
        return (
            f"{self.inputs} inputs = {self.stored} stored" + (f" ({detail})" if detail else "")
            + f" + {self.counts['duplicate']} duplicates + {self.counts['rejected']} rejected + {self.counts['deferred']} deferred"
        )


# --- the batch ------------------------------------------------------------------------------------



def ingest(inputs: Sequence[Input], conn: Connection, options: Options, report: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Run the batch: each input is hashed, skipped if stored, parsed in a worker, stored.

    Same bytes twice in one batch are parsed once; the second waits for the first's outcome.
    Once the store fails (a full disk, a lock held past the busy timeout) or the cluster is lost
    (its scheduler gone), the inputs not yet started are deferred untried: each would fail the
    same way after costing a parse.
    """
    outcomes: list[Outcome] = []
    twins: dict[str, list[Job]] = {}  # sha256 in a worker -> later inputs with the same bytes
    halted: list[Failure] = []
    archives: dict[Path, zipfile.ZipFile] = {}

    def finish(outcome: Outcome) -> None:
        outcomes.append(outcome)
        report(outcome)
        if outcome.status == "deferred" and outcome.exit_code in HALTING and not halted:
            what = HALTING[ExitCode(outcome.exit_code)]
            halted.append(Failure("deferred", f"not tried: {what} failed earlier in this batch ({outcome.reason})", exit_code=outcome.exit_code))

    with tempfile.TemporaryDirectory(prefix="gongwen-ingest-") as tmp, open_pool(options, Path(tmp)) as pool:
        queue = deque(enumerate(inputs))
        try:
            while queue or pool.busy():
                while queue and pool.has_room():
                    number, item = queue.popleft()
                    prepared = outcome_of_failure(item, None, halted[0]) if halted else prepare(item, conn, options, Path(tmp) / f"member-{number:06d}", archives)
                    if isinstance(prepared, Outcome):
                        finish(prepared)
                    elif prepared.sha256 in twins:
                        twins[prepared.sha256].append(prepared)
                    else:
                        twins[prepared.sha256] = []
                        pool.submit(prepared)
                for job, reply, rss in pool.collect() if pool.busy() else []:
                    first = conclude(job, reply, conn, options, rss)
                    finish(first)
                    for twin in twins.pop(job.sha256, []):
                        finish(resolve_twin(twin, first, conn, options))
        finally:
            close_archives(archives)
    return outcomes


def open_pool(options: Options, folder: Path) -> WorkerPool | ClusterPool:
    """The cluster's workers when `options.cluster` names one, else worker processes here."""
    if options.cluster:
        from pipeline.ingest.cluster import ClusterPool  # dask loads only for a cluster run

        return ClusterPool(options, folder)
    return WorkerPool(options, folder)


def prepare(item: Input, conn: Connection, options: Options, scratch: Path, archives: dict[Path, zipfile.ZipFile]) -> Job | Outcome:
    """Hash the input's bytes and decide: a job for a worker, or an outcome without one."""
    if item.path is None or (item.refusal and item.member):
        return reject(item, None, Failure("rejected", item.refusal or "not read"), conn, options)
    try:
        if item.member is not None:
            extract_member(open_archive(item.path, archives), item, scratch)
            job = Job(item, scratch, *hash_file(scratch, item.name), temporary=True)
        else:
            job = Job(item, item.path, *hash_file(item.path, item.name))
    except InputError as e:
        return reject(item, None, Failure("rejected", e.message, e.hint, e.exit_code), conn, options)
    except (OSError, zipfile.BadZipFile) as e:
        return reject(item, None, Failure("rejected", f"cannot read: {getattr(e, 'strerror', None) or e}"), conn, options)
    if item.refusal:
        return reject(item, job, Failure("rejected", item.refusal), conn, options)
    try:
        known = store.find_file(conn, job.sha256)
        if known is None or (known.status == "rejected" and options.retry_rejected):
            return job
        store.add_name(conn, job.sha256, item.name)
        if known.status == "rejected":
            return outcome_of_failure(item, job, Failure("rejected", f"rejected before: {known.reason}"))
        return duplicate(job, store.first_name(conn, job.sha256), store.document_ids_of(conn, job.sha256))
    except StoreError as e:
        return outcome_of_failure(item, job, store_failure(e))


def duplicate(job: Job, first: str | None, documents: list[str]) -> Outcome:
    """Bytes stored already (by an earlier run, this batch, or a concurrent one): only the name is new."""
    discard(job)
    return Outcome(job.input.name, "duplicate", f"already stored as {first} (sha256 {job.sha256[:12]}…)", documents, job.sha256)


def discard(job: Job | None) -> None:
    if job is not None and job.temporary:
        job.path.unlink(missing_ok=True)


def conclude(job: Job, reply: Reply, conn: Connection, options: Options, rss: int | None) -> Outcome:
    """A worker's reply turned into a stored file, a quarantined one, or a deferral."""
    verdict = assess(reply) if isinstance(reply, Parsed) else reply
    if isinstance(verdict, Failure):
        failed = reject(job.input, job, verdict, conn, options) if verdict.status == "rejected" else outcome_of_failure(job.input, job, verdict)
        return replace(failed, peak_rss_kb=rss)
    assert isinstance(reply, Parsed)
    for doc in reply.result.documents:
        doc.routing = job.input.routing
    record = store.FileRecord(
        sha256=job.sha256,
        size=job.size,
        name=job.input.name,
        verdict=verdict,
        kind=reply.result.kind,
        result=reply.result,
        pages=reply.pages,
        page_texts=reply.page_texts,
        bodies=reply.bodies,
        routing=job.input.routing,
    )
    discard(job)
    try:
        saved = store.save_file(conn, record)
    except StoreError as e:
        return outcome_of_failure(job.input, job, store_failure(e))
    if saved.duplicate_of is not None:  # another process stored the same bytes meanwhile
        return duplicate(job, saved.duplicate_of, saved.document_ids)
    return Outcome(job.input.name, saved.verdict.status, saved.verdict.reason, saved.document_ids, job.sha256, len(reply.pages), peak_rss_kb=rss)


def resolve_twin(twin: Job, first: Outcome, conn: Connection, options: Options) -> Outcome:
    """Same bytes as an input of this batch that has just finished: share its fate."""
    if first.status == "deferred":
        discard(twin)
        return outcome_of_failure(twin.input, None, Failure("deferred", first.reason or "deferred", exit_code=first.exit_code))
    if first.status == "rejected":
        return reject(twin.input, twin, Failure("rejected", first.reason or "rejected"), conn, options)
    try:
        store.add_name(conn, twin.sha256, twin.input.name)
    except StoreError as e:
        return outcome_of_failure(twin.input, twin, store_failure(e))
    return duplicate(twin, first.name.text, first.documents)


def outcome_of_failure(item: Input, job: Job | None, failure: Failure) -> Outcome:
    discard(job)
    status = failure.status
    exit_code = failure.exit_code if status == "deferred" else ExitCode.ok
    return Outcome(item.name, status, named(item, failure.reason), sha256=job.sha256 if job else None, exit_code=exit_code)


def named(item: Input, reason: str) -> str:
    """A rejection or deferral names its file, as errors do: the note and the logs stand alone."""
    return reason if item.name.text in reason else f"{item.name.text}: {reason}"


def store_failure(e: StoreError) -> Failure:
    """Busy or full: try again later. Anything else the store says is no better on a rerun,
    but it is not the file's fault either, so the file is deferred too."""
    return Failure("deferred", e.message, e.hint, ExitCode.store)


# --- what a parse means ---------------------------------------------------------------------------


def assess(parsed: Parsed) -> Verdict | Failure:
    """The status of a parsed file, from its problems. Every page failing is the engine's fault
    when the worker found the engine broken (deferred), else the file's (rejected)."""
    problems = parsed.result.problems
    failed = sorted({p.page for p in problems if p.severity == "error" and p.page is not None})
    if parsed.pages and len(failed) == len(parsed.pages):
        first = next(p.message for p in problems if p.severity == "error")
        if parsed.engine_broken:
            return Failure("deferred", f"the OCR engine failed on every page: {parsed.engine_broken}", exit_code=ExitCode.engine)
        return Failure("rejected", f"no page could be read: {first}")
    verdict = Verdict("done")
    if failed:
        verdict = verdict.worse("partial", f"{len(failed)} of {len(parsed.pages)} pages unreadable ({pages_list(failed)})")
    if not any(d.title or d.doc_number for d in parsed.result.documents):
        verdict = verdict.worse("needs_review", "no notice found: no 文号 and no title")
    for code, label in (("page.low_confidence", "low OCR confidence"), ("page.blank", "blank")):
        pages = sorted({p.page for p in problems if p.code == code and p.page is not None})
        if pages:
            verdict = verdict.worse("needs_review", f"{label} on {pages_list(pages)}")
    return verdict


def pages_list(pages: list[int]) -> str:
    return ("page " if len(pages) == 1 else "pages ") + ", ".join(map(str, pages))


# --- quarantine -----------------------------------------------------------------------------------


def reject(item: Input, job: Job | None, failure: Failure, conn: Connection, options: Options) -> Outcome:
    """Copy the bytes (if any, and not too large) into quarantine with a JSON note, then record
    the rejection. A quarantine that cannot be written defers the file: nothing is recorded."""
    try:
        write_quarantine(options.quarantine, item, job, failure)
        rejected = store.FileRecord(job.sha256, job.size, item.name, Verdict("rejected", named(item, failure.reason))) if job else None
        saved = store.save_file(conn, rejected) if rejected else None
    except StoreError as e:
        return outcome_of_failure(item, job, store_failure(e))
    except OSError as e:
        reason = f"cannot write the quarantine folder {options.quarantine}: {e.strerror or e}"
        return outcome_of_failure(item, job, Failure("deferred", reason, exit_code=ExitCode.store))
    if job is not None and saved is not None and saved.duplicate_of is not None:  # stored by a concurrent run meanwhile
        return duplicate(job, saved.duplicate_of, saved.document_ids)
    return outcome_of_failure(item, job, failure)


def write_quarantine(folder: Path, item: Input, job: Job | None, failure: Failure) -> None:
    """`<key>-<name>` (the bytes) and `<key>.json` (the note); key = content hash, or the name's
    hash when there are no bytes. Both are written to a temporary name and renamed, so a kill
    leaves whole files only; the same bytes rejected again overwrite their own copy."""
    folder.mkdir(parents=True, exist_ok=True)
    key = (job.sha256 if job else hashlib.sha256(item.name.raw).hexdigest())[:16]
    copy: str | None = None
    not_copied = None
    if job is None:
        not_copied = "nothing to copy" if item.path is None else "not unpacked"
    elif job.size > QUARANTINE_MAX_BYTES:
        not_copied = f"{job.size:,} bytes, over the {QUARANTINE_MAX_BYTES >> 20} MiB quarantine limit"
    else:
        copy = f"{key}-{safe_filename(item.name.text)}"
        atomic_write(folder / copy, lambda tmp: shutil.copyfile(job.path, tmp))
    note_path = folder / f"{key}.json"
    names = [item.name.text]
    if note_path.exists():
        try:
            names = list(dict.fromkeys(json.loads(note_path.read_text(encoding="utf-8")).get("names", []) + names))
        except (ValueError, OSError):
            pass
    note = {
        "file": item.name.text,
        "names": names,
        "sha256": job.sha256 if job else None,
        "size": job.size if job else None,
        "status": "rejected",
        "reason": named(item, failure.reason),
        "hint": failure.hint,
        "copy": copy,
        "not_copied": not_copied,
        "at": now(),
    }
    text = json.dumps(note, ensure_ascii=False, indent=2) + "\n"
    atomic_write(note_path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # two concurrent batches may reject the same bytes
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def safe_filename(name: str) -> str:
    """The last part of a name, with anything a file system or a shell may trip on replaced."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\-]+", "_", base).lstrip(".")
    return base[:80] or "file"


# --- reparse ------------------------------------------------------------------------------------


def reparse(conn: Connection, keys: list[str] | None) -> Iterator[Outcome]:
    """Parse stored pages again with this parser (no OCR) and replace the documents, file by file.

    The read problems (page.*) stay as recorded; the parse's own are replaced. A file the
    parser fails on keeps its old records and is reported deferred.
    """
    from pipeline.run import parse_pages

    for sha256 in store.files_to_reparse(conn, keys):
        known = store.find_file(conn, sha256)
        assert known is not None
        name = Name.of(store.first_name(conn, sha256) or sha256)
        pages = store.stored_pages(conn, sha256)
        try:
            result, text = parse_pages(pages, file=name.text, kind=known.kind or "text", engine=known.engine)
        except Exception as e:  # a parser bug must not stop the other files
            yield Outcome(name, "deferred", f"reparse failed: {type(e).__name__}: {e}", sha256=sha256, exit_code=ExitCode.error)
            continue
        result.problems = [p for p in known.problems if p.code.startswith("page.")] + result.problems
        for doc in result.documents:
            doc.routing = known.routing
        verdict = assess(Parsed(result, pages, [], []))
        if isinstance(verdict, Failure):
            verdict = Verdict("partial", verdict.reason)
        try:
            saved = store.replace_parse(conn, sha256, result, document_bodies(result, text), verdict)
        except StoreError as e:
            yield outcome_of_failure(Input(name), None, store_failure(e))
            continue
        yield Outcome(name, saved.verdict.status, saved.verdict.reason, saved.document_ids, sha256, len(pages))
