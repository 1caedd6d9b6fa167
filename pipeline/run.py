"""The pipeline, chained in one place: read → normalise → split → parse.

    read_file      bytes to pages: text layer, or OCR of the page images (pipeline.reading.read)
    normalise      OCR text cleaned and reflowed, with a map back to the raw text
    split          the bundle cut into documents at each 版头
    parse          every GB/T 9704 element of each document, with provenance
    mark_uncertain addresses OCR read that no second reading confirmed set apart for review
"""

from __future__ import annotations

from pathlib import Path

from models import FileResult, Issue, Page, Text
from pipeline import __version__
from pipeline.text.normalise import normalise
from pipeline.parsing.parse import parse_slices
from pipeline.text.provenance import page_of
from pipeline.reading.latin import mark_uncertain
from pipeline.reading.read import read_file
from pipeline.text.split import split_documents, text_lines

PARSER_VERSION = __version__


def parse_pages(pages: list[Page], *, file: str, kind: str, engine: str | None = None) -> tuple[FileResult, Text]:
    """Documents from pages already read: the part of the pipeline that needs no OCR."""
    text = normalise(pages)
    lines = text_lines(text.text)
    line_pages = [page_of(text, line.start) for line in lines]
    documents = parse_slices(split_documents(lines, line_pages), lines, text, pages)
    documents = [mark_uncertain(doc, pages) for doc in documents]
    result = FileResult(file=file, kind=kind, engine=engine, parser_version=PARSER_VERSION, documents=documents)
    if not any(d.title or d.doc_number for d in documents):
        result.problems.append(Issue(code="file.no_documents", message="no notice found: no 文号 and no title", severity="warning"))
        result.status = "needs_review"
    return result, text


def parse_file(path: Path, *, engine: str = "auto") -> tuple[FileResult, Text]:
    """Read, normalise, split and parse one file."""
    read = read_file(path, engine=engine)
    result, text = parse_pages(read.pages, file=str(path), kind=read.kind, engine=read.engine)
    result.problems = read.problems + result.problems
    if any(p.severity == "error" for p in read.problems) and result.status == "done":
        result.status = "partial"
    return result, text
