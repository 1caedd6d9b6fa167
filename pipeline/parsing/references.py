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
from pipeline.parsing.agencies import ORG_SUFFIX_RE, space_joint_issuers, split_issuers
from pipeline.parsing.docnumber import canonical, find_numbers
from pipeline.parsing.junk import simplified

_BOOK_RE = re.compile(r"《([^《》]*(?:《[^《》]*》[^《》]*)*)》")
_FORWARD_TITLE_RE = re.compile(r"转发\s*《(?P<title>.+)》")
# `现将《X》（文号）转发给你们`, `现将农业部办公厅《X》（…号，以下简称…）转给你们`, `…层转你们`.
_FORWARD_VERB = r"(?:转发|转给|层转)"
_NUMBER_AFTER = r"(?:[（(](?P<number>[^（()）]*?号)[^（()）]*[）)])?"
_FORWARD_BODY_RE = re.compile(
    rf"(?:现将|特将|今将|兹将)\s*(?P<who>[^，。；：《]{{0,30}}?)\s*《(?P<title>.+?)》\s*{_NUMBER_AFTER}\s*"
    rf"(?:等?文件|一文)?\s*{_FORWARD_VERB}"
    rf"|(?:现|特|予以|一并)转发\s*(?:给你们|你们)?\s*(?P<who2>[^，。；：《]{{0,30}}?)\s*《(?P<title2>.+?)》\s*"
    rf"(?:[（(](?P<number2>[^（()）]*?号)[^（()）]*[）)])?"
)
# `…下发了《X》（文号），……现将该《通知》转发给你们`: the document named before, forwarded by a
# word that stands for it (该通知, 文件, 上述文件) later in the paragraph.
_FORWARD_BACK_RE = re.compile(
    rf"现将\s*(?:该|此|上述|这一|有关|以上)?\s*(?:文件|通知|函|意见|《[^《》]{{1,8}}》)\s*(?:精神)?\s*{_FORWARD_VERB}"
)
_GENERIC_NAME_RE = re.compile(r"(?:通知|文件|函|意见|决定|办法|方案|规定|细则|要点)")
_NAMED_WITH_NUMBER_RE = re.compile(r"《(?P<title>[^《》]*(?:《[^《》]*》[^《》]*)*)》\s*[（(](?P<number>[^（()）]*?号)[^（()）]*[）)]")
# A 文号 printed out of order (`安办函2015〔33〕号`) is still the document's number: kept as printed.
_LOOSE_NUMBER_RE = re.compile(r"^[\u4e00-\u9fff]{1,12}[〔\[［(（]?\d{2,4}[〕\]］)）]?[〔\[［(（]?第?\d{1,5}[〕\]］)）]?号$")
_CITE_CUE_RE = re.compile(r"(?:根据|按照|依据|依照|遵照|参照|贯彻落实|为贯彻|为落实|落实)")
_ISSUER_TAIL_RE = re.compile(r"(?:近日|日前|此前|联合|共同)?(?:印发|制定|出台|下发|发布|发出|颁布)?了?的?$")
_CLAUSE_END = "，。；！？：,;"


class FoundReference(BaseModel):
    ref: Upstream
    start: int
    end: int


def norm_title(title: str) -> str:
    """A title for matching: no spaces, quotes, book-title marks or list commas."""
    return re.sub(r"[\s《》“”\"'‘’「」、，,·]", "", title)


def same_title(a: str, b: str, threshold: float = 0.9) -> bool:
    """Whether two titles name one document, allowing OCR slips and a dropped issuer prefix.

    A title that wraps the other (`A关于转发《B》的通知` and `B`) is another document.
    """
    na, nb = norm_title(a), norm_title(b)
    if not na or not nb:
        return False
    if na == nb or na.endswith(nb) or nb.endswith(na):
        return not (na.endswith("的通知的通知") != nb.endswith("的通知的通知"))
    return min(len(na), len(nb)) / max(len(na), len(nb)) >= threshold and SequenceMatcher(None, na, nb).ratio() >= threshold


def first_issuer(title: str) -> str | None:
    """The first issuer of a titled document: `民政部 全国老龄办关于…` → `民政部`."""
    title = space_joint_issuers(title)
    head = title.split("关于", 1)[0] if "关于" in title else ""
    issuers = split_issuers(head)
    return issuers[0] if issuers else None


def _as_own_title(cited: str) -> str:
    """A title as its own document prints it: nested `〈〉` in a citation are that title's `《》`."""
    return cited.strip().replace("〈", "《").replace("〉", "》")


def forwards(title: str | None, body: str, body_offset: int) -> list[FoundReference]:
    """The documents this one forwards, from its title and its body.

    The body names the document actually forwarded, with its 文号; the title may
    name it too (then its wording is kept: it is the one printed largest), or may
    name the document at the top of the chain, dropping the levels in between
    (`转发《民政部…》` on a county notice that forwards the city's forward): then the
    body's reference stands for it.
    """
    body_refs: list[FoundReference] = []
    # Matched on the simplified form (a page in traditional characters), values cut from the text.
    simple = simplified(body)

    def cut(m: re.Match[str], *names: str) -> str | None:
        name = next((n for n in names if m.group(n) is not None), None)
        return body[m.start(name) : m.end(name)] if name else None

    for m in _FORWARD_BODY_RE.finditer(simple):
        t = _as_own_title(cut(m, "title", "title2") or "")
        if _GENERIC_NAME_RE.fullmatch(t):
            continue  # `现将该《通知》转发`: a word standing for a document named before
        who = (cut(m, "who", "who2") or "").strip()
        issuer = who if who and ORG_SUFFIX_RE.search(who) else first_issuer(t)
        body_refs.append(
            FoundReference(
                ref=Upstream(relation="forwards", title=t, doc_number=number_of(cut(m, "number", "number2")), issuer=issuer),
                start=body_offset + m.start(),
                end=body_offset + m.end(),
            )
        )
    for m in _FORWARD_BACK_RE.finditer(simple):
        if any(r.start <= body_offset + m.start() < r.end for r in body_refs):
            continue
        paragraph_start = body.rfind("\n", 0, m.start()) + 1
        named = list(_NAMED_WITH_NUMBER_RE.finditer(simple, paragraph_start, m.start()))
        if not named:
            continue
        n = named[-1]
        t = _as_own_title(body[n.start("title") : n.end("title")])
        issuer = _citing_issuer(_clause_before(body, paragraph_start, n.start())) or first_issuer(t)
        body_refs.append(
            FoundReference(
                ref=Upstream(relation="forwards", title=t, doc_number=number_of(body[n.start("number") : n.end("number")]), issuer=issuer),
                start=body_offset + n.start(),
                end=body_offset + m.end(),
            )
        )
    m = _FORWARD_TITLE_RE.search(title or "")
    if not m:
        return body_refs
    t = _as_own_title(m.group("title"))
    for ref in body_refs:
        body_title = norm_title(ref.ref.title or "")
        if norm_title(t) in body_title and len(body_title) > len(norm_title(t)) + 4:
            return body_refs  # the body forwards a forward of the title's document
        if same_title(ref.ref.title or "", t):
            ref.ref.title, ref.ref.issuer = t, first_issuer(t)
            return body_refs
    return [FoundReference(ref=Upstream(relation="forwards", title=t, issuer=first_issuer(t)), start=-1, end=-1)] + body_refs


def number_of(text: str | None) -> str | None:
    """The 文号 in brackets after a title: canonical, or as printed where its order is not the
    standard's (`安办函2015〔33〕号`), so the reference still names its document."""
    if not text:
        return None
    found = canonical(text)
    if found:
        return found
    loose = re.sub(r"\s+", "", text)
    return loose if _LOOSE_NUMBER_RE.match(loose) else None


def _clause_before(body: str, floor: int, at: int) -> str:
    """The words of the clause that ends at `at` (`日前，国家工商总局等联合下发了`)."""
    start = max(floor, *(body.rfind(c, floor, at) + 1 for c in "，。；,;"))
    return body[start:at]


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
            issuer = _citing_issuer(clause[: book.start()]) or first_issuer(title)
            after = clause[book.end() : book.end() + 30]
            num_m = re.match(r"\s*[（(]([^（()）]*?号)[）)]", after)
            number = canonical(num_m.group(1)) if num_m else None
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




def _citing_issuer(before: str) -> str | None:
    """Who issued a cited document, from the words before its 《title》: `全国老龄办印发的` → 全国老龄办.

    Of several issuers the first stands for them (`国家卫生健康委等部门`, `A、B《…》`); words
    that are not an agency (`本意见和`) give none.
    """
    text = _ISSUER_TAIL_RE.sub("", before).strip()
    text = re.sub(r"等(?:部门|单位|部委)?$", "", text)
    first = split_issuers(text)[0] if split_issuers(text) else ""
    return first if first and len(first) <= 20 and ORG_SUFFIX_RE.search(first) else None


# A reply's cue (`你部《关于…的请示》（民发〔2024〕9号）收悉`): the request it answers is cited.
_RECEIVED_RE = re.compile(r"(?P<who>你[部厅局委办省市县]|贵[部厅局委办]|你单位)?《(?P<title>[^《》]+)》\s*(?:[（(](?P<number>[^（()）]*?号)[）)])?\s*收悉")


def received(body: str, body_offset: int, recipients: list[str]) -> list[FoundReference]:
    """The document a reply (批复, 复函) answers; `你部` stands for its first recipient."""
    refs = []
    for m in _RECEIVED_RE.finditer(body):
        number = canonical(m.group("number")) if m.group("number") else None
        issuer = recipients[0] if m.group("who") and recipients else first_issuer(m.group("title"))
        refs.append(
            FoundReference(
                ref=Upstream(relation="cites", title=m.group("title"), doc_number=number, issuer=issuer),
                start=body_offset + m.start("title") - 1,
                end=body_offset + m.end("title") + 1,
            )
        )
    return refs


def clause_spans(text: str, separators: str = "，；,;", start: int = 0) -> list[tuple[int, int]]:
    """The top-level clauses of `text` from `start`, as (start, end): split at `separators`
    outside brackets, 《titles》 and quotes, which often hold commas of their own."""
    spans, depth, begin = [], 0, start
    for i in range(start, len(text)):
        ch = text[i]
        if ch in "《（(“":
            depth += 1
        elif ch in "》）)”":
            depth = max(0, depth - 1)
        elif ch in separators and depth == 0:
            spans.append((begin, i))
            begin = i + 1
    spans.append((begin, len(text)))
    return spans


def _clause_end(text: str, start: int) -> int:
    return clause_spans(text, _CLAUSE_END, start)[0][1]


def book_spans(text: str) -> list[tuple[int, int]]:
    """Spans of every 《title》 in `text`: dates inside a cited title are not deadlines."""
    return [m.span() for m in _BOOK_RE.finditer(text)]
