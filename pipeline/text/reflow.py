"""Reflow cleaned lines into paragraphs: one paragraph or header element a line.

A line break in a scan is the page's width, not the writer's: lines are joined where the
printed line was full (GB/T 9704 §5.2.1: 28 characters a line, paragraphs indented by two),
measured from the boxes where the page has them and from the characters' widths where it
has not, and kept where a new element starts (a marker, a 文号, a 成文日期, a 署名). The
标题 lines after a 文号 become one line (§7.3.2).

    reflow(lines) -> lines        the same `Line`s joined; a joint keeps the raw newline's index
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import median

from models import Box
from pipeline.parsing.agencies import ORG_SUFFIX_RE, looks_like_recipients, names_boundary
from pipeline.parsing.junk import is_chrome
from pipeline.parsing.docnumber import DOCNUMBER_LINE_RE
from pipeline.text.clean import HAN, HAN_RE, Line

# Starts of a new paragraph or element whatever the previous line looks like.
_MARKER_RE = re.compile(
    r"^(?:"
    r"[一二三四五六七八九十]+[、是]"  # 一、  一是
    r"|[（(][一二三四五六七八九十]+[）)]"  # （一）
    r"|\d+[.．、](?!\d)"  # 1.  1、
    r"|[（(]\d+[）)]"  # （1）
    r"|第[一二三四五六七八九十]+[条章节]"  # 第一条
    r"|附件\s*\d*\s*[：:.．]?"  # 附件：  附件2
    r"|(?:联系人|联系电话|联系方式|电话|手机|传真|电子邮箱|电子信箱|邮箱|地址|通讯地址|邮编|邮政编码|抄送|签发人)"
    r"|[（(](?:此件|联系|本通知|本文)"
    r")"
)
_TERMINAL = "。！？；：!?;:"
# The 15 文种 of the 2012 regulation, longer names first so `命令` is tried before `令`. A title
# ends with its 文种 (GB/T 9704 §7.3.2).
DOC_TYPES = ("决议", "决定", "命令", "公报", "公告", "通告", "意见", "通知", "通报", "报告", "请示", "批复", "议案", "纪要", "函", "令")
_TITLE_END_RE = re.compile(f"(?:{'|'.join(DOC_TYPES)})$")
_DATE_LINE_RE = re.compile(r"^\S{0,30}?[0-9〇○零一二三四五六七八九]{4}年[0-9一二三四五六七八九十]{1,3}月[0-9一二三四五六七八九十]{1,3}日(?:印发)?$")

_BROKEN_DOCNUMBER_RE = re.compile(r"[〔\[［【（(]\s*\d{4}\s*[〕\]］】）)]\s*$")
_SERIAL_START_RE = re.compile(r"^第?\s*\d{1,5}\s*号")

# Text without geometry (plain OCR text): GB/T 9704 §5.2.1 sets 28 characters a line, the
# first line of a paragraph indented by two. A line was wrapped, rather than ended, when the
# next word would not have fitted on it: Chinese breaks anywhere, but an ASCII run (a phone
# number, a date's digits) moves whole to the next line, so a line may end early before one.
_LINE_WIDTH = 28
# The first line's indent (2), the hanging indent of 附件说明 items (aligned after `附件：`, so
# 5), 避头尾 moving a mark to the line before, and digits a little wider than half a character.
_WRAP_SLACK = 5.0
_TITLE_MAX_LINES = 4
_ASCII_RUN_RE = re.compile(r"^[\x21-\x7e]+")


def _width(text: str) -> float:
    """Printed width in Chinese characters: ASCII letters and digits a little over half as wide
    (proportional digits in Song and FangSong faces); a space left in Chinese text (between
    joint issuers) is printed as a full-width gap."""
    return sum(0.55 if ord(ch) < 0x7F and ch != " " else 1.0 for ch in text)


_OPENERS = "“‘《〈（〔【「『"


def _next_word(b: str) -> float:
    """The width of what must move to the next line together: an ASCII run (a phone number),
    or an opening mark with the character after it (避头尾: an opener may not end a line)."""
    run = _ASCII_RUN_RE.match(b)
    return _width(run.group(0)) if run else (2.0 if b[:1] in _OPENERS else 1.0)


def _wrapped(a: str, b: str) -> bool:
    return _width(a) + _next_word(b) > _LINE_WIDTH - _WRAP_SLACK


def _looks_like_docnumber_line(text: str) -> bool:
    return bool(DOCNUMBER_LINE_RE.match(text))


def _starts_element(text: str) -> bool:
    return bool(_MARKER_RE.match(text)) or _looks_like_docnumber_line(text) or bool(_DATE_LINE_RE.match(text))


def _ends_element(text: str) -> bool:
    return text[-1] in _TERMINAL or _looks_like_docnumber_line(text) or bool(_DATE_LINE_RE.match(text))


@dataclass
class _Geometry:
    """The body block of one page, learned from its lines' boxes."""

    left: float
    right: float
    char: float  # a Chinese character's advance, in pixels
    height: float  # a body line's box height
    gap: float | None = None  # the usual white between two lines of a paragraph, in pixels

    def wrapped(self, box: Box, next_word: float) -> bool:
        """The next word (in characters) would not have fitted after this line."""
        return box.x1 + next_word * self.char > self.right + 0.5 * self.char

    def indented(self, box: Box) -> bool:
        return box.x0 >= self.left + 1.2 * self.char

    def blank_between(self, upper: Box, lower: Box) -> bool:
        """A blank line stands between the two: the 标题 and the 主送机关 (§7.3.3 puts the 主送 one
        line below the title), or any two elements set apart. A wrapped line follows the one
        above at the usual gap; a skipped line adds a line's pitch, so half of one is the cut."""
        if self.gap is None:
            return False
        return lower.y0 - upper.y1 > self.gap + 0.5 * (self.height + self.gap)

    def large(self, box: Box) -> bool:
        """Set in a larger type than the body: the 发文机关标志 and its 文件."""
        return box.y1 - box.y0 > 1.6 * self.height


def _same_row(a: Box, b: Box) -> bool:
    """`b` stands to the right of `a` on the same printed line."""
    overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    return b.x0 > a.x1 and overlap > 0.5 * min(a.y1 - a.y0, b.y1 - b.y0)


def _page_geometry(lines: list[Line]) -> _Geometry | None:
    body = [ln for ln in lines if ln.box is not None and len(ln.chars) >= 8]
    if len(body) < 3:
        return None
    boxes = [ln.box for ln in body if ln.box is not None]
    char = median((b.x1 - b.x0) / max(_width(ln.text), 1.0) for ln, b in zip(body, boxes))
    lefts = sorted(b.x0 for b in boxes)
    # The body's margins: the leftmost lines start at the margin; a wrapped line ends at the right
    # one, unless 避头尾 hung a mark beyond it, so take the lines that end in a character.
    span = max(b.x1 for b in boxes) - lefts[0]
    rights = sorted(
        b.x1 for ln, b in zip(body, boxes) if (b.x1 - b.x0) >= 0.6 * span and HAN_RE.match(ln.text[-1])
    ) or sorted(b.x1 for b in boxes)
    height = median(b.y1 - b.y0 for b in boxes)
    return _Geometry(
        left=lefts[len(lefts) // 10],
        right=rights[len(rights) // 2],
        char=char,
        height=height,
        gap=_usual_gap([ln.box for ln in lines if ln.box is not None], height),
    )


def _usual_gap(boxes: list[Box], height: float) -> float | None:
    """The median white between a line and the next one below it, among lines that follow at
    less than two lines' height (a blank line or a figure is not the usual gap)."""
    gaps = [b.y0 - a.y1 for a, b in zip(boxes, boxes[1:]) if 0 <= b.y0 - a.y1 < 2 * height]
    return median(gaps) if len(gaps) >= 3 else None


# A field whose value went to the next line: `（联系人：宋晓丽，联系电话：` / `0357-2011234）`.
_FIELD_LABEL_END_RE = re.compile(r"(?:电话|手机|传真|邮箱|信箱|邮编|E-mail)[：:]$", re.IGNORECASE)
# 发文机关署名 (§7.3.5): a short name with no punctuation standing above the 成文日期.
_SIGNATURE_RE = re.compile(f"^[{HAN}（）()· ]{{2,30}}$")


def _signature_lines(lines: list[Line]) -> set[int]:
    """Indices of 署名 lines: up to three short names right above a 成文日期 line."""
    found: set[int] = set()
    texts = [ln.text for ln in lines]
    for i, text in enumerate(texts):
        if not _DATE_LINE_RE.match(text):
            continue
        k = i - 1
        while k >= 0 and i - k <= 3 and (not texts[k] or (_SIGNATURE_RE.match(texts[k]) and ORG_SUFFIX_RE.search(texts[k]))):
            if texts[k]:
                found.add(k)
            k -= 1
    return found


def _joins(prev: Line, nxt: Line, geo: dict[int, _Geometry | None], unwrapped: frozenset[int] = frozenset()) -> str | None:
    """How `nxt` continues `prev` in running text: "" (the same paragraph) or None (a new element)."""
    a, b = prev.tail or prev.text, nxt.text
    if prev.box is not None and nxt.box is not None and prev.page == nxt.page and _same_row(prev.box, nxt.box):
        return " "  # one printed line read as two boxes: `山西省民政厅办公室    2024年11月13日印发`
    if _BROKEN_DOCNUMBER_RE.search(a) and _SERIAL_START_RE.match(b):
        return ""  # a 文号 broken after its year: `临市民函〔2024〕` / `89号`
    if _FIELD_LABEL_END_RE.search(a) and _ASCII_RUN_RE.match(b):
        return ""
    if _starts_element(b) or _looks_like_docnumber_line(a):
        return None
    if _TITLE_END_RE.search(a) and (_opens_recipients(b) or looks_like_recipients(b)):
        return None  # a title (or a title set as a paragraph), then the 主送 (§7.3.3)
    g = geo.get(nxt.page)
    if prev.box is not None and nxt.box is not None and g is not None:
        if g.large(prev.box) or g.large(nxt.box):
            return None  # the mark is spread across the line (分散对齐) but never continues
        if prev.page == nxt.page and g.blank_between(prev.box, nxt.box):
            return None
        if g.indented(nxt.box):
            # A new paragraph is indented (§5.2.1); an 附件说明 item's next line hangs under
            # its name, deeper than the `附件：` line it continues (§7.3.4).
            attachment = prev.text.startswith("附件") and prev.head is not None and not _ends_element(a)
            hanging = attachment and prev.head.x0 + 1.5 * g.char < nxt.box.x0 < prev.head.x0 + 6 * g.char
            # Word templates often wrap the name under `附件` itself rather than under the name's
            # first character: then only a full line above says the name goes on.
            flush = (
                attachment
                and prev.box is not None
                and abs(nxt.box.x0 - prev.head.x0) < 0.6 * g.char
                and g.wrapped(prev.box, _next_word(b))
            )
            return "" if hanging or flush else None
        if _ends_element(a):
            return None
        # The printed width says whether the line was full; the box says so too, when the
        # page's margin could be measured.
        same_page_geo = geo.get(prev.page)
        full_box = same_page_geo is not None and same_page_geo.wrapped(prev.box, _next_word(b))
        return "" if _wrapped(a, b) or full_box else None
    if prev.page in unwrapped:
        return "" if _breaks_paragraph(a, b) else None
    if _ends_element(a) or not _wrapped(a, b):
        return None
    return ""


def _unwrapped_pages(lines: list[Line]) -> frozenset[int]:
    """Pages of text not wrapped at the printed width: a paragraph a line, as web pages and word
    processors give it. Lines far wider than GB/T 9704's 28 characters say so."""
    wide: dict[int, int] = {}
    for ln in lines:
        if ln.box is None and _width(ln.text) > _LINE_WIDTH + 2 * _WRAP_SLACK:
            # One paragraph twice the printed width says it alone; a line a little over may be a
            # table row or a joined field.
            wide[ln.page] = wide.get(ln.page, 0) + (2 if _width(ln.text) > 2 * _LINE_WIDTH else 1)
    return frozenset(page for page, n in wide.items() if n >= 2)


def _breaks_paragraph(a: str, b: str) -> bool:
    """In unwrapped text a line ends a paragraph or an element, unless a long paragraph stops
    mid-sentence (a page break copied into the text) and the next line is no element of its own:
    a title, a page's heading or stamp never runs into the next line."""
    return (
        _width(a) >= 2 * _LINE_WIDTH
        and (bool(HAN_RE.match(a[-1])) or a[-1] in "，、")
        and not _ends_element(a)
        and not _TITLE_END_RE.search(a)
        and not is_chrome(a)
        and not looks_like_recipients(b)
    )


# The first line of a 主送 list broken over lines: `各市、州、直管市、…、城管局、`; its colon is on a
# later line, so `looks_like_recipients` cannot tell yet.
_OPENS_RECIPIENTS_RE = re.compile(r"^各[^。；：:]{0,40}?[、，,]")


def _opens_recipients(text: str) -> bool:
    return bool(_OPENS_RECIPIENTS_RE.match(text)) and not _TITLE_END_RE.search(text)


def _title_glue(a: str, b: str) -> str:
    """Title lines join with nothing, but a break between joint issuers keeps their space (§7.3.2)."""
    return " " if names_boundary(a.rsplit("《", 1)[-1], b.lstrip("《")) else ""


def _join(prev: Line, line: Line, glue: str) -> None:
    if glue == " ":
        prev.chars.append(" ")
        prev.origin.append(prev.newline_index)
    prev.chars.extend(line.chars)
    prev.origin.extend(line.origin)
    prev.newline_index = line.newline_index
    prev.tail = line.text
    # The last physical line decides the next join.
    prev.box = line.box if line.box is not None else prev.box
    prev.page = line.page


def _is_title_line(text: str) -> bool:
    """A line that may continue a title after a 文号: not a field (`发布机关：…`), a date or page chrome."""
    return (
        not text.endswith(("：", ":"))
        and "。" not in text
        and "：" not in text
        and not _DATE_LINE_RE.match(text)
        and not is_chrome(text)
        and not _MARKER_RE.match(text)
        and not _looks_like_docnumber_line(text)
    )


def reflow(lines: list[Line]) -> list[Line]:
    """Join wrapped lines into paragraphs, and the 标题 lines after a 文号 into one (§7.3.2)."""
    geo: dict[int, _Geometry | None] = {}
    for page in {ln.page for ln in lines}:
        geo[page] = _page_geometry([ln for ln in lines if ln.page == page])
    out: list[Line] = []
    title_lines = -1  # lines of the title read so far: 0 right after a 文号 line, -1 elsewhere
    signatures = _signature_lines(lines)
    unwrapped = _unwrapped_pages(lines)
    for index, line in enumerate(lines):
        if not line.chars:
            continue
        text = line.text
        if index in signatures:
            out.append(line)
            title_lines = -1
            continue
        if out and title_lines > 0 and title_lines < _TITLE_MAX_LINES and _is_title_line(text) and not _TITLE_END_RE.search(out[-1].text):
            _join(out[-1], line, _title_glue(out[-1].text, text))
            title_lines += 1
            continue
        if out and title_lines == 0 and _is_title_line(text) and not _opens_recipients(text):
            out.append(line)
            title_lines = 1
            continue
        if title_lines > 0:
            # The title ended: what follows (the 主送机关) is a new element whatever its width.
            out.append(line)
            title_lines = -1
            continue
        glue = _joins(out[-1], line, geo, unwrapped) if out else None
        if glue is not None:
            _join(out[-1], line, glue)
            continue
        out.append(line)
        title_lines = 0 if _looks_like_docnumber_line(text) else -1
    return out

