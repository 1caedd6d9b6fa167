"""Deadlines and duties in a notice's body (shared/domain.md §3).

A requirement is a sentence with an obligation cue or an action verb and a time
expression shaped like a deadline (`…前`, `截止…`, `…内`, a window, a recurrence),
or, with no date, a standing duty (`及时报送`). Each becomes a `Deadline` with the
action (报送什么 / 开展什么), its assignees (the recipients the sentence names, else
all of them), whom to report to, the form (电子版/纸质版/盖章) and the engine's
reading of the date. A 文号 or a date inside a cited 《title》 never becomes one.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel
from spacy.tokens import Doc, Span

from models import Deadline
from pipeline import nlp
from pipeline.agencies import expand_list
from pipeline.references import book_spans
from pipeline.when import Found

# Words that make a date a deadline: an inclusive last day, a limit, a window's end.
_DEADLINE_TAIL_RE = re.compile(r"^\s*(?:前|之前|以前|为止|止|内|以内|截止|底前)")
_DEADLINE_WORDS_RE = re.compile(r"前|之前|以前|为止|止|内|截止|截至|底")
# The cue before the time expression belongs to the requirement's text: `请于`, `务必在`.
_CUE_BEFORE_RE = re.compile(r"(?:请|务必|须|必须|应当|应|要|需|并|均|统一)?(?:于|在)?$")
_FORM_RE = re.compile(
    r"(?:以|按|用)?(?P<form>(?:电子版|电子文档|电子稿|纸质版|纸质材料|纸质|书面|word版|PDF版|扫描件)(?:(?:和|及|、)(?:电子版|电子文档|纸质版|纸质|书面|扫描件))*)(?:形式|方式)?"
    r"|(?P<seal>加盖公章|盖章)"
)
_ORG_TAIL = r"(?:办|局|厅|部|处|室|委|会|中心|科|组|站|院|单位|政府|系统|平台|邮箱)(?:（[^（）]*）)?"
_REPORT_RE = re.compile(
    r"(?:将(?P<obj1>[^，。；]+?))?(?:以[^，。；]{0,8}?形式)?"
    r"(?P<verb>报送至|报送|上报至|上报|报至|报给|报|提交至|提交|发送至|发送|送至|送|反馈至|反馈)"
    rf"(?:至|到|给)?(?P<to>[^，。；]*?{_ORG_TAIL})?(?P<obj2>[^，。；]*)"
)
_AT_LEAST_RE = re.compile(r"至少(?P<verb>开展|组织|举办|召开|完成)(?P<qty>[0-9一二三四五六七八九十两]+[项次场个期批])(?P<obj>[^，。；]+)")
_DO_RE = re.compile(r"(?P<verb>开展|组织|举办|召开|完成|建立|制定|部署|启动|提交|填报)(?P<obj>[^，。；]+)")
_CONNECTIVES_RE = re.compile(r"^(?:同时|并且|并|另外|此外|还要|还需|要|请|需|须|务必)")
_STANDING_RE = re.compile(r"及时|按时|定期|随时|第一时间")
_REPORT_VERB_RE = re.compile(r"报送|上报|报告|反馈|提交|报$|报备")
_FREQUENCY = {
    "YEARLY": "yearly",
    "MONTHLY": "monthly",
    "WEEKLY": "weekly",
    "DAILY": "daily",
}


class FoundDeadline(BaseModel):
    deadline: Deadline
    start: int
    end: int


class FoundDuty(BaseModel):
    text: str
    start: int
    end: int


def _recurring(rrule: str | None) -> str | None:
    if not rrule:
        return None
    parts = dict(p.split("=", 1) for p in rrule.split(";") if "=" in p)
    freq, interval = parts.get("FREQ"), parts.get("INTERVAL", "1")
    if freq == "MONTHLY" and interval == "6":
        return "half-yearly"
    if freq == "MONTHLY" and interval == "3":
        return "quarterly"
    return _FREQUENCY.get(freq or "")


def _recipient_surfaces(recipients: list[str]) -> list[str]:
    """The ways a recipient is written in running text: in full, or bare after its shared head."""
    surfaces = set(recipients)
    for r in recipients:
        m = re.match(r"^(各(?:县（市、区）|县\(市、区\)|[省市县区]))(.+)$", r)
        if m:
            surfaces.add(m.group(2))
    return sorted(surfaces, key=len, reverse=True)


def _subject(sentence: str, recipients: list[str]) -> tuple[list[str], int]:
    """The recipients a sentence opens with (`各市民政局、老龄办，省老龄委各成员单位每年要…`), and where they end."""
    surfaces = _recipient_surfaces(recipients)
    pos = 1 if sentence.startswith("请") else 0
    start = pos
    matched_end = pos
    while pos < len(sentence):
        hit = next((s for s in surfaces if sentence.startswith(s, pos)), None)
        if hit is None:
            break
        pos += len(hit)
        matched_end = pos
        sep = re.match(r"[，、,]|和|及|以及", sentence[pos:])
        if sep:
            pos += sep.end()
    if matched_end == start:
        return [], 0
    return expand_list(sentence[start:matched_end]), matched_end


def _forms(text: str) -> list[str]:
    forms: list[str] = []
    for m in _FORM_RE.finditer(text):
        if m.group("seal"):
            forms.append("盖章")
            continue
        for f in re.split(r"和|及|、", m.group("form")):
            f = {"纸质": "纸质版", "电子文档": "电子版", "电子稿": "电子版"}.get(f, f)
            if f not in forms:
                forms.append(f)
    return forms


def _action(after: str, topic: str) -> tuple[str | None, str | None]:
    """The action and whom to report to, from the words after the time expression."""
    after = after.lstrip("前之以内止，, ")
    m = _AT_LEAST_RE.search(after)
    if m:
        return f"{m.group('verb')}至少{m.group('qty')}{m.group('obj')}", None
    m = _REPORT_RE.search(after)
    if m:
        to = m.group("to")
        obj = (m.group("obj1") or "").strip() or (m.group("obj2") or "").strip() or topic
        obj = _FORM_RE.sub("", obj).strip("，, ")
        return (f"报送{obj}" if obj else "报送"), to
    m = _DO_RE.search(after)
    if m:
        return f"{m.group('verb')}{m.group('obj')}", None
    rest = after.strip("，。；, ")
    return (rest or None), None


def _is_deadline_shaped(found: Found, sentence: str, local_end: int) -> bool:
    kind = found.when.kind
    if kind == "recurring":
        return True
    if kind not in ("date", "range"):
        return False
    if "event" in " ".join(found.when.notes):
        return False
    return bool(_DEADLINE_WORDS_RE.search(found.phrase) or _DEADLINE_TAIL_RE.match(sentence[local_end:])) or kind == "range"


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in spans)


def _has_cue(sent: Span, labels: tuple[str, ...]) -> bool:
    doc = sent.doc
    return any(s.label_ in labels and s.start >= sent.start and s.end <= sent.end for s in doc.spans["cues"])


def _sentence_text(sent: Span) -> tuple[str, int]:
    """A sentence without its final punctuation, and its start offset."""
    text = sent.text
    lead = len(text) - len(text.lstrip())
    return text.strip().rstrip("。！？!?"), sent.start_char + lead


def extract(
    body: str,
    offset: int,
    recipients: list[str],
    *,
    issue_date: date | None,
    year_hint: int | None,
) -> tuple[list[FoundDeadline], list[FoundDuty]]:
    """Deadlines and standing duties in `body` (offsets are shifted by `offset`)."""
    doc: Doc = nlp.analyse(body, issue_date=issue_date, year_hint=year_hint)
    books = book_spans(body)
    readings: list[Found] = doc.user_data.get("time_readings", [])
    deadlines: list[FoundDeadline] = []
    duties: list[FoundDuty] = []
    for sent in doc.sents:
        text, s0 = _sentence_text(sent)
        in_sentence = [f for f in readings if s0 <= f.start and f.end <= s0 + len(text) and not _inside(books, f.start, f.end)]
        obliged = _has_cue(sent, ("OBLIGATION", "ACTION"))
        taken = False
        for found in in_sentence:
            local_start, local_end = found.start - s0, found.end - s0
            if not obliged or not _is_deadline_shaped(found, text, local_end):
                continue
            deadlines.append(_deadline(found, text, s0 + offset, local_start, local_end, recipients, sent))
            taken = True
            break  # one requirement per sentence: the rest of its dates qualify the same action
        if not taken:
            duties.extend(_standing_duties(text, s0 + offset))
    deadlines.sort(key=_reading_order)
    return deadlines, duties


def _reading_order(found: FoundDeadline) -> tuple[int, str]:
    """Dated requirements first, by date; then recurring duties; then the rest, each in text order."""
    d = found.deadline
    if d.date:
        return (0, d.date)
    return (1 if d.recurring else 2, f"{found.start:08d}")


def _deadline(
    found: Found,
    text: str,
    base: int,
    local_start: int,
    local_end: int,
    recipients: list[str],
    sent: Span,
) -> FoundDeadline:
    cue = _CUE_BEFORE_RE.search(text[:local_start])
    req_start = cue.start() if cue and cue.group(0) else local_start
    req_end = _requirement_end(text, local_end)
    requirement = text[req_start:req_end]
    assignees, subject_end = _subject(text, recipients)
    topic = text[subject_end:req_start].strip("，, ")
    topic = re.sub(r"^(?:的|对|关于|将)", "", topic)
    action, report_to = _action(text[local_end:req_end], topic)
    forms = _forms(requirement)
    if action and forms and action.startswith("报送"):
        action = f"{action}（{'、'.join(forms)}）"
    w = found.when
    deadline = Deadline(
        text=requirement,
        date=w.end if w.kind in ("date", "range") else None,
        start=w.start if w.kind == "range" else None,
        recurring=_recurring(w.rrule) if w.kind == "recurring" else None,
        rrule=w.rrule,
        action=action,
        assignees=assignees or list(recipients),
        report_to=report_to,
        form=forms,
        date_note="; ".join(w.notes) or None,
        confidence=w.confidence,
        sentence=text,
    )
    return FoundDeadline(deadline=deadline, start=base + req_start, end=base + req_end)


def _requirement_end(text: str, local_end: int) -> int:
    """A requirement runs to its sentence's end, or to `；` where a second one starts."""
    m = re.search(r"；", text[local_end:])
    return local_end + m.start() if m else len(text)


def _standing_duties(text: str, base: int) -> list[FoundDuty]:
    """`同时将有关信息及时通过市老龄办向…平台报送`: a duty with no date, as its clause."""
    out = []
    for m in re.finditer(r"[^，；,;]+", text):
        clause = m.group(0)
        if _STANDING_RE.search(clause) and _REPORT_VERB_RE.search(clause):
            cut = _CONNECTIVES_RE.match(clause)
            start = m.start() + (cut.end() if cut else 0)
            out.append(FoundDuty(text=text[start : m.end()], start=base + start, end=base + m.end()))
    return out
