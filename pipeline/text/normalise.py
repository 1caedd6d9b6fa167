"""Normalise OCR text: clean each line, then reflow lines into paragraphs.

Every edit is a deletion or a one-for-one character swap, so each character of
the normalised text keeps the index of the raw character it came from
(`Text.origin`); a joint between two raw lines keeps the raw newline's index
when it becomes a space. That map is what lets every extracted value point back
to its page and box.

What phone scans do to the text (shared/domain.md §5, shared/ocr-notes.md):
- tesseract's chi_sim puts a space into about 1% of the gaps between Chinese
  characters, and around digits (`请于 11 月 20 日前`);
- the CamScanner watermark (`CS 扫描全能王`, `3亿人都在用的扫描App`) is read as text,
  even in the middle of a sentence;
- lines break inside words, paragraphs cross pages;
- look-alikes: `0`→`O`, `1`→`l` inside numbers; ASCII `:` `,` `;` `(` `)` for the
  full-width forms the standard prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import median

from models import Box, Page, Text
from pipeline.parsing.agencies import ORG_SUFFIX_RE, names_boundary
from pipeline.parsing.docnumber import DOCNUMBER_LINE_RE, DOCNUMBER_RE
from models.text import RawLine

# --- character classes -------------------------------------------------------

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# CJK punctuation, full-width forms, curly quotes, and the 〇/○ used in dates.
_CJK_PUNCT = "\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2014\u2026\u25cb\u3007\u300a\u300b"
_WIDE = f"{_HAN}{_CJK_PUNCT}"
_WIDE_RE = re.compile(f"[{_WIDE}]")
_HAN_RE = re.compile(f"[{_HAN}]")

# --- the CamScanner watermark -------------------------------------------------


def _spaced(phrase: str) -> str:
    """A pattern for `phrase` that tolerates OCR spaces between its characters."""
    return r"\s*".join(re.escape(ch) for ch in phrase if not ch.isspace())


# The CamScanner footer reads as `CS 扫描全能王` and `3亿人都在用的扫描App`; tesseract
# also reads the logo as stray `CS`/`C S`, and the app's own name `CamScanner`.
_WATERMARK_RE = re.compile(
    "|".join(
        [
            # OCR may cut the footer short at the page edge: `3亿人都在用的扫`, `扫描全能`.
            r"(?:C\s*S\s*)?" + _spaced("扫描全能") + r"(?:\s*王)?",
            _spaced("3亿人都在用的") + r"(?:\s*扫(?:\s*描)?)?(?:\s*A\s*p\s*p?)?",
            r"Cam\s*Scanner",
        ]
    ),
    re.IGNORECASE,
)
# A line that is only the logo's letters once the rest is gone.
_LOGO_ONLY_RE = re.compile(r"^\s*[CcＣ]\s*[SsＳ5]\s*$")

# Page numbers as GB/T 9704 §7.5 prints them: `— 1 —`, `-2-`, `－ 3 －`; OCR may read the
# number and its dashes as separate boxes (`2`, `一`), each then a line of its own.
_PAGE_NUMBER_RE = re.compile(r"^\s*[-—–－一~]*\s*\d{0,3}\s*[-—–－一~]*\s*$")

# --- line-level character fixes -------------------------------------------------

_FULLWIDTH_DIGITS = {chr(0xFF10 + i): str(i) for i in range(10)}
# ASCII punctuation touching Chinese text is OCR's reading of the full-width form.
_ASCII_TO_WIDE = {":": "：", ",": "，", ";": "；", "(": "（", ")": "）", "?": "？", "!": "！", "<": "〈", ">": "〉"}
# Look-alikes inside a number: only where digits surround them and a date or
# 文号 unit follows, e.g. `2O24年`, `〔2O24〕`, `1l月`.
_LOOKALIKE_DIGITS = {"O": "0", "o": "0", "〇": "0", "l": "1", "I": "1", "|": "1"}
_NUMBER_WITH_LOOKALIKE_RE = re.compile(r"(?<![A-Za-z])[0-9OolI|]*[0-9][0-9OolI|]*(?=\s*[年月日号〕\]］】)）])")

_PERSON_AFTER_RE = re.compile(f"^[{_HAN}]{{2,4}}(?=$|[，,；;、\\s0-9（(])")


@dataclass
class _Line:
    """A line being normalised: characters with their raw indices, and where it sits."""

    chars: list[str]
    origin: list[int]
    page: int
    box: Box | None
    newline_index: int = -1  # raw index of the newline that ends this raw line
    tail: str = ""  # the last physical line joined into this one, which decides the next join
    head: Box | None = None  # the box of the paragraph's first physical line

    @property
    def text(self) -> str:
        return "".join(self.chars)

    def keep(self, mask: list[bool]) -> None:
        self.chars = [c for c, k in zip(self.chars, mask) if k]
        self.origin = [o for o, k in zip(self.origin, mask) if k]


def _drop_spans(line: _Line, spans: list[tuple[int, int]]) -> None:
    mask = [True] * len(line.chars)
    for start, end in spans:
        for i in range(start, end):
            mask[i] = False
    line.keep(mask)


def _remove_watermark(line: _Line) -> None:
    _drop_spans(line, [m.span() for m in _WATERMARK_RE.finditer(line.text)])
    if _LOGO_ONLY_RE.match(line.text):
        line.keep([False] * len(line.chars))


def _translate(line: _Line) -> None:
    """One-for-one character repairs: full-width digits, ASCII punctuation beside Chinese, digit look-alikes."""
    text = line.text
    chars = line.chars
    for i, ch in enumerate(chars):
        if ch in _FULLWIDTH_DIGITS:
            chars[i] = _FULLWIDTH_DIGITS[ch]
    for m in _NUMBER_WITH_LOOKALIKE_RE.finditer(text):
        for i in range(m.start(), m.end()):
            chars[i] = _LOOKALIKE_DIGITS.get(chars[i], chars[i])
    text = line.text
    # A 文号's brackets stay as printed: their form is what the conformity check reads.
    in_number = {i for m in DOCNUMBER_RE.finditer(text) for i in range(m.start(), m.end())}
    for i, ch in enumerate(chars):
        if ch in _ASCII_TO_WIDE and i not in in_number and _touches_wide(text, i) and not _inside_ascii_run(text, i):
            chars[i] = _ASCII_TO_WIDE[ch]


# OCR's look-alikes in a 文号's year bracket: 〕 read as `]`/`］` (a square bracket, never a
# round one, so a printed `〔2024)` stays as printed). Only on OCR pages: a text layer says
# what was printed.
_DOCNUMBER_BRACKET_RE = re.compile(r"〔\s*\d{4}\s*([\]］])|([\[［])\s*\d{4}\s*〕")
# 三 read as 兰 inside a Chinese-numeral date: `一九九四年十一月兰十日`.
_CN_DATE_LOOKALIKE_RE = re.compile(r"(?<=[年月])[一二三四五六七八九十兰]*兰[一二三四五六七八九十兰]*(?=[月日])")


# tesseract quirks on Chinese scans: the gap between joint issuers read as a lone curly quote
# (`民政部”全国老龄办`), the digit 1 before a measure word read as a bracket (`开展〕项`), and
# the page edge or a rule read as a bar at a line's ends (`|临汾市民政局`).
_LONE_QUOTE_RE = re.compile(f"(?<=[{_HAN}])[“”\"'‘’](?=[{_HAN}])")
_ONE_BEFORE_MEASURE_RE = re.compile(f"(?<=[{_HAN}])[\\]〕|lI](?=[项个次件场所家名条])")
_EDGE_BAR_RE = re.compile(r"^\s*[|｜]+|[|｜]+\s*$")


def _repair_ocr_lookalikes(line: _Line) -> None:
    text = line.text
    for m in _LONE_QUOTE_RE.finditer(text):
        if text.count(m.group(0)) == 1 and _keep_space(text[: m.start()], text[m.end() :]):
            line.chars[m.start()] = " "
    for m in _ONE_BEFORE_MEASURE_RE.finditer(text):
        line.chars[m.start()] = "1"
    _drop_spans(line, [m.span() for m in _EDGE_BAR_RE.finditer(line.text)])
    text = line.text
    for m in _DOCNUMBER_BRACKET_RE.finditer(text):
        if m.group(1):
            line.chars[m.start(1)] = "〕"
        else:
            line.chars[m.start(2)] = "〔"
    for m in _CN_DATE_LOOKALIKE_RE.finditer(text):
        for i in range(m.start(), m.end()):
            if line.chars[i] == "兰":
                line.chars[i] = "三"


def _touches_wide(text: str, i: int) -> bool:
    before = _neighbour(text, i, -1)
    after = _neighbour(text, i, +1)
    return bool((before and _WIDE_RE.match(before)) or (after and _WIDE_RE.match(after)))


def _inside_ascii_run(text: str, i: int) -> bool:
    """`17:00`, `0351-1234567,139…` and URLs keep their ASCII punctuation."""
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    return before.isdigit() and after.isdigit()


def _neighbour(text: str, i: int, step: int) -> str:
    j = i + step
    while 0 <= j < len(text) and text[j] == " ":
        j += step
    return text[j] if 0 <= j < len(text) else ""


def _keep_space(left: str, right: str) -> bool:
    """Whether a space between two wide runs separates two names and so is printed, not OCR noise:
    joint issuers (`民政部 全国老龄办关于…`, GB/T 9704 §7.3.2), or a contact's office and name
    (`省民政厅老龄工作处 张书毓`)."""
    return names_boundary(left, right) or bool(ORG_SUFFIX_RE.search(left) and _PERSON_AFTER_RE.match(right))


def _collapse_spaces(line: _Line) -> None:
    """Remove spaces tesseract puts into Chinese text; keep those that separate names.

    A run of spaces goes when a wide character (Chinese, full-width punctuation)
    stands on at least one side and the other side is wide or a digit
    (`请于 11 月 20 日前` → `请于11月20日前`, `〔 2024 〕` → `〔2024〕`).
    """
    text = line.text
    mask = [True] * len(text)
    for m in re.finditer(r"\s+", text):
        start, end = m.span()
        before = text[start - 1] if start > 0 else ""
        after = text[end] if end < len(text) else ""
        if not before or not after:
            drop = True  # leading and trailing spaces
        else:
            wide_before = bool(_WIDE_RE.match(before))
            wide_after = bool(_WIDE_RE.match(after))
            drop = (wide_before and (wide_after or after.isdigit())) or (wide_after and before.isdigit())
            if drop and wide_before and wide_after and _HAN_RE.match(before) and _HAN_RE.match(after):
                drop = not _keep_space(text[:start].rstrip(), text[end:])
            elif not drop:
                # Only single spaces survive between Latin words or numbers.
                mask[start + 1 : end] = [False] * (end - start - 1)
                continue
        if drop:
            mask[start:end] = [False] * (end - start)
    line.keep(mask)


def _pair_brackets(line: _Line) -> None:
    """`（联系人：…13800002222)`, `〈市、区）`: a bracket closing or opening a full-width round one
    in another form is OCR's reading of the full-width form."""
    chars = line.chars
    opened: list[int] = []
    for i, ch in enumerate(chars):
        if ch in "（(〈":
            opened.append(i)
        elif ch in "）)〉" and opened:
            j = opened.pop()
            pair = chars[j] + ch
            # `〈市、区）`: tesseract's angle bracket for a round one; a real 〈〉 pair stays.
            if pair != "〈〉" and ("（" in pair or "）" in pair):
                chars[j], chars[i] = "（", "）"


def clean_line(line: _Line) -> None:
    _remove_watermark(line)
    _translate(line)
    _collapse_spaces(line)
    if _PAGE_NUMBER_RE.match(line.text):
        line.keep([False] * len(line.chars))


# --- reflow ------------------------------------------------------------------------

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

    def wrapped(self, box: Box, next_word: float) -> bool:
        """The next word (in characters) would not have fitted after this line."""
        return box.x1 + next_word * self.char > self.right + 0.5 * self.char

    def indented(self, box: Box) -> bool:
        return box.x0 >= self.left + 1.2 * self.char

    def large(self, box: Box) -> bool:
        """Set in a larger type than the body: the 发文机关标志 and its 文件."""
        return box.y1 - box.y0 > 1.6 * self.height


def _same_row(a: Box, b: Box) -> bool:
    """`b` stands to the right of `a` on the same printed line."""
    overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    return b.x0 > a.x1 and overlap > 0.5 * min(a.y1 - a.y0, b.y1 - b.y0)


def _page_geometry(lines: list[_Line]) -> _Geometry | None:
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
        b.x1 for ln, b in zip(body, boxes) if (b.x1 - b.x0) >= 0.6 * span and _HAN_RE.match(ln.text[-1])
    ) or sorted(b.x1 for b in boxes)
    return _Geometry(
        left=lefts[len(lefts) // 10],
        right=rights[len(rights) // 2],
        char=char,
        height=median(b.y1 - b.y0 for b in boxes),
    )


# A field whose value went to the next line: `（联系人：宋晓丽，联系电话：` / `0357-2011234）`.
_FIELD_LABEL_END_RE = re.compile(r"(?:电话|手机|传真|邮箱|信箱|邮编|E-mail)[：:]$", re.IGNORECASE)
# 发文机关署名 (§7.3.5): a short name with no punctuation standing above the 成文日期.
_SIGNATURE_RE = re.compile(f"^[{_HAN}（）()· ]{{2,30}}$")


def _signature_lines(lines: list[_Line]) -> set[int]:
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


def _joins(prev: _Line, nxt: _Line, geo: dict[int, _Geometry | None]) -> str | None:
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
    g = geo.get(nxt.page)
    if prev.box is not None and nxt.box is not None and g is not None:
        if g.large(prev.box) or g.large(nxt.box):
            return None  # the mark is spread across the line (分散对齐) but never continues
        if g.indented(nxt.box):
            # A new paragraph is indented (§5.2.1); an 附件说明 item's next line hangs under
            # its name, deeper than the `附件：` line it continues (§7.3.4).
            hanging = (
                prev.text.startswith("附件")
                and prev.head is not None
                and prev.head.x0 + 1.5 * g.char < nxt.box.x0 < prev.head.x0 + 6 * g.char
            )
            return "" if hanging and not _ends_element(a) else None
        if _ends_element(a):
            return None
        # The printed width says whether the line was full; the box says so too, when the
        # page's margin could be measured.
        same_page_geo = geo.get(prev.page)
        full_box = same_page_geo is not None and same_page_geo.wrapped(prev.box, _next_word(b))
        return "" if _wrapped(a, b) or full_box else None
    if _ends_element(a) or not _wrapped(a, b):
        return None
    return ""


def _title_glue(a: str, b: str) -> str:
    """Title lines join with nothing, but a break between joint issuers keeps their space (§7.3.2)."""
    return " " if names_boundary(a.rsplit("《", 1)[-1], b.lstrip("《")) else ""


def _join(prev: _Line, line: _Line, glue: str) -> None:
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
    return (
        not text.endswith(("：", ":"))
        and "。" not in text
        and not _MARKER_RE.match(text)
        and not _looks_like_docnumber_line(text)
    )


def _reflow(lines: list[_Line]) -> list[_Line]:
    """Join wrapped lines into paragraphs, and the 标题 lines after a 文号 into one (§7.3.2)."""
    geo: dict[int, _Geometry | None] = {}
    for page in {ln.page for ln in lines}:
        geo[page] = _page_geometry([ln for ln in lines if ln.page == page])
    out: list[_Line] = []
    title_lines = -1  # lines of the title read so far: 0 right after a 文号 line, -1 elsewhere
    signatures = _signature_lines(lines)
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
        if out and title_lines == 0 and _is_title_line(text):
            out.append(line)
            title_lines = 1
            continue
        if title_lines > 0:
            # The title ended: what follows (the 主送机关) is a new element whatever its width.
            out.append(line)
            title_lines = -1
            continue
        glue = _joins(out[-1], line, geo) if out else None
        if glue is not None:
            _join(out[-1], line, glue)
            continue
        out.append(line)
        title_lines = 0 if _looks_like_docnumber_line(text) else -1
    return out


# --- the stage ------------------------------------------------------------------


def raw_text(pages: list[Page]) -> tuple[str, list[RawLine]]:
    """All pages' raw text (lines joined by newlines, pages by form feeds) and where each line sits."""
    parts: list[str] = []
    raw_lines: list[RawLine] = []
    pos = 0
    for p_index, page in enumerate(pages):
        if p_index:
            parts.append("\f")
            pos += 1
        for l_index, line in enumerate(page.lines):
            if l_index:
                parts.append("\n")
                pos += 1
            raw_lines.append(RawLine(start=pos, end=pos + len(line.text), page=page.number, line=l_index))
            parts.append(line.text)
            pos += len(line.text)
    return "".join(parts), raw_lines


def normalise(pages: list[Page]) -> Text:
    """The normalised text of a file's pages: one paragraph or header element a line."""
    raw, raw_lines = raw_text(pages)
    lines: list[_Line] = []
    for rl in raw_lines:
        page = next(p for p in pages if p.number == rl.page)
        src = page.lines[rl.line]
        # A raw line may itself hold several lines (text files keep their own newlines inside one Page line).
        line = _Line(
            chars=list(raw[rl.start : rl.end]),
            origin=list(range(rl.start, rl.end)),
            page=rl.page,
            box=src.box,
            head=src.box,
            newline_index=rl.end,
        )
        clean_line(line)
        if page.source == "ocr":
            _repair_ocr_lookalikes(line)
        lines.append(line)
    paragraphs = _reflow(lines)
    for para in paragraphs:
        _pair_brackets(para)
    chars: list[str] = []
    origin: list[int] = []
    for i, para in enumerate(paragraphs):
        if i:
            chars.append("\n")
            origin.append(-1)
        chars.extend(para.chars)
        origin.extend(para.origin)
    return Text(raw=raw, text="".join(chars), origin=origin, raw_lines=raw_lines)
