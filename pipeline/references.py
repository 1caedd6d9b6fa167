"""Upstream references: what a notice forwards, attaches and cites (shared/domain.md §4).

- forwards: the title `关于转发《X》的通知`, and in the body `现将《X》（文号）转发给你们`;
- attaches: an upstream notice printed as an attachment in the same file
  (matched in `pipeline.run`, once the bundle is split);
- cites: `根据/按照/依据 … 《X》（文号）` within one clause.
A 文号 or title inside a reference is never a deadline: callers get the spans to skip.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from pydantic import BaseModel

from models import Upstream
from pipeline.agencies import split_issuers
from pipeline.docnumber import find_numbers

_BOOK_RE = re.compile(r"《([^《》]*(?:《[^《》]*》[^《》]*)*)》")
_FORWARD_TITLE_RE = re.compile(r"转发\s*《(?P<title>.+)》")
_FORWARD_BODY_RE = re.compile(r"现将\s*《(?P<title>.+?)》\s*(?:[（(](?P<number>[^（()）]*?号)[）)])?\s*(?:等文件)?\s*转发")
_CITE_CUE_RE = re.compile(r"(?:根据|按照|依据|依照|遵照|参照|贯彻落实|为贯彻|为落实|落实)")
_ISSUER_TAIL_RE = re.compile(r"(?:近日|日前|此前|联合|共同)?(?:印发|制定|出台|下发|发布|发出|颁布)?的?$")
_CLAUSE_END = "，。；！？：,;"


class FoundReference(BaseModel):
    ref: Upstream
    start: int
    end: int


def norm_title(title: str) -> str:
    """A title for matching: no spaces, quotes, book-title marks or list commas."""
    return re.sub(r"[\s《》“”\"'‘’「」、，,·]", "", title)


def same_title(a: str, b: str, threshold: float = 0.85) -> bool:
    na, nb = norm_title(a), norm_title(b)
    if not na or not nb:
        return False
    if na == nb or na.endswith(nb) or nb.endswith(na):
        return True
    return SequenceMatcher(None, na, nb).ratio() >= threshold


def first_issuer(title: str) -> str | None:
    """The first issuer of a titled document: `民政部 全国老龄办关于…` → `民政部`."""
    head = title.split("关于", 1)[0] if "关于" in title else ""
    issuers = split_issuers(head)
    return issuers[0] if issuers else None


def _inner(title: str) -> str:
    return title.strip()


def forwards(title: str | None, body: str, body_offset: int) -> list[FoundReference]:
    """The documents this one forwards, from its title and its body, merged by title."""
    refs: list[FoundReference] = []
    if title:
        m = _FORWARD_TITLE_RE.search(title)
        if m:
            t = _inner(m.group("title"))
            refs.append(FoundReference(ref=Upstream(relation="forwards", title=t, issuer=first_issuer(t)), start=-1, end=-1))
    for m in _FORWARD_BODY_RE.finditer(body):
        t = _inner(m.group("title"))
        number = None
        if m.group("number"):
            found = find_numbers(m.group("number"))
            number = found[0].canonical if found else None
        existing = next((r for r in refs if same_title(r.ref.title or "", t)), None)
        start, end = body_offset + m.start(), body_offset + m.end()
        if existing:
            existing.ref.doc_number = existing.ref.doc_number or number
            if existing.start < 0:
                existing.start, existing.end = start, end
        else:
            refs.append(
                FoundReference(
                    ref=Upstream(relation="forwards", title=t, doc_number=number, issuer=first_issuer(t)),
                    start=start,
                    end=end,
                )
            )
    return refs


def cites(body: str, body_offset: int, skip_titles: list[str]) -> list[FoundReference]:
    """`按照全国老龄办印发的《…》部署要求`: a cue, then in the same clause a 《title》 and maybe its 文号."""
    refs: list[FoundReference] = []
    for cue in _CITE_CUE_RE.finditer(body):
        clause_end = _clause_end(body, cue.end())
        clause = body[cue.end() : clause_end]
        for book in _BOOK_RE.finditer(clause):
            title = book.group(1).strip()
            if any(same_title(title, s) for s in skip_titles) or any(same_title(title, r.ref.title or "") for r in refs):
                continue
            before = clause[: book.start()]
            issuer = _ISSUER_TAIL_RE.sub("", before).strip() or first_issuer(title)
            if issuer and len(issuer) > 20:
                issuer = first_issuer(title)
            after = clause[book.end() : book.end() + 30]
            number = None
            num_m = re.match(r"\s*[（(]([^（()）]*?号)[）)]", after)
            if num_m:
                found = find_numbers(num_m.group(1))
                number = found[0].canonical if found else None
            refs.append(
                FoundReference(
                    ref=Upstream(relation="cites", title=title, doc_number=number, issuer=issuer or None),
                    start=body_offset + cue.end() + book.start(),
                    end=body_offset + cue.end() + book.end(),
                )
            )
            break  # one document per cue: the rest of the clause is what it says of it
        else:
            # `根据晋民发〔2024〕12号文件精神`: a number without a title.
            for number in find_numbers(clause)[:1]:
                if any(r.ref.doc_number == number.canonical for r in refs):
                    continue
                refs.append(
                    FoundReference(
                        ref=Upstream(relation="cites", doc_number=number.canonical),
                        start=body_offset + cue.end() + number.start,
                        end=body_offset + cue.end() + number.end,
                    )
                )
    return refs


def _clause_end(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch in "《（(“":
            depth += 1
        elif ch in "》）)”":
            depth = max(0, depth - 1)
        elif ch in _CLAUSE_END and depth == 0:
            return i
    return len(text)


def book_spans(text: str) -> list[tuple[int, int]]:
    """Spans of every 《title》 in `text`: dates inside a cited title are not deadlines."""
    return [m.span() for m in _BOOK_RE.finditer(text)]
