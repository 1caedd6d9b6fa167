"""Where a notice's head elements stand, whatever the page's layout.

GB/T 9704 prints 版头 → 文号 → 标题 → 主送; a web page or a Word copy prints the title first,
then source and date lines, then the 文号 or none; a 政府信息公开 page adds a metadata block;
a law database prints a heading, a block and the document again. So each element is found by
what it is, inside the head: the lines before the 主送机关 (or, without one, before the first
sentence), leaving out the page's chrome (`pipeline.parsing.junk`).

- the 标题 (§7.3.2): the line(s) ending in a 文种, nearest the 主送, rejoined across lines;
- the 文号 (§7.2.4): a line of its own, or in brackets after the title (`…的通知（劳社厅函
  〔2005〕306号）`), or with the date under the title (`（劳社厅发[2003]4号 2003年2月25日）`);
- dates: `2024年10月25日`, `二〇二四年十月二十五日`, `2019.1.3`, `2009-6-5` standing alone.
"""

from __future__ import annotations

import re
from datetime import date

import cn2an
from pydantic import BaseModel

from pipeline.parsing.agencies import ORG_SUFFIX_RE, looks_like_recipients
from pipeline.parsing.docnumber import DOCNUMBER_RE, FoundNumber, parse_line, parse_match
from pipeline.parsing.junk import is_chrome, simplified, site_tag, spam_prefix
from pipeline.text.reflow import DOC_TYPES
from pipeline.text.split import TextLine


# --- dates ----------------------------------------------------------------------------------

_NUMERAL = "0-9〇○零一二三四五六七八九十"
_DATE_RE = re.compile(rf"([{_NUMERAL}]{{4}})\s*年\s*([{_NUMERAL}]{{1,3}})\s*月\s*([{_NUMERAL}]{{1,3}})\s*日")
# `2019.1.3`, `2009-6-5`, `2017/10/13`: a signed date typed in figures, year first. A posting
# stamp carries a time (`2011-05-09 14:05`) or puts the day first (`01.06.2015`): not these.
_FIGURES_DATE_RE = re.compile(r"^((?:19|20)\d{2})\s*([.\-/．])\s*(\d{1,2})\s*\2\s*(\d{1,2})$")
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
        return date(year, _small_number(month_text), _small_number(day_text))
    except (ValueError, KeyError):  # not a calendar date (`二〇二四年十三月…`, `十` inside a year)
        return None


def _small_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    return int(cn2an.cn2an(text.replace("〇", "零").replace("○", "零"), "smart"))


class DateFound(BaseModel):
    value: date
    start: int  # in the line
    end: int


def date_line(text: str, max_other: int = 20) -> DateFound | None:
    """The date of a line that is a date (a 成文日期), with at most `max_other` other characters
    before it (a signature on the same line)."""
    t = text.rstrip()
    m = _DATE_RE.search(t)
    if m and m.end() == len(t) and len(t) - (m.end() - m.start()) <= max_other:
        when = parse_date(m.group(0))
        return DateFound(value=when, start=m.start(), end=m.end()) if when else None
    f = _FIGURES_DATE_RE.match(t.strip())
    if f:
        try:
            when = date(int(f.group(1)), int(f.group(3)), int(f.group(4)))
        except ValueError:
            return None
        lead = len(t) - len(t.lstrip())
        return DateFound(value=when, start=lead, end=len(t))
    return None


def packed_date(text: str) -> date | None:
    """`2023515`: a signed date whose 年月日 the page lost, read only where one reading is a date."""
    t = text.strip()
    if not re.fullmatch(r"(?:19|20)\d{4,6}", t):
        return None
    year, rest = int(t[:4]), t[4:]
    readings = set()
    for cut in range(1, len(rest)):
        month, day = rest[:cut], rest[cut:]
        if len(month) > 2 or len(day) > 2 or month.startswith("0") and len(month) == 1:
            continue
        try:
            readings.add(date(year, int(month), int(day)))
        except ValueError:
            continue
    return readings.pop() if len(readings) == 1 else None


# --- the title ------------------------------------------------------------------------------

_TYPE_END_RE = re.compile(f"(?:{'|'.join(DOC_TYPES)})$")
# A 文号 in brackets after the title, maybe with the date: `（劳社厅发[2003]4号 2003年2月25日）`.
_BRACKETED_NUMBER_RE = re.compile(r"[（(]\s*(?P<inner>[^（()）]*?号)\s*(?P<date>[^（()）]*?日)?\s*[）)]\s*$")
_LABEL_PREFIX_RE = re.compile(r"^[^：:《“]{1,20}[：:]\s*")
_SENTENCE_RE = re.compile(r"[。！？；!?;]")


class TitleFound(BaseModel):
    """A title found in the head: its lines, its span in each, and what stood in brackets after it."""

    first: int  # line indices, inclusive
    last: int
    start: int  # span in the file's normalised text (may cross lines)
    end: int
    text: str
    number: FoundNumber | None = None  # a 文号 printed in brackets after it (span in the text)
    date: DateFound | None = None
    date_offset: int = 0


# A posting stamp a page prints on the title's line: `…的通知 2019-12-18 10:05`.
_TRAILING_STAMP_RE = re.compile(r"\s*(?:19|20)\d{2}[-./年]\d{1,2}[-./月]\d{1,2}日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?\s*$")


def _core(text: str) -> tuple[int, int]:
    """The title inside a line: without a site tag, spam words, a `标题：` label, a bullet, a
    posting stamp after it."""
    start = site_tag(text)
    start += spam_prefix(text[start:])
    rest = text[start:]
    label = _LABEL_PREFIX_RE.match(rest)
    if label and "关于" not in rest[: label.end()]:
        start += label.end()
    while start < len(text) and text[start] in " •·\t":
        start += 1
    stamp = _TRAILING_STAMP_RE.search(text, start)
    end = stamp.start() if stamp and stamp.start() > start else len(text.rstrip())
    if text[start : start + 1] == "《" and text[end - 1 : end] == "》" and text.count("《", start, end) == 1:
        return start + 1, end - 1  # a heading that quotes the title: `《关于…的通知》`
    return start, end


def is_title(text: str) -> bool:
    """A title's words (§7.3.2): 事由 and 文种, no sentence, no colon at the end."""
    s = re.sub(r"\s+", "", simplified(text))
    if len(s) < 6 or len(s) > 150 or _SENTENCE_RE.search(s) or not _TYPE_END_RE.search(s):
        return False
    return len(s) >= 8 or "关于" in s


class Bracketed(BaseModel):
    """A 文号 in brackets, maybe with the date, and where the bracket opens in its line."""

    at: int
    number: FoundNumber
    date: DateFound | None = None
    date_offset: int = 0


def _bracketed(ln: TextLine, start: int = 0) -> Bracketed | None:
    """`…（劳社厅发[2003]4号 2003年2月25日）` ending the line: spans in the file's text."""
    text = ln.text
    bracket = _BRACKETED_NUMBER_RE.search(text, start)
    if not bracket:
        return None
    inner = bracket.group("inner")
    m = DOCNUMBER_RE.search(inner)
    if not m or m.start() != 0 or m.end() != len(inner):
        return None
    found = parse_match(m, trim=False)
    if found is None:
        return None
    offset = ln.start + bracket.start("inner")
    out = Bracketed(at=bracket.start(), number=found.model_copy(update={"start": found.start + offset, "end": found.end + offset}))
    if bracket.group("date"):
        out.date = date_line(bracket.group("date"), max_other=2)
        out.date_offset = ln.start + bracket.start("date")
    return out


def bracketed_line(ln: TextLine) -> Bracketed | None:
    """A line that is only a bracketed 文号 (and date), printed under a title."""
    found = _bracketed(ln)
    return found if found and found.at == len(ln.text) - len(ln.text.lstrip()) else None


def title_in_line(ln: TextLine) -> TitleFound | None:
    text = ln.text
    start, end = _core(text)
    bracket = _bracketed(ln, start)
    if bracket and bracket.at > start:
        end = bracket.at
    else:
        bracket = None
    core = text[start:end].strip()
    if not is_title(core):
        return None
    lead = len(text[start:end]) - len(text[start:end].lstrip())
    found = TitleFound(first=0, last=0, start=ln.start + start + lead, end=ln.start + start + lead + len(core), text=core)
    if bracket:
        found.number, found.date, found.date_offset = bracket.number, bracket.date, bracket.date_offset
    return found


# A place standing alone as the title's subject on its own line: `达州市达川区石桥镇` above
# `关于…的通知` (the township's government speaks by the township's name).
_PLACE_LINE_RE = re.compile(r"^[\u4e00-\u9fff]{2,20}(?:省|自治区|市|自治州|州|盟|地区|县|自治县|区|旗|镇|乡|街道)$")


def _opens_title(first: str, second: str) -> bool:
    """A line a broken title may start with: 转发/印发, a `关于` line, or the issuer's name (an
    agency, or a place) on a line of its own when the next line carries the `关于`."""
    simple = simplified(first)
    if simple.startswith(("转发", "印发")) or "关于" in simple:
        return True
    names = len(first) <= 30 and (bool(ORG_SUFFIX_RE.search(first)) or bool(_PLACE_LINE_RE.match(simple)))
    return names and simplified(second).lstrip().startswith("关于")


def _joined_title(lines: list[TextLine], i: int, stop: int, skip: set[int]) -> TitleFound | None:
    """A title broken over two to four lines: an issuer line or a `关于…` line, then the rest;
    the last line may carry the 文号 in brackets (`…的通知（津经信消费〔2011〕14号）`)."""
    lead, _ = _core(lines[i].text)
    first = lines[i].text[lead:].strip()
    if not first or _SENTENCE_RE.search(first) or first.endswith(("：", ":")) or _TYPE_END_RE.search(simplified(first)):
        return None
    if i + 1 >= stop or not _opens_title(first, lines[i + 1].text):
        return None
    pieces = [first]
    for j in range(i + 1, min(i + 4, stop)):
        t = lines[j].text.strip()
        if j in skip or not t or is_chrome(t) or _SENTENCE_RE.search(t) or t.endswith(("：", ":")) or len(t) > 60:
            return None
        bracket = _bracketed(lines[j])
        end = lines[j].end
        if bracket and bracket.at > 0:
            end = lines[j].start + bracket.at
            t = lines[j].text[: bracket.at].strip()
        pieces.append(t)
        text = "".join(pieces)
        if _TYPE_END_RE.search(simplified(t)):
            if not is_title(text) or "关于" not in simplified(text) and not simplified(first).startswith(("转发", "印发")):
                return None
            found = TitleFound(first=i, last=j, start=lines[i].start + lines[i].text.index(first), end=end, text=text)
            if bracket and bracket.at > 0:
                found.number, found.date, found.date_offset = bracket.number, bracket.date, bracket.date_offset
            return found
    return None


def find_title(lines: list[TextLine], stop: int, skip: set[int]) -> TitleFound | None:
    """The title nearest the 主送 (line `stop`): the document's own, not the page's heading."""
    best: TitleFound | None = None
    for i in range(stop):
        if i in skip or is_chrome(lines[i].text):
            continue
        found = title_in_line(lines[i])
        if found:
            found.first = found.last = i
        else:
            found = _joined_title(lines, i, stop, skip)
        if found and (best is None or found.first > best.last):
            best = found  # a later title; one inside the best's lines is a piece of it
    return best


# --- the head's extent ----------------------------------------------------------------------------


# How far past a sentence the head may still be: a site's notice above the title.
_TITLE_REACH = 10


def body_start(lines: list[TextLine], skip: set[int]) -> tuple[int, int | None]:
    """Where the head ends: the 主送机关 line (its index returned too), else the first sentence.

    A sentence with a title or a 主送 a few lines below it is the page's, not the notice's (a
    site's greeting or notice above the document): the head goes on past it."""
    for i, ln in enumerate(lines):
        t = ln.text.strip()
        if i in skip or not t or is_chrome(t):
            continue
        if looks_like_recipients(t):
            return i, i
        if (_SENTENCE_RE.search(t) or t.endswith(("：", ":"))) and not _head_below(lines, i, skip):
            return i, None
    return len(lines), None


def _head_below(lines: list[TextLine], i: int, skip: set[int]) -> bool:
    """A title or a 主送 line within a few lines after line `i`, before any other sentence."""
    for j in range(i + 1, min(i + 1 + _TITLE_REACH, len(lines))):
        t = lines[j].text.strip()
        if j in skip or not t or is_chrome(t):
            continue
        if title_in_line(lines[j]) or looks_like_recipients(t) or parse_line(t):
            return True
        if _SENTENCE_RE.search(t):
            return False
    return False


def number_lines(lines: list[TextLine], stop: int, skip: set[int]) -> list[tuple[int, FoundNumber]]:
    """文号 printed alone on a line before `stop`."""
    out = []
    for i in range(stop):
        if i in skip:
            continue
        found = parse_line(lines[i].text)
        if found:
            out.append((i, found.model_copy(update={"start": found.start + lines[i].start, "end": found.end + lines[i].start})))
    return out


def bracketed_lines(lines: list[TextLine], stop: int, skip: set[int]) -> list[tuple[int, Bracketed]]:
    """`（文号 date）` lines before `stop`."""
    return [(i, b) for i in range(stop) if i not in skip and (b := bracketed_line(lines[i])) is not None]


def is_attachment_name(text: str) -> bool:
    """The line under a bare `附件：` that names the attachment (not a table, a date or a sentence)."""
    t = text.strip()
    return (
        0 < len(t) <= 80
        and bool(re.search(r"[\u4e00-\u9fff]", t))
        and not _SENTENCE_RE.search(t)
        and not re.match(r"[\u2500-\u257f|]", t)
        and date_line(t) is None
        and not is_chrome(t)
    )
