"""Parse one document's lines into a `Document`, element by element (GB/T 9704-2012 §7–8).

Zones, in order: 版头 (份号, 密级, 紧急程度, 发文机关标志, 发文字号, 签发人), 主体 (标题,
主送机关, 正文, 附件说明, 署名, 成文日期, 附注), 版记 (抄送, 印发机关和印发日期).
Each finder reads normalised lines and returns values with their character
spans; `parse_document` records the spans as provenance beside the values.
"""

from __future__ import annotations

import re
from datetime import date

from models import Document, Issue, Page, Span, Text, Upstream
from pipeline.parsing import contacts
from pipeline.parsing import duties
from pipeline.parsing import layout
from pipeline.parsing import metadata
from pipeline.parsing import references
from pipeline.parsing.agencies import (
    ORG_SUFFIX_RE,
    expand_issuer,
    expand_list,
    level_of,
    looks_like_recipients,
    space_joint_issuers,
    split_issuers,
)
from pipeline.parsing.docnumber import FoundNumber, canonical, parse_line
from pipeline.parsing.junk import is_chrome, simplified
from pipeline.parsing.layout import TitleFound, date_line, packed_date, parse_date
from pipeline.parsing.segment import segment_lines
from pipeline.text.provenance import locate, printed
from pipeline.text.reflow import DOC_TYPES
from pipeline.text.split import DocSlice, TextLine

_COPY_RE = re.compile(r"^\d{6}$")  # 份号: six digits (§7.2.1)
_SECRECY_RE = re.compile(r"(绝密|机密|秘密)(?:\s*★\s*[^\s]*)?")  # 密级和保密期限 (§7.2.2)
_URGENCY_RE = re.compile(r"特急|加急|特提|平急")  # 紧急程度 (§7.2.3)
_LABEL_RE = re.compile(r"^附件\s*\d*$")  # the 附件 label on an attachment's first page (§8)
_SIGNER_RE = re.compile(r"签发人[：:]\s*(.+)$")
# 附件说明 (§7.3.4): `附件：名称`, `附件1、名称`, `附件一：名称`, `附件：` with the name below.
_ATTACH_RE = re.compile(r"^附件\s*(?:[0-9一二三四五六七八九十]{1,3}\s*[：:、.．]?|[：:])\s*(.*)$")
_ITEM_NUMBER_RE = re.compile(r"^\s*(\d+)\s*[.．、]\s*")
_CC_RE = re.compile(r"^抄送\s*[：:]\s*(.*)$")
_NUMERAL = "0-9〇○零一二三四五六七八九十"
_PRINTED_RE = re.compile(rf"^(?P<org>.*?)\s*(?P<date>[{_NUMERAL}]{{4}}\s*年.{{1,4}}月.{{1,4}}日)\s*印发(?:\s*[（(][^（）()]*[）)])?$")
_NOTE_RE = re.compile(r"^[（(].*[）)]$")
_CONTACT_START_RE = re.compile(r"^(?:联系人|联系电话|联系方式|电话|手机|传真|电子邮箱|电子信箱|邮箱|地址|通讯地址|邮编|邮政编码)")
# 署名 (§7.3.5): agency names, no punctuation, standing above the 成文日期.
_SIGNATURE_LINE_RE = re.compile(r"[\u4e00-\u9fff（）() ·]{2,40}")
# The title's own subject: `国务院办公厅关于…`, `A、B贯彻落实…`.
_SUBJECT_RE = re.compile(r"^(.*?)(?:关于|转发|印发|贯彻|批转)")


class _Cursor:
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


def _head(cur: _Cursor) -> int:
    """The head, before the 主送机关 or the first sentence: 版头, 文号, title, a date under them.
    Returns the index of the first line after it (the 主送 line, where there is one)."""
    skip = set(cur.meta.lines)
    stop, _ = layout.body_start(cur.lines, skip)
    numbers = layout.number_lines(cur.lines, stop, skip)
    title = layout.find_title(cur.lines, stop, skip | {i for i, _ in numbers})
    number_at = numbers[-1][0] if numbers else None
    if number_at is not None:
        _banner(cur, number_at, title)
    found: FoundNumber | None = numbers[-1][1] if numbers else None
    if title and title.number and (found is None or number_at is not None and number_at < title.first):
        found = title.number  # the number printed with the title, nearer the text
    if found is None:
        found = _meta_number(cur)
    if found is None:
        cur.doc.problems.append(Issue(code="header.no_doc_number", message="no 发文字号 found in the head"))
    else:
        _doc_number(cur, found)
    if title:
        _title(cur, title)
    _head_date(cur, title, number_at, stop, skip)
    return stop


def _banner(cur: _Cursor, number_at: int, title: TitleFound | None) -> None:
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


def _meta_number(cur: _Cursor) -> FoundNumber | None:
    field = cur.meta.get("doc_number")
    if field is None or canonical(field.value) is None:
        return None
    found = parse_line(field.value)
    if found is None:
        return None
    return found.model_copy(update={"start": field.start + found.start, "end": field.start + found.end})


def _doc_number(cur: _Cursor, found: FoundNumber) -> None:
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


def _head_date(cur: _Cursor, title: TitleFound | None, number_at: int | None, stop: int, skip: set[int]) -> None:
    """A date printed under the title or the 文号, before the 主送: the 成文日期 where no signed
    date follows the text (law databases print it there)."""
    if title and title.date:
        cur.head_date = (title.date.value, title.date_offset + title.date.start, title.date_offset + title.date.end)
        return
    anchors = [a for a in (number_at, title.last if title else None) if a is not None]
    if not anchors:
        return
    for i in range(max(anchors) + 1, stop):
        t = cur.lines[i].text
        if i in skip or is_chrome(t):
            continue
        found = date_line(t, max_other=0)
        if found:
            cur.head_date = (found.value, cur.lines[i].start + found.start, cur.lines[i].start + found.end)
        return


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


def _source_of(cur: _Cursor, start: int) -> str | None:
    page = locate(cur.text, cur.pages, start, start + 1).page
    return next((p.source for p in cur.pages if p.number == page), None)


def _title(cur: _Cursor, title: TitleFound) -> None:
    """标题 (§7.3.2), as printed, its lines rejoined."""
    doc = cur.doc
    doc.title = title.text
    cur.mark("title", title.start, title.end)
    simple = simplified(title.text)
    doc.doc_type = next((t for t in DOC_TYPES if simple.endswith(t)), None)


def _issuers(cur: _Cursor) -> None:
    """Issuers from the signature (落款), the 发文机关标志, the title's subject, or the metadata's
    发文机关/发布机构, in that order: the signature names the body that signs, where a 版头 may
    name its parent (`东莞市人民政府` over `东莞市人民政府办公室`) and a title a short form."""
    doc = cur.doc
    subject: list[str] = []
    if doc.title:
        m = _SUBJECT_RE.match(space_joint_issuers(doc.title))
        head = m.group(1) if m else ""
        subject = [n for n in split_issuers(head) if ORG_SUFFIX_RE.search(n)] if head else []
    known = subject + cur.mark_names
    signature = list(cur.signature)
    if known and any(_same_body(n, k) for n in signature for k in known):
        # On a scan the seal's ring of text reads as one more name above the signature: a
        # signature line that the title or the mark corroborates outweighs one they do not.
        signature = [n for n in signature if any(_same_body(n, k) for k in known)]
    names = signature or list(cur.mark_names)
    if names and len(subject) > len(names) and all(any(_same_body(n, k) for k in subject) for n in names):
        names = subject  # joint issuers, the lead alone signing or marking the 版头
    names = names or subject
    if not names:
        for key in ("issuer", "publisher"):
            field = cur.meta.get(key)
            if field:
                names = [n for n in split_issuers(field.value) if ORG_SUFFIX_RE.search(n) and len(n) <= 30]
                if names:
                    break
    mark = cur.mark_names[0] if cur.mark_names else None
    doc.issuers = [expand_issuer(n, mark) for n in names]
    doc.level = level_of(doc.issuers + ([mark] if mark else []), doc.doc_number_parts.agency_code if doc.doc_number_parts else None)


def _same_body(a: str, b: str) -> bool:
    """`山西省民政厅` and `省民政厅`: one agency, named in full or from its own level."""
    return a == b or a.endswith(b) or b.endswith(a)


def _recipients(cur: _Cursor, i: int) -> int:
    """主送机关 (§7.3.3): the line that ends the head, where it is one."""
    if i < len(cur.lines) and looks_like_recipients(cur.lines[i].text):
        ln = cur.lines[i]
        cur.doc.recipients = expand_list(ln.text)
        cur.mark("recipients", ln.start, ln.end)
        return i + 1
    return i


def _signed_date(cur: _Cursor, i: int) -> tuple[int, date, int, int] | None:
    """The 成文日期 after the text: the first date line under a signature, else the first date line.
    A signed date typed without 年月日 (`2023515`) is read under a signature only."""
    first: tuple[int, date, int, int] | None = None
    for j in range(i, len(cur.lines)):
        ln = cur.lines[j]
        t = ln.text.strip()
        if _PRINTED_RE.match(t):
            continue
        found = date_line(ln.text)
        signed = j > i and _is_signature(cur.lines[j - 1].text)
        if found is None and signed:
            packed = packed_date(t)
            if packed:
                cur.doc.problems.append(
                    Issue(code="issue_date.unpunctuated", message=f"成文日期 printed as `{t}`, read as {packed.isoformat()}", severity="info")
                )
                return j, packed, ln.start, ln.end
        if found is None:
            continue
        hit = (j, found.value, ln.start + found.start, ln.start + found.end)
        if signed:
            return hit
        first = first or hit
    return first


def _is_signature(text: str) -> bool:
    t = text.strip()
    return bool(_SIGNATURE_LINE_RE.fullmatch(t)) and all(ORG_SUFFIX_RE.search(p) for p in split_issuers(t))


def _closing(cur: _Cursor, i: int) -> tuple[int, int]:
    """Read 附件说明, 署名/成文日期, 附注, contacts and 版记 from line `i` on.

    Returns where the body ends and where the notice ends: the page's chrome after the
    成文日期 or the 版记 (share buttons, footer) belongs to no field."""
    doc = cur.doc
    body_end = len(cur.lines)
    signed = _signed_date(cur, i)
    if signed:
        j, when, start, end = signed
        doc.issue_date = when.isoformat()
        cur.mark("issue_date", start, end)
        sig = _signature_start(cur, j, i)
        body_end = sig
        cur.signature = [n for ln in cur.lines[sig:j] for n in split_issuers(ln.text)]
    signed_at = signed[0] if signed else len(cur.lines)
    closed = signed is not None
    notice_end = len(cur.lines)
    j = i
    while j < len(cur.lines):
        ln = cur.lines[j]
        t = ln.text.strip()
        attach = _ATTACH_RE.match(t)
        if attach and j < signed_at:
            body_end = min(body_end, j)
            j = _attachments(cur, j, attach)
            continue
        cc = _CC_RE.match(t)
        if cc:
            body_end = min(body_end, j)
            doc.cc = expand_list(cc.group(1))
            cur.mark("cc", ln.start, ln.end)
            closed = True
        elif (pm := _PRINTED_RE.match(t)) is not None:
            body_end = min(body_end, j)
            doc.printed_by = pm.group("org").strip() or None
            when = parse_date(pm.group("date"))
            doc.printed_date = when.isoformat() if when else None
            cur.mark("printed_by", ln.start, ln.end)
            closed = True
        elif _NOTE_RE.match(t) and j > i:
            doc.notes.append(t)
            cur.mark(f"notes[{len(doc.notes) - 1}]", ln.start, ln.end)
        elif _CONTACT_START_RE.match(t):
            body_end = min(body_end, j)
        elif closed and j > signed_at and is_chrome(t):
            notice_end = j
            break
        j += 1
    return min(body_end, notice_end), notice_end


def _signature_start(cur: _Cursor, date_line: int, floor: int) -> int:
    """署名 lines stand just above the 成文日期 (§7.3.5): up to three agency names."""
    k = date_line
    while k - 1 >= floor and date_line - k < 3 and _is_signature(cur.lines[k - 1].text):
        k -= 1
    return k


def _attachments(cur: _Cursor, j: int, first: re.Match[str]) -> int:
    """附件说明 (§7.3.4): `附件：名称`, `附件：1.名称` with the next items on the following lines,
    or `附件：` with the name on the next line."""
    doc = cur.doc
    items = [(first.group(1), cur.lines[j].start + first.start(1), cur.lines[j].end)]
    k = j + 1
    if not first.group(1).strip() and k < len(cur.lines) and layout.is_attachment_name(cur.lines[k].text):
        items = [(cur.lines[k].text, cur.lines[k].start, cur.lines[k].end)]
        k += 1
    if _ITEM_NUMBER_RE.match(items[0][0]):
        while k < len(cur.lines) and _ITEM_NUMBER_RE.match(cur.lines[k].text):
            items.append((cur.lines[k].text, cur.lines[k].start, cur.lines[k].end))
            k += 1
    for text, start, end in items:
        number = _ITEM_NUMBER_RE.match(text)
        name = text[number.end() :] if number else text
        if name.strip():
            doc.attachments.append(name.strip())
            cur.mark(f"attachments[{len(doc.attachments) - 1}]", start + (number.end() if number else 0), end)
    return k


def _body_analysis(cur: _Cursor, first: int, last: int) -> None:
    doc = cur.doc
    if first >= last:
        return
    body_start = cur.lines[first].start
    body_end = cur.lines[last - 1].end
    body = cur.text.text[body_start:body_end]
    issue = date.fromisoformat(doc.issue_date) if doc.issue_date else None
    year_hint = doc.doc_number_parts.year if doc.doc_number_parts else None
    found_deadlines, found_duties = duties.extract(body, body_start, doc.recipients, issue_date=issue, year_hint=year_hint)
    for fd in found_deadlines:
        fd.deadline.text = printed(cur.text, fd.start, fd.end)
        where = locate(cur.text, cur.pages, fd.start, fd.end)
        fd.deadline.page = where.page
        doc.provenance[f"deadlines[{len(doc.deadlines)}]"] = where
        doc.deadlines.append(fd.deadline)
    for duty in found_duties:
        doc.provenance[f"ongoing_duties[{len(doc.ongoing_duties)}]"] = locate(cur.text, cur.pages, duty.start, duty.end)
        doc.ongoing_duties.append(duty.text)
    fwd = references.forwards(doc.title, body, body_start)
    replies = references.received(body, body_start, doc.recipients)
    cited = replies + references.cites(body, body_start, [r.ref.title or "" for r in fwd + replies])
    for ref in fwd + cited:
        key = f"upstream[{len(doc.upstream)}]"
        if ref.start >= 0:
            cur.mark(key, ref.start, ref.end)
        elif "title" in doc.provenance:
            doc.provenance[key] = doc.provenance["title"]
        doc.upstream.append(ref.ref)


def _contacts(cur: _Cursor, first: int, last: int) -> None:
    doc = cur.doc
    lines = [(ln.text, ln.start) for ln in cur.lines[first:last]]
    for fc in contacts.find_contacts(lines):
        if fc.start >= 0:
            cur.mark(f"contacts[{len(doc.contacts)}]", fc.start, fc.end)
        doc.contacts.append(fc.contact)


def parse_document(lines: list[TextLine], text: Text, pages: list[Page]) -> Document:
    """One document from its normalised lines (a slice of the file's lines)."""
    doc = Document()
    cur = _Cursor(segment_lines(lines), text, pages, doc)
    i = _head(cur)
    i = _recipients(cur, i)
    body_end, notice_end = _closing(cur, i)
    if doc.issue_date is None:
        _unsigned_date(cur)
    _issuers(cur)
    doc.title = space_joint_issuers(doc.title) if doc.title else None
    _body_analysis(cur, i, body_end)
    _contacts(cur, i, notice_end)
    if lines:
        doc.span = Span(start=lines[0].start, end=lines[-1].end)
        doc.pages = sorted({p for p in (locate(text, pages, ln.start, ln.end).page for ln in lines if ln.text) if p is not None})
    if not doc.title:
        doc.problems.append(Issue(code="title.missing", message="no 标题 found in the head"))
    _space_titles(doc)
    return doc


def _unsigned_date(cur: _Cursor) -> None:
    """No signed date after the text: the metadata's 成文日期, else a date under the title or 文号
    (never a 发布日期: a site's posting date is not the document's)."""
    field = cur.meta.get("signed")
    if field:
        found = date_line(field.value, max_other=0)
        if found:
            cur.doc.issue_date = found.value.isoformat()
            cur.mark("issue_date", field.start + found.start, field.start + found.end)
            return
    if cur.head_date:
        when, start, end = cur.head_date
        cur.doc.issue_date = when.isoformat()
        cur.mark("issue_date", start, end)


def _space_titles(doc: Document) -> None:
    """Titles as printed keep a space between joint issuers, which OCR tends to lose."""
    doc.title = space_joint_issuers(doc.title) if doc.title else None
    doc.attachments = [space_joint_issuers(a) for a in doc.attachments]
    for ref in doc.upstream:
        ref.title = space_joint_issuers(ref.title) if ref.title else None


def parse_slices(slices: list[DocSlice], lines: list[TextLine], text: Text, pages: list[Page]) -> list[Document]:
    """Parse each document of a bundle, then link attachments printed in the same file."""
    docs = [parse_document(lines[s.first : s.last], text, pages) for s in slices]
    link_attached(docs)
    return docs


def link_attached(docs: list[Document]) -> None:
    """`attaches`: a later document in the same file whose title is one of this one's 附件 (domain.md §4)."""
    for i, doc in enumerate(docs):
        for a_index, name in enumerate(doc.attachments):
            for later in docs[i + 1 :]:
                if later.title and references.same_title(name, later.title):
                    issuer = later.issuers[0] if later.issuers else None
                    ref = Upstream(relation="attaches", doc_number=later.doc_number, title=name, issuer=issuer)
                    # forwards first, then attaches, then cites: the order a reader meets them in.
                    at = sum(1 for r in doc.upstream if r.relation in ("forwards", "attaches"))
                    doc.upstream.insert(at, ref)
                    _shift_upstream_provenance(doc, at, f"attachments[{a_index}]")
                    break


def _shift_upstream_provenance(doc: Document, inserted_at: int, source_key: str) -> None:
    """Keep `upstream[n]` provenance keys in step after inserting a reference at `inserted_at`."""
    keys = sorted(
        (k for k in doc.provenance if k.startswith("upstream[")),
        key=lambda k: int(k[len("upstream[") : -1]),
        reverse=True,
    )
    for k in keys:
        n = int(k[len("upstream[") : -1])
        if n >= inserted_at:
            doc.provenance[f"upstream[{n + 1}]"] = doc.provenance.pop(k)
    if source_key in doc.provenance:
        doc.provenance[f"upstream[{inserted_at}]"] = doc.provenance[source_key]
