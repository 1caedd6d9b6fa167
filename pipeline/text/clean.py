"""Clean one line of OCR text: the watermark, OCR spaces, look-alike characters, page numbers.

Each repair deletes characters or swaps one for one, and every character keeps the raw
index it came from (`Line.origin`); `pipeline.text.normalise` builds the map back from it.

    clean_line(line)              watermark, full-width digits and punctuation, spaces, page numbers
    repair_ocr_lookalikes(line)   OCR pages only: stray quotes and bars, 〕 for 1, ] for 〕, 兰 for 三
    pair_brackets(line)           a round bracket printed full-width on one side is so on the other
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models import Box
from pipeline.parsing.agencies import ORG_SUFFIX_RE, names_boundary
from pipeline.parsing.docnumber import DOCNUMBER_RE

# --- character classes -------------------------------------------------------

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# CJK punctuation, full-width forms, curly quotes, and the 〇/○ used in dates.
_CJK_PUNCT = "\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2014\u2026\u25cb\u3007\u300a\u300b"
_WIDE = f"{HAN}{_CJK_PUNCT}"
_WIDE_RE = re.compile(f"[{_WIDE}]")
HAN_RE = re.compile(f"[{HAN}]")

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

_PERSON_AFTER_RE = re.compile(f"^[{HAN}]{{2,4}}(?=$|[，,；;、\\s0-9（(])")


@dataclass
class Line:
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


def _drop_spans(line: Line, spans: list[tuple[int, int]]) -> None:
    mask = [True] * len(line.chars)
    for start, end in spans:
        for i in range(start, end):
            mask[i] = False
    line.keep(mask)


def _remove_watermark(line: Line) -> None:
    _drop_spans(line, [m.span() for m in _WATERMARK_RE.finditer(line.text)])
    if _LOGO_ONLY_RE.match(line.text):
        line.keep([False] * len(line.chars))


# `<` `>` are tesseract's reading of 〈〉; typed text (a web page, a text layer) means them as printed.
_OCR_ONLY = {"<", ">"}


def _translate(line: Line, ocr: bool = True) -> None:
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
        if ch in _OCR_ONLY and not ocr:
            continue
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
_LONE_QUOTE_RE = re.compile(f"(?<=[{HAN}])[“”\"'‘’](?=[{HAN}])")
_ONE_BEFORE_MEASURE_RE = re.compile(f"(?<=[{HAN}])[\\]〕|lI](?=[项个次件场所家名条])")
_EDGE_BAR_RE = re.compile(r"^\s*[|｜]+|[|｜]+\s*$")


def repair_ocr_lookalikes(line: Line) -> None:
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


def _collapse_spaces(line: Line) -> None:
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
            if drop and wide_before and wide_after and HAN_RE.match(before) and HAN_RE.match(after):
                drop = not _keep_space(text[:start].rstrip(), text[end:])
            elif not drop:
                # Only single spaces survive between Latin words or numbers.
                mask[start + 1 : end] = [False] * (end - start - 1)
                continue
        if drop:
            mask[start:end] = [False] * (end - start)
    line.keep(mask)


def pair_brackets(line: Line) -> None:
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


# Mirror sites gloss characters with their pinyin in brackets (`轉(zhuǎn)發(fā)`): a tone-marked
# syllable right after a Chinese character is never part of what the notice printed
# (`传真(fax)` and `(at)` carry no tone mark and stay).
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN_GLOSS_RE = re.compile(f"(?<=[{HAN}])[（(][a-zü]*[{_TONED}][a-zü{_TONED}]*[）)]")


def _remove_pinyin_glosses(line: Line) -> None:
    _drop_spans(line, [m.span() for m in _PINYIN_GLOSS_RE.finditer(line.text)])


def clean_line(line: Line, ocr: bool = True) -> None:
    _remove_watermark(line)
    _remove_pinyin_glosses(line)
    _translate(line, ocr)
    _collapse_spaces(line)
    if _PAGE_NUMBER_RE.match(line.text):
        line.keep([False] * len(line.chars))

