"""Latin values on scans are checked, not trusted: e-mail addresses and web addresses read by OCR.

A Chinese recogniser reads `l` as `1`, `O` as `0`, `rn` as `m` and drops the dot before `com`
(shared/domain.md, what phone scans do to text): `lfscsk@163.com` becomes `1fscsk@163.com`, an
address that sends the report to nobody. So on an OCR page every address is read a second time,
from its own part of the line, by tesseract's `eng` model, and the two readings are reconciled:

- the domain against the mail domains everyone uses and those seen on the same page;
- each run of look-alikes (`l 1 I |`, `o O 0`) in the local part by both readings and by its
  neighbours (`sxsmzt11gzc`: digits between letters are letters; `1234567@qq.com`: digits);
- what no two of the three agree on stays uncertain: the value keeps its best reading, the
  check says uncertain, and after parsing the value moves out of the contact's printed values
  into `uncertain` with a problem, so the desk shows it for review.

    check_lines(lines, image)       → (lines with confirmed corrections, checks)   reading stage
    reconcile(primary, reread, …)   → (value, certain, reason)                       pure

`pipeline.parsing.contact_checks` then sets the doubtful ones apart in each parsed document.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

import numpy as np

from models.page import Box, LatinCheck, Line

# Mail domains most 公文 contact addresses use; a domain on the same page joins them.
MAIL_DOMAINS = (
    "163.com", "126.com", "qq.com", "sina.com", "sina.cn", "sohu.com", "yeah.net", "139.com", "189.cn",
    "foxmail.com", "aliyun.com", "hotmail.com", "outlook.com", "gmail.com", "vip.163.com", "vip.qq.com",
    "vip.sina.com", "263.net", "21cn.com", "tom.com",
)  # fmt: skip
# What tesseract may read in an address's crop.
LATIN_ALLOWED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._%+-:/"  # no CJK: the crop's edges read as junk, not as Chinese
# A run that looks like an address, read leniently (OCR puts spaces around `@` and drops dots).
# An address's syntax (RFC 5321's common subset), checked on the reconciled value.
_EMAIL_SYNTAX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ADDRESS_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+|-]*\s?[@＠]\s?[A-Za-z0-9|][A-Za-z0-9.|-]*[A-Za-z0-9]")
_URL_RE = re.compile(r"(?:https?://|www\.)[A-Za-z0-9./_%?=&#:|-]+")
_LOOKALIKE = {"1": "l", "I": "l", "|": "l", "l": "l", "0": "o", "O": "o", "o": "o"}
_LETTER_OF = {"l": "l", "o": "o"}
_DIGIT_OF = {"l": "1", "o": "0"}
TARGET_HEIGHT = 64  # px: tesseract reads a line best with capitals some 30-40 px tall
CONFIDENT_LINE = 95.0  # the page engine's line confidence (0-100) above which its reading may stand alone


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def span_box(line: Line, start: int, end: int) -> Box | None:
    """The part of the line's box that holds characters [start, end): CJK characters and full-width
    punctuation take one em, Latin letters and digits about half of one (a 宋体 face's metrics)."""
    if line.box is None or not line.text:
        return None
    widths = [1.0 if _wide(c) else 0.55 for c in line.text]
    total = sum(widths)
    left, span = sum(widths[:start]), sum(widths[start:end])
    unit = (line.box.x1 - line.box.x0) / total
    height = line.box.y1 - line.box.y0
    margin = 0.5 * height
    return Box(
        x0=max(0.0, line.box.x0 + left * unit - margin),
        y0=max(0.0, line.box.y0 - 0.15 * height),
        x1=line.box.x0 + (left + span) * unit + margin,
        y1=line.box.y1 + 0.15 * height,
    )


def crop(image: np.ndarray, box: Box) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    x0, y0, x1, y1 = int(box.x0), int(box.y0), min(w, int(box.x1) + 1), min(h, int(box.y1) + 1)
    part = image[y0:y1, x0:x1]
    if part.ndim == 3:
        part = cv2.cvtColor(part, cv2.COLOR_RGB2GRAY)
    scale = TARGET_HEIGHT / max(1, part.shape[0])
    if scale > 1.2:
        part = cv2.resize(part, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    # a white border: tesseract drops glyphs that touch the image's edge
    return cv2.copyMakeBorder(part, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)


def reread(image: np.ndarray, line: Line, start: int, end: int) -> str:
    from pipeline.reading.engines.tesseract import read_line

    box = span_box(line, start, end)
    if box is None or box.x1 - box.x0 < 4 or box.y1 - box.y0 < 4:
        return ""
    return read_line(crop(image, box), language="eng", allowed=LATIN_ALLOWED)


def _clean(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _skeleton(text: str) -> str:
    # `i` only compares as `l` (a blurred dot); it is never chosen for one
    return "".join(_LOOKALIKE.get(c, c.lower()) for c in text.replace("rn", "m")).replace("i", "l")


def known_domain(domain: str, seen: set[str]) -> str | None:
    """The known domain this reading stands for: exact, or equal up to look-alikes and dropped dots."""
    d = domain.lower()
    candidates = set(MAIL_DOMAINS) | seen
    if d in candidates:
        return d
    squashed = _skeleton(d.replace(".", ""))
    same = [k for k in candidates if _skeleton(k.replace(".", "")) == squashed]
    return same[0] if len(same) == 1 else None


def _runs(text: str) -> list[tuple[int, int]]:
    """Runs of look-alike characters (`l 1 I |`, `o O 0`) of one class."""
    out, i = [], 0
    while i < len(text):
        if text[i] in _LOOKALIKE:
            j = i
            while j < len(text) and text[j] in _LOOKALIKE and _LOOKALIKE[text[j]] == _LOOKALIKE[text[i]]:
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def _kind(ch: str) -> str:
    return "digit" if ch in "10" else "letter"


def _context(text: str, i: int, j: int) -> str | None:
    """What the neighbours say a look-alike run is: letters between letters, digits between digits.
    The neighbours are those of the whole block of look-alikes (`01` in `user01abc`), so that one
    look-alike never vouches for the next."""
    while i > 0 and text[i - 1] in _LOOKALIKE:
        i -= 1
    while j < len(text) and text[j] in _LOOKALIKE:
        j += 1
    sides = []
    for k in (i - 1, j):
        if 0 <= k < len(text) and text[k].isalnum() and text[k] not in _LOOKALIKE:
            sides.append("digit" if text[k].isdigit() else "letter")
    if not sides or len(set(sides)) > 1:
        return None
    return sides[0]


def _resolve_local(primary: str, second: str | None) -> tuple[str, bool, str]:
    """The local part from two readings that agree up to look-alikes (or one reading alone)."""
    out, certain, notes = list(primary), True, []
    for i, j in _runs(primary):
        ctx = _context(primary, i, j)
        readers = {_kind(primary[i])} | ({_kind(second[i])} if second is not None else set())
        if ctx == "letter" and not primary[j:].strip("".join(_LOOKALIKE)) and len(readers) == 1:
            ctx = None  # digits after a name end many addresses (`wang1`, `li08`): the readings decide
        if ctx is None:
            # nothing around to judge by: the readers must agree
            choice = _kind(second[i]) if second is not None else _kind(primary[i])
            doubt = len(readers) > 1
        else:
            # the neighbours vote, and at least one reading must agree with them
            choice, doubt = ctx, ctx not in readers
        if doubt:
            certain = False
            notes.append(f"`{primary[i:j]}` could be letters or digits")
        cls = _LOOKALIKE[primary[i]]
        char = _DIGIT_OF[cls] if choice == "digit" else _LETTER_OF[cls]
        out[i:j] = [char] * (j - i)
    return "".join(out), certain, "; ".join(notes)


def _without_stray_dot(a: str, b: str) -> str | None:
    """Of two readings of a domain that differ only in dots, the one without a one-letter label
    (`tjeic.gov.cn` against `t.jeic.gov.cn`): a speck of noise between two letters reads as a dot,
    and a host name of one letter is almost never registered. None when that does not decide."""
    if a.replace(".", "") != b.replace(".", "") or a == b:
        return None

    def lone(domain: str) -> bool:
        return any(len(label) == 1 for label in domain.split(".")[:-1])

    if lone(a) != lone(b):
        return b if lone(a) else a
    return None


def reconcile(
    primary: str, second: str | None, seen_domains: set[str] = frozenset(), *, confident: bool = False  # type: ignore[assignment]
) -> tuple[str, bool, str]:
    """(value, certain, reason) for an address read twice. `second` is None when the re-read found none.

    `confident`: the page engine read the line with high confidence. Then a second reading that
    differs by more than look-alikes does not overturn a first one its own neighbours agree with
    (tesseract `eng` on a blurred crop adds and drops strokes the page engine did not).
    """
    p = _clean(primary).replace("＠", "@")
    s = _clean(second).replace("＠", "@") if second else None
    if p.count("@") != 1:
        return p, False, "not one address"
    p_local, p_domain = p.split("@")
    s_local, s_domain = s.split("@") if s and s.count("@") == 1 else (None, None)
    domain = known_domain(p_domain, set(seen_domains)) or (known_domain(s_domain, set(seen_domains)) if s_domain else None)
    reasons = []
    if domain is None:
        domain = p_domain.lower()
        if s_domain is not None and s_domain.lower() != domain:
            if _skeleton(s_domain) == _skeleton(p_domain) and len(s_domain) == len(p_domain):
                domain, sure, why = _resolve_local(p_domain, s_domain)
                domain = domain.lower()
                if not sure:
                    reasons.append(why)
            elif (kept := _without_stray_dot(p_domain, s_domain)) is not None:
                domain = kept.lower()
            else:
                reasons.append(f"domain read as {p_domain} and as {s_domain}")
    alone, alone_sure, _ = _resolve_local(p_local, None)
    if confident and alone_sure and alone == p_local and s_local is not None and _skeleton(s_local) != _skeleton(p_local):
        s_local = None  # the first reading stands: see the docstring
    if s_local is not None and _skeleton(s_local) != _skeleton(p_local):
        # the Latin recogniser's reading is the better guess, but two readings disagree
        value = f"{s_local.lower()}@{domain}"
        return value, False, "; ".join(reasons + [f"read as {p_local}@… and as {s_local}@…"])
    if s_local is not None and len(s_local) != len(p_local):  # `rn` against `m`
        return f"{p_local.lower()}@{domain}", False, "; ".join(reasons + [f"read as {p_local} and as {s_local}"])
    local, certain, why = _resolve_local(p_local, s_local)
    value = f"{local.lower()}@{domain}"
    if why:
        reasons.append(why)
    if not _EMAIL_SYNTAX.fullmatch(value):
        return value, False, "; ".join(reasons + ["not an address"])
    return value, certain and not reasons, "; ".join(reasons)


def page_domains(lines: list[Line]) -> set[str]:
    """Domains printed on the page (web addresses, other e-mail): a reading that matches one is right."""
    out = set()
    for line in lines:
        for m in _URL_RE.finditer(line.text):
            host = re.sub(r"^(?:https?://)?(?:www\.)?", "", m.group(0)).split("/")[0].lower()
            if "." in host:
                out.add(host)
    return out


def check_lines(lines: list[Line], image: np.ndarray) -> tuple[list[Line], list[LatinCheck]]:
    """Re-read every address on an OCR page from its own crop; correct what the readings agree on."""
    seen = page_domains(lines)
    checks: list[LatinCheck] = []
    out = []
    for n, line in enumerate(lines):
        text = line.text
        for m in reversed(list(_ADDRESS_RE.finditer(text))):
            second_text = reread(image, line, m.start(), m.end())
            second = next((x.group(0) for x in _ADDRESS_RE.finditer(second_text) if _similar(x.group(0), m.group(0))), None)
            confident = line.conf is not None and line.conf >= CONFIDENT_LINE
            value, certain, reason = reconcile(m.group(0), second, seen, confident=confident)
            if certain and glued_to_another_at(text, m.start(), m.end()):
                certain, reason = False, "read inside a longer run with a second @: part of the address is misread"
            checks.append(
                LatinCheck(line=n, read=m.group(0), reread=second_text, value=value, certain=certain, reason=reason or None)
            )
            text = text[: m.start()] + value + text[m.end() :]
        out.append(line if text == line.text else line.model_copy(update={"text": text}))
    return out, checks


def glued_to_another_at(text: str, start: int, end: int) -> bool:
    """The address is part of a longer Latin run that holds another @ (`sxmz_ylfwc@q@example.com`):
    the engine misread one character as @, and the address found is only the tail of the real one."""
    while start > 0 and "\x21" <= text[start - 1] <= "\x7e":
        start -= 1
    while end < len(text) and "\x21" <= text[end] <= "\x7e":
        end += 1
    return text.count("@", start, end) + text.count("＠", start, end) > 1


def _similar(a: str, b: str) -> bool:
    return SequenceMatcher(None, _skeleton(_clean(a)), _skeleton(_clean(b))).ratio() >= 0.6
