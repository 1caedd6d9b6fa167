"""Point a span of normalised text back at its page, its box and the raw characters printed there."""

from __future__ import annotations

from bisect import bisect_right

from models import Box, Page, Provenance, Span, Text


def _raw_line_index(text: Text, raw_index: int) -> int | None:
    starts = [rl.start for rl in text.raw_lines]
    i = bisect_right(starts, raw_index) - 1
    if i < 0 or raw_index > text.raw_lines[i].end:
        return None
    return i


def _raw_indices(text: Text, start: int, end: int) -> list[int]:
    return [o for o in text.origin[start:end] if o >= 0]


def locate(text: Text, pages: list[Page], start: int, end: int) -> Provenance:
    """Page, box and span of `text.text[start:end]`.

    The box is the union of the touched lines' boxes on the span's first page;
    on a line only partly covered, its horizontal extent is cut in proportion to
    the characters covered (Chinese type is monospaced, so this lands within a
    character or two).
    """
    span = Span(start=start, end=end)
    raws = _raw_indices(text, start, end)
    if not raws:
        return Provenance(span=span)
    by_page = {p.number: p for p in pages}
    first_line = _raw_line_index(text, raws[0])
    if first_line is None:
        return Provenance(span=span)
    page_no = text.raw_lines[first_line].page
    box: Box | None = None
    where: str | None = None
    touched: dict[int, list[int]] = {}
    for r in raws:
        li = _raw_line_index(text, r)
        if li is not None and text.raw_lines[li].page == page_no:
            touched.setdefault(li, []).append(r)
    for li, indices in touched.items():
        rl = text.raw_lines[li]
        line = by_page[rl.page].lines[rl.line] if rl.page in by_page else None
        if line is not None and where is None:
            where = line.where
        if line is None or line.box is None:
            continue
        part = _part_of_line(line.box, rl.end - rl.start, min(indices) - rl.start, max(indices) - rl.start + 1)
        box = part if box is None else box.union(part)
    return Provenance(page=page_no, box=box, span=span, where=where)


def _part_of_line(box: Box, length: int, a: int, b: int) -> Box:
    if length <= 0:
        return box
    width = box.x1 - box.x0
    return Box(x0=box.x0 + width * a / length, y0=box.y0, x1=box.x0 + width * b / length, y1=box.y1)


def page_of(text: Text, index: int) -> int | None:
    """The page the normalised character at `index` was read from."""
    for o in text.origin[index:]:
        if o >= 0:
            li = _raw_line_index(text, o)
            return text.raw_lines[li].page if li is not None else None
    return None


def printed(text: Text, start: int, end: int) -> str:
    """A span as printed: its characters as repaired (look-alike brackets, digits), with the
    spaces the raw text had between them, and without line breaks or whatever normalisation
    dropped in between (a watermark)."""
    pairs = [(text.text[i], o) for i, o in zip(range(start, end), text.origin[start:end]) if o >= 0]
    if not pairs:
        return text.text[start:end]
    out = [pairs[0][0]]
    for (_, prev), (ch, cur) in zip(pairs, pairs[1:]):
        gap = text.raw[prev + 1 : cur]
        if gap and gap.strip(" ") == "" and ch != " ":
            out.append(gap)
        out.append(ch)
    return "".join(out)
