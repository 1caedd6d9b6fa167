"""Read a .docx (Office Open XML) notice into one page of lines, each knowing where it sat.

    read_docx(path) -> Page      source "word"; Line.where: "paragraph 3", "table 1 row 1 cell 2",
                                 "text box 1", "header", "footer"

OA systems export notices from templates that put the 版头 (发文机关标志, 发文字号) in a
table cell or a text box, and the 联系人 block or an 附件 form in a table. python-docx opens
the package (relationships, headers and footers per section, core properties); the body is
walked on its XML because python-docx neither reads text boxes nor keeps one cell per merged
cell (`row.cells` repeats a merged cell once per grid column it spans).

Before python-docx reads anything, the zip is checked: a macro part (vbaProject.bin) refuses
the file, and declared sizes and compression ratios stop a decompression bomb (zipfile never
inflates a member past its declared size: it fails the CRC check first).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from models.page import Line, Page
from pipeline.errors import InputError, InputTooLarge

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
NS = {"w": W, "mc": MC}
# compiled once; python-docx's elements override .xpath() with a signature of their own
TEXT_BOXES = etree.XPath(".//w:txbxContent[not(ancestor::mc:Fallback)]", namespaces=NS)
IN_TEXT_BOX = etree.XPath("ancestor::w:txbxContent", namespaces=NS)
SKIPPED_INSIDE = {"txbxContent", "del", "Fallback"}  # a box's own text, deleted revisions, VML copies

MAX_UNPACKED_BYTES = 200 << 20  # a notice with its embedded scans stays far below this
MAX_RATIO = 100  # XML compresses 5-20x; a bomb does 1000x
RATIO_FREE_BYTES = 1 << 20
MACRO_PARTS = ("vbaproject.bin", "vbadata.xml")


def check_package(path: Path, *, max_bytes: int = MAX_UNPACKED_BYTES) -> list[zipfile.ZipInfo]:
    """The members of an Office zip, after the bomb and macro checks; InputError otherwise."""
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise InputError(f"{path}: a damaged zip package: {e}") from e
    for info in members:
        if info.filename.lower().rsplit("/", 1)[-1] in MACRO_PARTS:
            raise InputError(
                f"{path}: a document with a macro part ({info.filename}): macros are never opened",
                hint="save it as .docx without macros, or as PDF",
            )
    total = sum(info.file_size for info in members)
    if total > max_bytes:
        raise InputTooLarge(f"{path}: unpacks to {total:,} bytes, over the limit of {max_bytes:,} (a decompression bomb?)")
    for info in members:
        if info.file_size > RATIO_FREE_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InputTooLarge(
                f"{path}: member {info.filename} unpacks {info.file_size // max(info.compress_size, 1):,}x "
                f"its packed size (a decompression bomb?); the limit is {MAX_RATIO}x"
            )
    return members


def read_docx(path: Path) -> Page:
    import docx  # python-docx

    check_package(path)
    try:
        document = docx.Document(str(path))
    except (ValueError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as e:
        # python-docx raises ValueError for a package that is not a Word document, KeyError for a missing part
        raise InputError(f"{path}: not a readable Word document: {type(e).__name__}: {e}") from e
    lines: list[Line] = []
    seen_headers: set[int] = set()
    for section in document.sections:
        for header in (section.first_page_header, section.header):
            lines += part_lines(header, "header", seen_headers)
    counter = Counter()
    lines += list(block_lines(document.element.body, counter))
    seen_footers: set[int] = set()
    for section in document.sections:
        for footer in (section.first_page_footer, section.footer):
            lines += part_lines(footer, "footer", seen_footers)
    props = document.core_properties
    metadata = {k: v for k, v in (("title", props.title), ("author", props.author), ("subject", props.subject)) if v}
    return Page(number=1, source="word", lines=lines, metadata=metadata)


def part_lines(part: object, where: str, seen: set[int]) -> list[Line]:
    """A header or footer's own lines; a linked one (inheriting the previous section's) is read once."""
    if getattr(part, "is_linked_to_previous", True):
        return []
    element = part._element  # type: ignore[attr-defined]  python-docx keeps the part's XML here
    if id(element) in seen:
        return []
    seen.add(id(element))
    return [Line(text=line.text, where=where) for line in block_lines(element, Counter())]


class Counter:
    """Running numbers of paragraphs, tables and text boxes, for Line.where."""

    def __init__(self) -> None:
        self.paragraph = self.table = self.textbox = 0


def block_lines(container: etree._Element, counter: Counter, cell: str | None = None) -> Iterator[Line]:
    """Lines of the paragraphs and tables directly in `container`, in document order."""
    for child in container:
        tag = etree.QName(child).localname
        if tag == "p":
            yield from paragraph_lines(child, counter, cell)
        elif tag == "tbl":
            yield from table_lines(child, counter)
        elif tag == "sdt":  # a content control: OA templates wrap filled-in fields in them
            for content in child.iterfind("w:sdtContent", NS):
                yield from block_lines(content, counter, cell)


def paragraph_lines(p: etree._Element, counter: Counter, cell: str | None) -> Iterator[Line]:
    # Text boxes anchored in the paragraph come first: a 版头 drawn in a text box sits above the text.
    # mc:Fallback repeats the mc:Choice text box as VML for old readers, so it is skipped.
    for box in TEXT_BOXES(p):
        if IN_TEXT_BOX(box):
            continue  # a text box inside a text box is read with its parent
        counter.textbox += 1
        yield from block_lines(box, counter, cell=f"text box {counter.textbox}")
    if cell is None:
        counter.paragraph += 1
    where = cell or f"paragraph {counter.paragraph}"
    for text in paragraph_text(p).split("\n"):
        if text.strip():
            yield Line(text=text, where=where)


def paragraph_text(p: etree._Element) -> str:
    """The paragraph's text: runs, tabs and line breaks, not the text of boxes or deleted revisions."""
    out: list[str] = []
    for node in p.iter(f"{{{W}}}t", f"{{{W}}}tab", f"{{{W}}}br", f"{{{W}}}cr", f"{{{W}}}noBreakHyphen"):
        if any(etree.QName(a).localname in SKIPPED_INSIDE for a in ancestors_within(node, p)):
            continue
        name = etree.QName(node).localname
        if name == "t":
            out.append(node.text or "")
        elif name == "tab":
            out.append("\t")
        elif name == "noBreakHyphen":
            out.append("-")
        else:
            out.append("\n")
    return "".join(out)


def ancestors_within(node: etree._Element, top: etree._Element) -> Iterator[etree._Element]:
    for ancestor in node.iterancestors():
        if ancestor is top:
            return
        yield ancestor


def table_lines(tbl: etree._Element, counter: Counter) -> Iterator[Line]:
    """Each cell's paragraphs as lines, row by row. A row of short cells ("联系人" | "张书毓" |
    "电话" | "0351-6387015") becomes one line joined by spaces, as it reads on paper; a cell
    that a vertical merge continues is empty in the XML and is skipped."""
    counter.table += 1
    number = counter.table
    for r, row in enumerate(tbl.iterfind("w:tr", NS), start=1):
        cells = row.findall("w:tc", NS)
        texts = []
        for c, tc in enumerate(cells, start=1):
            where = f"table {number} row {r} cell {c}"
            texts.append((where, list(block_lines(tc, counter, cell=where))))
        single = [lines[0] for _, lines in texts if len(lines) == 1]
        if len(cells) > 1 and len(single) == sum(1 for _, lines in texts if lines) and sum(len(x.text) for x in single) <= 60:
            if single:
                yield Line(text=" ".join(x.text.strip() for x in single), where=f"table {number} row {r}")
            continue
        for _, lines in texts:
            yield from lines
