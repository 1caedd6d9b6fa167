"""Parse one document's lines into a `Document`, element by element (GB/T 9704-2012 §7–8).

Zones, in order: 版头 (份号, 密级, 紧急程度, 发文机关标志, 发文字号, 签发人), 主体 (标题,
主送机关, 正文, 附件说明, 署名, 成文日期, 附注), 版记 (抄送, 印发机关和印发日期); on a web
page or a Word copy the same elements in other places (`pipeline.parsing.layout`).
The head is read by `pipeline.parsing.head`, the end by `pipeline.parsing.closing`; values
carry their character spans, recorded as provenance beside them.
"""

from __future__ import annotations

import re
from datetime import date

from models import Document, Issue, Page, Span, Text, Upstream
from pipeline.parsing import contacts
from pipeline.parsing import duties
from pipeline.parsing import references
from pipeline.parsing.agencies import (
    ORG_SUFFIX_RE,
    addressees,
    expand_issuer,
    level_of,
    looks_like_recipients,
    space_joint_issuers,
    split_issuers,
)
from pipeline.parsing.closing import MAIN_TO_RE, read_closing
from pipeline.parsing.deadline_tables import table_deadlines
from pipeline.parsing.docnumber import canonical, parse_line
from pipeline.parsing.head import Cursor, read_head
from pipeline.parsing.junk import simplified
from pipeline.parsing.layout import date_line
from pipeline.parsing.segment import segment_lines
from pipeline.text.provenance import locate, printed
from pipeline.text.split import DocSlice, TextLine

# The title's own subject: `国务院办公厅关于…`, `A、B贯彻落实…`.
_SUBJECT_RE = re.compile(r"^(.*?)(?:关于|转发|印发|贯彻|批转)")


def _issuers(cur: Cursor) -> None:
    """Issuers from the signature (落款), the 发文机关标志, the title's subject, or the metadata's
    发文机关/发布机构, in that order: the signature names the body that signs, where a 版头 may
    name its parent (`东莞市人民政府` over `东莞市人民政府办公室`) and a title a short form."""
    doc = cur.doc
    subject: list[str] = []
    if doc.title:
        spaced = space_joint_issuers(doc.title)
        m = _SUBJECT_RE.match(simplified(spaced))
        head = spaced[: m.end(1)] if m else ""
        subject = split_issuers(head) if head else []
        # Items before 关于 are agencies when one of them ends as an agency does (`共青团中央、全国学联`).
        if not any(ORG_SUFFIX_RE.search(n) for n in subject) or any(len(n) > 25 for n in subject):
            subject = []
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
                    # A site's 发布机构 is often the office that posted the page, not the issuer.
                    doc.problems.append(
                        Issue(
                            code="issuers.from_metadata",
                            message=f"issuers read only from the page's {field.label} `{field.value}`: no signature, 版头 or title names them",
                            severity="info",
                        )
                    )
                    break
    mark = cur.mark_names[0] if cur.mark_names else None
    doc.issuers = [expand_issuer(n, mark) for n in names]
    doc.level = level_of(doc.issuers + ([mark] if mark else []), doc.doc_number_parts.agency_code if doc.doc_number_parts else None)


def _same_body(a: str, b: str) -> bool:
    """`山西省民政厅` and `省民政厅`: one agency, named in full or from its own level."""
    return a == b or a.endswith(b) or b.endswith(a)


def _recipients(cur: Cursor, i: int) -> int:
    """主送机关 (§7.3.3): the line that ends the head, where it is one."""
    if i < len(cur.lines) and looks_like_recipients(cur.lines[i].text):
        ln = cur.lines[i]
        cur.doc.recipients = addressees(ln.text)
        cur.mark("recipients", ln.start, ln.end)
        return i + 1
    for ln in cur.lines[:i]:
        to = MAIN_TO_RE.match(simplified(ln.text))
        if to:  # `主送：各县（市、区）民政局` under the title
            cur.doc.recipients = addressees(ln.text[to.start(1) :])
            cur.mark("recipients", ln.start + to.start(1), ln.end)
            break
    return i


def _body_analysis(cur: Cursor, first: int, last: int) -> None:
    doc = cur.doc
    if first >= last:
        return
    body_start = cur.lines[first].start
    body_end = cur.lines[last - 1].end
    body = cur.text.text[body_start:body_end]
    issue = date.fromisoformat(doc.issue_date) if doc.issue_date else None
    fwd = references.forwards(doc.title, body, body_start)
    year_hint = doc.doc_number_parts.year if doc.doc_number_parts else _forwarded_year(fwd)
    found_deadlines, found_duties = duties.extract(body, body_start, doc.recipients, issue_date=issue, year_hint=year_hint)
    # Rows of a 报送时间 column, in the body or in an attachment printed after the notice.
    tables = table_deadlines(cur.lines[first:], doc.recipients, issue_date=issue, year_hint=year_hint)
    found_deadlines += [t for t in tables if not any(t.start < f.end and f.start < t.end for f in found_deadlines)]
    for fd in found_deadlines:
        fd.deadline = duties.bounded_by_title(fd.deadline, doc.title)
        fd.deadline.text = printed(cur.text, fd.start, fd.end)
        where = locate(cur.text, cur.pages, fd.start, fd.end)
        fd.deadline.page = where.page
        doc.provenance[f"deadlines[{len(doc.deadlines)}]"] = where
        doc.deadlines.append(fd.deadline)
    for duty in found_duties:
        doc.provenance[f"ongoing_duties[{len(doc.ongoing_duties)}]"] = locate(cur.text, cur.pages, duty.start, duty.end)
        doc.ongoing_duties.append(duty.text)
    replies = references.received(body, body_start, doc.recipients)
    cited = replies + references.cites(body, body_start, [r.ref.title or "" for r in fwd + replies])
    for ref in fwd + cited:
        key = f"upstream[{len(doc.upstream)}]"
        if ref.start >= 0:
            cur.mark(key, ref.start, ref.end)
        elif "title" in doc.provenance:
            doc.provenance[key] = doc.provenance["title"]
        doc.upstream.append(ref.ref)


def _forwarded_year(forwarded: list[references.FoundReference]) -> int | None:
    """The year of the newest notice this one forwards, for a notice with neither a 成文日期 nor a
    文号 of its own (a copy from a web page that lost both): a notice is forwarded down within
    weeks of its issue, so the forwarding notice's yearless dates (`10月31日前`) fall in that
    year far more often than in any later one.  The engine still marks them as read from a 文号."""
    years = [number.parts.year for ref in forwarded if ref.ref.doc_number
             for number in [parse_line(ref.ref.doc_number)] if number is not None]  # fmt: skip
    return max(years, default=None)


def _contacts(cur: Cursor, first: int, last: int) -> None:
    doc = cur.doc
    lines = [(ln.text, ln.start) for ln in cur.lines[first:last]]
    for fc in contacts.find_contacts(lines):
        if fc.start >= 0:
            cur.mark(f"contacts[{len(doc.contacts)}]", fc.start, fc.end)
        doc.contacts.append(fc.contact)


def parse_document(lines: list[TextLine], text: Text, pages: list[Page]) -> Document:
    """One document from its normalised lines (a slice of the file's lines)."""
    doc = Document()
    cur = Cursor(segment_lines(lines), text, pages, doc)
    i = read_head(cur)
    i = _recipients(cur, i)
    body_end, notice_end = read_closing(cur, i)
    if doc.issue_date is None:
        _unsigned_date(cur)
    _cross_check(cur)
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


def _cross_check(cur: Cursor) -> None:
    """The text and the page's metadata disagreeing on the 文号 or the 成文日期: the text is kept,
    and the disagreement is a problem for the desk (one of the two is a typo)."""
    doc = cur.doc
    field = cur.meta.get("doc_number")
    other = canonical(field.value) if field else None
    if other and doc.doc_number and other != doc.doc_number:
        doc.problems.append(
            Issue(code="doc_number.disagrees", message=f"发文字号 `{doc.doc_number}` in the text, `{field.value}` in the page's {field.label}")
        )
    field = cur.meta.get("signed")
    when = date_line(field.value, max_other=0) if field else None
    if when and doc.issue_date and when.value.isoformat() != doc.issue_date:
        doc.problems.append(
            Issue(code="issue_date.disagrees", message=f"成文日期 {doc.issue_date} signed, {when.value.isoformat()} in the page's {field.label}")
        )


def _unsigned_date(cur: Cursor) -> None:
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
