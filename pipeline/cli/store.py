"""The store's commands, registered on `pipeline.cli.app.app` when `pipeline.cli.main` imports this module.

    gongwen ingest PATH...        files, folders, zip archives into the store; a JSON line per input
    gongwen reparse [--all|ID...] stored pages parsed again (no OCR); a JSON line per file
    gongwen list                  documents (or --files) with filters
    gongwen show ID|文号           a document: record, file, pages' confidence, references
    gongwen search TEXT           full-text search over titles and text

Every command takes --db (default ./notices.db, or $GONGWEN_DB). JSON on stdout by default,
--table for people; progress and summaries on stderr.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from pipeline.cli.app import Engine, EngineOption, VerboseOption, app, cell, emit_json, err, handles_errors, out, print_tables
from pipeline.errors import ExitCode, GongwenError

DEFAULT_DB = Path("notices.db")
DbOption = Annotated[
    Path, typer.Option("--db", envvar="GONGWEN_DB", help="The database file; the quarantine folder sits beside it.")
]
TableOption = Annotated[bool, typer.Option("--table", help="A table for people instead of JSON.")]


class Level(str, Enum):
    state = "state"
    ministry = "ministry"
    province = "province"
    city = "city"
    county = "county"


class Status(str, Enum):
    done = "done"
    partial = "partial"
    needs_review = "needs_review"
    rejected = "rejected"


@contextmanager
def _opened(db: Path, *, create: bool = False) -> Iterator[sqlite3.Connection]:
    """The store, migrated; look-ups (create=False) refuse a database that is not there."""
    from pipeline import store
    conn = store.connect(db, create=create)
    try:
        yield conn
    finally:
        conn.close()


def _emit_line(data: dict[str, Any]) -> None:
    """One JSON line, flushed at once: a reader (or a killed run) sees every finished input."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


class PagesPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0
        pages = task.fields.get("pages", 0)
        return Text(f"{pages / elapsed:.2f} pages/s" if elapsed and pages else "– pages/s", style="progress.data.speed")


def _progress() -> Progress:
    # stdout carries the JSON lines: the bar must not capture it (redirect_stdout=False);
    # without a terminal on stderr there is nobody to watch a bar
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files"),
        PagesPerSecond(),
        TimeRemainingColumn(),
        console=err,
        redirect_stdout=False,
        redirect_stderr=False,
        disable=not err.is_terminal,
    )


def _progress_line(task: Task, outcome: Any) -> None:
    """`ingest 3/11 scans/seed.pdf: done, 6 pages, 41 s so far`: the bar's news as a log line."""
    pages = f", {outcome.pages} page{'s' if outcome.pages != 1 else ''}" if outcome.pages else ""
    err.print(
        f"ingest {task.completed:.0f}/{task.total:.0f} {outcome.name.text}: {outcome.status}{pages}, {task.elapsed or 0:.0f} s so far",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )


@app.command()
@handles_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders (read recursively, links not followed) and zip archives.")],
    db: DbOption = DEFAULT_DB,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Files parsed at once, each in its own process.")] = 1,
    engine: EngineOption = Engine.auto,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Wall seconds one file may take before it is rejected.")] = 900.0,
    memory_mb: Annotated[int, typer.Option("--memory", min=256, help="Address space (MB) one worker may map before the file is rejected.")] = 4096,
    retry_rejected: Annotated[bool, typer.Option("--retry-rejected", help="Read files rejected by an earlier run again.")] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            envvar="GONGWEN_DASK_SCHEDULER",
            help="Parse on a Dask cluster: its scheduler (tcp://HOST:8786), or local:N for N worker processes here. --workers is then the cluster's.",
        ),
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Store every notice under PATHS once. One JSON line per input on stdout:
    {"file", "status", "reason", "documents"}, status one of done, partial, needs_review,
    duplicate, rejected (copied to the quarantine folder beside the database, with a note)
    or deferred (a passing problem: run again). Exit code 0, or that of the first deferral
    (4 missing dependency, 5 OCR engine, 7 store, 10 the cluster's scheduler gone)."""
    from pipeline import ingest as batch
    quarantine = batch.quarantine_folder(db)
    skip = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal"), quarantine]
    inputs = batch.collect(paths, skip=skip)
    options = batch.Options(
        quarantine=quarantine,
        engine=engine.value,
        workers=workers,
        timeout=timeout,
        memory_mb=memory_mb,
        retry_rejected=retry_rejected,
        cluster=cluster or None,
    )
    with _opened(db, create=True) as conn, _progress() as progress:
        task = progress.add_task("ingest", total=len(inputs), pages=0)

        def report(outcome: batch.Outcome) -> None:
            _emit_line(outcome.line())
            progress.update(task, advance=1, pages=progress.tasks[task].fields["pages"] + outcome.pages)
            if progress.disable:  # no bar without a terminal: a line per file tells a log how far it got
                _progress_line(progress.tasks[task], outcome)

        outcomes = batch.ingest(inputs, conn, options, report)
    summary = batch.Summary.of(len(inputs), outcomes)
    err.print(f"ingest: {summary}", highlight=False, soft_wrap=True)
    if not summary.balanced:
        raise GongwenError(f"the batch does not add up ({summary}): a gongwen bug, please report it")
    deferred = [o for o in outcomes if o.status == "deferred"]
    if deferred:
        err.print(f"ingest: {len(deferred)} deferred; run the same command again once the problem has passed", highlight=False)
        raise typer.Exit(int(deferred[0].exit_code) or int(ExitCode.error))


@app.command()
@handles_errors
def reparse(
    ids: Annotated[list[str] | None, typer.Argument(help="Document ids (or a prefix of 4+ characters), file hashes or 文号.")] = None,
    all_files: Annotated[bool, typer.Option("--all", help="Every stored file.")] = False,
    db: DbOption = DEFAULT_DB,
    verbose: VerboseOption = False,
) -> None:
    """Parse stored pages again with this version of the parser, without OCR, and replace the
    files' documents. One JSON line per file, as `ingest` prints."""
    from pipeline import ingest as batch
    from pipeline.run import PARSER_VERSION

    if bool(ids) == all_files:
        raise typer.BadParameter("name documents to reparse, or give --all (not both)")
    outcomes = []
    with _opened(db) as conn:
        for outcome in batch.reparse(conn, None if all_files else ids):
            _emit_line(outcome.line())
            outcomes.append(outcome)
    err.print(f"reparse: {len(outcomes)} files with parser {PARSER_VERSION}", highlight=False)


@app.command("list")
@handles_errors
def list_(
    issuer: Annotated[str | None, typer.Option("--issuer", help="Part of an issuer's name, e.g. 民政.")] = None,
    level: Annotated[Level | None, typer.Option("--level", help="The issuer's level.")] = None,
    date_from: Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="Issued on or after (YYYY-MM-DD).")] = None,
    date_to: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Issued on or before (YYYY-MM-DD).")] = None,
    status: Annotated[Status | None, typer.Option("--status", help="The status of the document's file.")] = None,
    files: Annotated[bool, typer.Option("--files", help="List files (with their names and reasons) instead of documents.")] = False,
    db: DbOption = DEFAULT_DB,
    table: TableOption = False,
    verbose: VerboseOption = False,
) -> None:
    """List stored documents, newest first (JSON list; --table for people)."""
    from pipeline import store
    with _opened(db) as conn:
        if files:
            rows = store.list_files(conn, status=status.value if status else None)
        else:
            rows = store.list_documents(
                conn,
                issuer=issuer,
                level=level.value if level else None,
                date_from=date_from.date().isoformat() if date_from else None,
                date_to=date_to.date().isoformat() if date_to else None,
                status=status.value if status else None,
            )
    if not table:
        emit_json(rows)
    elif files:
        _print_rows(rows, [("sha256", "sha256"), ("names", "names"), ("status", "status"), ("reason", "reason"), ("documents", "docs"), ("pages", "pages")])
    else:
        _print_rows(rows, _DOCUMENT_COLUMNS)


_DOCUMENT_COLUMNS = [
    ("id", "id"),
    ("doc_number", "发文字号"),
    ("title", "标题"),
    ("level", "层级"),
    ("issue_date", "成文日期"),
    ("status", "status"),
    ("file", "file"),
]


def _print_rows(rows: list[dict[str, Any]], columns: list[tuple[str, str]], title: str | None = None) -> None:
    t = Table(title=title or f"{len(rows)} rows", show_lines=True)
    for _, label in columns:
        t.add_column(label, overflow="fold")
    for row in rows:
        t.add_row(*(cell(row.get(key)) for key, _ in columns))
    out.print(t)


@app.command()
@handles_errors
def show(
    key: Annotated[str, typer.Argument(help="A document id (or its first 4+ characters) or a 文号 (canonical or as printed).")],
    db: DbOption = DEFAULT_DB,
    table: TableOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Print the documents KEY names (a JSON list: a 文号 may name several scans of one notice),
    each with its file, its pages' OCR confidence, what it cites, what cites it and its possible duplicates."""
    from pipeline import store
    with _opened(db) as conn:
        found = store.show(conn, key)
    if not found:
        raise GongwenError(f"no stored document has the id or 文号 {key!r}", hint="`gongwen list` or `gongwen search` finds it")
    if not table:
        emit_json(found)
        return
    for item in found:
        print_tables({"file": f"{item['id']} · {item['file']['names'][0]}", "documents": [item["record"]]})
        _print_rows(item["pages"], [("number", "page"), ("source", "source"), ("mean_conf", "confidence"), ("characters", "characters")], "pages")
        if item["cited_by"]:
            _print_rows(item["cited_by"], [("relation", "relation"), ("id", "id"), ("doc_number", "发文字号"), ("title", "标题")], "cited by")
        if item["possible_duplicates"]:
            out.print(f"possible duplicates: {', '.join(item['possible_duplicates'])}")


@app.command()
@handles_errors
def search(
    text: Annotated[str, typer.Argument(help="Words to find in titles and text (all of them); Chinese needs no spaces.")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many documents.")] = 20,
    db: DbOption = DEFAULT_DB,
    table: TableOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Full-text search: the documents holding every word of TEXT, best first, with a snippet."""
    from pipeline import store
    with _opened(db) as conn:
        rows = store.search(conn, text, limit=limit)
    if table:
        _print_rows(rows, [("id", "id"), ("doc_number", "发文字号"), ("title", "标题"), ("snippet", "snippet")])
    else:
        emit_json(rows)

