"""The `gongwen` command line. stdout carries data (JSON by default), stderr carries talk.

Exit codes (pipeline.errors.ExitCode): 0 ok, 1 error, 2 usage, 3 input file,
4 missing dependency, 5 OCR engine, 6 encrypted PDF, 7 store, 8 calendar,
9 audit findings of error severity, 130 interrupted.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline import __version__

# The command modules register their commands on `app` when imported.
from pipeline.cli import calendar, chain, store, watch, web  # noqa: F401
from pipeline.cli.app import Engine, EngineOption, FileArgument, VerboseOption, app, emit_json, err, handles_errors, print_tables
from pipeline.errors import ExitCode

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
        print_tables(result.model_dump(mode="json"))
    else:
        emit_json(result.model_dump(mode="json"))


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
    app()


if __name__ == "__main__":
    main()
