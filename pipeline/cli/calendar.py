"""`gongwen deadlines`: the tasks of stored or parsed notices, as JSON, a table, an .ics file or a CalDAV push;
`gongwen calendar`: the years the working-day calendar covers, and from where.

Registered on the `gongwen` app (`pipeline.cli.app`) when `pipeline.cli.main` imports this module.  Documents come from
the store (`--db`, the default) or from `gongwen parse` JSON files (`--input`, repeatable); the
tasks are `pipeline.tasks.records.tasks_from_document` of each, filtered, then printed (stdout: data),
written as a checked iCalendar file (`--ics`), and/or pushed to a CalDAV calendar (`--caldav`).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from models import Document, Task
from pipeline.tasks.ical import RECURRENCE_NAMES, CalendarOptions, calendar_bytes, offset_words
from pipeline.cli.app import app, err, handles_errors, out
from pipeline.errors import InputError
from pipeline.tasks.records import TaskFilter, select, tasks_from_document

DEFAULT_DB = Path("notices.db")  # the store's default, as `gongwen ingest` writes it


class LevelChoice(StrEnum):
    state = "state"
    ministry = "ministry"
    province = "province"
    city = "city"
    county = "county"


# ---------------------------------------------------------------------------------------------
# Where documents come from


def _parsed_documents(path: Path) -> Iterator[tuple[str | None, Document]]:
    """The documents of one `gongwen parse` JSON file ({"documents": [...]})."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        records = data.get("documents") if isinstance(data, dict) else None
        if not isinstance(records, list):
            raise InputError(f'{path}: not `gongwen parse` JSON: no "documents" list')
        documents = [Document.model_validate(record) for record in records]
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError) as e:
        raise InputError(f"{path}: cannot read it as `gongwen parse` JSON: {e}",
                         hint=f"gongwen parse NOTICE > {path.name}") from None  # fmt: skip
    for document in documents:
        yield None, document


def _stored_documents(db: Path) -> Iterator[tuple[str | None, Document]]:
    """Every document in the store, with its store id and the clerks' corrections applied."""
    from pipeline.store import overrides
    from pipeline import store
    conn = store.connect(db, create=False)
    try:
        yield from overrides.corrected_documents(conn)
    finally:
        conn.close()


def _tasks(inputs: list[Path], db: Path | None) -> list[Task]:
    sources = [_parsed_documents(path) for path in inputs]
    if db is not None or not inputs:
        sources.append(_stored_documents(db or DEFAULT_DB))
    # Two scans of one notice give the same tasks (ids come from 文号, action and due date):
    # a calendar holds each once.
    unique: dict[str, Task] = {}
    for source in sources:
        for store_id, doc in source:
            for task in tasks_from_document(doc, store_id=store_id):
                unique.setdefault(task.id, task)
    return list(unique.values())


# ---------------------------------------------------------------------------------------------
# Where tasks go


def _when_cell(task: Task) -> str:
    if task.kind == "window":
        return f"{task.start} 至 {task.due}"
    if task.kind == "recurring":
        label = RECURRENCE_NAMES.get(task.recurring or "", task.rrule or "")
        how = "最后一个工作日" if task.offset_workdays == 0 else offset_words(task.offset_workdays)
        return f"{label} {how}".strip() + f"\n首次 {task.due or '?'}"
    return task.due or "无明确日期"


def _print_table(tasks: list[Task]) -> None:
    table = Table(title=f"{len(tasks)} 项任务", show_lines=True)
    for column in ("期限", "事项", "承办", "报送", "联系人", "文件", "页"):
        table.add_column(column, overflow="fold")
    for task in tasks:
        contact = task.contact
        who = " ".join([contact.name or contact.org or "", *contact.phones]).strip() if contact else ""
        table.add_row(
            _when_cell(task),
            task.action or task.text,
            "\n".join(task.assignees),
            task.report_to or "",
            who,
            task.document.doc_number or task.document.title or "",
            str(task.page or ""),
        )
    out.print(table)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target, then rename: a calendar app watching the file never reads half of it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _push(data: bytes, url: str, user: str | None, password: str | None) -> None:
    from pipeline.tasks.caldav import open_calendar, push

    with err.status(f"pushing to {url}", spinner="dots"):
        report = push(data, open_calendar(url, user, password))
    err.print(f"{url}: {len(report.created)} created, {len(report.updated)} updated", highlight=False)
    if report.stale:
        err.print(f"  {len(report.stale)} earlier gongwen tasks are no longer derived (left as they are): "
                  + ", ".join(report.stale), highlight=False, markup=False)  # fmt: skip


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


# The options, one alias each, so the command's signature reads as a list of names.
_Inputs = Annotated[list[Path] | None, typer.Option("--input", "-i", help="A `gongwen parse` JSON file (repeatable).")]
_Db = Annotated[
    Path | None, typer.Option("--db", envvar="GONGWEN_DB", help="The store (default ./notices.db without --input).")
]
_From = Annotated[
    datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="Due on or after YYYY-MM-DD (drops undated).")
]
_To = Annotated[
    datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Due on or before YYYY-MM-DD (drops undated).")
]
_Assignee = Annotated[str | None, typer.Option("--assignee", help="Only tasks of an assignee containing TEXT.")]
_Issuer = Annotated[str | None, typer.Option("--issuer", help="Only notices whose issuer or 文号 contains TEXT.")]
_Level = Annotated[LevelChoice | None, typer.Option("--level", help="Only notices of this level.")]
_TableFlag = Annotated[bool, typer.Option("--table", help="A table for people instead of JSON.")]
_Ics = Annotated[Path | None, typer.Option("--ics", help="Also write the tasks as an iCalendar file.")]
_CalDav = Annotated[str | None, typer.Option("--caldav", help="Also push the tasks to this CalDAV calendar URL.")]
_User = Annotated[str | None, typer.Option("--user", help="CalDAV user name.")]
_Password = Annotated[str | None, typer.Option("--password", envvar="GONGWEN_CALDAV_PASSWORD", help="CalDAV password.")]
_Remind = Annotated[
    list[int] | None, typer.Option("--remind", help="Days before the due day to remind (repeatable; 3 and 1).")
]
_Occurrences = Annotated[
    int, typer.Option("--occurrences", min=1, help="Due days written for a duty with a working-day offset.")
]
_Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show a traceback with errors.")]


@app.command()
@handles_errors
def deadlines(
    input: _Inputs = None,
    db: _Db = None,
    since: _From = None,
    until: _To = None,
    assignee: _Assignee = None,
    issuer: _Issuer = None,
    level: _Level = None,
    table: _TableFlag = False,
    ics: _Ics = None,
    caldav: _CalDav = None,
    user: _User = None,
    password: _Password = None,
    remind: _Remind = None,
    occurrences: _Occurrences = 8,
    verbose: _Verbose = False,
) -> None:
    """List the deadlines and duties of notices as tasks: JSON {"tasks": [...]}, --table, --ics, --caldav."""
    task_filter = TaskFilter(_day(since), _day(until), assignee, issuer, level.value if level else None)
    tasks = select(_tasks(input or [], db), task_filter)
    if table:
        _print_table(tasks)
    else:
        payload: dict[str, Any] = {"tasks": [task.model_dump(mode="json") for task in tasks]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    if ics is None and caldav is None:
        return
    options = CalendarOptions(reminders=tuple(remind) if remind else (3, 1), occurrences=occurrences, since=_day(since))
    data = calendar_bytes(tasks, options)
    if ics is not None:
        _write_atomically(ics, data)
        err.print(f"wrote {len(tasks)} tasks to {ics}", highlight=False)
    if caldav is not None:
        _push(data, caldav, user, password)


@app.command("calendar")
@handles_errors
def calendar_years(db: _Db = None, verbose: _Verbose = False) -> None:
    """The years the working-day calendar covers and where each comes from: JSON {"years": [...]}.

    chinesecalendar's years, then any year read from a State Council holiday schedule notice in
    the store (`--db`, default ./notices.db when it exists) that the package lacks."""
    from pipeline import store
    from pipeline.when import workdays

    path = db or DEFAULT_DB
    if db is not None or path.exists():
        store.connect(path, create=False).close()  # opening it counts its stored schedules in
    years = [{"year": year, "source": source} for year, source in workdays.sources().items()]
    sys.stdout.write(json.dumps({"years": years}, ensure_ascii=False, indent=2) + "\n")
    notices = [entry for entry in years if entry["source"].startswith("notice")]
    err.print(
        f"{years[0]['year']}–{years[-1]['year']} covered; "
        + (", ".join(f"{e['year']} from {e['source']}" for e in notices) or "no year from a stored schedule notice"),
        highlight=False,
    )
