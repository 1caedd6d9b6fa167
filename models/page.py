"""A page as read: lines of text with their boxes, before any normalisation."""

from typing import Literal

from pydantic import BaseModel, Field

PageSource = Literal["ocr", "text-layer", "text", "word", "ofd", "html"]


class Box(BaseModel):
    """An axis-aligned box in the page's own pixel space (origin top left).

    For OCR pages that is the image as OCR'd (after any rotation fix); for
    text-layer pages it is PDF points scaled to 72 dpi pixels; for OFD pages the
    page's millimetres scaled to 72 dpi pixels too.
    """

    x0: float
    y0: float
    x1: float
    y1: float

    def union(self, other: "Box") -> "Box":
        return Box(
            x0=min(self.x0, other.x0),
            y0=min(self.y0, other.y0),
            x1=max(self.x1, other.x1),
            y1=max(self.y1, other.y1),
        )


class Line(BaseModel):
    """One physical line of text as the engine returned it."""

    text: str
    box: Box | None = None
    conf: float | None = Field(default=None, description="0..100, the engine's mean confidence")
    where: str | None = Field(
        default=None,
        description="where in a file without pages the line sits: 'paragraph 3', 'table 1 row 1 cell 2', "
        "'header', 'text box 1' (Word), an element's XPath (HTML)",
    )


class LatinCheck(BaseModel):
    """An e-mail or web address OCR read, read again by a Latin recogniser and reconciled."""

    line: int = Field(description="index of the line in the page's lines")
    read: str = Field(description="the page engine's reading")
    reread: str | None = Field(default=None, description="what the Latin recogniser read on the address's crop")
    value: str = Field(description="the reconciled address, now in the line's text")
    certain: bool
    reason: str | None = None


class Page(BaseModel):
    """One page of an input file, read by OCR, from a PDF text layer, or from a text file."""

    number: int = Field(description="1-based page number in the input file")
    source: PageSource
    engine: str | None = Field(default=None, description="OCR engine name and version, for OCR pages")
    width: float | None = None
    height: float | None = None
    dpi: float | None = None
    rotation: int = Field(default=0, description="clockwise degrees applied to make the page upright")
    lines: list[Line] = Field(default_factory=list)
    seconds: float | None = Field(default=None, description="time spent reading this page")
    warnings: list[str] = Field(default_factory=list)
    latin: list[LatinCheck] = Field(default_factory=list, description="addresses read twice (pipeline.reading.latin)")
    metadata: dict[str, str] = Field(
        default_factory=dict,
        description="fields the file states about itself: a government page's 政府信息公开 block "
        "(索引号, 发布机构, 发文字号, 成文日期, 主题分类), an OFD's DocInfo, a Word file's core properties",
    )

    @property
    def raw_text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def mean_conf(self) -> float | None:
        confs = [line.conf for line in self.lines if line.conf is not None]
        return sum(confs) / len(confs) if confs else None
