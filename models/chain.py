"""The forwarding chain and its audit findings (shared/domain.md §4), as records.

A chain is a graph: each notice is a `ChainNode`, each upstream reference that names
another notice a `ChainLink` from the upstream (`parent`) to the notice that forwards,
attaches or cites it (`child`). A reference to a notice the archive does not hold becomes
a placeholder node (`in_archive` false) known by its 文号 and title only. `ChainReport` is
what `gongwen chain --json` prints: the graph and the trees drawn from it, top down.

A `Finding` is what `gongwen audit` reports: a severity, the notices concerned (top
down), the sentences that show it (with their page) and a short Chinese message a clerk
reads at a glance. `data` holds the same facts for programs (dates, day counts).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from models.document import Deadline, Level, Relation, Severity

MatchedOn = Literal["doc_number", "title"]


class Delay(BaseModel):
    """How long a level took to pass a notice on: 成文日期 of the upstream to 成文日期 of the forward."""

    calendar_days: int
    workdays: int = Field(description="official working days after the upstream's date, up to and including the forward's")
    estimated: bool = Field(
        default=False, description="a year the holiday data does not cover was counted Monday to Friday"
    )


class ChainNode(BaseModel):
    """One notice: a stored document (its store id), or a placeholder for one only referenced."""

    id: str = Field(description="the store's document id; `ref:` + 文号 (or title) for a placeholder")
    in_archive: bool
    doc_number: str | None = Field(default=None, description="canonical 机关代字〔年份〕序号号")
    title: str | None = None
    issuers: list[str] = Field(default_factory=list)
    level: Level | None = None
    issue_date: str | None = Field(default=None, description="成文日期, ISO")
    deadlines: list[Deadline] = Field(default_factory=list)
    copies: list[str] = Field(
        default_factory=list, description="ids of other stored scans of the same notice (same 文号 and title)"
    )


class ChainLink(BaseModel):
    """`child` forwards, attaches or cites `parent`; one link per pair, whatever the number of references."""

    parent: str
    child: str
    relations: list[Relation] = Field(description="forwards / attaches / cites, in that order")
    matched_on: MatchedOn = Field(description="the reference's 文号 named the parent, or (without one) its title")
    references: list[int] = Field(
        default_factory=list, description="indexes into the child's `upstream` list; empty for an inferred link"
    )
    inferred: bool = Field(
        default=False,
        description="read from a placeholder's own title (`关于转发《X》的通知` forwards X), not from a stored reference",
    )
    delay: Delay | None = Field(default=None, description="forwards and attaches between two dated notices")


class TreeEntry(BaseModel):
    """A node drawn in a tree, by id; the link from the parent above is the one between the two ids."""

    id: str
    loop: bool = Field(default=False, description="the node stands higher in this branch already: a loop, not expanded")
    children: list[TreeEntry] = Field(default_factory=list)


class ChainReport(BaseModel):
    """The graph and its trees, each from a top notice down to the leaves that forward or implement it."""

    nodes: list[ChainNode] = Field(default_factory=list)
    links: list[ChainLink] = Field(default_factory=list)
    trees: list[TreeEntry] = Field(default_factory=list)


FindingCode = Literal[
    "missing_upstream",
    "missing_middle_level",
    "cited_not_in_archive",
    "deadline_not_passed_down",
    "deadline_later_than_upstream",
    "lead_time_short",
    "deadline_passed_down",
    "forwarding_delay",
    "slow_forwarding",
    "forwarded_before_issued",
    "wrong_direction",
    "skipped_level",
    "loop",
    "reused_doc_number",
    "cited_title_differs",
    "cited_number_differs",
    "nonconforming_doc_number",
]


class FindingDocument(BaseModel):
    """A notice a finding is about."""

    id: str
    doc_number: str | None = None
    level: Level | None = None
    in_archive: bool = True


class Evidence(BaseModel):
    """What shows a finding: a sentence (or the printed element) of one notice, and its page."""

    document: str = Field(description="the node id")
    doc_number: str | None = None
    field: str | None = Field(default=None, description="the record's field path, e.g. deadlines[1], upstream[0]")
    page: int | None = None
    text: str


class Finding(BaseModel):
    code: FindingCode
    severity: Severity
    documents: list[FindingDocument] = Field(description="the notices concerned, upstream first")
    message: str = Field(description="one short sentence in Chinese, for the clerk")
    evidence: list[Evidence] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict, description="the facts behind the message, for programs")
