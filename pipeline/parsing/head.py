"""The head of a notice (GB/T 9704 §7.2, §7.3.2): 版头, 发文字号, 签发人, 标题, and a date under them.

`Cursor` carries a document's lines, the file context and what the head holds; the finders
here read the elements `pipeline.parsing.layout` locates and record each value's provenance.
"""

from __future__ import annotations

import re
from datetime import date

from models import Document, Issue, Page, Text
from pipeline.parsing import layout
from pipeline.parsing import metadata
from pipeline.parsing.agencies import ORG_SUFFIX_RE, split_issuers
from pipeline.parsing.docnumber import FoundNumber, canonical, parse_line
from pipeline.parsing.junk import is_chrome, simplified
from pipeline.parsing.layout import TitleFound, date_line
from pipeline.text.provenance import locate, printed
from pipeline.text.reflow import DOC_TYPES
from pipeline.text.split import TextLine

_COPY_RE = re.compile(r"^\d{6}$")  # 份号: six digits (§7.2.1)
_SECRECY_RE = re.compile(r"(绝密|机密|秘密)(?:\s*★\s*[^\s]*)?")  # 密级和保密期限 (§7.2.2)
_URGENCY_RE = re.compile(r"特急|加急|特提|平急")  # 紧急程度 (§7.2.3)
_LABEL_RE = re.compile(r"^附件\s*\d*$")  # the 附件 label on an attachment's first page (§8)
_SIGNER_RE = re.compile(r"签发人[：:]\s*(.+)$")


class Cursor:
    """The document's lines, the file context every finder needs, and what the head holds."""

    def __init__(self, lines: list[TextLine], text: Text, pages: list[Page], doc: Document):
        self.lines = lines
        self.text = text
        self.pages = pages
        self.doc = doc
        self.meta = metadata.read(lines)
        self.mark_names: list[str] = []
        self.signature: list[str] = []
        self.head_date: tuple[date, int, int] | None = None

    def mark(self, key: str, start: int, end: int) -> None:
        if start < end:
            self.doc.provenance[key] = locate(self.text, self.pages, start, end)


def read_head(cur: Cursor) -> int:
    """The head, before the 主送机关 or the first sentence: 版头, 文号, title, a date under them.
    Returns the index of the first line after it (the 主送 line, where there is one)."""
    cur.doc.metadata = dict(cur.meta.printed)  # a site's 政府信息公开 block: what the file says of itself
    skip = set(cur.meta.lines)
    stop, recipients_at = layout.body_start(cur.lines, skip)
    numbers = layout.number_lines(cur.lines, stop, skip)
    if not numbers and recipients_at is not None:
        # `各县（市、区）民政局：晋民函〔2024〕7号`: the 文号 glued after the 主送's colon.
        numbers = [(i, n) for i, n in layout.number_lines(cur.lines, stop + 2, skip) if i == stop + 1]
    title = layout.find_title(cur.lines, stop, skip | {i for i, _ in numbers})
    number_at = numbers[-1][0] if numbers else None
    if number_at is not None:
        _banner(cur, number_at, title)
    found: FoundNumber | None = numbers[-1][1] if numbers else None
    if title and title.number and (found is None or number_at is not None and number_at < title.first):
        found = title.number  # the number printed with the title, nearer the text
    under = [(i, b) for i, b in layout.bracketed_lines(cur.lines, stop, skip) if title is None or i > title.last]
    if found is None and under:
        found = under[0][1].number  # `（劳社厅发[2003]4号 2003年2月25日）` under the title
        if under[0][1].date and not (title and title.date):
            b = under[0][1]
            cur.head_date = (b.date.value, b.date_offset + b.date.start, b.date_offset + b.date.end)
    if found is None:
        found = _meta_number(cur)
    if found is None:
        cur.doc.problems.append(Issue(code="header.no_doc_number", message="no 发文字号 found in the head"))
    else:
        _doc_number(cur, found)
    if title is None:
        title = _meta_title(cur)
    if title:
        _title(cur, title)
    _head_date(cur, title, number_at, stop, skip)
    return stop


def _banner(cur: Cursor, number_at: int, title: TitleFound | None) -> None:
    """The 版头 above a 文号 line (§7.2): 份号, 密级, 紧急程度, the 发文机关标志; and the 签发人."""
    doc = cur.doc
    k = number_at
    while k - 1 >= 0 and number_at - k < 6:
        t = cur.lines[k - 1].text.strip()
        if (
            k - 1 in cur.meta.lines
            or is_chrome(t)
            or (title is not None and title.first <= k - 1 <= title.last)
            or len(t) > 40
            or re.search(r"[，。：:；、]", t)
            or date_line(t)
            or layout.is_title(t)
        ):
            break
        k -= 1
    marks: list[TextLine] = []
    for ln in cur.lines[k:number_at]:
        t = ln.text.strip()
        if _LABEL_RE.match(t):
            continue
        if _COPY_RE.match(t):
            doc.copy_number = t
            cur.mark("copy_number", ln.start, ln.end)
            continue
        secrecy, urgency = _SECRECY_RE.search(t), _URGENCY_RE.search(t)
        if secrecy or urgency:
            if secrecy:
                doc.secrecy = re.sub(r"\s+", "", secrecy.group(0))
                cur.mark("secrecy", ln.start + secrecy.start(), ln.start + secrecy.end())
            if urgency:
                doc.urgency = urgency.group(0)
                cur.mark("urgency", ln.start + urgency.start(), ln.start + urgency.end())
            continue
        marks.append(ln)
    if marks:
        # A mark broken over lines inside a name (`共青团湘潭` / `市委文件`) joins without a gap;
        # joint issuers' marks stand one a line.
        names: list[str] = []
        for m in marks:
            name = re.sub(r"\s*文件$", "", m.text).strip()
            if names and not ORG_SUFFIX_RE.search(names[-1]):
                names[-1] += name
            elif name:
                names.append(name)
        cur.mark_names = names
        doc.issuer_mark = " ".join(names) or None
        cur.mark("issuer_mark", marks[0].start, marks[-1].end)
    ln = cur.lines[number_at]
    signer = _SIGNER_RE.search(ln.text)
    if signer:
        doc.signers = split_issuers(signer.group(1))
        cur.mark("signers", ln.start + signer.start(1), ln.end)


def _meta_title(cur: Cursor) -> TitleFound | None:
    """The metadata's 标题/名称 field, where the page prints no title of its own."""
    field = cur.meta.get("title")
    if field is None or not layout.is_title(field.value):
        return None
    return TitleFound(first=-1, last=-1, start=field.start, end=field.end, text=field.value)


def _meta_number(cur: Cursor) -> FoundNumber | None:
    field = cur.meta.get("doc_number")
    if field is None or canonical(field.value) is None:
        return None
    found = parse_line(field.value)
    if found is None:
        return None
    return found.model_copy(update={"start": field.start + found.start, "end": field.start + found.end})


def _doc_number(cur: Cursor, found: FoundNumber) -> None:
    doc = cur.doc
    start, end = found.start, found.end
    doc.doc_number = found.canonical
    doc.doc_number_parts = found.parts
    shown = printed(cur.text, start, end)
    doc.doc_number_printed = shown
    doc.doc_number_conforming = _conforming(shown, found.canonical, _source_of(cur, start))
    if doc.doc_number_conforming is None:
        doc.problems.append(
            Issue(
                code="doc_number.brackets_unreadable",
                message=f"发文字号 read as `{shown}`: on a scan the bracket shapes cannot be told apart, so conformity is left open",
                severity="info",
            )
        )
    elif not doc.doc_number_conforming:
        doc.problems.append(
            Issue(
                code="doc_number.nonconforming",
                message=f"发文字号 `{shown}` is not in the GB/T 9704 form `{found.canonical}`",
                severity="info",
            )
        )
    cur.mark("doc_number", start, end)


def _head_date(cur: Cursor, title: TitleFound | None, number_at: int | None, stop: int, skip: set[int]) -> None:
    """A date printed under the title or the 文号, before the 主送: the 成文日期 where no signed
    date follows the text (law databases print it there)."""
    if cur.head_date:
        return
    if title and title.date:
        cur.head_date = (title.date.value, title.date_offset + title.date.start, title.date_offset + title.date.end)
        return
    anchors = [a for a in (number_at, title.last if title else None) if a is not None and a >= 0]
    if not anchors:
        return
    for i in range(max(anchors) + 1, stop):
        t = cur.lines[i].text
        if i in skip or is_chrome(t):
            continue
        inner = _IN_BRACKETS_RE.fullmatch(t)  # `（2023年11月8日）` under a title
        offset = inner.start(1) if inner else 0
        found = date_line(inner.group(1) if inner else t, max_other=0)
        if found and "年" in t:  # printed as the standard prints it; `2019-12-18` is the site's stamp
            start = cur.lines[i].start + offset
            cur.head_date = (found.value, start + found.start, start + found.end)
        return


_IN_BRACKETS_RE = re.compile(r"\s*[（(]\s*([^（()）]+?)\s*[）)]\s*")


_BRACKETS = str.maketrans({c: "〔" for c in "[［【(（"} | {c: "〕" for c in "]］】)）"})


def _conforming(shown: str, canonical: str, source: str | None) -> bool | None:
    """GB/T 9704 §7.2.4 form or not; None where only OCR-ambiguous bracket shapes and gaps decide.

    OCR reads 〔〕 as `[ ]`, `（ ）` or a mix (shared/ocr-notes.md), and puts spaces where there
    are none: on a scan, those cannot make a number non-conforming, nor conforming.
    """
    if shown == canonical:
        return True
    if source == "ocr" and re.sub(r"\s+", "", shown).translate(_BRACKETS) == canonical:
        return None
    return False


def _source_of(cur: Cursor, start: int) -> str | None:
    page = locate(cur.text, cur.pages, start, start + 1).page
    return next((p.source for p in cur.pages if p.number == page), None)


def _title(cur: Cursor, title: TitleFound) -> None:
    """标题 (§7.3.2), as printed, its lines rejoined."""
    doc = cur.doc
    doc.title = title.text
    cur.mark("title", title.start, title.end)
    simple = simplified(title.text)
    doc.doc_type = next((t for t in DOC_TYPES if simple.endswith(t)), None)


