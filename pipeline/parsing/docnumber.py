"""发文字号: find, parse and check document numbers.

GB/T 9704-2012 §7.2.4: 机关代字 + year in hexagonal brackets 〔〕 + serial + 号, the year
in full, no leading zeros, no 第. In the wild and after OCR the brackets come as
`[ ]` `［ ］` `（ ）` `( )` `【 】`, mixed pairs, with spaces inside, with a 第 before the
serial, or in the pre-2012 style `(94)晋民字第345号` with a two-digit year first.
Every form parses to (agency code, year, serial); the printed form is kept and a
non-conforming one flagged.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from models import DocNumber

_OPEN = r"[〔\[［【（(]"
_CLOSE = r"[〕\]］】）)]"
_CODE = r"[\u4e00-\u9fff]{1,10}"

# Modern order: code, bracketed four-digit year, serial.
_MODERN = rf"(?P<code>{_CODE})\s*{_OPEN}\s*(?P<year>(?:19|20)\d{{2}})\s*{_CLOSE}\s*(?P<di>第)?\s*(?P<serial>\d{{1,5}})\s*号"
# Pre-2012 order: bracketed year (two or four digits), code, serial: `(94)晋民字第345号`.
_OLD = rf"{_OPEN}\s*(?P<oyear>\d{{2}}|(?:19|20)\d{{2}})\s*{_CLOSE}\s*(?P<ocode>{_CODE}?)\s*(?P<odi>第)?\s*(?P<oserial>\d{{1,5}})\s*号"

DOCNUMBER_RE = re.compile(f"{_MODERN}|{_OLD}")
# A header line that is only the 文号, perhaps with the 签发人 on the same line (§7.2.5).
DOCNUMBER_LINE_RE = re.compile(rf"^\s*(?:{_MODERN}|{_OLD})\s*(?:签发人[：:].*)?$")

# Words that run into the code when a 文号 is cited in running text (`根据晋民发〔2024〕12号`).
_LEADING_WORDS_RE = re.compile(r"^(?:.*?(?:根据|按照|依据|依照|参照|执行|贯彻|落实|转发|印发|详见|见|和|及|与|并|的|号))")


class FoundNumber(BaseModel):
    """A 文号 found in text: its span, the form as printed, and its parts."""

    start: int
    end: int
    printed: str
    canonical: str
    parts: DocNumber
    conforming: bool


def _full_year(text: str) -> int:
    year = int(text)
    if year < 100:  # `(94)`: the pre-2000 two-digit year
        year += 1900 if year >= 50 else 2000
    return year


def _trim_code(code: str) -> tuple[str, int]:
    """Cut running-text words off the front of a code; return it and how many characters were cut."""
    m = _LEADING_WORDS_RE.match(code)
    if m and m.end() < len(code):
        return code[m.end() :], m.end()
    return code, 0


def parse_match(m: re.Match[str], *, trim: bool = True) -> FoundNumber | None:
    if m.group("code") is not None:
        code, year_text, serial_text = m.group("code"), m.group("year"), m.group("serial")
    else:
        code, year_text, serial_text = m.group("ocode"), m.group("oyear"), m.group("oserial")
        if not code:
            return None  # `（2024）12号` with no code is not a 文号
    cut = 0
    start = m.start()
    if trim and m.group("code") is not None:
        code, cut = _trim_code(code)
        start += cut
    printed = m.string[start : m.end()]
    year, serial = _full_year(year_text), int(serial_text)
    canonical = f"{code}〔{year}〕{serial}号"
    return FoundNumber(
        start=start,
        end=m.end(),
        printed=printed,
        canonical=canonical,
        parts=DocNumber(agency_code=code, year=year, serial=serial),
        conforming=printed == canonical,
    )


def find_numbers(text: str) -> list[FoundNumber]:
    """Every 文号 in running text, in order."""
    found = []
    for m in DOCNUMBER_RE.finditer(text):
        number = parse_match(m)
        if number is not None:
            found.append(number)
    return found


def parse_line(line: str) -> FoundNumber | None:
    """The 文号 of a header line (the whole line is the number, maybe with 签发人)."""
    m = DOCNUMBER_LINE_RE.match(line)
    if not m:
        return None
    inner = DOCNUMBER_RE.search(line)
    return parse_match(inner, trim=False) if inner else None


def canonical(number: str) -> str | None:
    """The canonical form of a 文号 given on its own (a field value, the inside of `（…号）`).

    The whole text is the number, so nothing is cut from the front of its code: `并民函`
    is Taiyuan's code, not 并 + the ministry's 民函.
    """
    whole = parse_line(number)
    if whole:
        return whole.canonical
    found = find_numbers(number)
    return found[0].canonical if found else None
