"""Phone numbers and e-mail addresses inside a contact field, as printed and as dialled or sent to.

Phones. Notices print `0351-6387015`, `(010)84201651`, `（0818）3790101`, `010—85212282`, `139 9477
6952`, `+86 10 …`, several on one line after one area code (`(010)84201651,84201052`: the second
number is dialled with the first one's area code), and now and then a landline and a mobile run
together with nothing between them. A number is checked against the national numbering plan:
a mobile is 11 digits `1[3-9]…`; a landline is an area code (`010`, `02x`, or four digits `0[3-9]xx`)
and a subscriber number of 7 or 8 digits that starts with 2–9; a bare 7 or 8 digit subscriber
number is a local call. QQ numbers and groups, postcodes, 备案号 and other 号 are not phones.

E-mail. Sites print addresses so that harvesters miss them: `name(at)163.com`, `name#163.com`,
`name＠163。com`; the value is the address as sent to, and the printed form is kept beside it.
`[email protected]` is the placeholder a site's address protection leaves: no address at all.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel

_DASH = r"[-－—–‐‑―]"
_AREA = r"0(?:10|2\d|[3-9]\d{2})"
# `(010)` `（0351）` `010-` `010 ` `010—`; the subscriber number may be printed in two groups (`8420 1651`).
_PREFIX = (
    r"(?:\+86[-\s]?(?:10|2\d|[3-9]\d{2})[-\s]?"  # +86 10 84201651: the trunk 0 dropped
    r"|(?:\+?86[-\s]?)?"
    r"(?:[（(]\s*" + _AREA + r"\s*[)）]\s*" + _DASH + r"?\s*"  # (010)84201651
    r"|" + _AREA + r"\s*" + _DASH + r"{1,2}\s*"  # 010-84201651, 010—84201651
    r"|" + _AREA + r"\s(?=\d{7,8}(?!\d))"  # 010 84201651
    r"))"
)
_EXTENSION = r"(?:\s*(?:转|-|—|ext\.?)\s*\d{1,5}(?!\d))?"
# After an area code any subscriber number but 0…; bare, a local number starts with 2–9 (a 1 starts a
# mobile); OCR and typists put spaces inside mobiles (`139 9477 6952`).
_PHONE = (
    r"(?:" + _PREFIX + r"[1-9]\d{6,7}|1[3-9]\d(?:[\s-]?\d){8}|" + _AREA + r"[1-9]\d{6,7}|[2-9]\d{6,7})" + _EXTENSION
)
PHONE_RE = re.compile(r"(?<![\dA-Za-z_@.])" + _PHONE + r"(?![\dA-Za-z@])")
# A run too long for one number: a landline and a mobile printed with nothing between them.
_RUN_RE = re.compile(r"(?<!\d)(" + _AREA + r")" + _DASH + r"?([2-9]\d{6,7})(1[3-9]\d{9})(?!\d)")
# Two subscriber numbers of one length run together (OCR drops the space between
# `010-85212282 85212289`): 14 or 16 digits after an area code and its dash, or bare.
_TWIN_RE = re.compile(r"(?<![\d-])((?:" + _AREA + r")" + _DASH + r")?((?:[2-9]\d{6}){2}|(?:[2-9]\d{7}){2})(?!\d)")


def _split_twins(m: re.Match[str]) -> str:
    run = m.group(2)
    half = len(run) // 2
    if run[half] not in "23456789":
        return m.group(0)
    return f"{m.group(1) or ''}{run[:half]}，{run[half:]}"


# What stands just before a number that is not a phone: QQ (群), a postcode, a 备案 or ID field.
_NOT_PHONE_BEFORE = re.compile(r"(?:QQ|qq|Q\s*群|群号?|邮编|邮政编码|备|标识码|代码|账号|帐号|证号|编号|No\.?)\s*[：:]?\s*$")
# …and just after: `…号`, `…位访客`, a year, an amount.
_NOT_PHONE_AFTER = re.compile(r"^\s*(?:号|位|年|元|万|次|人|个|份)")
_LOOSE_NUMBER_RE = re.compile(r"(?<![\dA-Za-z])(?:[（(]\s*\d{2,4}\s*[)）]\s*)?\d(?:[\d \-—]*\d)?(?![\dA-Za-z])")
_AREA_ALONE_RE = re.compile(r"[（(]?\s*(" + _AREA + r")\s*[)）]?\s*" + _DASH + r"?\s*$")

# Printed forms of `@` and `.` that sites use against address harvesters, and OCR's full widths.
_AT_FORMS = re.compile(r"\s*(?:[(（\[［{]\s*(?:at|AT|At)\s*[)）\]］}]|＠|\s(?:at|AT)\s)\s*")
_DOT_FORMS = re.compile(r"\s*(?:[(（\[［]\s*(?:dot|DOT)\s*[)）\]］]|。|．|\s(?:dot|DOT)\s)\s*")
EMAIL_RE = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])")
# Address protection (Cloudflare and the like) replaces an address with this text.
PLACEHOLDER_RE = re.compile(r"\[\s*email\s*(?:&#160;|\s)*protected\s*\]", re.IGNORECASE)
# A printed form before normalising: local part, an at form, a domain with dots in any form.
_PRINTED_EMAIL_RE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._%+-]*"
    r"(?:@|＠|\s*[(（\[［{]\s*(?:at|AT|At)\s*[)）\]］}]\s*|\s(?:at|AT)\s|#)"
    r"[A-Za-z0-9-]+(?:(?:\.|。|．|\s*[(（\[［]\s*(?:dot|DOT)\s*[)）\]］]\s*)[A-Za-z0-9-]+)*"
    r"(?:\.|。|．|\s*[(（\[［]\s*(?:dot|DOT)\s*[)）\]］]\s*)[A-Za-z]{2,}(?![A-Za-z0-9-])"
)


class FoundValue(BaseModel):
    """A phone or address found in a field: the value, as printed, and where in the field."""

    value: str
    printed: str
    start: int
    end: int
    dial: str | None = None  # a bare local number with the area code carried from the number before it
    fax: bool = False
    valid: bool = True  # False: digits where a phone stands, but no number of the numbering plan


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def phone_is_valid(number: str) -> bool:
    """The numbering plan: 11-digit mobiles `1[3-9]`, area code + 7/8 digits, or a bare local 7/8 digits."""
    d = digits(re.split(r"转|ext", number)[0])
    if number.lstrip().startswith("+86") or (d.startswith("86") and len(d) in (12, 13)):
        d = d[2:] if d[2:3] == "1" and len(d) == 13 else "0" + d[2:]
    if d.startswith("1"):
        return bool(re.fullmatch(r"1[3-9]\d{9}", d))
    if d.startswith("0"):
        m = re.fullmatch(r"(010|02\d|0[3-9]\d{2})([1-9]\d{6,7})(\d{0,5})", d)
        if not m:
            return False
        # 010 and 02x are the big cities: eight-digit subscriber numbers only
        return not (len(m.group(1)) == 3 and len(m.group(2)) != 8) or bool(m.group(3))
    return bool(re.fullmatch(r"[2-9]\d{6,7}", d))


def find_phones(value: str) -> list[FoundValue]:
    """The phone numbers in a field's value, in order; a bare number after one with an area code
    gets that area code in `dial`."""
    text = _RUN_RE.sub(lambda m: f"{m.group(1)}-{m.group(2)}，{m.group(3)}", value)
    text = _TWIN_RE.sub(_split_twins, text)
    text = value if text == value else text
    out: list[FoundValue] = []
    area: str | None = None
    for m in PHONE_RE.finditer(text):
        if _NOT_PHONE_BEFORE.search(text[: m.start()]) or _NOT_PHONE_AFTER.match(text[m.end() :]):
            continue
        printed = m.group(0).strip()
        number = re.sub(r"\s+", "", printed)
        number = re.sub(_DASH + "+", "-", number).replace("（", "(").replace("）", ")")
        if not phone_is_valid(number):
            continue
        d = digits(number)
        lead = _AREA_ALONE_RE.search(number.split(")")[0] + ")") if "(" in number else None
        if lead:
            area = lead.group(1)
        elif d.startswith("0"):
            area = re.match(r"010|02\d|0[3-9]\d{2}", d).group(0)  # type: ignore[union-attr]
        elif d.startswith("1") and len(d) == 11:
            pass
        dial = f"{area}-{d}" if area and not d.startswith(("0", "1")) and number == d else None
        # The run-together split above moved the text: map back to the value by the printed digits.
        start = value.find(printed) if text is not value else m.start()
        start = m.start() if start < 0 else start
        out.append(FoundValue(value=number, printed=printed, start=start, end=start + len(printed), dial=dial))
    taken = [(f.start, f.end) for f in out]
    for m in _LOOSE_NUMBER_RE.finditer(value):
        if any(a < m.end() and m.start() < b for a, b in taken) or not 7 <= len(digits(m.group(0))) <= 13:
            continue
        if _NOT_PHONE_BEFORE.search(value[: m.start()]) or _NOT_PHONE_AFTER.match(value[m.end() :]):
            continue
        # a digit lost or added (by OCR or by a typist): shown for review, never printed as a phone
        out.append(FoundValue(value=m.group(0).strip(), printed=m.group(0), start=m.start(), end=m.end(), valid=False))
    out.sort(key=lambda f: f.start)
    for f in out:
        after = value[f.end : f.end + 8]
        if re.match(r"\s*[（(]\s*(?:含\s*)?(?:传真|fax|FAX|Fax)", after):
            f.fax = True
    return out


def find_emails(value: str) -> list[FoundValue]:
    """E-mail addresses in a field's value, normalised to `local@domain`, the printed form kept."""
    text = PLACEHOLDER_RE.sub(lambda m: " " * len(m.group(0)), value)
    out: list[FoundValue] = []
    for m in _PRINTED_EMAIL_RE.finditer(text):
        printed = m.group(0)
        address = normal_email(printed)
        if address and EMAIL_RE.fullmatch(address):
            out.append(FoundValue(value=address, printed=printed, start=m.start(), end=m.end()))
    return out


def normal_email(printed: str) -> str | None:
    """`abc(at)163。com` → `abc@163.com`; None when it is not one address."""
    s = unicodedata.normalize("NFKC", printed)
    s = _AT_FORMS.sub("@", s)
    if "@" not in s and s.count("#") == 1:
        s = s.replace("#", "@")  # `name#163.com`: the `#` stands for `@`
    s = _DOT_FORMS.sub(".", s)
    s = re.sub(r"\s+", "", s)
    return s if s.count("@") == 1 else None


def has_placeholder(value: str) -> bool:
    return bool(PLACEHOLDER_RE.search(value))
