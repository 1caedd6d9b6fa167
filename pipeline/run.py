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
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from models import FileResult, Issue, Page, Text
from pipeline import __version__
from pipeline.text.normalise import normalise
from pipeline.parsing.contact_checks import mark_uncertain
from pipeline.parsing.parse import parse_slices
from pipeline.text.provenance import page_of
from pipeline.reading.read import read_file
from pipeline.text.split import split_documents, text_lines

if TYPE_CHECKING:
    from pipeline.reading.mail import Part

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

    result = FileResult(file=str(path), kind=kind, parser_version=PARSER_VERSION)
    text = Text(raw="", text="", origin=[])
    with tempfile.TemporaryDirectory(prefix="gongwen-mail-") as folder:
        for where, part, file in mail_files(path, kind, Path(folder), result):
            try:
                sub, text = parse_file(file, engine=engine)
            except GongwenError as e:
                result.problems.append(Issue(code="mail.part_unreadable", message=e.message.replace(str(file), where), severity="error"))
                continue
            for doc in sub.documents:
                doc.routing = part.routing.model_copy(update={"attachment": where.removeprefix(f"{path}!/")}) if part.routing.attachment else part.routing
            result.documents += sub.documents
            result.problems += [p.model_copy(update={"message": f"{where.removeprefix(f'{path}!/')}: {p.message}"}) for p in sub.problems]
            result.engine = result.engine or sub.engine
    if not result.documents:
        result.status = "needs_review"
        result.problems.append(Issue(code="file.no_documents", message="no notice found in the mail's attachments or body", severity="warning"))
    elif any(p.severity == "error" for p in result.problems):
        result.status = "partial"
    return result, text


def mail_files(path: Path, kind: str, folder: Path, result: FileResult) -> Iterator[tuple[str, Part, Path]]:
    """Each readable part of a mail written to `folder` (a zip attachment: each of its members,
    under the same bomb caps as an Office package), with the name it is known by; a part refused
    is a problem in `result`."""
    import zipfile

    from pipeline.errors import InputError
    from pipeline.reading.mail import MAX_ATTACHMENTS, mail_parts
    from pipeline.reading.word import check_package

    for n, part in enumerate(mail_parts(path, kind), start=1):
        where = f"{path}!/{part.name}"
        if part.refusal:
            result.problems.append(Issue(code="mail.part_refused", message=f"{where}: {part.refusal}", severity="error"))
            continue
        file = folder / f"part-{n}"
        file.write_bytes(part.data)
        if not zipfile.is_zipfile(file) or sniff_or_none(file) is not None:
            yield where, part, file
            continue
        try:
            members = [m for m in check_package(file) if not m.is_dir()]
            if len(members) > MAX_ATTACHMENTS:
                raise InputError(f"{file}: a zip of {len(members)} members, over the limit of {MAX_ATTACHMENTS} for a mail attachment")
        except InputError as e:
            result.problems.append(Issue(code="mail.part_unreadable", message=e.message.replace(str(file), where), severity="error"))
            continue
        with zipfile.ZipFile(file) as z:
            for i, member in enumerate(members, start=1):
                inner = folder / f"part-{n}-{i}"
                inner.write_bytes(z.read(member))
                yield f"{where}!/{member.filename}", part, inner


def sniff_or_none(file: Path) -> str | None:
    from pipeline.errors import InputError
    from pipeline.reading.sniff import sniff

    try:
        return sniff(file)
    except InputError:
        return None
