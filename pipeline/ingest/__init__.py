"""Batch ingest: every input ends in the store once, with one status, whatever it holds.

    collect(paths, skip=) -> list[Input]       files, folders, zip members, and what cannot be read
    ingest(inputs, conn, options, report=)     the batch; one Outcome per input, in completion order
    reparse(conn, keys) -> Iterator[Outcome]   stored pages parsed again, without OCR
    Summary.of(inputs, outcomes)               the batch invariant

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

Walking: folders recursively in name order, never following a symbolic link inside them;
only regular files are read (a FIFO would block the reader forever). Paths named on the
command line are followed if they are links, as `find -H` does. A zip archive is read
member by member, under caps on member count, size and compression ratio, through a
temporary file we name: nothing is ever written to a path taken from the archive.

Isolation: every file is parsed in a worker process (`python -m pipeline.ingest --worker`)
with an address-space cap (RLIMIT_AS) and a wall-time limit; workers live across files so
the OCR models load once per worker. A worker that crashes, hangs or runs out of memory
is killed with everything it started, the file gets a status and a reason, and a fresh
worker takes the next file. Workers only parse; the parent alone writes, one transaction
per file (pipeline.store), so a kill -9 anywhere leaves no half-written file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from sqlite3 import Connection
from typing import Any, Literal

from models import FileResult, Page, Text
from pipeline import store
from pipeline.errors import (
    EngineError,
    ExitCode,
    GongwenError,
    InputError,
    InputTooLarge,
    MissingDependency,
    StoreError,
)
from pipeline.store import Name, Verdict

MAX_FILE_BYTES = 1 << 30  # a 500-page scan at 1 MB a page fits twice
MAX_MEMBERS = 10_000  # zip members: more is not a folder of notices
MAX_ARCHIVE_BYTES = 4 << 30  # all members of one zip, as declared
MAX_RATIO = 100  # scans barely compress (JPEG inside); text does 3-10x; a bomb does 1000x+
RATIO_FREE_BYTES = 1 << 20  # members smaller than this may compress as well as they like
QUARANTINE_MAX_BYTES = 256 << 20  # larger rejected files get a note but no copy
WORKER_START_SECONDS = 120.0  # imports and model loads; longer means the worker is broken
LOG_TAIL_BYTES = 600
OFFICE_MEMBERS = ("[Content_Types].xml", "mimetype")  # docx/xlsx/pptx and odt/ods mark themselves so


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


def quarantine_folder(db: Path) -> Path:
    return db.parent / "quarantine"


# --- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """One thing to ingest: a file, a zip member (`member` of the archive at `path`), or something
    refused before reading (`refusal`; `path` is None when there are no bytes to keep)."""

    name: Name
    path: Path | None = None
    member: str | None = None
    refusal: str | None = None


def collect(paths: Sequence[Path], *, skip: Collection[Path] = ()) -> list[Input]:
    """Every input under `paths`, in order. `skip` (the database, its WAL, the quarantine) is
    left out wherever it turns up, so that `gongwen ingest .` does not read its own output."""
    skipped = {identity(p) for p in skip if p.exists()}
    out: list[Input] = []
    for path in paths:
        out += inputs_at(path, Name.of(str(path)), top=True, skipped=skipped)
    return out


def identity(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def inputs_at(path: Path, name: Name, *, top: bool, skipped: set[tuple[int, int]]) -> list[Input]:
    try:
        st = os.stat(path) if top else os.lstat(path)
    except OSError as e:
        return [Input(name, refusal=f"cannot read: {e.strerror or e}")]
    if (st.st_dev, st.st_ino) in skipped:
        return []
    if stat.S_ISDIR(st.st_mode):
        return folder_inputs(path, name, skipped)
    if stat.S_ISLNK(st.st_mode):
        return [Input(name, refusal=f"a symbolic link (to {link_target(path)}): links inside folders are not followed")]
    if not stat.S_ISREG(st.st_mode):
        return [Input(name, refusal=f"not a regular file but {file_type(st.st_mode)}: not read")]
    if is_zip(path):
        return archive_inputs(path, name)
    return [Input(name, path)]


def folder_inputs(path: Path, name: Name, skipped: set[tuple[int, int]]) -> list[Input]:
    try:
        with os.scandir(path) as entries:
            children = sorted(entries, key=lambda e: os.fsencode(e.name))
    except OSError as e:
        return [Input(name, refusal=f"cannot list the folder: {e.strerror or e}")]
    out: list[Input] = []
    for entry in children:
        child = path / entry.name
        out += inputs_at(child, Name.of(str(child)), top=False, skipped=skipped)
    return out


def link_target(path: Path) -> str:
    try:
        return Name.of(os.readlink(path)).text
    except OSError:
        return "?"


def file_type(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((label for test, label in kinds if test(mode)), f"mode {oct(mode)}")


def open_regular(path: Path) -> int:
    """A read-only descriptor on a regular file. O_NONBLOCK: a FIFO swapped in since the walk
    must not block the batch; it is refused by the fstat check instead."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"{path}: not a regular file")
    return fd


def is_zip(path: Path) -> bool:
    try:
        fd = open_regular(path)
    except (OSError, InputError):
        return False  # the hash step reports the error with the file's name
    try:
        return os.read(fd, 4) in (b"PK\x03\x04", b"PK\x05\x06")
    finally:
        os.close(fd)


# --- zip archives ---------------------------------------------------------------------------------


def archive_inputs(path: Path, name: Name) -> list[Input]:
    """One input per member, or one refusal for the archive as a whole."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        return [Input(name, path, refusal=f"a damaged zip archive: {e}")]
    names = {info.filename for info in members}
    refusal = None
    if any(marker in names for marker in OFFICE_MEMBERS):
        refusal = "an Office document (a zip of XML), not a scan: export it to PDF first"
    elif not members:
        refusal = "an empty zip archive"
    elif len(members) > MAX_MEMBERS:
        refusal = f"a zip archive of {len(members):,} members, over the limit of {MAX_MEMBERS:,}"
    elif sum(info.file_size for info in members) > MAX_ARCHIVE_BYTES:
        refusal = f"a zip archive that unpacks to over {MAX_ARCHIVE_BYTES >> 30} GiB"
    if refusal:
        return [Input(name, path, refusal=refusal)]
    return [Input(member_name(name, info), path, member=info.filename, refusal=member_refusal(info)) for info in members]


def member_name(archive: Name, info: zipfile.ZipInfo) -> Name:
    """`archive.zip!/member`. Without the UTF-8 flag, zip names are bytes in the packer's code
    page: Chinese Windows writes GBK, which zipfile has decoded as cp437."""
    if info.flag_bits & 0x800:
        raw = info.filename.encode("utf-8")
        text = info.filename
    else:
        raw = info.filename.encode("cp437", "replace")
        text = next((decoded for codec in ("utf-8", "gbk") if (decoded := plausible_name(raw, codec))), info.filename)
    return Name(f"{archive.text}!/{text}", archive.raw + b"!/" + raw)


def plausible_name(raw: bytes, codec: str) -> str | None:
    """`raw` decoded, if that gives ASCII and East Asian text only. GBK bytes often decode as
    UTF-8 too, into combining marks and Hebrew (通知 → ֪ͨ); macOS writes UTF-8 without the flag."""
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        return None
    return text if all(" " <= ch <= "~" or ch >= "\u2e80" for ch in text) else None


def member_refusal(info: zipfile.ZipInfo) -> str | None:
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link inside the archive: not followed"
    if info.flag_bits & 0x1:
        return "an encrypted zip member: it needs a password"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        return f"a zip member packed with unsupported method {info.compress_type}"
    return None


def member_limit(info: zipfile.ZipInfo) -> int:
    """Bytes a member may unpack to: its declared size is not trusted, the ratio cap is."""
    return min(MAX_FILE_BYTES, max(RATIO_FREE_BYTES, info.compress_size * MAX_RATIO))


def extract_member(archive: zipfile.ZipFile, item: Input, dest: Path) -> None:
    """The member's bytes into `dest` (a name we chose), stopping at the size and ratio caps."""
    assert item.member is not None
    info = archive.getinfo(item.member)
    limit = member_limit(info)
    copied = 0
    try:
        with archive.open(info) as src, dest.open("wb") as out:
            while chunk := src.read(1 << 20):
                copied += len(chunk)
                if copied > limit:
                    raise InputTooLarge(
                        f"{item.name.text}: unpacks past {limit:,} bytes from {info.compress_size:,} "
                        f"(a decompression bomb?); the cap is {MAX_RATIO}x its packed size, {MAX_FILE_BYTES >> 20} MiB at most"
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
        raise InputError(f"{item.name.text}: a damaged zip member: {e}") from e


def open_archive(path: Path, cache: dict[Path, zipfile.ZipFile]) -> zipfile.ZipFile:
    """The archive stays open while its members are read: a 10,000-member zip would otherwise
    read its central directory 10,000 times. Opening another closes it."""
    if path not in cache:
        close_archives(cache)
        cache[path] = zipfile.ZipFile(path)
    return cache[path]


def close_archives(cache: dict[Path, zipfile.ZipFile]) -> None:
    for archive in cache.values():
        archive.close()
    cache.clear()


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
class Failure:
    """A file that was not parsed: rejected (its fault) or deferred (a passing problem)."""

    status: Literal["rejected", "deferred"]
    reason: str
    hint: str | None = None
    exit_code: int = ExitCode.error


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


def ingest(inputs: Sequence[Input], conn: Connection, options: Options, report: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Run the batch: each input is hashed, skipped if stored, parsed in a worker, stored.

    Same bytes twice in one batch are parsed once; the second waits for the first's outcome.
    Once the store fails (a full disk, a lock held past the busy timeout), the inputs not yet
    started are deferred untried: each would fail the same way after costing a parse.
    """
    outcomes: list[Outcome] = []
    twins: dict[str, list[Job]] = {}  # sha256 in a worker -> later inputs with the same bytes
    halted: list[Failure] = []
    archives: dict[Path, zipfile.ZipFile] = {}

    def finish(outcome: Outcome) -> None:
        outcomes.append(outcome)
        report(outcome)
        if outcome.status == "deferred" and outcome.exit_code == ExitCode.store and not halted:
            halted.append(Failure("deferred", f"not tried: the store failed earlier in this batch ({outcome.reason})", exit_code=ExitCode.store))

    with tempfile.TemporaryDirectory(prefix="gongwen-ingest-") as tmp, WorkerPool(options, Path(tmp)) as pool:
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


def hash_file(path: Path, name: Name) -> tuple[str, int]:
    """sha256 and size of a regular file, refusing one over MAX_FILE_BYTES before reading it."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(fd).st_size
        if size > MAX_FILE_BYTES:
            raise InputTooLarge(f"{name.text}: {size:,} bytes, over the limit of {MAX_FILE_BYTES >> 20} MiB", hint="split the file")
        digest = hashlib.file_digest(f, "sha256")
    return digest.hexdigest(), size


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
        "at": store.now(),
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


# --- worker processes -----------------------------------------------------------------------------


class Worker:
    """One worker process and the job it is on. Its own session, so a kill takes the programs it
    started (tesseract) too; stderr goes to a log whose tail explains a crash."""

    def __init__(self, options: Options, log: Path) -> None:
        self.log = log
        env = {**os.environ, "MALLOC_ARENA_MAX": "2"}  # glibc maps 64 MiB per thread arena: address space RLIMIT_AS counts
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
        verdict = assess(Parsed(result, pages, [], []))
        if isinstance(verdict, Failure):
            verdict = Verdict("partial", verdict.reason)
        try:
            saved = store.replace_parse(conn, sha256, result, document_bodies(result, text), verdict)
        except StoreError as e:
            yield outcome_of_failure(Input(name), None, store_failure(e))
            continue
        yield Outcome(name, saved.verdict.status, saved.verdict.reason, saved.document_ids, sha256, len(pages))
