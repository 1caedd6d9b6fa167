"""Cut run-on lines at the elements they hold, so that each finder sees one element a line.

Pages flatten a notice in several ways: a metadata block run into one line with bullets
(`•【制定机关】…•【字号】…正文…`), the title with its 文号 in brackets and the 主送 glued to
it, the 主送 glued to the first sentence (`…各处室:现将…`), or the whole notice on one line
(`…附件:1.…2.…2022年4月14日责任编辑:…`). The pieces keep their spans in the normalised
text, so provenance is unchanged.
"""

from __future__ import annotations

import re

from pipeline.parsing.agencies import looks_like_recipients, split_top_level
from pipeline.parsing.docnumber import DOCNUMBER_RE
from pipeline.parsing.metadata import BRACKETED_LABEL_RE
from pipeline.text.split import TextLine

# A title's 文号 in brackets with more text after it: `…的通知（渝国税发〔2014〕44号）各区县…`.
_TITLE_NUMBER_RE = re.compile(r"(?:通知|函|意见|决定|批复|通报|公告|通告|报告|请示)\s*[（(][^（()）]*?号[）)]")
# Elements that open inside a flattened line: the 附件说明 (not `见附件`), a contact block.
_INNER_START_RE = re.compile(r"(?<![见如按和及与并详])(?=附件\s*[：:])|(?<=[，,。；;])(?=联系人\s*[：:])")
# A signed date ending a flattened line, or followed by the site's editor stamp.
_TAIL_DATE_RE = re.compile(r"(?<=[^\d年月日])(?=\d{4}年\d{1,2}月\d{1,2}日(?:$|责任编辑|编辑|来源|作者))")
_TAIL_STAMP_RE = re.compile(r"(?<=日)(?=(?:责任编辑|编辑|来源|作者)[：:])")
_LONG = 80


def _cuts(text: str) -> list[int]:
    cuts: set[int] = set()
    labels = list(BRACKETED_LABEL_RE.finditer(text))
    if len(labels) >= 2:
        for m in labels:
            at = m.start()
            while at > 0 and text[at - 1] in "•·":
                at -= 1
            cuts.add(at)
        body = text.find("正文", labels[-1].end())
        if body >= 0:
            cuts.update((body, body + 2))
    for m in _TITLE_NUMBER_RE.finditer(text):
        if m.end() < len(text):
            cuts.add(m.end())
    lead = DOCNUMBER_RE.match(text)
    if lead and looks_like_recipients(text[lead.end() :].strip()):
        cuts.add(lead.end())  # `晋民函〔2024〕7号各县（市、区）民政局：`: the 文号 glued to the 主送
    if len(text) > _LONG:
        cuts.update(m.start() for m in _INNER_START_RE.finditer(text))
        cuts.update(m.start() for m in _TAIL_DATE_RE.finditer(text))
        cuts.update(m.start() for m in _TAIL_STAMP_RE.finditer(text))
        cuts.update(_attachment_items(text))
    return sorted(c for c in cuts if 0 < c < len(text))


def _attachment_items(text: str) -> list[int]:
    """Inside a flattened `附件：1.…2.…3.…`, where items 2, 3, … start (numbered in sequence)."""
    m = re.search(r"附件\s*[：:]\s*1\s*[.．、]", text)
    if not m:
        return []
    cuts, n, pos = [], 2, m.end()
    while True:
        nxt = re.compile(rf"(?<=[^\d.．]){n}\s*[.．、](?=\D)").search(text, pos)
        if not nxt:
            return cuts
        cuts.append(nxt.start())
        n, pos = n + 1, nxt.end()


def _glued_recipients(text: str) -> int | None:
    """`各省辖市…，机关各处室:现将…`: where the sentence after a 主送 starts."""
    for item, _ in split_top_level(text, "：:"):
        at = text.find(item) + len(item)
        if at < len(text) and text[at] in "：:" and at + 1 < len(text) and looks_like_recipients(text[: at + 1]):
            return at + 1
        return None
    return None


def segment_lines(lines: list[TextLine]) -> list[TextLine]:
    """The lines with run-on ones cut into their elements; the first glued 主送 is cut from its sentence."""
    out: list[TextLine] = []
    glued_done = False
    for ln in lines:
        pieces = [ln]
        cuts = _cuts(ln.text)
        if cuts:
            bounds = [0, *cuts, len(ln.text)]
            pieces = [_piece(ln, a, b) for a, b in zip(bounds, bounds[1:])]
        for piece in pieces:
            at = None if glued_done else _glued_recipients(piece.text)
            if at is not None:
                glued_done = True
                out.extend([_piece(piece, 0, at), _piece(piece, at, len(piece.text))])
            else:
                out.append(piece)
            if looks_like_recipients(piece.text.strip()):
                glued_done = True
    return [p for p in out if p.text.strip()]


def _piece(ln: TextLine, a: int, b: int) -> TextLine:
    text = ln.text[a:b]
    lead = len(text) - len(text.lstrip())
    text = text.strip()
    return TextLine(start=ln.start + a + lead, end=ln.start + a + lead + len(text), text=text)

