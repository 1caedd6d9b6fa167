"""One parsed notice, in the shape of shared/seeds/*.expected.json, with provenance beside the values.

Values stay plain strings, numbers and lists so that a record compares directly
with a hand-made label; where each value came from sits in `provenance`, keyed by
the field's path (`doc_number`, `recipients[1]`, `deadlines[0]`, ...).
"""

from typing import Literal

from pydantic import BaseModel, Field

from models.page import Box
from models.text import Span

Level = Literal["state", "ministry", "province", "city", "county"]
Relation = Literal["forwards", "attaches", "cites"]
Severity = Literal["info", "warning", "error"]


class Provenance(BaseModel):
    """Where a value was read: page (1-based), box on that page, span in the file's normalised text."""

    page: int | None = None
    box: Box | None = None
    span: Span
    where: str | None = Field(default=None, description="paragraph or table cell (Word), element (HTML): models.Line.where")


class Routing(BaseModel):
    """How a document reached the clerk (收文): the e-mail that carried it."""

    sender: str | None = Field(default=None, description="the From header, decoded")
    received: str | None = Field(default=None, description="ISO date-time the mail was sent or received")
    subject: str | None = None
    attachment: str | None = Field(default=None, description="the part's file name; None for the mail's own body")
    message_id: str | None = None
    via: list[str] = Field(default_factory=list, description="subjects of the messages it was forwarded inside, outermost first")


class Issue(BaseModel):
    """A problem found while reading a file or a document: data, not an exception."""

    code: str = Field(description="stable machine-readable code, e.g. 'doc_number.nonconforming'")
    message: str
    severity: Severity = "warning"
    page: int | None = None


class DocNumber(BaseModel):
    agency_code: str
    year: int
    serial: int


class Unsure(BaseModel):
    """A phone or address OCR read that no check could confirm: shown for review, never as certain."""

    field: Literal["phones", "emails"]
    value: str = Field(description="the best reading")
    readings: list[str] = Field(default_factory=list, description="what each recogniser read")
    confidence: float
    reason: str


class Contact(BaseModel):
    name: str | None = None
    org: str | None = None
    phones: list[str] = Field(default_factory=list, description="every number as printed, faxes included")
    emails: list[str] = Field(default_factory=list, description="addresses as sent to (`name(at)163。com` → name@163.com)")
    fax: list[str] = Field(default_factory=list, description="which of the phones are faxes")
    address: str | None = None
    postcode: str | None = None
    printed: dict[str, str] = Field(default_factory=dict, description="an address → its printed form, where they differ")
    dial: dict[str, str] = Field(
        default_factory=dict, description="a bare local number → with the area code of the number before it"
    )
    uncertain: list[Unsure] = Field(default_factory=list, description="OCR readings left out of phones/emails")


class Deadline(BaseModel):
    """A dated, recurring or undated requirement the recipients must meet."""

    text: str = Field(description="the requirement as printed (raw characters of its span)")
    date: str | None = Field(default=None, description="ISO last day (inclusive) or due datetime")
    start: str | None = Field(default=None, description="first day, for a window")
    recurring: str | None = Field(default=None, description="yearly / half-yearly / quarterly / monthly / weekly")
    rrule: str | None = None
    rdates: list[str] = Field(
        default_factory=list, description="due days no RRULE holds (每年春节前: a lunar festival), ISO"
    )
    offset_workdays: int | None = Field(
        default=None,
        description="due this many working days before each occurrence (negative: after it; 0: the last working "
        "day on or before it)",
    )
    action: str | None = None
    assignees: list[str] = Field(default_factory=list)
    report_to: str | None = None
    form: list[str] = Field(default_factory=list, description="电子版 / 纸质版 / 盖章 ...")
    date_note: str | None = None
    confidence: float | None = None
    sentence: str | None = Field(default=None, description="the whole normalised sentence it came from")
    page: int | None = None


class Upstream(BaseModel):
    relation: Relation
    doc_number: str | None = None
    title: str | None = None
    issuer: str | None = None


class Document(BaseModel):
    issuer_mark: str | None = None
    issuers: list[str] = Field(default_factory=list)
    level: Level | None = None
    doc_number: str | None = None
    doc_number_parts: DocNumber | None = None
    doc_number_printed: str | None = Field(default=None, description="the 文号 exactly as read, before repair")
    doc_number_conforming: bool | None = None
    doc_type: str | None = None
    title: str | None = None
    recipients: list[str] = Field(default_factory=list)
    issue_date: str | None = None
    attachments: list[str] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    printed_by: str | None = None
    printed_date: str | None = None
    copy_number: str | None = None
    secrecy: str | None = None
    urgency: str | None = None
    signers: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="附注 in parentheses, e.g. （此件公开发布）")
    deadlines: list[Deadline] = Field(default_factory=list)
    ongoing_duties: list[str] = Field(default_factory=list)
    upstream: list[Upstream] = Field(default_factory=list)
    pages: list[int] = Field(default_factory=list)
    span: Span | None = Field(default=None, description="the document's range in the file's normalised text")
    provenance: dict[str, Provenance] = Field(default_factory=dict)
    problems: list[Issue] = Field(default_factory=list)
    metadata: dict[str, str] = Field(default_factory=dict, description="what the file states about itself (models.Page.metadata)")
    routing: Routing | None = Field(default=None, description="the e-mail it arrived in, if any")


FileStatus = Literal["done", "partial", "needs_review", "rejected"]


class FileResult(BaseModel):
    """What `gongwen parse FILE` prints: the documents found in one file."""

    file: str
    kind: str = Field(description="what the bytes are: pdf, pdf-text, png, jpeg, tiff, text")
    status: FileStatus = "done"
    engine: str | None = None
    parser_version: str
    documents: list[Document] = Field(default_factory=list)
    problems: list[Issue] = Field(default_factory=list)
