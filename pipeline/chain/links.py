"""The forwarding chain (shared/domain.md §4): which notice forwards, attaches or cites which.

Pure functions over `(id, Document)` pairs; nothing is written anywhere. The graph is
computed afresh from whatever the archive holds, so it does not depend on the order the
files were ingested in, and a placeholder for a missing notice is resolved the moment that
notice is stored: the next `gongwen chain` links to the real document.

    build_chain(documents) -> ChainReport       nodes, links and every tree of two or more notices
    select(report, key) -> ChainReport          the trees holding the notice KEY names (id or 文号)
    tree_parents(report) -> {id: ChainLink}     the link each node hangs from in a tree

Levels, agency names and working-day delays come from `pipeline.chain.levels`.

Linking a reference to a notice, in this order (§4: "link on document numbers first and on
normalised titles second", because titles of multi-level forwards drop or change levels):

1. the canonical 文号 (`晋民函[2024]203号` is `晋民函〔2024〕203号`); when several stored notices
   carry it (a reused number), the one whose title matches;
2. the title from `关于` on, normalised (OCR spaces, quote and bracket styles, 《》 and 〈〉,
   full-width digits), with the issuers before `关于` checked apart: forwarding titles drop
   or abbreviate them (`省民政厅` for `山西省民政厅`), while two levels forwarding one notice
   print the same words after `关于` and differ only there;
3. otherwise a placeholder, known by 文号 and title. A placeholder whose title is itself a
   forward (`山西省民政厅关于转发《X》的通知`) is linked to X: a missing middle level keeps
   its place in the chain instead of cutting it in two.

Several stored scans of one notice (same 文号, same title) are one node; its `copies` name
the others. Two stored notices with one 文号 and different titles or issuers stay apart
(the audit reports them).

In a tree a notice hangs from what it forwards or attaches; a notice that only cites hangs
from the cited notice when that one is stored and not of a lower level (it implements it;
a reply citing the request it answers does not). Other links, and cited notices not in
the archive, are annotations of the node, never tree tops.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from models import ChainLink, ChainNode, ChainReport, Document, TreeEntry, Upstream
from models.document import Level, Relation
from pipeline.chain.levels import agency_level, forwarding_delay, issuers_compatible, tier
from pipeline.parsing.agencies import level_from_code, space_joint_issuers, split_issuers
from pipeline.parsing.docnumber import FoundNumber, find_numbers, parse_line
from pipeline.parsing.references import first_issuer, norm_title

__all__ = [
    "PASSES_DOWN",
    "build_chain",
    "chain_order",
    "link_between",
    "same_title",
    "select",
    "tree_parents",
]

# Relations that make the child a recipient passing the notice on (the deadline and delay rules apply).
PASSES_DOWN: tuple[Relation, ...] = ("forwards", "attaches")
_RELATION_ORDER: tuple[Relation, ...] = ("forwards", "attaches", "cites")
# Two readings of one title differ by a few OCR slips at most; the same bar as the parser's.
TITLE_RATIO = 0.9


# --- titles --------------------------------------------------------------------------------------

_FORWARD_TITLE_RE = re.compile(r"关于转发《(?P<inner>.+)》的")


def _subject(text: str) -> str:
    """A title (or its part from 关于 on) for comparing: NFKC, then letters and digits only."""
    return re.sub(r"\W", "", norm_title(unicodedata.normalize("NFKC", text)))


@dataclass(frozen=True)
class _Title:
    """A title split for matching: the issuers printed before 关于, and the rest normalised."""

    issuers: tuple[str, ...]
    subject: str

    @classmethod
    def of(cls, title: str | None) -> _Title | None:
        if not title:
            return None
        text = space_joint_issuers(title.replace("〈", "《").replace("〉", "》"))
        head, sep, rest = text.partition("关于")
        if not sep or "《" in head:
            return cls((), _subject(text))
        return cls(tuple(split_issuers(head)), _subject(sep + rest))

    def matches(self, other: _Title, *, exact: bool = False) -> bool:
        """The same subject, letter for letter or nearly (OCR slips), never a forward of the other.

        Near matches need the same digits: `2023年度` and `2024年度` are two notices.
        """
        a, b = self.subject, other.subject
        if a == b:
            return True
        if exact or a.count("转发") != b.count("转发") or re.findall(r"\d+", a) != re.findall(r"\d+", b):
            return False
        return min(len(a), len(b)) / max(len(a), len(b)) >= TITLE_RATIO and SequenceMatcher(None, a, b, autojunk=False).ratio() >= TITLE_RATIO


def same_title(a: str, b: str) -> bool:
    """Whether two titles name one notice by the linker's rule (issuers apart, subjects alike)."""
    ta, tb = _Title.of(a), _Title.of(b)
    return ta is not None and tb is not None and ta.matches(tb) and issuers_compatible(list(ta.issuers), list(tb.issuers))


# --- building the graph --------------------------------------------------------------------------


@dataclass
class _Notice:
    """A node while the graph is built: its record, and what its title and issuers are for matching."""

    node: ChainNode
    title: _Title | None
    issuers: list[str]
    record: Document | None = None

    @property
    def number(self) -> str | None:
        return self.node.doc_number

    def similarity(self, title: _Title | None) -> float:
        if title is None or self.title is None:
            return 0.0
        return SequenceMatcher(None, title.subject, self.title.subject, autojunk=False).ratio()

    def named_by(self, title: _Title | None, issuers: list[str], *, exact: bool = False) -> bool:
        """Whether a reference's title and issuers name this notice."""
        if title is None or self.title is None or not self.title.matches(title, exact=exact):
            return False
        return issuers_compatible(issuers, self.issuers)


def _issuers_of(title: _Title | None, named: Iterable[str | None]) -> list[str]:
    """Issuers from the record or reference, then those the title prints before 关于."""
    out = [n for n in named if n]
    return out + [n for n in (title.issuers if title else ()) if n not in out]


def _number(text: str | None) -> FoundNumber | None:
    """A 文号 held in a field: the whole value is the number. (`docnumber.canonical` reads running
    text and cuts words like 并 off the front, which is Taiyuan's 机关代字 in `并民函〔2024〕77号`.)"""
    if not text:
        return None
    return parse_line(text) or next(iter(find_numbers(text)), None)


def canonical_number(text: str | None) -> str | None:
    found = _number(text)
    return found.canonical if found else text


def _level_of(issuers: list[str], number: str | None) -> Level | None:
    """Names first (they carry the place), then the 机关代字 (`晋民函` is Shanxi province)."""
    for name in issuers:
        level = agency_level(name)
        if level:
            return level
    found = _number(number)
    return level_from_code(found.parts.agency_code) if found else None


def _stored_notice(doc_id: str, doc: Document) -> _Notice:
    number = canonical_number(doc.doc_number)
    title = _Title.of(doc.title)
    issuers = _issuers_of(title, doc.issuers)
    node = ChainNode(
        id=doc_id,
        in_archive=True,
        doc_number=number,
        title=doc.title,
        issuers=list(doc.issuers),
        level=doc.level or _level_of(issuers, number),
        issue_date=doc.issue_date,
        deadlines=list(doc.deadlines),
    )
    return _Notice(node, title, issuers, doc)


def _copy_rank(notice: _Notice) -> tuple[bool, int, str]:
    """Which scan of a notice stands for it: one with a 成文日期, then the most deadlines, then the id."""
    return (notice.node.issue_date is None, -len(notice.node.deadlines), notice.node.id)


def _merge_copies(notices: list[_Notice]) -> list[_Notice]:
    """Stored scans of one notice (same 文号, matching title and issuers) as one node, its `copies` naming the others."""
    groups: list[list[_Notice]] = []
    by_number: dict[str, list[list[_Notice]]] = {}
    for notice in notices:
        same_number = by_number.setdefault(notice.number, []) if notice.number else []
        twin = next((g for g in same_number if g[0].named_by(notice.title, notice.issuers)), None)
        if twin is not None:
            twin.append(notice)
            continue
        groups.append([notice])
        same_number.append(groups[-1])
    for group in groups:
        group.sort(key=_copy_rank)
        group[0].node.copies = sorted(n.node.id for n in group[1:])
    return [group[0] for group in groups]


@dataclass
class _LinkDraft:
    relations: set[Relation] = field(default_factory=set)
    by_number: bool = False
    references: list[int] = field(default_factory=list)
    inferred: bool = False


class _Graph:
    """Notices and placeholders, and the links found so far; the matching rules of the module docstring."""

    def __init__(self, stored: list[_Notice]) -> None:
        self.stored = stored
        self.by_number: dict[str, list[_Notice]] = {}
        self.by_subject: dict[str, list[_Notice]] = {}
        for notice in stored:
            if notice.number:
                self.by_number.setdefault(notice.number, []).append(notice)
            if notice.title:
                self.by_subject.setdefault(notice.title.subject, []).append(notice)
        self.placeholders: list[_Notice] = []
        self.links: dict[tuple[str, str], _LinkDraft] = {}

    def resolve(self, ref: Upstream, child: str) -> tuple[_Notice, bool]:
        """The notice a reference names, and whether its 文号 named it; a placeholder if none."""
        number = canonical_number(ref.doc_number)
        title = _Title.of(ref.title)
        issuers = _issuers_of(title, [ref.issuer])
        carrying = self.by_number.get(number or "", [])
        if carrying:  # several for a reused 文号: the one whose title the reference gives
            best = sorted(carrying, key=lambda n: (not n.named_by(title, issuers), -n.similarity(title), n.node.id))
            return best[0], True
        # By title, the same subject first, then a near one (OCR slips). Another 文号 on both sides
        # means another notice, unless the titles agree letter for letter.
        def named(candidates: list[_Notice]) -> list[_Notice]:
            return [
                n
                for n in candidates
                if n.node.id != child and n.named_by(title, issuers, exact=bool(number and n.number and n.number != number))
            ]

        found = named(self.by_subject.get(title.subject, []) if title else []) or named(self.stored)
        if found:
            return sorted(found, key=lambda n: (-n.similarity(title), n.node.id))[0], False
        return self._placeholder(number, title, issuers, ref), bool(number)

    def _placeholder(self, number: str | None, title: _Title | None, issuers: list[str], ref: Upstream) -> _Notice:
        for notice in self.placeholders:
            if number and notice.number == number:
                return notice
            if not number and notice.named_by(title, issuers):
                return notice
        node = ChainNode(
            id=f"ref:{number}" if number else f"ref:《{ref.title}》",
            in_archive=False,
            doc_number=number,
            title=ref.title,
            issuers=issuers,
            level=_level_of(issuers, number),
        )
        notice = _Notice(node, title, issuers)
        self.placeholders.append(notice)
        return notice

    def link(self, parent: str, child: str, relation: Relation, *, by_number: bool, reference: int | None) -> None:
        draft = self.links.setdefault((parent, child), _LinkDraft())
        draft.relations.add(relation)
        draft.by_number = draft.by_number or by_number
        if reference is None:
            draft.inferred = True
        else:
            draft.references.append(reference)

    def infer_forwards(self) -> None:
        """A placeholder titled `X关于转发《Y》的通知` forwards Y: link it, and Y's placeholder likewise."""
        done = 0
        while done < len(self.placeholders):
            notice = self.placeholders[done]
            done += 1
            m = _FORWARD_TITLE_RE.search(notice.node.title or "")
            if not m:
                continue
            inner = m.group("inner").replace("〈", "《").replace("〉", "》")
            parent, _ = self.resolve(Upstream(relation="forwards", title=inner, issuer=first_issuer(inner)), notice.node.id)
            if parent is not notice:
                self.link(parent.node.id, notice.node.id, "forwards", by_number=False, reference=None)


def build_chain(documents: Iterable[tuple[str, Document]]) -> ChainReport:
    """The graph of every notice and reference, and the trees of two or more notices.

    The same documents give the same report whatever their order: they are taken by id,
    and references with a 文号 are placed before those known by title only.
    """
    docs = sorted(documents, key=lambda item: item[0])
    stored = _merge_copies([_stored_notice(doc_id, doc) for doc_id, doc in docs])
    graph = _Graph(stored)
    refs = [(notice, i, ref) for notice in stored for i, ref in enumerate(notice.record.upstream if notice.record else [])]
    for pass_numbered in (True, False):
        for notice, i, ref in refs:
            if bool(ref.doc_number) == pass_numbered:
                parent, by_number = graph.resolve(ref, notice.node.id)
                graph.link(parent.node.id, notice.node.id, ref.relation, by_number=by_number, reference=i)
    graph.infer_forwards()
    nodes = {n.node.id: n.node for n in stored + graph.placeholders}
    links = [_finish_link(parent, child, draft, nodes) for (parent, child), draft in sorted(graph.links.items())]
    report = ChainReport(nodes=sorted(nodes.values(), key=_node_order), links=links)
    report.trees = _all_trees(report)
    return report


def _finish_link(parent: str, child: str, draft: _LinkDraft, nodes: dict[str, ChainNode]) -> ChainLink:
    relations = [r for r in _RELATION_ORDER if r in draft.relations]
    delay = None
    if any(r in PASSES_DOWN for r in relations):
        delay = forwarding_delay(nodes[parent], nodes[child])
    return ChainLink(
        parent=parent,
        child=child,
        relations=relations,
        matched_on="doc_number" if draft.by_number else "title",
        references=sorted(draft.references),
        inferred=draft.inferred and not draft.references,
        delay=delay,
    )


def _node_order(node: ChainNode) -> tuple[int, str, str, str]:
    """Top levels first, then by date and 文号: the order trees and siblings are drawn in."""
    t = tier(node.level)
    return (9 if t is None else t, node.issue_date or "9999", node.doc_number or "", node.id)


# --- trees ---------------------------------------------------------------------------------------


def link_between(report: ChainReport, parent: str, child: str) -> ChainLink | None:
    return next((link for link in report.links if link.parent == parent and link.child == child), None)


def _tree_rank(link: ChainLink, nodes: dict[str, ChainNode]) -> tuple[int, bool, int, str] | None:
    """How well a link serves as the node's place in a tree (lower is better); None if it cannot.

    Forwards before attaches before cites; a cite only to a stored notice not of a lower
    level (a notice implementing it, not a reply citing the request it answers).
    """
    parent, child = nodes[link.parent], nodes[link.child]
    if parent.id == child.id:
        return None
    relation = min(_RELATION_ORDER.index(r) for r in link.relations)
    up, down = tier(parent.level), tier(child.level)
    if _RELATION_ORDER[relation] == "cites" and (not parent.in_archive or (up is not None and down is not None and up > down)):
        return None
    return (relation, link.matched_on != "doc_number", abs((down or 0) - (up or 0) - 1), link.parent)


def tree_parents(report: ChainReport) -> dict[str, ChainLink]:
    """Each node's link to its parent in a tree (see `_tree_rank`); top nodes have none."""
    nodes = {n.id: n for n in report.nodes}
    best: dict[str, tuple[tuple[int, bool, int, str], ChainLink]] = {}
    for link in report.links:
        rank = _tree_rank(link, nodes)
        if rank is not None and (link.child not in best or rank < best[link.child][0]):
            best[link.child] = (rank, link)
    return {child: link for child, (_, link) in best.items()}


def _children(report: ChainReport, hanging: dict[str, ChainLink]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n.id: [] for n in report.nodes}
    for node in report.nodes:  # already in `_node_order`, so siblings are too
        if node.id in hanging:
            out[hanging[node.id].parent].append(node.id)
    return out


def _reachable(starts: list[str], children: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(children[current])
    return seen


def _all_trees(report: ChainReport) -> list[TreeEntry]:
    """Trees of two or more notices. Tops hang from nothing; a loop with no way in starts at its first node."""
    hanging = tree_parents(report)
    children = _children(report, hanging)
    roots = [n.id for n in report.nodes if n.id not in hanging]
    reached = _reachable(roots, children)
    for node in report.nodes:
        if node.id not in reached:
            roots.append(node.id)
            reached |= _reachable([node.id], children)
    return [_grow(root, children) for root in roots if len(_reachable([root], children)) > 1]


def _grow(node_id: str, children: dict[str, list[str]], path: tuple[str, ...] = ()) -> TreeEntry:
    if node_id in path:
        return TreeEntry(id=node_id, loop=True)
    return TreeEntry(id=node_id, children=[_grow(c, children, (*path, node_id)) for c in children[node_id]])


def chain_order(entry: TreeEntry) -> list[str]:
    """Node ids of a tree, top down (depth first): the order findings and reports follow."""
    out = [entry.id]
    for child in entry.children:
        if not child.loop:
            out += chain_order(child)
    return out


def _find(report: ChainReport, key: str) -> list[ChainNode]:
    """Nodes a key names: an id (or a prefix of 4+ characters, as `gongwen show` takes), a copy's id,
    or a 文号 in any printed form."""
    number = canonical_number(key)
    found = [
        n
        for n in report.nodes
        if n.id == key
        or key in n.copies
        or (len(key) >= 4 and n.in_archive and (n.id.startswith(key) or any(c.startswith(key) for c in n.copies)))
        or (n.doc_number is not None and n.doc_number in (key, number))
    ]
    return found


def select(report: ChainReport, key: str) -> ChainReport:
    """The trees holding the notices `key` names, each from its top; a lone notice is a tree of one.

    An empty report when nothing matches: the caller says so.
    """
    hanging = tree_parents(report)
    tops: list[str] = []
    for node in _find(report, key):
        top, seen = node.id, {node.id}
        while top in hanging and hanging[top].parent not in seen:
            top = hanging[top].parent
            seen.add(top)
        if top not in tops:
            tops.append(top)
    children = _children(report, hanging)
    trees = [_grow(top, children) for top in tops]
    ids = {i for tree in trees for i in chain_order(tree)}
    links = [link for link in report.links if link.child in ids]
    ids |= {link.parent for link in links}
    return ChainReport(nodes=[n for n in report.nodes if n.id in ids], links=links, trees=trees)
