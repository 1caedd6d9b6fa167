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
    `origin[i]` is the index in `raw` of the character that became `text[i]`,
    or -1 for a character normalisation inserted (none today, but the map allows it).
    Pages stay separated by "\\f" in `text` too, so a span always knows its page.
    """

    raw: str
    text: str
    origin: list[int]
    raw_lines: list[RawLine] = Field(default_factory=list)
