"""The `gongwen` command line. stdout carries data (JSON by default), stderr carries talk.

Exit codes (pipeline.errors.ExitCode): 0 ok, 1 error, 2 usage, 3 input file,
4 missing dependency, 5 OCR engine, 6 encrypted PDF, 7 store, 8 calendar,
9 audit findings of error severity, 130 interrupted.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from datetime import date
from enum import Enum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from pipeline import __version__
from pipeline.errors import ExitCode, GongwenError

app = typer.Typer(
    name="gongwen",
    help="Turn scanned Chinese official notices (公文) into structured, checkable records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


class Engine(str, Enum):
    auto = "auto"
    rapidocr = "rapidocr"
    tesseract = "tesseract"


EngineOption = Annotated[
    Engine, typer.Option("--engine", "-e", help="OCR engine for scanned pages: auto picks the one that measures best.")
]
FileArgument = Annotated[Path, typer.Argument(help="A PDF, PNG, JPEG, TIFF or OCR text file; its kind is read from its bytes.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show a traceback with errors.")]


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def handles_errors(func: F) -> F:
    """Print `ErrorType: message` and the fix on stderr and exit with the error's code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verbose = kwargs.get("verbose", False)
        try:
            return func(*args, **kwargs)
        except GongwenError as e:
            if verbose:
                err.print(traceback.format_exc(), markup=False, highlight=False)
            err.print(f"[bold red]{type(e).__name__}[/]: {e.message}", highlight=False)
            if e.hint:
                err.print(f"  fix: {e.hint}", highlight=False)
            raise typer.Exit(int(e.exit_code)) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(int(ExitCode.interrupted)) from None

    return wrapper  # type: ignore[return-value]


def _check_file(path: Path) -> None:
    from pipeline.errors import InputError

    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")


@app.command()
@handles_errors
def parse(
    file: FileArgument,
    engine: EngineOption = Engine.auto,
    table: Annotated[bool, typer.Option("--table", help="A table for people instead of JSON.")] = False,
    verbose: VerboseOption = False,
) -> None:
    """Print one record per document found in FILE (JSON: {"documents": [...]}, provenance beside the values)."""
    from pipeline.run import parse_file

    _check_file(file)
    with err.status(f"reading {file.name}", spinner="dots"):
        result, _ = parse_file(file, engine=engine.value)
    for problem in result.problems:
        err.print(f"{file}: {problem.severity}: {problem.message}", highlight=False, markup=False)
    if table:
        _print_tables(result.model_dump(mode="json"))
    else:
        _emit_json(result.model_dump(mode="json"))


_TABLE_FIELDS = [
    ("issuer_mark", "发文机关标志"),
    ("issuers", "发文机关"),
    ("level", "层级"),
    ("doc_number", "发文字号"),
    ("doc_type", "文种"),
    ("title", "标题"),
    ("recipients", "主送机关"),
    ("issue_date", "成文日期"),
    ("attachments", "附件"),
    ("cc", "抄送"),
    ("secrecy", "密级"),
    ("urgency", "紧急程度"),
    ("signers", "签发人"),
]


_RECURRING = {"yearly": "每年", "half-yearly": "每半年", "quarterly": "每季度", "monthly": "每月", "weekly": "每周", "daily": "每日"}


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items() if v not in (None, [], ""))
    return "" if value is None else str(value)


def _print_tables(result: dict[str, Any]) -> None:
    from pipeline.chain.levels import LEVEL_NAMES

    for n, doc in enumerate(result["documents"], 1):
        t = Table(title=f"{result['file']} · document {n} · pages {doc['pages']}", show_lines=True)
        t.add_column("field")
        t.add_column("value", overflow="fold")
        t.add_column("page", justify="right")
        for key, label in _TABLE_FIELDS:
            if doc.get(key) not in (None, [], ""):
                where = doc["provenance"].get(key) or doc["provenance"].get(f"{key}[0]") or {}
                value = LEVEL_NAMES.get(doc[key], doc[key]) if key == "level" else doc[key]
                t.add_row(label, _cell(value), str(where.get("page") or ""))
        for i, c in enumerate(doc["contacts"]):
            t.add_row("联系人", _cell(c), str((doc["provenance"].get(f"contacts[{i}]") or {}).get("page") or ""))
        for i, d in enumerate(doc["deadlines"]):
            when = d["date"] or _RECURRING.get(d["recurring"] or "", d["rrule"]) or "无明确日期"
            t.add_row(f"期限 {when}", f"{d['action']}\n→ {_cell(d['assignees'])}\n{d['text']}", str(d.get("page") or ""))
        for i, duty in enumerate(doc["ongoing_duties"]):
            t.add_row("经常性工作", duty, str((doc["provenance"].get(f"ongoing_duties[{i}]") or {}).get("page") or ""))
        for ref in doc["upstream"]:
            t.add_row(f"上游 {ref['relation']}", _cell({k: v for k, v in ref.items() if k != "relation"}), "")
        out.print(t)


@app.command()
@handles_errors
def ocr(
    file: FileArgument,
    engine: EngineOption = Engine.auto,
    raw: Annotated[bool, typer.Option("--raw", help="The engine's own text, before normalisation.")] = False,
    verbose: VerboseOption = False,
) -> None:
    """Print FILE's text with page markers: normalised by default, as the engine read it with --raw."""
    from pipeline.text.normalise import normalise
    from pipeline.text.provenance import page_of
    from pipeline.reading.read import read_file

    _check_file(file)
    with err.status(f"reading {file.name}", spinner="dots"):
        read = read_file(file, engine=engine.value)
    for problem in read.problems:
        err.print(f"{file}: {problem.severity}: {problem.message}", highlight=False, markup=False)
    if raw:
        for page in read.pages:
            sys.stdout.write(f"=== page {page.number} ===\n{page.raw_text}\n")
        return
    text = normalise(read.pages)
    current = None
    pos = 0
    for line in text.text.split("\n"):
        page = page_of(text, pos)
        if page is not None and page != current:
            sys.stdout.write(f"=== page {page} ===\n")
            current = page
        sys.stdout.write(line + "\n")
        pos += len(line) + 1


@app.command()
@handles_errors
def when(
    phrase: Annotated[str, typer.Argument(help='A time expression, or "-" to read JSON lines {"phrase", "issue_date"} from stdin.')],
    issued: Annotated[str | None, typer.Option("--issued", help="The notice's issue date, YYYY-MM-DD.")] = None,
    year: Annotated[int | None, typer.Option("--year", help="The year to assume when neither phrase nor issue date gives one (the 文号's).")] = None,
    verbose: VerboseOption = False,
) -> None:
    """Read a deadline phrase: {"kind", "start", "end", "rrule", "confidence"} as JSON."""
    from pipeline import when as engine
    from pipeline.errors import InputError

    def one(text: str, issue: str | None, hint: int | None) -> dict[str, Any]:
        try:
            issue_date = date.fromisoformat(issue) if issue else None
        except ValueError:
            raise InputError(f"issue date {issue!r} is not YYYY-MM-DD") from None
        return engine.resolve(text, issue_date=issue_date, year_hint=hint).model_dump(mode="json")

    if phrase != "-":
        sys.stdout.write(json.dumps(one(phrase, issued, year), ensure_ascii=False) + "\n")
        return
    # One result per input line, in order: a bad line gets an {"error"} row, the rest go on.
    failed = False
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            row = one(item["phrase"], item.get("issue_date") or issued, item.get("year_hint") or year)
        except (json.JSONDecodeError, KeyError, TypeError, InputError) as e:
            failed = True
            row = {"error": f"stdin line {n}: expected a JSON object with a \"phrase\" and an optional YYYY-MM-DD \"issue_date\" ({e})"}
            err.print(row["error"], highlight=False, markup=False)
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    if failed:
        raise typer.Exit(int(ExitCode.input_file))


@app.command()
def version() -> None:
    """Print gongwen's version."""
    sys.stdout.write(f"gongwen {__version__}\n")


def main() -> None:
    # The store, calendar, chain and web commands register themselves on `app` when imported.
    for module in ("pipeline.cli.store", "pipeline.cli.calendar", "pipeline.cli.chain", "pipeline.cli.web"):
        try:
            __import__(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
    app()


if __name__ == "__main__":
    main()
