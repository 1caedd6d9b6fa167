"""How the audit makes a finding: its options, the chain indexed both ways, the evidence it quotes
(the printed element behind a record's field, with its page) and the names its messages use.

    Context(report, records, options)    .finding(...), .evidence(id, field), .reference_evidence(link)
    notice_name(node), cited(title, number), level_name(node), shorten(text)   wording of messages
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from models import ChainLink, ChainNode, ChainReport, Document, Evidence, Finding, FindingDocument
from models.chain import FindingCode
from models.document import Severity
from pipeline.chain.levels import LEVEL_NAMES
from pipeline.chain.links import chain_order

MIN_LEAD_WORKDAYS = 3  # a level needs a few working days to collect its recipients' reports and send its own
SLOW_WORKDAYS = 10  # two working weeks to pass a notice one level down


@dataclass(frozen=True)
class AuditOptions:
    min_lead_workdays: int = MIN_LEAD_WORKDAYS
    slow_workdays: int = SLOW_WORKDAYS


@dataclass
class Context:
    report: ChainReport
    records: Mapping[str, Document]
    options: AuditOptions

    def __post_init__(self) -> None:
        self.nodes = {n.id: n for n in self.report.nodes}
        self.below: dict[str, list[ChainLink]] = {n.id: [] for n in self.report.nodes}
        self.above: dict[str, list[ChainLink]] = {n.id: [] for n in self.report.nodes}
        for link in self.report.links:
            self.below[link.parent].append(link)
            self.above[link.child].append(link)
        in_trees = [i for tree in self.report.trees for i in chain_order(tree)]
        self.position = {node_id: n for n, node_id in enumerate(dict.fromkeys(in_trees + [n.id for n in self.report.nodes]))}

    def doc(self, node_id: str) -> FindingDocument:
        node = self.nodes[node_id]
        return FindingDocument(id=node.id, doc_number=node.doc_number, level=node.level, in_archive=node.in_archive)

    def finding(self, code: FindingCode, severity: Severity, ids: list[str], message: str,
                evidence: list[Evidence], **data: object) -> Finding:
        return Finding(code=code, severity=severity, documents=[self.doc(i) for i in ids], message=message, evidence=evidence, data=data)

    def evidence(self, node_id: str, field: str) -> Evidence | None:
        """The printed element behind a record's field, with its page: a deadline's sentence, a reference, the 文号."""
        record = self.records.get(node_id)
        if record is None:
            return None
        where = record.provenance.get(field)
        page = where.page if where else None
        text = _field_text(record, field)
        if text is None:
            return None
        if field.startswith("deadlines["):
            page = record.deadlines[_index(field)].page or page
        return Evidence(document=node_id, doc_number=self.nodes[node_id].doc_number, field=field, page=page, text=text)

    def reference_evidence(self, link: ChainLink) -> list[Evidence]:
        found = [self.evidence(link.child, f"upstream[{i}]") for i in link.references]
        return [e for e in found if e is not None]


def _index(field: str) -> int:
    return int(field[field.index("[") + 1 : -1])


def _field_text(record: Document, field: str) -> str | None:
    if field.startswith("deadlines["):
        deadline = record.deadlines[_index(field)]
        return deadline.sentence or deadline.text
    if field.startswith("upstream["):
        ref = record.upstream[_index(field)]
        return cited(ref.title, ref.doc_number)
    if field == "doc_number":
        return record.doc_number_printed or record.doc_number
    return record.title if field == "title" else None


def cited(title: str | None, number: str | None) -> str:
    """A notice as a citation prints it: `《title》（文号）`."""
    return (f"《{title}》" if title else "") + (f"（{number}）" if number else "") or "（无标题、无文号）"


def notice_name(node: ChainNode) -> str:
    """How a message names a notice: its 文号, else its title."""
    return node.doc_number or cited(node.title, None)


def shorten(text: str, limit: int = 24) -> str:
    """An action as a message quotes it: long ones cut, the evidence has them whole."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def level_name(node: ChainNode) -> str:
    return LEVEL_NAMES.get(node.level or "", "层级不明")
