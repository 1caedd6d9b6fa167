"""Contact lines: people, their office, phones, fax, email, address, postcode.

Notices print them as fields (`联系人：` `联系电话：` `传真：` `电子邮箱：` `地址：` `邮编：`), field
names often spaced out to the width of the longest one (`联 系 人：`, `电 话：`), on their own lines
after the body or the 附件说明, inside a 附注 in parentheses (`（联系人：张三，联系电话：0351-1234567）`),
or at the end of a body sentence. Several people may share one line and its numbers (each gets
them), a person may have several phones, the office may stand before the names (`联系人：省民政厅
老龄工作处 张书毓`, `部科技司：姚育章 高翔，电话：…`) or after a name with nothing between
(`联系人：王立国宣传推广处`), and names may alternate with their numbers (`张三 67706322 李四
67737885`). Numbers and addresses are read by `contact_values`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel

from models import Contact, Unsure
from pipeline.parsing.agencies import ORG_ENDINGS
from pipeline.parsing.contact_checks import UNSURE_CONFIDENCE
from pipeline.parsing.contact_values import FoundValue, digits, find_emails, find_phones

_FIELDS = {
    "联系人及联系方式": "person",
    "联系人及电话": "person",
    "联系人": "person",
    "联络人": "person",
    "联系电话": "phone",
    "联系方式": "person",  # `联系方式：张三 0351-…` or only the number
    "办公电话": "phone",
    "咨询电话": "phone",
    "电话号码": "phone",
    "电话": "phone",
    "手机": "phone",
    "座机": "phone",
    "Tel": "phone",
    "联系电话/传真": "fax",  # one number for both: listed with the phones and named a fax
    "电话/传真": "fax",
    "电话传真": "fax",
    "手机号码": "phone",
    "手机号": "phone",
    "传真号码": "fax",
    "传真": "fax",
    "Fax": "fax",
    "电子邮箱": "email",
    "电子信箱": "email",
    "电子邮件": "email",
    "报送邮箱": "email",
    "邮件地址": "email",
    "邮箱地址": "email",
    "邮箱": "email",
    "E-mail": "email",
    "Email": "email",
    "通讯地址": "address",
    "邮寄地址": "address",
    "地址": "address",
    "邮政编码": "postcode",
    "邮编": "postcode",
    # Values that look like phones but are not: read and dropped.
    "QQ群号": "other",
    "QQ群": "other",
    "QQ号": "other",
    "QQ": "other",
}
_FIELD_NAMES = sorted(_FIELDS, key=len, reverse=True)


def _spaced(name: str) -> str:
    # 公文 pad field names to one width with spaces (`联 系 人：` beside `联系电话：`).
    return r"\s*".join(map(re.escape, name))


_FIELD_RE = re.compile(
    r"(?<![A-Za-z])(" + "|".join(_spaced(n) for n in _FIELD_NAMES) + r")\s*[：:]\s*", re.IGNORECASE
)
_ORG_END_RE = re.compile(f"(?:{ORG_ENDINGS})")
_ORG_TAIL_RE = re.compile(f"(?:{ORG_ENDINGS})$")
_CJK_NAME_RE = re.compile(r"[\u4e00-\u9fff·]{2,4}")
# A field inside a sentence that sends something somewhere (`…电子版提交到电子邮箱：…`) names where
# to send it, not a person to call.
_DESTINATION_RE = re.compile(r"(?:至|到|往|向|给|发送|提交|报送|上报|报)[^，。；,;]{0,12}$")
_PHONE_PLACE = "\ue000"  # a phone taken out of a person value, to split the words around it


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


def _kind(name: str) -> str:
    squashed = re.sub(r"\s+", "", name).lower()
    return next(kind for key, kind in _FIELDS.items() if key.lower() == squashed)


def _fields(line: str) -> list[tuple[str, str, int, int]]:
    """(kind, value, start, end) for each field on a line; a value runs to the next field or to `。；）`.

    Text before a segment's first field names a person too: `民政部养老服务司联系人：陈晓东`
    (the office before the field name), `…；市民政局养老服务科 杜文斌，联系电话：…` (a second
    person with no field name of their own), `镇办公室电话：…` (an office with its number).
    """
    out = []
    for seg, offset in _segments(line):
        matches = list(_FIELD_RE.finditer(seg))
        lead = seg[: matches[0].start()] if matches else seg
        lead_value = lead.strip(" \t，,、（(。）)")
        first_kind = _kind(matches[0].group(1)) if matches else None
        person_prefix = ""
        destination = False
        if lead_value and first_kind == "person":
            if _ORG_TAIL_RE.search(lead_value) and len(lead_value) <= 20:
                person_prefix = lead_value + " "
        elif lead_value and (first_kind in ("phone", "email", "fax") or (not matches and find_phones(seg))):
            if _DESTINATION_RE.search(lead_value):
                destination = True
                out.append(("destination", lead_value, offset, offset + len(lead)))
            else:
                name_part = re.split(r"\d", lead_value)[0].strip(" ，,：:")
                if name_part and re.search(r"[\u4e00-\u9fff]{2}", name_part) and len(name_part) <= 30:
                    start = offset + seg.index(name_part)
                    out.append(("person", lead_value, start, start + len(lead_value)))
        for i, m in enumerate(matches):
            stop = matches[i + 1].start() if i + 1 < len(matches) else len(seg)
            kind = _kind(m.group(1))
            destination = destination and kind != "person"
            if destination:
                continue
            value = seg[m.end() : stop]
            cut = re.search(r"。(?!\s*(?:com|cn|net|org)\b)|[）)](?![^（(]*[（(])(?=\s*$|\s*[，,])", value) if kind != "address" else None
            if kind in ("person", "other"):
                cut = re.search(r"[。）)]", value)
            if cut:
                value = value[: cut.start()]
            value = value.strip().rstrip("，,、。 ")
            if kind == "person" and i == 0:
                value = person_prefix + value
            tail = _trailing_people(value) if kind in ("phone", "fax", "email") else ""
            if tail:
                value = value[: len(value) - len(tail)].rstrip("，,、 ")
            out.append((kind, value, offset + m.start(), offset + m.end() + len(value)))
            if tail:
                at = offset + m.end() + seg[m.end() :].index(tail)
                out.append(("person", tail.strip(" ，,、"), at, at + len(tail)))
    return out


def _trailing_people(value: str) -> str:
    """Names after the last number or address of a field: the next person's, when a reflowed line
    ran two contact lines together (`电话：(010)84990502部科技司：姚育章高翔`)."""
    ends = [f.end for f in find_phones(value) + find_emails(value)]
    if not ends:
        return ""
    tail = value[max(ends) :]
    if not re.search(r"[\u4e00-\u9fff]{2}", tail) or re.search(r"[。（(）)]", tail) or len(tail.strip()) > 24:
        return ""
    people, _ = _people(tail)
    return tail if any(p.name for p, _ in people) else ""


def _split_name_office(word: str) -> tuple[str | None, str | None]:
    """(office, name) of one word with no space in it.

    `省民政厅老龄工作处张书毓` (office, then a 2–4 character name after its last ending) or
    `王立国宣传推广处` (a name, then the office: jieba's person-name tag finds where the name ends).
    """
    last = None
    for m in _ORG_END_RE.finditer(word):
        if 2 <= len(word) - m.end() <= 4 and not _ORG_TAIL_RE.search(word):
            last = m
    if last is not None and last.end() >= 2:
        return word[: last.end()], word[last.end() :]
    if _ORG_TAIL_RE.search(word):
        first = _leading_person_name(word)
        if first and len(word) - len(first) >= 2:
            return word[len(first) :], first
        return word, None
    return None, word


@lru_cache(maxsize=512)
def _leading_person_name(word: str) -> str | None:
    # jieba's dictionary tags person names `nr`; a hand-made surname list would miss the rare ones.
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    tokens = list(jieba.posseg.cut(word))
    if not tokens or tokens[0].flag != "nr":
        return None
    name = tokens[0].word
    if len(name) == 1 and len(tokens) > 1 and len(tokens[1].word) <= 2:
        name += tokens[1].word  # a surname tagged alone, its given name tagged as another word (`王|立新`)
    return name if 2 <= len(name) <= 3 else None


# Two-character surnames, so that `欧阳文华` stays one name when names run together.
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "公孙", "令狐", "夏侯", "慕容", "尉迟", "长孙", "宇文", "司徒", "端木", "澹台")


def _names(word: str) -> list[str]:
    """Names that ran together when the spaces between them were lost (`张健为王喜芳`).

    Chinese names are two or three characters (four with a two-character surname); a run of
    four is two names of two, six is two of three, five is split where jieba's person tag ends.
    """
    n = len(word)
    if not re.fullmatch(r"[\u4e00-\u9fff]+", word) or n <= 3 or (n == 4 and word.startswith(_COMPOUND_SURNAMES)):
        return [word]
    if n == 4:
        return [word[:2], word[2:]]
    if n == 6:
        return [word[:3], word[3:]]
    if n == 5:
        first = _leading_person_name(word)
        cut = len(first) if first else 3
        return [word[:cut], word[cut:]]
    return [word]


_LABEL_WORDS = frozenset({"附件", "附件下载", "相关附件", "抄送", "主送", "附注"})


def _people(value: str) -> tuple[list[tuple[Contact, list[FoundValue]]], list[FoundValue]]:
    """`省民政厅老龄工作处 张书毓`, `张三、李四`, `张三 0351-1234567；李四 13912345678`,
    `培训就业司 王文铎、张达` (one office, two people), `张三 67706322 李四 67737885`."""
    phones = find_phones(value)
    words = value
    for f in reversed(phones):
        words = words[: f.start] + f" {_PHONE_PLACE} " + words[f.end :]
    emails = find_emails(words)
    for e in reversed(emails):
        words = words[: e.start] + " " + words[e.end :]
    # a label run on after the values (`…abc@163.com附件：`, a page that lost its line breaks) is no one
    tokens = [t for t in re.split(r"[、；;，,：:\s（()）]+", words) if t and t not in _LABEL_WORDS]
    people: list[tuple[Contact, list[FoundValue]]] = []
    office: str | None = None
    queue = iter(phones)
    for token in tokens:
        if token == _PHONE_PLACE:
            number = next(queue)
            if people:
                people[-1][1].append(number)
            continue
        org, name = _split_name_office(token)
        if name is None:
            office = org
            continue
        names = _names(name) if name else [name]
        for name in names[:-1]:
            people.append((Contact(name=name, org=org or office), []))
        name = names[-1]
        if name and not _CJK_NAME_RE.fullmatch(name) and not re.fullmatch(r"[\u4e00-\u9fff]{1,2}(?:老师|科长|处长|主任|同志|女士|先生)", name):
            continue
        people.append((Contact(name=name, org=org or office), []))
    if not people and office:
        people.append((Contact(org=office), []))
    return people, emails


def find_contacts(lines: list[tuple[str, int]]) -> list[FoundContact]:
    """Contacts in the given lines (text, start offset), in order of appearance."""
    found: list[FoundContact] = []
    open_people: list[FoundContact] = []  # the people the next phone or email belongs to

    last_kind = None
    for text, offset in lines:
        fields = _fields(text)
        if not fields and last_kind == "person" and _more_people(text):
            # `联系人：中国环境监测总站 李宪同` / `大气环境司 卢璐`: the next line names one more person
            people, _ = _people(text.strip())
            more = [FoundContact(contact=p, start=offset, end=offset + len(text)) for p, _ in people]
            open_people = open_people + more
            found.extend(more)
            continue
        last_kind = fields[-1][0] if fields else None
        for kind, value, start, end in fields:
            a, b = offset + start, offset + end
            if kind in ("other", "destination"):
                if kind == "destination":
                    open_people = []
                continue
            if kind == "person":
                people, emails = _people(value)
                if not people and not (find_phones(value) or emails):
                    continue
                if people:
                    open_people = [FoundContact(contact=p, start=a, end=b) for p, _ in people]
                    for holder, (_, numbers) in zip(open_people, people):
                        _add_phones(holder, numbers)
                    _share_emails(open_people, emails)
                    found.extend(open_people)
                    continue
                kind = "phone"  # `联系方式：0351-1234567`: numbers for the people already named
            if not open_people:
                if kind not in ("phone", "email", "fax"):
                    continue
                holder = FoundContact(contact=Contact(), start=a, end=b)
                found.append(holder)
                open_people = [holder]
            holders = open_people
            for h in holders:
                h.end = max(h.end, b)
            if kind in ("phone", "fax"):
                numbers = find_phones(value)
                for h in holders:
                    _add_phones(h, numbers, fax=kind == "fax")
                _share_emails(holders, find_emails(value))
            elif kind == "email":
                _share_emails(holders, find_emails(value))
            elif kind == "address":
                for h in holders:
                    h.contact.address = h.contact.address or value or None
            elif kind == "postcode":
                code = re.search(r"\d{6}", value)
                for h in holders:
                    h.contact.postcode = h.contact.postcode or (code.group(0) if code else value or None)
    return [f for f in found if f.contact != Contact()]


def _more_people(text: str) -> bool:
    t = text.strip()
    if not t or len(t) > 24 or re.search(r"[。，,；;：:！？]", t):
        return False
    people, _ = _people(t)
    return bool(people) and all(p.name for p, _ in people)


def _add_phones(holder: FoundContact, numbers: list[FoundValue], *, fax: bool = False) -> None:
    """A shared line's numbers go to everyone on it; a fax is listed with the phones and named in `fax`."""
    c = holder.contact
    for n in numbers:
        if not n.valid:
            if all(u.value != n.value for u in c.uncertain):
                reason = f"{len(digits(n.value))} digits: no number of the numbering plan (a mobile has 11, a landline 7 or 8 after its area code)"
                c.uncertain.append(Unsure(field="phones", value=n.value, readings=[n.printed], confidence=UNSURE_CONFIDENCE, reason=reason))
            continue
        if n.value not in c.phones:
            c.phones.append(n.value)
        if (fax or n.fax) and n.value not in c.fax:
            c.fax.append(n.value)
        if n.dial:
            c.dial[n.value] = n.dial


def _share_emails(holders: list[FoundContact], values: list[FoundValue]) -> None:
    """One address each when the counts match (`高杰、侯英波` / `gaoj@…、houyb@…`), else all to everyone."""
    if not values:
        return
    if len(holders) > 1 and len(values) == len(holders):
        pairs = [(h, [v]) for h, v in zip(holders, values)]
    else:
        pairs = [(h, values) for h in holders]
    for h, vs in pairs:
        for v in vs:
            if v.value not in h.contact.emails:
                h.contact.emails.append(v.value)
            if v.printed != v.value:
                h.contact.printed[v.value] = v.printed

