"""`gongwen watch DIR`: a consume folder. Files dropped in DIR are ingested once they stop
growing, then moved aside: to DIR/done when anything of them was stored (or was stored
already), to DIR/rejected when all of it was refused (the reasons are in the quarantine's
notes), left in place when a passing problem deferred them (tried again after --retry seconds).

A file counts as complete when its size and modification time have not changed for
--settle seconds: a scanner or a mail client writing it in pieces is waited for. Names a
writer uses while writing (.part, .tmp, .crdownload, dot-files) are left alone.

SIGTERM or Ctrl-C stops the watch between batches: the batch running is finished (each file is
stored in one transaction, so nothing is half-stored) and nothing new is started.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.app import Engine, EngineOption, VerboseOption, app, err, handles_errors
from pipeline.cli.store import DEFAULT_DB, DbOption, _emit_line, _opened

WRITING_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".swp")


@dataclass
class Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time the file was first seen at this size and time


def watched_files(folder: Path, skip: set[Path]) -> list[Path]:
    """Regular files directly in `folder` (a scanner drops files, not trees), in name order."""
    out = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as e:
        err.print(f"watch: cannot list {folder}: {e.strerror or e}", highlight=False)
        return []
    for entry in entries:
        path = folder / entry.name
        if path in skip or entry.name.startswith(".") or entry.name.lower().endswith(WRITING_SUFFIXES):
            continue
        if entry.is_file(follow_symlinks=False):
            out.append(path)
    return out


def settled(paths: list[Path], seen: dict[Path, Seen], settle: float, now: float) -> list[Path]:
    """The files whose size and time have held still for `settle` seconds; `seen` is updated."""
    ready = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            seen.pop(path, None)
            continue
        last = seen.get(path)
        if last is None or (last.size, last.mtime_ns) != (st.st_size, st.st_mtime_ns):
            seen[path] = Seen(st.st_size, st.st_mtime_ns, now)
        elif now - last.since >= settle and st.st_size > 0:
            ready.append(path)
    for gone in set(seen) - set(paths):
        del seen[gone]
    return ready


def belongs(outcome_name: str, path: Path) -> bool:
    """An outcome is the file's own, or one of its parts (`file!/member`, `mail.eml!/attachment`)."""
    return outcome_name == str(path) or outcome_name.startswith(f"{path}!/")


def destination(statuses: list[str]) -> str | None:
    """Where a file goes after its batch: None (stay, retry later) while any part was deferred."""
    if not statuses or "deferred" in statuses:
        return None
    return "rejected" if all(s == "rejected" for s in statuses) else "done"


def move_aside(path: Path, folder: Path) -> Path:
    """Into `folder` under its own name, or `name (2).ext` when that is taken."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 2
    while target.exists():
        target = folder / f"{path.stem} ({n}){path.suffix}"
        n += 1
    shutil.move(path, target)
    return target


@app.command()
@handles_errors
def watch(
    folder: Annotated[Path, typer.Argument(help="The folder to watch; done/ and rejected/ are made inside it.")],
    db: DbOption = DEFAULT_DB,
    engine: EngineOption = Engine.auto,
    interval: Annotated[float, typer.Option("--interval", min=0.05, help="Seconds between looks at the folder.")] = 2.0,
    settle: Annotated[float, typer.Option("--settle", min=0.0, help="Seconds a file must stop growing before it is read.")] = 5.0,
    retry: Annotated[float, typer.Option("--retry", min=0.0, help="Seconds before a deferred file is tried again.")] = 300.0,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Wall seconds one file may take before it is rejected.")] = 900.0,
    verbose: VerboseOption = False,
) -> None:
    """Ingest what appears in FOLDER until SIGTERM or Ctrl-C: one JSON line per input on stdout,
    as `ingest` prints, and the file moved to FOLDER/done or FOLDER/rejected."""
    from pipeline import ingest as batch
    from pipeline.errors import InputError
    from pipeline.ingest.inputs import release_mail_parts

    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder to watch")
    done, rejected = folder / "done", folder / "rejected"
    quarantine = batch.quarantine_folder(db)
    skip = {done, rejected, quarantine, db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")}
    options = batch.Options(quarantine=quarantine, engine=engine.value, timeout=timeout)
    stop = threading.Event()

    def on_signal(number: int, _frame: object) -> None:
        err.print(f"watch: {signal.Signals(number).name}: stopping after the batch running", highlight=False)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    seen: dict[Path, Seen] = {}
    not_before: dict[Path, float] = {}
    err.print(f"watch: watching {folder} (settle {settle:g} s); SIGTERM or Ctrl-C stops", highlight=False)
    try:
        with _opened(db, create=True) as conn:
            while not stop.is_set():
                now = time.monotonic()
                ready = [p for p in settled(watched_files(folder, skip), seen, settle, now) if not_before.get(p, 0) <= now]
                if ready:
                    inputs = batch.collect(ready, skip=list(skip))
                    err.print(f"watch: ingesting {', '.join(p.name for p in ready)}", highlight=False)
                    outcomes = batch.ingest(inputs, conn, options, lambda o: _emit_line(o.line()))
                    release_mail_parts()
                    for path in ready:
                        where = destination([o.status for o in outcomes if belongs(o.name.text, path)])
                        if where is None:
                            not_before[path] = time.monotonic() + retry
                            err.print(f"watch: {path.name} deferred: trying again in {retry:g} s", highlight=False)
                            continue
                        moved = move_aside(path, done if where == "done" else rejected)
                        seen.pop(path, None)
                        not_before.pop(path, None)
                        err.print(f"watch: {path.name} → {moved.parent.name}/{moved.name}", highlight=False)
                stop.wait(interval)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    err.print("watch: stopped", highlight=False)
