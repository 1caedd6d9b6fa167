"""The end of a notice (GB/T 9704 §7.3.4–§8): 附件说明, 署名 and 成文日期, 附注, 抄送, 印发.

A page's chrome after the 成文日期 or the 版记 (share buttons, the site's footer) ends the
notice: nothing there becomes a field.
"""

from __future__ import annotations

import re
from datetime import date

from models import Issue
from pipeline.parsing import layout
from pipeline.parsing.agencies import ORG_SUFFIX_RE, addressees, split_issuers
from pipeline.parsing.head import Cursor
from pipeline.parsing.junk import is_chrome, simplified
from pipeline.parsing.layout import date_line, packed_date, parse_date

# 附件说明 (§7.3.4): `附件：名称`, `附件1、名称`, `附件一：名称`, `附件：` with the name below.
_ATTACH_RE = re.compile(r"^附件\s*(?:[0-9一二三四五六七八九十]{1,3}\s*[：:、.．]?|[：:])\s*(.*)$")
_ITEM_NUMBER_RE = re.compile(r"^\s*(\d+)\s*[.．、]\s*")
_CC_RE = re.compile(r"^抄送\s*[：:]\s*(.*)$")
MAIN_TO_RE = re.compile(r"^主送(?:机关|单位)?\s*[：:]\s*(.+)$")
_NUMERAL = "0-9〇○零一二三四五六七八九十"
_PRINTED_RE = re.compile(rf"^(?P<org>.*?)\s*(?P<date>[{_NUMERAL}]{{4}}\s*年.{{1,4}}月.{{1,4}}日)\s*印发(?:\s*[（(][^（）()]*[）)])?$")
_NOTE_RE = re.compile(r"^[（(].*[）)]$")
_CONTACT_START_RE = re.compile(r"^(?:联系人|联系电话|联系方式|电话|手机|传真|电子邮箱|电子信箱|邮箱|地址|通讯地址|邮编|邮政编码)")
# The page's heading over its attachment links: the links still name the attachments.
_ATTACHMENT_LINKS_RE = re.compile(r"^(?:相关附件|附件下载|附件列表)\s*[：:]?$")
# 署名 (§7.3.5): agency names, no punctuation, standing above the 成文日期.
_SIGNATURE_LINE_RE = re.compile(r"[\u4e00-\u9fff（）() ·]{2,40}")


def _signed_date(cur: Cursor, i: int) -> tuple[int, date, int, int] | None:
    """The 成文日期 after the text: the first date line under a signature, else the first date line.
    A signed date typed without 年月日 (`2023515`) is read under a signature only."""
    first: tuple[int, date, int, int] | None = None
    for j in range(i, len(cur.lines)):
        ln = cur.lines[j]
        t = ln.text.strip()
        if _PRINTED_RE.match(simplified(t)):
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


def read_closing(cur: Cursor, i: int) -> tuple[int, int]:
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
        same_line = cur.lines[j].text[: start - cur.lines[j].start].strip()
        if same_line and _is_signature(same_line):
            cur.signature.extend(split_issuers(same_line))  # `某某市民政局 2024年5月8日` on one line
    signed_at = signed[0] if signed else len(cur.lines)
    closed = signed is not None
    closed_by_record = False  # a 版记 (抄送, 印发) after the date: what follows is another page
    notice_end = len(cur.lines)
    j = i
    while j < len(cur.lines):
        ln = cur.lines[j]
        t = ln.text.strip()
        s = simplified(t)  # a page in traditional characters: matched simplified, values as printed
        attach = _ATTACH_RE.match(t)
        # 附件说明 stands before the signature (§7.3.4); after it, a `附件：名称` line is the page's
        # attachment link, kept where the notice listed none, while a bare `附件一：` opens the
        # attachment's own pages.
        late = j > signed_at and not doc.attachments and bool(attach and attach.group(1).strip()) and not closed_by_record
        if attach and (j < signed_at or late):
            body_end = min(body_end, j)
            j = _attachments(cur, j, attach)
            continue
        if j < signed_at and not doc.attachments and _trailing_label(cur, j):
            body_end = min(body_end, j + 1)
            j = _attachments(cur, j, None)
            continue
        cc = _CC_RE.match(s)
        to = MAIN_TO_RE.match(s)
        if cc:
            body_end = min(body_end, j)
            doc.cc = addressees(t[cc.start(1) :])
            cur.mark("cc", ln.start, ln.end)
            closed = closed_by_record = True
        elif to and not doc.recipients:
            # 主送 printed with its label, as the 版记 of pre-2012 documents carries it.
            body_end = min(body_end, j)
            doc.recipients = addressees(t[to.start(1) :])
            cur.mark("recipients", ln.start + to.start(1), ln.end)
        elif (pm := _PRINTED_RE.match(s)) is not None:
            body_end = min(body_end, j)
            doc.printed_by = t[pm.start("org") : pm.end("org")].strip() or None
            when = parse_date(pm.group("date"))
            doc.printed_date = when.isoformat() if when else None
            cur.mark("printed_by", ln.start, ln.end)
            closed = closed_by_record = True
        elif _NOTE_RE.match(t) and j > i:
            doc.notes.append(t)
            cur.mark(f"notes[{len(doc.notes) - 1}]", ln.start, ln.end)
        elif _CONTACT_START_RE.match(s):
            body_end = min(body_end, j)
        elif closed and j > signed_at and is_chrome(t) and not _ATTACHMENT_LINKS_RE.match(t):
            notice_end = j
            break
        j += 1
    return min(body_end, notice_end), notice_end


def _signature_start(cur: Cursor, date_line: int, floor: int) -> int:
    """署名 lines stand just above the 成文日期 (§7.3.5): up to three agency names."""
    k = date_line
    while k - 1 >= floor and date_line - k < 3 and _is_signature(cur.lines[k - 1].text):
        k -= 1
    return k


# A file name's extension after an attachment's name (`…统计表.xls`, as web pages list their
# downloads); OCR reads its l as 1 or I and its o as 0.
_EXTENSIONS = frozenset({"xls", "xlsx", "doc", "docx", "wps", "et", "pdf", "ofd", "zip", "rar", "txt", "jpg", "png", "ppt", "pptx", "csv"})
_EXTENSION_RE = re.compile(r"(?<=[\u4e00-\u9fff）》)])[.．]([A-Za-z0-9]{2,4})$")
_EXTENSION_LOOKALIKES = str.maketrans({"1": "l", "I": "l", "|": "l", "0": "o", "O": "o"})


def file_extension_read_right(name: str) -> str:
    """`当前苗情统计表.x1s` → `当前苗情统计表.xls`; an extension that is already one, or that no
    look-alike makes one, stays as printed."""
    m = _EXTENSION_RE.search(name)
    if not m or m.group(1).lower() in _EXTENSIONS:
        return name
    fixed = m.group(1).translate(_EXTENSION_LOOKALIKES).lower()
    return name[: m.start()] + "." + fixed if fixed in _EXTENSIONS else name


def _inline_items(text: str, start: int) -> list[tuple[str, int]]:
    """`1.《…的通知》2.联络人表3.汇总表`: numbered items run into one line (a web page that lost its
    line breaks), cut where the next number in sequence stands after a name's last character; a
    decimal (`1.5倍`) is no number, a year after one is (`2.2024年度…`)."""
    if not (m := _ITEM_NUMBER_RE.match(text)) or m.group(1) != "1":
        return [(text, start)]
    cuts, k, pos = [0], 2, m.end() + 2
    while (nxt := re.compile(rf"(?<![\d.．]){k}\s*[.．、](?:(?!\d)|(?=(?:19|20)\d\d))").search(text, pos)) is not None:
        cuts.append(nxt.start())
        k, pos = k + 1, nxt.end() + 2
    cuts.append(len(text))
    return [(text[a:b], start + a) for a, b in zip(cuts, cuts[1:])]


# `附件：` ending a line that holds something else (a page that lost its line breaks).
_TRAILING_ATTACH_RE = re.compile(r"\S\s*附件\s*[：:]$")


def _trailing_label(cur: Cursor, j: int) -> bool:
    """`…电子邮箱：abc@163.com附件：` with `1.名称` on the next line: the label ends a line of its own."""
    return (
        j + 1 < len(cur.lines)
        and bool(_TRAILING_ATTACH_RE.search(cur.lines[j].text))
        and bool(_ITEM_NUMBER_RE.match(cur.lines[j + 1].text))
    )


def _attachments(cur: Cursor, j: int, first: re.Match[str] | None) -> int:
    """附件说明 (§7.3.4): `附件：名称`, `附件：1.名称` with the next items on the following lines,
    or `附件：` with the name on the next line; `first` is None where the label ended line j."""
    doc = cur.doc
    items = [] if first is None else [(first.group(1), cur.lines[j].start + first.start(1), cur.lines[j].end)]
    k = j + 1
    below = cur.lines[k].text if k < len(cur.lines) else ""
    if first is None:
        takes_below = bool(_ITEM_NUMBER_RE.match(below))
    else:
        takes_below = not first.group(1).strip() and layout.is_attachment_name(below)
    if takes_below:
        items = [(cur.lines[k].text, cur.lines[k].start, cur.lines[k].end)]
        k += 1
    if items and _ITEM_NUMBER_RE.match(items[0][0]):
        while k < len(cur.lines) and _ITEM_NUMBER_RE.match(cur.lines[k].text):
            items.append((cur.lines[k].text, cur.lines[k].start, cur.lines[k].end))
            k += 1
    pieces = [(piece, at, at + len(piece)) for text, start, _ in items for piece, at in _inline_items(text, start)]
    for text, start, end in pieces:
        number = _ITEM_NUMBER_RE.match(text)
        name = text[number.end() :] if number else text
        if name.strip():
            doc.attachments.append(file_extension_read_right(name.strip()))
            cur.mark(f"attachments[{len(doc.attachments) - 1}]", start + (number.end() if number else 0), end)
    return k


