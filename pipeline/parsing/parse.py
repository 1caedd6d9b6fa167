"""Parse one document's lines into a `Document`, element by element (GB/T 9704-2012 §7–8).

Zones, in order: 版头 (份号, 密级, 紧急程度, 发文机关标志, 发文字号, 签发人), 主体 (标题,
主送机关, 正文, 附件说明, 署名, 成文日期, 附注), 版记 (抄送, 印发机关和印发日期).
Each finder reads normalised lines and returns values with their character
spans; `parse_document` records the spans as provenance beside the values.
"""

from __future__ import annotations

import re
from datetime import date

import cn2an

from models import Document, Issue, Page, Span, Text, Upstream
from pipeline.parsing import contacts
from pipeline.parsing import duties
from pipeline.parsing import references
from pipeline.parsing.agencies import expand_issuer, expand_list, level_of, space_joint_issuers, split_issuers
from pipeline.parsing.docnumber import DOCNUMBER_LINE_RE, parse_line
from pipeline.text.reflow import DOC_TYPES
from pipeline.text.provenance import locate, printed
from pipeline.text.split import DocSlice, TextLine

_COPY_RE = re.compile(r"^\d{6}$")  # 份号: six digits (§7.2.1)
_SECRECY_RE = re.compile(r"(绝密|机密|秘密)(?:\s*★\s*[^\s]*)?")  # 密级和保密期限 (§7.2.2)
_URGENCY_RE = re.compile(r"特急|加急|特提|平急")  # 紧急程度 (§7.2.3)
_LABEL_RE = re.compile(r"^附件\s*\d*$")  # the 附件 label on an attachment's first page (§8)
_SIGNER_RE = re.compile(r"签发人[：:]\s*(.+)$")
_ATTACH_RE = re.compile(r"^附件\s*[：:]\s*(.*)$")
_ITEM_NUMBER_RE = re.compile(r"^\s*(\d+)\s*[.．、]\s*")
_CC_RE = re.compile(r"^抄送\s*[：:]\s*(.*)$")
_NUMERAL = "0-9〇○零一二三四五六七八九十"
_DATE_RE = re.compile(rf"([{_NUMERAL}]{{4}})\s*年\s*([{_NUMERAL}]{{1,3}})\s*月\s*([{_NUMERAL}]{{1,3}})\s*日")
_PRINTED_RE = re.compile(rf"^(?P<org>.*?)\s*(?P<date>[{_NUMERAL}]{{4}}\s*年.{{1,4}}月.{{1,4}}日)\s*印发$")
_NOTE_RE = re.compile(r"^[（(].*[）)]$")
_CONTACT_START_RE = re.compile(r"^(?:联系人|联系电话|联系方式|电话|手机|传真|电子邮箱|电子信箱|邮箱|地址|通讯地址|邮编|邮政编码)")


_YEAR_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def parse_date(text: str) -> date | None:
    """`2024年10月25日`, `二〇二四年十月二十五日`, `二○○六年三月五日` → a date."""
    m = _DATE_RE.search(text)
    if not m:
        return None
    year_text, month_text, day_text = m.groups()
    try:
        # A year is read digit by digit: 二〇二三 → 2023 (〇 U+3007 and ○ U+25CB both serve as zero).
        year = int("".join(c if c.isdigit() else str(_YEAR_DIGITS[c]) for c in year_text))
        month = _small_number(month_text)
        day = _small_number(day_text)
        return date(year, month, day)
    except (ValueError, KeyError):  # not a calendar date (`二〇二四年十三月…`, `十` inside a year)
        return None


def _small_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    return int(cn2an.cn2an(text.replace("〇", "零").replace("○", "零"), "smart"))


class _Cursor:
    """The document's lines and the file context every finder needs."""

    def __init__(self, lines: list[TextLine], text: Text, pages: list[Page], doc: Document):
        self.lines = lines
        self.text = text
        self.pages = pages
        self.doc = doc

    def mark(self, key: str, start: int, end: int) -> None:
        if start < end:
            self.doc.provenance[key] = locate(self.text, self.pages, start, end)


def _header(cur: _Cursor) -> int:
    """The 版头 up to and including the 文号 line; returns the index of the first line after it."""
    doc = cur.doc
    number_at = next((i for i, ln in enumerate(cur.lines[:8]) if DOCNUMBER_LINE_RE.match(ln.text)), None)
    if number_at is None:
        doc.problems.append(Issue(code="header.no_doc_number", message="no 发文字号 line found in the 版头"))
    head = cur.lines[: number_at if number_at is not None else 0]
    marks: list[TextLine] = []
    for ln in head:
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
        names = [re.sub(r"\s*文件$", "", m.text).strip() for m in marks]
        doc.issuer_mark = " ".join(n for n in names if n) or None
        cur.mark("issuer_mark", marks[0].start, marks[-1].end)
    if number_at is None:
        return 0
    ln = cur.lines[number_at]
    found = parse_line(ln.text)
    if found:
        start, end = ln.start + found.start, ln.start + found.end
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
    signer = _SIGNER_RE.search(ln.text)
    if signer:
        doc.signers = split_issuers(signer.group(1))
        cur.mark("signers", ln.start + signer.start(1), ln.end)
    return number_at + 1


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


def _is_recipients(text: str) -> bool:
    return text.endswith(("：", ":")) and "。" not in text and len(text) < 300


def _title(cur: _Cursor, i: int) -> int:
    """标题 (§7.3.2): the lines up to the 主送机关 or the body; returns the next line."""
    doc = cur.doc
    parts: list[TextLine] = []
    while i < len(cur.lines) and len(parts) < 4:
        t = cur.lines[i].text
        if _is_recipients(t) or "。" in t or _ATTACH_RE.match(t):
            break
        parts.append(cur.lines[i])
        i += 1
        if t.endswith(DOC_TYPES):
            break
    if not parts:
        return i
    title = "".join(p.text for p in parts).strip()
    doc.title = title
    cur.mark("title", parts[0].start, parts[-1].end)
    doc.doc_type = next((t for t in DOC_TYPES if title.endswith(t)), None)
    return i


def _issuers(doc: Document) -> None:
    """Joint issuers from the title's issuer part, else from the marks; abbreviations expanded with the mark's place."""
    head = ""
    if doc.title:
        m = re.match(r"^(.*?)(?:关于|转发)", doc.title)
        head = m.group(1) if m else ""
    names = split_issuers(head) or split_issuers(doc.issuer_mark or "")
    mark = (doc.issuer_mark or "").split(" ")[0] or None
    doc.issuers = [expand_issuer(n, mark) for n in names]
    doc.level = level_of(doc.issuers + ([mark] if mark else []), doc.doc_number_parts.agency_code if doc.doc_number_parts else None)


def _recipients(cur: _Cursor, i: int) -> int:
    """主送机关 (§7.3.3): a line ending with a full-width colon, right after the title."""
    if i < len(cur.lines) and _is_recipients(cur.lines[i].text):
        ln = cur.lines[i]
        cur.doc.recipients = expand_list(ln.text)
        cur.mark("recipients", ln.start, ln.end)
        return i + 1
    return i


def _closing(cur: _Cursor, i: int) -> int:
    """Read 附件说明, 署名/成文日期, 附注, contacts and 版记 from line `i` on; return where the body ends."""
    doc = cur.doc
    body_end = len(cur.lines)
    j = i
    while j < len(cur.lines):
        ln = cur.lines[j]
        t = ln.text.strip()
        attach = _ATTACH_RE.match(t)
        if attach:
            body_end = min(body_end, j)
            j = _attachments(cur, j, attach)
            continue
        cc = _CC_RE.match(t)
        if cc:
            body_end = min(body_end, j)
            doc.cc = expand_list(cc.group(1))
            cur.mark("cc", ln.start, ln.end)
        elif (pm := _PRINTED_RE.match(t)) is not None:
            body_end = min(body_end, j)
            doc.printed_by = pm.group("org").strip() or None
            when = parse_date(pm.group("date"))
            doc.printed_date = when.isoformat() if when else None
            cur.mark("printed_by", ln.start, ln.end)
        elif _is_date_line(t):
            body_end = min(body_end, j)
            when = parse_date(t)
            if when:
                doc.issue_date = when.isoformat()
                m = _DATE_RE.search(t)
                assert m is not None
                cur.mark("issue_date", ln.start + m.start(), ln.start + m.end())
            body_end = min(body_end, _signature_start(cur, j, i))
        elif _NOTE_RE.match(t) and j > i:
            doc.notes.append(t)
            cur.mark(f"notes[{len(doc.notes) - 1}]", ln.start, ln.end)
        elif _CONTACT_START_RE.match(t):
            body_end = min(body_end, j)
        j += 1
    return body_end


def _is_date_line(t: str) -> bool:
    m = _DATE_RE.search(t)
    return bool(m) and m.end() == len(t) and len(t) - (m.end() - m.start()) <= 20


def _signature_start(cur: _Cursor, date_line: int, floor: int) -> int:
    """署名 lines stand just above the 成文日期 (§7.3.5): short lines with no punctuation."""
    k = date_line
    while k - 1 >= floor and re.fullmatch(r"[\u4e00-\u9fff（）() ]{2,30}", cur.lines[k - 1].text) and date_line - k < 3:
        k -= 1
    return k


def _attachments(cur: _Cursor, j: int, first: re.Match[str]) -> int:
    """附件说明 (§7.3.4): `附件：名称`, or `附件：1.名称` with the next items on the following lines."""
    doc = cur.doc
    items = [(first.group(1), cur.lines[j].start + first.start(1), cur.lines[j].end)]
    k = j + 1
    if _ITEM_NUMBER_RE.match(first.group(1)):
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


def _contacts(cur: _Cursor, first: int) -> None:
    doc = cur.doc
    lines = [(ln.text, ln.start) for ln in cur.lines[first:]]
    for fc in contacts.find_contacts(lines):
        if fc.start >= 0:
            cur.mark(f"contacts[{len(doc.contacts)}]", fc.start, fc.end)
        doc.contacts.append(fc.contact)


def parse_document(lines: list[TextLine], text: Text, pages: list[Page]) -> Document:
    """One document from its normalised lines (a slice of the file's lines)."""
    doc = Document()
    cur = _Cursor(lines, text, pages, doc)
    i = _header(cur)
    i = _title(cur, i)
    doc.title = space_joint_issuers(doc.title) if doc.title else None
    _issuers(doc)
    i = _recipients(cur, i)
    body_end = _closing(cur, i)
    _body_analysis(cur, i, body_end)
    _contacts(cur, i)
    if lines:
        doc.span = Span(start=lines[0].start, end=lines[-1].end)
        doc.pages = sorted({p for p in (locate(text, pages, ln.start, ln.end).page for ln in lines if ln.text) if p is not None})
    if not doc.title:
        doc.problems.append(Issue(code="title.missing", message="no 标题 found after the 版头"))
    _space_titles(doc)
    return doc


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
