"""The one Typer app every command module registers on, the options they share, the error
handling every command goes through, and the table view of parse results.

    app                     the `gongwen` command
    handles_errors(func)    `ErrorType: message` and the fix on stderr, the error's exit code
    err, out                stderr (talk, progress) and stdout (data) consoles
    emit_json(data)         data on stdout, as JSON
    print_tables(result)    a parse result as a table per document, for people
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from enum import Enum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

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
FileArgument = Annotated[
    Path, typer.Argument(help="A PDF, image, text, Word (.docx/.doc/.wps), OFD, web page or e-mail file; its kind is read from its bytes.")
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show a traceback with errors.")]


def emit_json(data: Any) -> None:
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


def cell(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {cell(v)}" for k, v in value.items() if v not in (None, [], ""))
    return "" if value is None else str(value)


def print_tables(result: dict[str, Any]) -> None:
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
                t.add_row(label, cell(value), str(where.get("page") or ""))
        if doc.get("routing"):  # 收文: the e-mail it came in
            r = doc["routing"]
            t.add_row("收文", cell({"来自": r["sender"], "收到": r["received"], "主题": r["subject"], "附件": r["attachment"]}), "")
        if doc.get("metadata"):
            t.add_row("文件自述", cell(doc["metadata"]), "")
        for i, c in enumerate(doc["contacts"]):
            t.add_row("联系人", cell(c), str((doc["provenance"].get(f"contacts[{i}]") or {}).get("page") or ""))
        for i, d in enumerate(doc["deadlines"]):
            when = d["date"] or _RECURRING.get(d["recurring"] or "", d["rrule"]) or "无明确日期"
            t.add_row(f"期限 {when}", f"{d['action']}\n→ {cell(d['assignees'])}\n{d['text']}", str(d.get("page") or ""))
        for i, duty in enumerate(doc["ongoing_duties"]):
            t.add_row("经常性工作", duty, str((doc["provenance"].get(f"ongoing_duties[{i}]") or {}).get("page") or ""))
        for ref in doc["upstream"]:
            t.add_row(f"上游 {ref['relation']}", cell({k: v for k, v in ref.items() if k != "relation"}), "")
        out.print(t)
