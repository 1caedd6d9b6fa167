"""Pydantic v2 records that cross gongwen's stage boundaries.

Every stage takes and returns these records; nothing else crosses a boundary.
"""

from models.page import Box, Line, Page, PageSource
from models.text import Span, Text
from models.document import (
    Contact,
    Unsure,
    Deadline,
    DocNumber,
    Document,
    FileResult,
    Issue,
    Provenance,
    Routing,
    Upstream,
)
from models.when import When
from models.task import Task, TaskDocument
from models.chain import ChainLink, ChainNode, ChainReport, Delay, Evidence, Finding, FindingDocument, TreeEntry

__all__ = [
    "Box",
    "Contact",
    "Unsure",
    "Deadline",
    "DocNumber",
    "Document",
    "FileResult",
    "Issue",
    "Line",
    "Page",
    "PageSource",
    "Provenance",
    "Routing",
    "Span",
    "Text",
    "Upstream",
    "When",
]
