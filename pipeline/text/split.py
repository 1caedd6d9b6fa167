"""Split a file's normalised text into its documents.

A scanned bundle holds a notice followed by its attachments, often a whole
upstream notice (the seed: the city notice, then the provincial notice it
implements). A new document starts at each 版头: a 发文字号 line standing alone
(GB/T 9704 §7.2.4), together with the 发文机关标志 and the 份号 / 密级 / 紧急程度 /
附件 label lines printed above it.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from pipeline.parsing.docnumber import DOCNUMBER_LINE_RE, parse_line


class TextLine(BaseModel):
    """One line of the normalised text and its character range."""

    start: int
    end: int
    text: str


class DocSlice(BaseModel):
    """The lines of one document: indices into the file's lines, half-open."""

    first: int
    last: int


def text_lines(text: str) -> list[TextLine]:
    lines = []
    pos = 0
    for part in text.split("\n"):
        lines.append(TextLine(start=pos, end=pos + len(part), text=part))
        pos += len(part) + 1
    return lines


# Lines that may stand above a 文号 in a 版头: the mark, 份号, 密级, 紧急程度, the 附件 label.
_HEADER_LINE_RE = re.compile(r"^[^，。；：,;:！？!?]{1,40}$")
_MAX_HEADER_LINES = 6
# The previous document's last lines: 版记 (印发 line, 抄送), signature date, contacts.
_NOT_HEADER_RE = re.compile(r"印发$|^抄送|^联系|^电话|^附件[：:]|\d{4}年\d{1,2}月\d{1,2}日|[〇○零一二三四五六七八九]{4}年")


_LABEL_RE = re.compile(r"^附件\s*\d*$")


def _header_start(lines: list[TextLine], number_line: int, floor: int, pages: list[int | None] | None) -> int:
    """The first line of the 版头 whose 文号 stands at `number_line`.

    A 版头 starts a page (an attachment begins on a new page, GB/T 9704 §8), and the 附件
    label, where printed, is its first line: nothing above either belongs to it.
    """
    start = number_line
    while start - 1 >= floor and number_line - (start - 1) <= _MAX_HEADER_LINES:
        candidate = lines[start - 1].text
        if not _HEADER_LINE_RE.match(candidate) or _NOT_HEADER_RE.search(candidate):
            break
        if pages is not None and pages[start - 1] is not None and pages[start - 1] != pages[number_line]:
            break
        start -= 1
        if _LABEL_RE.match(candidate):
            break
    return start


def split_documents(lines: list[TextLine], pages: list[int | None] | None = None) -> list[DocSlice]:
    """Document boundaries: the first document starts at line 0, each later one at its 版头.

    `pages`, where known, gives each line's page (from OCR or a text layer).
    """
    number_lines = [i for i, line in enumerate(lines) if DOCNUMBER_LINE_RE.match(line.text)]
    starts = [0]
    seen: set[str] = set()
    for i in number_lines:
        number = _number_of(lines[i].text)
        if number in seen:
            # The same 文号 again: a page's heading block, then the document printed under it
            # (law databases, wikis), or the 文号 repeated in a metadata block. One document.
            continue
        start = _header_start(lines, i, starts[-1] + 1, pages)
        if start > starts[-1] and _has_body_before(lines, starts[-1], start):
            starts.append(start)
            seen = set()
        seen.add(number)
    return [DocSlice(first=a, last=b) for a, b in zip(starts, starts[1:] + [len(lines)])]


def _has_body_before(lines: list[TextLine], first: int, start: int) -> bool:
    """A 版头 only starts a new document once the previous one has text of its own.

    The first 文号 of a file belongs to the first document, whatever stands above it.
    """
    return any(DOCNUMBER_LINE_RE.match(line.text) for line in lines[first:start]) or start - first > _MAX_HEADER_LINES


def _number_of(text: str) -> str:
    found = parse_line(text)
    return found.canonical if found else text
