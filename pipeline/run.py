"""The pipeline, chained in one place: read → normalise → split → parse.

    read_file      bytes to pages: text layer, or OCR of the page images (pipeline.reading.read)
    normalise      OCR text cleaned and reflowed, with a map back to the raw text
    split          the bundle cut into documents at each 版头
    parse          every GB/T 9704 element of each document, with provenance
    mark_uncertain addresses OCR read that no second reading confirmed set apart for review

An e-mail is not read as one file: each input it carries (pipeline.reading.mail) goes
through the same stages, and its documents keep the mail's routing record.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from models import FileResult, Issue, Page, Text
from pipeline import __version__
from pipeline.text.normalise import normalise
from pipeline.parsing.contact_checks import mark_uncertain
from pipeline.parsing.parse import parse_slices
from pipeline.text.provenance import page_of
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
    for doc in documents:
        # what the file states about itself (a web page's 政府信息公开 fields) goes with its documents
        for page in pages:
            if page.number in doc.pages or (not doc.pages and page.number == 1):
                doc.metadata = {**page.metadata, **doc.metadata}
    result = FileResult(file=file, kind=kind, engine=engine, parser_version=PARSER_VERSION, documents=documents)
    if not any(d.title or d.doc_number for d in documents):
        result.problems.append(Issue(code="file.no_documents", message="no notice found: no 文号 and no title", severity="warning"))
        result.status = "needs_review"
    return result, text


def parse_file(path: Path, *, engine: str = "auto") -> tuple[FileResult, Text]:
    """Read, normalise, split and parse one file (an e-mail: every input it carries)."""
    from pipeline.reading.sniff import MAIL_KINDS, sniff

    kind = sniff(path)
    if kind in MAIL_KINDS:
        return parse_mail(path, kind, engine=engine)
    read = read_file(path, engine=engine)
    result, text = parse_pages(read.pages, file=str(path), kind=read.kind, engine=read.engine)
    result.problems = read.problems + result.problems
    if any(p.severity == "error" for p in read.problems) and result.status == "done":
        result.status = "partial"
    return result, text


def parse_mail(path: Path, kind: str, *, engine: str = "auto") -> tuple[FileResult, Text]:
    """The documents of every attachment and of a body that holds a notice, each with the
    mail's routing record; a part that cannot be read is a problem naming it, and the rest go on.
    The Text returned is the last part's (callers of a mail use the documents' own spans)."""
    from pipeline.errors import GongwenError
    from pipeline.reading.mail import mail_parts

    result = FileResult(file=str(path), kind=kind, parser_version=PARSER_VERSION)
    text = Text(raw="", text="", origin=[])
    with tempfile.TemporaryDirectory(prefix="gongwen-mail-") as folder:
        for n, part in enumerate(mail_parts(path, kind), start=1):
            where = f"{path}!/{part.name}"
            if part.refusal:
                result.problems.append(Issue(code="mail.part_refused", message=f"{where}: {part.refusal}", severity="error"))
                continue
            file = Path(folder) / f"part-{n}"
            file.write_bytes(part.data)
            try:
                sub, text = parse_file(file, engine=engine)
            except GongwenError as e:
                result.problems.append(Issue(code="mail.part_unreadable", message=e.message.replace(str(file), where), severity="error"))
                continue
            for doc in sub.documents:
                doc.routing = part.routing
            result.documents += sub.documents
            result.problems += [p.model_copy(update={"message": f"{part.name}: {p.message}"}) for p in sub.problems]
            result.engine = result.engine or sub.engine
    if not result.documents:
        result.status = "needs_review"
        result.problems.append(Issue(code="file.no_documents", message="no notice found in the mail's attachments or body", severity="warning"))
    elif any(p.severity == "error" for p in result.problems):
        result.status = "partial"
    return result, text
