"""Contact lines: people, their office, phones, fax, email, address, postcode.

Notices print them as fields (`联系人：` `联系电话：` `传真：` `电子邮箱：` `地址：` `邮编：`),
on their own lines after the 附件说明 or inside the 附注 in parentheses
(`（联系人：张三，联系电话：0351-1234567）`). Several people may share one line, a person
may have several phones (`0351-6387015，15972913611`), and the office may come
before the name (`联系人：省民政厅老龄工作处 张书毓`).
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from models import Contact
from pipeline.parsing.agencies import ORG_ENDINGS

_FIELDS = {
    "联系人及联系方式": "person",
    "联系人及电话": "person",
    "联系人": "person",
    "联系电话": "phone",
    "联系方式": "phone",
    "办公电话": "phone",
    "咨询电话": "phone",
    "电话": "phone",
    "手机": "phone",
    "传真": "fax",
    "电子邮箱": "email",
    "电子信箱": "email",
    "邮箱": "email",
    "E-mail": "email",
    "Email": "email",
    "通讯地址": "address",
    "地址": "address",
    "邮政编码": "postcode",
    "邮编": "postcode",
}
_FIELD_NAMES = sorted(_FIELDS, key=len, reverse=True)
_FIELD_RE = re.compile(r"(" + "|".join(map(re.escape, _FIELD_NAMES)) + r")\s*[：:]\s*", re.IGNORECASE)

PHONE_RE = re.compile(
    r"(?<![\d])(?:\+?86[-\s]?)?(?:0\d{2,3}\s*[-－—]?\s*\d{7,8}(?:\s*[-－]\s*\d{1,4})?|1[3-9]\d(?:\s?\d){8}|\d{7,8})(?![\d])"
)
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_POSTCODE_RE = re.compile(r"\d{6}")
_ORG_END_RE = re.compile(f"(?:{ORG_ENDINGS})")


class FoundContact(BaseModel):
    contact: Contact
    start: int
    end: int


def _segments(line: str) -> list[tuple[str, int]]:
    """The line cut at `；` outside brackets: one person's fields each, as notices list them.

    A 附注 in brackets (`（联系人：张三…；李四…）`) is cut inside its own outer bracket.
    """
    out, start = [], 0
    depth = -1 if line.lstrip().startswith(("（", "(")) else 0
    for i, ch in enumerate(line):
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(0, depth - 1)
        elif ch in "；;" and depth == 0:
            out.append((line[start:i], start))
            start = i + 1
    out.append((line[start:], start))
    return out


def _fields(line: str) -> list[tuple[str, str, int, int]]:
    """(kind, value, start, end) for each field on a line; a value runs to the next field or to `。；）`.

    Text before a segment's first field names a person too: `民政部养老服务司联系人：陈晓东`
    (the office before the field name), `…；市民政局养老服务科 杜文斌，联系电话：…` (a second
    person with no field name of their own).
    """
    out = []
    for seg, offset in _segments(line):
        matches = list(_FIELD_RE.finditer(seg))
        lead = seg[: matches[0].start()] if matches else seg
        lead_value = lead.strip(" ，,、（(。）)")
        first_kind = _FIELDS[_canonical_field(matches[0].group(1))] if matches else None
        person_prefix = ""
        if lead_value and first_kind == "person":
            if _ORG_END_RE.search(lead_value[-2:]):
                person_prefix = lead_value + " "
        elif lead_value and (first_kind in ("phone", "email") or (not matches and PHONE_RE.search(seg))):
            name_part = PHONE_RE.split(lead_value)[0].strip(" ，,")
            if name_part and re.search(r"[\u4e00-\u9fff]{2}", name_part):
                start = offset + seg.index(name_part)
                out.append(("person", lead_value, start, start + len(lead_value)))
        for i, m in enumerate(matches):
            stop = matches[i + 1].start() if i + 1 < len(matches) else len(seg)
            kind = _FIELDS[_canonical_field(m.group(1))]
            value = seg[m.end() : stop]
            cut = re.search(r"[。）)]", value)
            if cut and kind != "address":
                value = value[: cut.start()]
            value = value.strip().rstrip("，,、。 ")
            if kind == "person" and i == 0:
                value = person_prefix + value
            out.append((kind, value, offset + m.start(), offset + m.end() + len(value)))
    return out


def _canonical_field(name: str) -> str:
    for key in _FIELDS:
        if key.lower() == name.lower():
            return key
    return name


def _phones(value: str) -> list[str]:
    return [re.sub(r"\s+", "", m.group(0)) for m in PHONE_RE.finditer(value)]


def _people(value: str) -> list[Contact]:
    """`省民政厅老龄工作处 张书毓`, `张三、李四`, `张三 0351-1234567；李四 13912345678`."""
    people: list[Contact] = []
    for part in re.split(r"[、；;，,]|\s{2,}", value):
        part = part.strip()
        if not part:
            continue
        phones = _phones(part)
        words = PHONE_RE.sub(" ", part)
        words = EMAIL_RE.sub(" ", words).strip()
        if not words and phones and people:
            people[-1].phones.extend(phones)  # `张三，0351-1234567`: the phone of the person before
            continue
        org, name = _org_and_name(words)
        if name is None and org is None:
            continue
        people.append(Contact(name=name, org=org, phones=phones, emails=EMAIL_RE.findall(part)))
    return people


def _org_and_name(words: str) -> tuple[str | None, str | None]:
    words = re.sub(r"[（(）)：:]", " ", words).strip()
    if not words:
        return None, None
    if " " in words:
        org, name = words.rsplit(" ", 1)
        return org.strip() or None, name
    # No space: the name is what follows the office's last org ending.
    last = None
    for m in _ORG_END_RE.finditer(words):
        if 2 <= len(words) - m.end() <= 4:
            last = m
    if last is not None:
        return words[: last.end()], words[last.end() :]
    return None, words


def find_contacts(lines: list[tuple[str, int]]) -> list[FoundContact]:
    """Contacts in the given lines (text, start offset), in order of appearance."""
    found: list[FoundContact] = []
    open_people: list[FoundContact] = []  # the people the next phone or email belongs to

    def current() -> list[FoundContact]:
        if not open_people:
            holder = FoundContact(contact=Contact(), start=-1, end=-1)
            found.append(holder)
            open_people.append(holder)
        return open_people

    for text, offset in lines:
        for kind, value, start, end in _fields(text):
            a, b = offset + start, offset + end
            if kind == "person":
                people = _people(value)
                if not people:
                    continue
                open_people = [FoundContact(contact=p, start=a, end=b) for p in people]
                found.extend(open_people)
                continue
            holders = current()
            for h in holders:
                h.start = a if h.start < 0 else h.start
                h.end = max(h.end, b)
            if kind == "phone":
                _share(holders, _phones(value), "phones")
                # `联系人及联系方式` may carry emails as well.
                _share(holders, EMAIL_RE.findall(value), "emails")
            elif kind == "fax":
                _share(holders, _phones(value), "fax")
            elif kind == "email":
                _share(holders, EMAIL_RE.findall(value), "emails")
            elif kind == "address":
                for h in holders:
                    h.contact.address = h.contact.address or value
            elif kind == "postcode":
                code = _POSTCODE_RE.search(value)
                for h in holders:
                    h.contact.postcode = h.contact.postcode or (code.group(0) if code else value)
    return [f for f in found if f.contact != Contact()]


def _share(holders: list[FoundContact], values: list[str], attr: str) -> None:
    """One value each when the counts match (`张三、李四` / `电话：A、B`), else all to the last person."""
    if not values:
        return
    if len(holders) > 1 and len(values) == len(holders):
        for h, v in zip(holders, values):
            getattr(h.contact, attr).append(v)
    else:
        getattr(holders[-1].contact, attr).extend(values)
