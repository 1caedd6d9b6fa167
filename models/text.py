"""Normalised text with a map back to the raw text the engine produced."""

from pydantic import BaseModel, Field


class Span(BaseModel):
    """A half-open character range [start, end) in the normalised text of a file."""

    start: int
    end: int


class RawLine(BaseModel):
    """Where one raw line sits: its range in `Text.raw`, its page and its index on that page."""

    start: int
    end: int
    page: int
    line: int


class Text(BaseModel):
    """The normalised text of a whole input file.

    `raw` is every page's lines joined with "\\n", pages joined with "\\f".
    `text` holds one paragraph or header element a line, joined with "\\n"; a paragraph may
    run across a page break, so a span's page comes from its raw characters
    (`pipeline.text.provenance.page_of`), not from the text.
    `origin[i]` is the index in `raw` of the character that became `text[i]` (a space that
    joins two lines of joint issuers points at the raw newline it stands for), or -1 for the
    newlines that join paragraphs.
    """

    raw: str
    text: str
    origin: list[int]
    raw_lines: list[RawLine] = Field(default_factory=list)
