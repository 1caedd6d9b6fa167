"""Read a notice from a page saved off a government site (.html, .htm, or .mhtml).

    read_webpage(path, kind) -> Page     source "html": the title first, then the main text and
                                         the 政府信息公开 table's cells in page order;
                                         Line.where is each element's XPath;
                                         Page.metadata holds the attachment links

The main text is found by readability-lxml (small: lxml and chardet; trafilatura finds the
same text on such pages but drops the <h1> title and the attachment block, and costs
2 s of imports against 0.3 s). Its output is a copy of the article, so each block it kept is
looked up again in the page's own tree in document order: that is where the XPaths come from.

Government pages carry the 政府信息公开 block (GB/T 9704's 版头 moved into a table):
索引号, 发布机构, 发文字号, 成文日期, 主题分类. Its cells are handed on as lines, kept even where
readability drops the table as chrome, and the parser reads them as it reads the same block
copied into a text file (pipeline.parsing.metadata, the one reader of its labels): the fields
go with the document, the 发文字号 stands for the 文号 the page's text does not print.

Scripts and styles are cut out of the bytes before parsing: libxml2 stops at a text node over
10 MB, so a page with 50 MB of inline script would otherwise lose everything after it.
"""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import lxml.html
from lxml import etree

from models.page import Line, Page
from pipeline.errors import InputError, InputTooLarge
from pipeline.reading.decoding import decode_text

MAX_MARKUP_BYTES = 10 << 20  # after scripts and styles are cut; a long notice page is ~200 KB
MIN_TEXT_CHARS = 20  # less: a portal's error or login page, not a notice
# A label cell of a key–value table: a short name and a colon (`索引号：`), its value after it
# or in the next cell.
LABEL_CELL = re.compile(r"^[\u4e00-\u9fff]{2,8}\s*[:：]")
ATTACHMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".wps", ".ofd", ".xls", ".xlsx", ".et", ".zip", ".rar", ".7z", ".jpg", ".png", ".tif")
BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "div", "section", "article", "pre", "blockquote", "dd", "dt", "center"}
CUT_TAGS = (b"script", b"style", b"noscript", b"template")
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.I)
SITE_SUFFIX = re.compile(r"[_\-|—–]\s*[^_\-|—–]{2,30}$")


def read_webpage(path: Path, kind: str) -> Page:
    data = path.read_bytes()
    if kind == "mhtml":
        data, declared = mhtml_html(path, data)
    else:
        declared = None
    data = cut_elements(data, CUT_TAGS)
    if len(data) > MAX_MARKUP_BYTES:
        raise InputTooLarge(f"{path}: {len(data):,} bytes of markup after scripts and styles, over the limit of {MAX_MARKUP_BYTES:,}")
    match = META_CHARSET.search(data[:8192])
    declared = declared or (match.group(1).decode("ascii") if match else None)
    text, warnings = decode_text(data, declared, what="the page")
    return page_of_html(path, text, warnings)


def mhtml_html(path: Path, data: bytes) -> tuple[bytes, str | None]:
    """The first text/html part of a saved web archive, and the charset its part header declares."""
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload, part.get_content_charset()
    raise InputError(f"{path}: a web archive (MHTML) without an HTML part")


def cut_elements(data: bytes, tags: tuple[bytes, ...]) -> bytes:
    """`data` without the named elements, in one pass (a regex with .*? rescans to the end of
    the file for each unclosed tag; this stops at the first unclosed one)."""
    lower = data.lower()
    out: list[bytes] = []
    pos = 0
    while True:
        starts = [(i, t) for t in tags if (i := lower.find(b"<" + t, pos)) >= 0]
        if not starts:
            break
        start, tag = min(starts)
        end = lower.find(b"</" + tag, start)
        out.append(data[pos:start])
        if end < 0:
            pos = len(data)
            break
        close = lower.find(b">", end)
        pos = len(data) if close < 0 else close + 1
    out.append(data[pos:])
    return b"".join(out)


def squash(text: str) -> str:
    return "".join(text.split())


def page_of_html(path: Path, html: str, warnings: list[str]) -> Page:
    from readability import Document

    html = re.sub(r"^\s*<\?xml[^>]*>", "", html)  # lxml refuses a str that declares its encoding
    try:
        tree = lxml.html.document_fromstring(html)
        summary = Document(html).summary(html_partial=True)
        main = squash(lxml.html.fragment_fromstring(summary, create_parent="div").text_content())
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as e:
        raise InputError(f"{path}: not a readable HTML page: {e}") from e
    if len(main) < MIN_TEXT_CHARS:
        raise InputError(f"{path}: an HTML page with no notice text in it (an error or login page?)")
    root = tree.getroottree()
    links = attachment_links(tree)
    fields = field_cells(tree)
    title_el = title_element(tree, main)
    lines: list[Line] = []
    if title_el is not None:
        lines.append(Line(text=" ".join(title_el.text_content().split()), where=root.getpath(title_el)))
    for a, _, _ in links:
        a.drop_tree()  # listed as attachment links; the text around them (附件：…) stays
    for el in leaf_blocks(tree):
        if el is title_el or title_el in el.iterancestors():
            continue
        text = " ".join(el.text_content().split())
        if len(squash(text)) >= 2 and (squash(text) in main or el in fields):
            lines.append(Line(text=text, where=root.getpath(el)))
    metadata = {}
    if links:
        metadata["附件链接"] = "\n".join(f"{name} <{href}>" for _, name, href in links)
    return Page(number=1, source="html", lines=lines, metadata=metadata, warnings=warnings)


def leaf_blocks(tree: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """Block elements with no block element inside, in document order: one line each. A <br>
    splits nothing here: the normaliser joins lines into paragraphs anyway."""
    body = tree.find("body")
    return [
        el
        for el in (body if body is not None else tree).iter()
        if isinstance(el.tag, str) and el.tag in BLOCKS and not any(isinstance(c.tag, str) and c.tag in BLOCKS for c in el.iterdescendants())
    ]


def field_cells(tree: lxml.html.HtmlElement) -> set[lxml.html.HtmlElement]:
    """The cells of the page's key–value tables (the 政府信息公开 block): a table with no table
    inside it, or a <dl>, with two or more label cells (LABEL_CELL, or a <th>/<dt> followed by
    its value). Read by shape, not by label: which labels count is the parser's to say."""
    cells: set[lxml.html.HtmlElement] = set()
    for container in tree.iter("table", "dl"):
        if container.tag == "table" and container.find(".//table") is not None:
            continue  # a layout table holding the page, not a block of fields
        items = [el for el in container.iter("td", "th", "dt", "dd")]
        labels = [
            el
            for el in items
            if LABEL_CELL.match(" ".join(el.text_content().split()))
            or (el.tag in ("th", "dt") and (nxt := el.getnext()) is not None and nxt.tag in ("td", "dd"))
        ]
        if len(labels) >= 2:
            cells.update(items)
    return cells


def title_element(tree: lxml.html.HtmlElement, main: str) -> lxml.html.HtmlElement | None:
    """The page's heading for the notice: an <h1>/<h2> or a block classed as a title whose text is
    the <title> without the site name, or failing that any such block kept in the main text."""
    page_title = tree.findtext(".//title") or ""
    wanted = squash(SITE_SUFFIX.sub("", page_title.strip()))
    candidates = [el for el in tree.iter("h1", "h2", "h3", "div", "p", "td") if is_title_like(el)]
    for el in candidates:
        text = squash(el.text_content())
        if text and wanted and (text == wanted or wanted.startswith(text) or text.startswith(wanted)):
            return el
    return next((el for el in candidates if el.tag in ("h1", "h2") and squash(el.text_content()) in main), None)


def is_title_like(el: lxml.html.HtmlElement) -> bool:
    classes = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
    return el.tag in ("h1", "h2", "h3") or "title" in classes or "bt" in classes.split()


def attachment_links(tree: lxml.html.HtmlElement) -> list[tuple[lxml.html.HtmlElement, str, str]]:
    """Links to files (附件): the element, the name shown, the address as written."""
    out = []
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if href.lower().split("?")[0].split("#")[0].endswith(ATTACHMENT_SUFFIXES):
            out.append((a, " ".join(a.text_content().split()) or href.rsplit("/", 1)[-1], href))
    return out
