"""Normalise OCR text: clean each line (`clean`), then reflow lines into paragraphs (`reflow`).

Every edit is a deletion or a one-for-one character swap, so each character of
the normalised text keeps the index of the raw character it came from
(`Text.origin`); a joint between two raw lines keeps the raw newline's index
when it becomes a space. That map is what lets every extracted value point back
to its page and box.

What phone scans do to the text (shared/domain.md §5, shared/ocr-notes.md):
- tesseract's chi_sim puts a space into about 1% of the gaps between Chinese
  characters, and around digits (`请于 11 月 20 日前`);
- the CamScanner watermark (`CS 扫描全能王`, `3亿人都在用的扫描App`) is read as text,
  even in the middle of a sentence;
- lines break inside words, paragraphs cross pages;
- look-alikes: `0`→`O`, `1`→`l` inside numbers; ASCII `:` `,` `;` `(` `)` for the
  full-width forms the standard prints.
"""

from __future__ import annotations

from models import Page, Text
from models.text import RawLine
from pipeline.text.clean import Line, clean_line, pair_brackets, repair_ocr_lookalikes
from pipeline.text.reflow import reflow


def raw_text(pages: list[Page]) -> tuple[str, list[RawLine]]:
    """All pages' raw text (lines joined by newlines, pages by form feeds) and where each line sits."""
    parts: list[str] = []
    raw_lines: list[RawLine] = []
    pos = 0
    for p_index, page in enumerate(pages):
        if p_index:
            parts.append("\f")
            pos += 1
        for l_index, line in enumerate(page.lines):
            if l_index:
                parts.append("\n")
                pos += 1
            raw_lines.append(RawLine(start=pos, end=pos + len(line.text), page=page.number, line=l_index))
            parts.append(line.text)
            pos += len(line.text)
    return "".join(parts), raw_lines


def normalise(pages: list[Page]) -> Text:
    """The normalised text of a file's pages: one paragraph or header element a line."""
    raw, raw_lines = raw_text(pages)
    lines: list[Line] = []
    for rl in raw_lines:
        page = next(p for p in pages if p.number == rl.page)
        src = page.lines[rl.line]
        # A raw line may itself hold several lines (text files keep their own newlines inside one Page line).
        line = Line(
            chars=list(raw[rl.start : rl.end]),
            origin=list(range(rl.start, rl.end)),
            page=rl.page,
            box=src.box,
            head=src.box,
            newline_index=rl.end,
        )
        clean_line(line, ocr=page.source == "ocr")
        if page.source == "ocr":
            repair_ocr_lookalikes(line)
        lines.append(line)
    paragraphs = reflow(lines)
    for para in paragraphs:
        pair_brackets(para)
    chars: list[str] = []
    origin: list[int] = []
    for i, para in enumerate(paragraphs):
        if i:
            chars.append("\n")
            origin.append(-1)
        chars.extend(para.chars)
        origin.extend(para.origin)
    return Text(raw=raw, text="".join(chars), origin=origin, raw_lines=raw_lines)
