"""The chain commands, registered on `pipeline.cli.app.app` when `pipeline.cli.main` imports this module.

    gongwen chain [ID|文号]    the forwarding tree(s), top down: a rich tree, --json, --mermaid, --svg FILE
    gongwen audit             findings with severity, notices, evidence and a message; exit code
                              FindingsError's when any is an error

Both read the store (--db, default ./notices.db or $GONGWEN_DB) or, with --input (repeatable),
`gongwen parse` JSON files instead: no database needed to audit a few parsed files. The graph is
built afresh on every run (pipeline.chain.links), so it never depends on the order of ingest.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from models import Document, FileResult
from pipeline.chain.audit import AuditOptions, audit, has_errors
from pipeline.errors import FindingsError
from pipeline.chain.links import build_chain, select
from pipeline.chain.render import findings_list, render_svg, to_dot, to_json, to_mermaid, tree
from pipeline.cli.app import VerboseOption, app, err, handles_errors, out
from pipeline.cli.store import DEFAULT_DB, DbOption
from pipeline.errors import GongwenError, InputError, StoreError

InputOption = Annotated[
    list[Path] | None,
    typer.Option("--input", "-i", help="A `gongwen parse` JSON file to read instead of the database (repeatable)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON for programs instead of the view for people.")]


# --- documents in ---------------------------------------------------------------------------------


def stored_documents(conn: sqlite3.Connection) -> list[tuple[str, Document]]:
    """Every stored document with its id and the clerks' corrections applied."""
    from pipeline.store import overrides
    try:
        return overrides.corrected_documents(conn)
    except sqlite3.Error as e:
        raise StoreError(f"cannot read the stored documents: {e}") from e


def parsed_documents(paths: list[Path]) -> list[tuple[str, Document]]:
    """Documents of `gongwen parse` JSON files; a document's id is its file's name and its place in it
    (`h02_province_fire_forward.pdf#1`), with the JSON file's path in front if two files share a name."""
    found: list[tuple[str, Document]] = []
    taken: set[str] = set()
    for path in paths:
        try:
            result = FileResult.model_validate_json(path.read_bytes())
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror or e}") from e
        except ValidationError as e:
            raise InputError(
                f"{path}: not the JSON `gongwen parse` prints ({e.error_count()} problems, first: {e.errors()[0]['msg']})",
                hint=f"gongwen parse SCAN > {path.name}",
            ) from e
        for n, doc in enumerate(result.documents, 1):
            doc_id = f"{Path(result.file).name}#{n}"
            if doc_id in taken:
                doc_id = f"{path}:{doc_id}"
            taken.add(doc_id)
            found.append((doc_id, doc))
    return found


def load(db: Path, inputs: list[Path] | None) -> list[tuple[str, Document]]:
    if inputs:
        return parsed_documents(inputs)
    from pipeline import store
    conn = store.connect(db, create=False)
    try:
        return stored_documents(conn)
    finally:
        conn.close()


# --- commands ---------------------------------------------------------------------------------------


@app.command()
@handles_errors
def chain(
    key: Annotated[str | None, typer.Argument(help="A document id (or its first 4+ characters) or a 文号; every chain if none.")] = None,
    db: DbOption = DEFAULT_DB,
    inputs: InputOption = None,
    as_json: JsonOption = False,
    svg: Annotated[Path | None, typer.Option("--svg", help="Also draw the chain to this SVG file (needs Graphviz).")] = None,
    mermaid: Annotated[bool, typer.Option("--mermaid", help="A Mermaid flowchart instead of the tree.")] = False,
    verbose: VerboseOption = False,
) -> None:
    """Print the forwarding chain from the top notice down: each notice's 文号, level, issuers,
    成文日期, its deadlines and the working days it took to forward. Without KEY, every chain of two
    or more notices; notices the archive lacks are shown as placeholders (未入档)."""
    if as_json and mermaid:
        raise typer.BadParameter("choose --json or --mermaid, not both")
    documents = load(db, inputs)
    report = build_chain(documents)
    findings = audit(report, dict(documents))  # on the whole graph: a selected tree is judged with all the archive knows
    if key is not None:
        report = select(report, key)
        if not report.trees:
            raise GongwenError(f"no document or reference has the id or 文号 {key!r}", hint="`gongwen list` prints ids and 文号")
    if svg is not None:
        picture = render_svg(to_dot(report, findings))
        try:
            svg.write_bytes(picture)
        except OSError as e:
            raise GongwenError(f"{svg}: cannot write the picture: {e.strerror or e}") from e
        err.print(f"chain: wrote {svg}", highlight=False)
    if as_json:
        sys.stdout.write(to_json(report))
    elif mermaid:
        sys.stdout.write(to_mermaid(report, findings))
    elif not report.trees:
        err.print("chain: no notice forwards, attaches or cites another one", highlight=False)
    else:
        out.print(tree(report, findings), soft_wrap=False)  # labels wrap under their tree guides


@app.command("audit")
@handles_errors
def audit_(
    db: DbOption = DEFAULT_DB,
    inputs: InputOption = None,
    as_json: JsonOption = False,
    min_lead_days: Annotated[
        int, typer.Option("--min-lead-days", min=0, help="Working days a level must leave between its deadline and the one above.")
    ] = AuditOptions.min_lead_workdays,
    slow_days: Annotated[
        int, typer.Option("--slow-days", min=0, help="Working days to forward a notice, beyond which it is flagged slow.")
    ] = AuditOptions.slow_workdays,
    verbose: VerboseOption = False,
) -> None:
    """List the chain's findings, errors first: missing upstream notices, deadlines not passed down,
    passed down later or with too little lead, slow forwards, wrong direction or skipped levels,
    loops, reused or non-conforming 文号. Exit code 0, or 9 when any finding is an error."""
    documents = load(db, inputs)
    options = AuditOptions(min_lead_workdays=min_lead_days, slow_workdays=slow_days)
    findings = audit(build_chain(documents), dict(documents), options)
    if as_json:
        sys.stdout.write(json.dumps([f.model_dump(mode="json") for f in findings], ensure_ascii=False, indent=2) + "\n")
    elif findings:
        out.print(findings_list(findings), soft_wrap=False)
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
    err.print(f"audit: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes", highlight=False)
    if has_errors(findings):
        raise FindingsError(f"{counts['error']} findings of error severity (listed above)")
