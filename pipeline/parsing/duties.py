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
from pipeline.parsing import nlp
from pipeline.parsing.agencies import HEAD_RE, ORG_ENDINGS, addressees
from pipeline.parsing.references import book_spans, clause_spans
from pipeline.when import Found, recurrence_label

# Words that make a date a deadline: an inclusive last day, a limit, a window's end.
# A date right before its report verb is the day it is due: `5月5日上报第一期`.
_DEADLINE_TAIL_RE = re.compile(r"^\s*(?:前|之前|以前|为止|止|内|以内|截止|底前|上报|报送|提交|报至)")
# A window in brackets describes what is reported (`（2016年7月至11月）的活动…于7月15日前报送`), not when.
_BRACKETS_RE = re.compile(r"（[^（）]*）|\([^()]*\)")
_DEADLINE_WORDS_RE = re.compile(r"前|之前|以前|为止|止|内|截止|截至|底")
_WINDOW_RE = re.compile(r"至|到|[-—～~]|起")
# The cue before the time expression opens the requirement's text: `请于`, `请务必于`, `于`.
_CUE_BEFORE_RE = re.compile(r"(?:请务必|请|务必)?于?$")

_FORM_WORDS = r"电子版|电子文档|电子稿|纸质版|纸质材料|纸质|书面材料|扫描件"
_FORM_RE = re.compile(rf"(?P<form>{_FORM_WORDS})|(?P<seal>加盖(?:单位)?公章|盖章)")
_FORM_NAMES = {"纸质": "纸质版", "纸质材料": "纸质版", "电子文档": "电子版", "电子稿": "电子版", "书面材料": "书面"}
# `以电子版形式`, `和电子版`, `电子版和纸质版各一份`: forms said outside the object.
_FORM_PHRASE_RE = re.compile(rf"以(?:{_FORM_WORDS})(?:(?:和|及|、)(?:{_FORM_WORDS}))*(?:形式|方式)|(?:和|及)(?:{_FORM_WORDS})$")
# A parenthetical after the object that says how to send it: `（纸质版加盖公章）`.
_FORM_NOTE_RE = re.compile(rf"（(?P<note>[^（）]*(?:{_FORM_WORDS}|公章)[^（）]*)）")
_SEE_ATTACHMENT_RE = re.compile(r"（(?:见|详见)?附件\s*\d*）")
_MEANS_RE = re.compile(r"通过[^，。；]*?(?:平台|系统|网站|邮箱|小程序)")

# Whom to report to: an agency, or a unit, platform or mailbox, with its bracketed office.
_ORG_TAIL = rf"(?:{ORG_ENDINGS}|单位|政府|系统|平台|邮箱)(?:（[^（）]*）)?"
_REPORT_VERB = r"报送至|报送|上报至|上报|报至|报给|报(?![告名表道])|提交至|提交|反馈至|反馈|填报|报备"
# `将X报送ORG…`: the object before the verb, the office after it. The object is greedy so the
# verb found is the last one (`将自评报告报送…`: 报告 is part of the object).
_SEND_RE = re.compile(rf"^(?:.*?将|.*?把)(?P<obj>.+)(?P<verb>{_REPORT_VERB})(?:至|到|给)?(?P<to>.*{_ORG_TAIL})?(?P<rest>.*)$")
# `报送ORG`, `报送X`: no object before the verb.
_REPORT_RE = re.compile(rf"^(?P<pre>.*?)(?P<verb>{_REPORT_VERB})(?:至|到|给)?(?P<to>.*{_ORG_TAIL})?(?P<rest>.*)$")
# Verbs that make a clause an action of its own even when a report verb follows.
_DOING_RE = re.compile(r"组织|开展|完成|制定|建立|召开|举办|实现|落实|推动")
_AT_LEAST_RE = re.compile(r"至少(?P<verb>[^0-9一二三四五六七八九十两，。；]{1,8}?)(?P<qty>[0-9一二三四五六七八九十两]+[项次场个期批所家])(?P<obj>.+)")
_VERB_NAMES = {"报": "报送", "报至": "报送", "报给": "报送", "报送至": "报送", "上报": "报送", "上报至": "报送", "提交至": "提交", "反馈至": "反馈"}
# Adverbs that sit between an object and its verb: `…情况汇总报送`, `分别将…`.
_OBJ_TRIM_START_RE = re.compile(r"^(?:分别|统一|及时|按时|一并|均)")
_OBJ_TRIM_END_RE = re.compile(r"(?:汇总|统一|一并|及时|按时|分别)$")
_LEADING_FILLER_RE = re.compile(r"^[前之以内止，,\s]+")
_CONNECTIVES_RE = re.compile(r"^(?:同时|并且|并|另外|此外|还要|还需|要|请|需|须|务必)")
_STANDING_RE = re.compile(r"及时|按时|定期|随时|第一时间")
_REPORT_WORD_RE = re.compile(r"报送|上报|报告|反馈|提交|报$|报备")


class FoundDeadline(BaseModel):
    deadline: Deadline
    start: int
    end: int


class FoundDuty(BaseModel):
    text: str
    start: int
    end: int


def _recipient_surfaces(recipients: list[str]) -> list[str]:
    """The ways a recipient is written in running text: in full, or bare after its shared head."""
    surfaces = set(recipients)
    for r in recipients:
        if r.startswith("各省"):  # given as its kinds (`addressees`), written as the group in the text
            surfaces.update(group + r[2:] for group in ("各省、自治区、直辖市", "各省、自治区"))
        m = HEAD_RE.match(r)
        if m and m.group(1) and m.end() < len(r):
            surfaces.add(r[m.end() :])
    return sorted(surfaces, key=len, reverse=True)


_HEADING_NUMBER_RE = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、])")


def _subject(sentence: str, recipients: list[str]) -> tuple[list[str], int]:
    """The recipients a sentence opens with (`各市民政局、老龄办，省老龄委各成员单位每年要…`), and where they end."""
    surfaces = _recipient_surfaces(recipients)
    heading = _HEADING_NUMBER_RE.match(sentence)
    pos = heading.end() if heading else 0
    pos += 1 if sentence.startswith("请", pos) else 0
    matched_end = pos
    listed = []  # the subject as a list, separators normalised so shared heads expand
    while pos < len(sentence):
        hit = next((s for s in surfaces if sentence.startswith(s, pos)), None)
        if hit is None:
            break
        listed.append(hit)
        pos += len(hit)
        matched_end = pos
        sep = re.match(r"[，、,]|以及|和|及", sentence[pos:])
        if sep:
            listed.append("，" if sep.group(0) in "，," else "、")
            pos += sep.end()
    if not listed:
        return [], 0
    if listed[-1] in "，、":
        listed.pop()
    return addressees("".join(listed)), matched_end


def _forms(text: str) -> list[str]:
    """电子版 / 纸质版 / 盖章 …, in the order the text names them."""
    forms: list[str] = []
    for m in _FORM_RE.finditer(text):
        form = "盖章" if m.group("seal") else _FORM_NAMES.get(m.group("form"), m.group("form"))
        if form not in forms:
            forms.append(form)
    return forms


def _clauses(text: str) -> list[str]:
    """Top-level clauses, split at `，` `；` outside brackets and quotes."""
    return [text[a:b] for a, b in clause_spans(text)]


def _clean_object(obj: str) -> tuple[str, list[str]]:
    """The object of an action as a clerk writes it in a register, and the form notes it carried.

    Cross-references and means are dropped (`（见附件2）`, `通过…平台`); a form note in
    brackets is set apart, to be merged with forms said elsewhere in the sentence.
    """
    obj = _SEE_ATTACHMENT_RE.sub("", obj)
    obj = _MEANS_RE.sub("", obj)
    notes = []
    for m in _FORM_NOTE_RE.finditer(obj):
        notes.extend(p for p in (_CONNECTIVES_RE.sub("", part).removeprefix("报送") for part in re.split(r"[，,]", m.group("note"))) if p)
    obj = _FORM_NOTE_RE.sub("", obj)
    extra = _FORM_PHRASE_RE.search(obj)
    if extra:
        obj = obj[: extra.start()] + obj[extra.end() :]
    obj = _OBJ_TRIM_END_RE.sub("", _OBJ_TRIM_START_RE.sub("", obj.strip())).strip()
    return obj, notes


def _form_suffix(notes: list[str], forms: list[str]) -> str:
    """`（纸质版加盖公章、电子版）`: the printed note first, then forms it does not already say."""
    parts = list(notes)
    for form in forms:
        if form == "盖章" or any(form in p for p in parts):
            continue
        parts.append(form)
    return f"（{'、'.join(parts)}）" if parts else ""


def _office(to: str | None, rest: str) -> str | None:
    """The office reported to, with its bracketed unit closed: `省老龄办（省民政厅老龄工作处）`."""
    if not to:
        return None
    to = to.strip()
    if to.count("（") > to.count("）") and rest.startswith("）"):
        to += "）"
    return to or None


def _report_action(clause: str, topic: str, forms: list[str]) -> tuple[str, str | None] | None:
    m = _SEND_RE.match(clause) or _REPORT_RE.match(clause)
    if not m or ("pre" in m.groupdict() and _DOING_RE.search(m.group("pre"))):
        return None  # `组织…在线填报意见建议`: the report is part of a larger action
    verb = _VERB_NAMES.get(m.group("verb"), m.group("verb"))
    to = _office(m.group("to"), m.group("rest"))
    obj = m.groupdict().get("obj") or ""
    if not obj and to is None:
        obj = m.group("rest").strip()  # `报送工作总结`: what follows the verb is the object
    obj, notes = _clean_object(obj or topic)
    if obj and _FORM_PHRASE_RE.fullmatch(obj):
        obj = topic
    return f"{verb}{obj}{_form_suffix(notes, forms if verb in ('报送', '提交', '反馈') else [])}", to


def _action(after: str, topic: str, forms: list[str]) -> tuple[str | None, str | None]:
    """The action and whom to report to, from the words after the time expression.

    The first clause that says what to do gives the action; a report clause after it
    (`制定本地实施方案，报市民政局、市财政局备案`) adds `并报备案` and the office.
    """
    clauses = [c for c in (_LEADING_FILLER_RE.sub("", c) for c in _clauses(after)) if c]
    if not clauses:
        return None, None
    first = clauses[0]
    m = _AT_LEAST_RE.search(first)
    if m:
        return f"{m.group('verb')}至少{m.group('qty')}{m.group('obj')}", None
    reported = _report_action(first, topic, forms)
    if reported:
        return reported
    action = _clean_object(first)[0]
    for later in clauses[1:]:
        m = _REPORT_RE.match(later)
        if m and not m.group("pre"):
            rest = (m.group("rest") or "").strip()
            return f"{action}并{m.group('verb')}{rest.lstrip('）')}", _office(m.group("to"), rest)
    return action or None, None


def _is_deadline_shaped(found: Found, sentence: str, local_end: int) -> bool:
    kind = found.when.kind
    if kind == "recurring":
        return True
    if kind not in ("date", "range"):
        return False
    if "event" in " ".join(found.when.notes):
        return False
    if kind == "range":
        # A window (`10月9日至10月15日`), not a named period (`国庆节` is a range too).
        return bool(_WINDOW_RE.search(found.phrase))
    return bool(
        _DEADLINE_WORDS_RE.search(found.phrase)
        or _DEADLINE_TAIL_RE.match(sentence[local_end:])
        or _ASSIGNEE_ACTS_RE.match(sentence[local_end:])
    )


# A date followed at once by the recipients who must act and the act, as schedules list them
# (`6月5日—15日各系（部）预订教材`, `7月16、17日各单位领取证书`): the date is when they do it.
_ASSIGNEE_ACTS_RE = re.compile(r"^\s*各[\u4e00-\u9fff]{1,10}?(?:[（(][^（）()]{1,8}[）)])?(?:要|须|应)?(?:领取|报送|上报|提交|报名|预订|完成|填报|交|报)")


# What joins the dates of one requirement: 5月底和8月底前, 6月15日、9月15日前, 7月16、17日
_LIST_JOIN_RE = re.compile(r"\s*(?:之前|以前|前)?\s*(?:以及|、|和|及|与|或|，|,)\s*")


def _listed(text: str, before: Found, after: Found, s0: int) -> bool:
    """Whether two readings are items of one list of dates (only a joiner between them)."""
    return bool(_LIST_JOIN_RE.fullmatch(text, before.end - s0, after.start - s0))


def _shaped_with_lists(readings: list[Found], text: str, s0: int) -> list[bool]:
    """Deadline-shaped readings; an item of a list is shaped when the list's last item is
    (`6月15日、9月15日前`: the 前 after the last date holds for every date)."""
    shaped = [_is_deadline_shaped(f, text, f.end - s0) for f in readings]
    for k in range(len(readings) - 2, -1, -1):
        dated = readings[k].when.kind == "date"
        if not shaped[k] and dated and shaped[k + 1] and _listed(text, readings[k], readings[k + 1], s0):
            shaped[k] = True
    return shaped


# `，请` opens the recipients' own requirement inside a longer sentence.
_REQUEST_RE = re.compile(r"[，；,;]\s*请")


def _superseded_by_request(readings: list[Found], shaped: list[bool], text: str, s0: int) -> list[bool]:
    """A date stated before `，请…` is context when the request gives its own date: a forwarding
    level quotes the upstream's deadline and sets its recipients an earlier one (`省厅规定截止
    时间为11月7日，请各县（市、区）在11月6日前…`); only the request's date is theirs.  A date
    before the request's is a requirement of its own and stays."""
    cuts = [m.start() for m in _REQUEST_RE.finditer(text)]
    if not cuts:
        return shaped
    out = list(shaped)
    for k, found in enumerate(readings):
        local = found.end - s0
        later = [c for c in cuts if c >= local]
        if not later:
            continue
        ends = [f.when.end for f in readings if f.start - s0 > later[0] and f.when.end and f.when.kind == "date"]
        mine = found.when.end
        if ends and mine and min(ends)[:10] <= mine[:10] and "请" not in text[: found.start - s0].split("，")[-1]:
            out[k] = False  # the upstream's later date; two dates of two requests are both kept
    return out


def _next_day(before: Found, after: Found) -> bool:
    """Two dates of a list that are consecutive days, neither with a deadline word."""
    a, b = before.when, after.when
    if a.kind != "date" or b.kind != "date" or not a.end or not b.end or a.start or b.start:
        return False
    if _DEADLINE_WORDS_RE.search(before.phrase + after.phrase):
        return False
    return (date.fromisoformat(b.end[:10]) - date.fromisoformat(a.end[:10])).days == 1


def _another_date(first: FoundDeadline, found: Found, *, start: str | None = None) -> FoundDeadline:
    """The same requirement due on another date of its list (or, with `start`, a window to it)."""
    w = found.when
    deadline = first.deadline.model_copy(
        update={
            "date": w.end if w.kind in ("date", "range") else None,
            "start": start or (w.start if w.kind == "range" else None),
            "date_note": "; ".join(w.notes) or None,
            "confidence": w.confidence,
        }
    )
    return first.model_copy(update={"deadline": deadline})


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
        brackets = [(s0 + m.start(), s0 + m.end()) for m in _BRACKETS_RE.finditer(text)]
        in_sentence = [
            f for f in readings
            if s0 <= f.start and f.end <= s0 + len(text) and not _inside(books, f.start, f.end)
            and not (f.when.kind == "range" and _inside(brackets, f.start, f.end))
        ]  # fmt: skip
        obliged = _has_cue(sent, ("OBLIGATION", "ACTION"))
        taken = False
        covered_to = -1  # a sentence may hold several requirements (`…报送A，于12月20日前将B报送…`)
        shaped = _shaped_with_lists(in_sentence, text, s0)
        shaped = _superseded_by_request(in_sentence, shaped, text, s0)
        previous: tuple[Found, FoundDeadline] | None = None
        for found, is_shaped in zip(in_sentence, shaped, strict=True):
            local_start, local_end = found.start - s0, found.end - s0
            if previous is not None and is_shaped and _listed(text, previous[0], found, s0):
                if _next_day(previous[0], found) and deadlines and deadlines[-1] is previous[1]:
                    # 7月16、17日各系领取: two days running with no 前 are one window, due on the last
                    deadlines[-1] = _another_date(previous[1], found, start=previous[0].when.end)
                    previous = (found, deadlines[-1])
                    continue
                # 分别于5月底和8月底前报送: one requirement, a task per date (each its own reminder)
                deadlines.append(_another_date(previous[1], found))
                previous = (found, previous[1])
                continue
            if local_start < covered_to or not obliged or not is_shaped:
                continue
            fd = _deadline(found, text, s0 + offset, local_start, local_end, recipients)
            deadlines.append(fd)
            previous = (found, fd)
            covered_to = fd.end - (s0 + offset)
            taken = True
        if not taken:
            duties.extend(_standing_duties(text, s0 + offset))
    return deadlines, duties


def _deadline(
    found: Found,
    text: str,
    base: int,
    local_start: int,
    local_end: int,
    recipients: list[str],
) -> FoundDeadline:
    cue = _CUE_BEFORE_RE.search(text[:local_start])
    req_start = cue.start() if cue and cue.group(0) else local_start
    if text.startswith("在", req_start):
        req_start += 1  # `在收到通知后…`: the preposition is not part of the requirement
    req_end = _requirement_end(text, local_end)
    assignees, subject_end = _subject(text, recipients)
    topic = text[subject_end:req_start].strip("，, ")
    topic = re.sub(r"^(?:的|对|关于|将|要|请)", "", topic)
    # Forms may follow the requirement (`…报送省卫生健康委老龄健康处，电子版和纸质版各一份`),
    # up to where the next requirement starts after a `；`.
    semicolon = text.find("；", local_end)
    forms = _forms(text[local_start : semicolon if semicolon >= 0 else len(text)])
    action, report_to = _action(text[local_end:req_end], topic, forms)
    w = found.when
    deadline = Deadline(
        text=text[req_start:req_end],
        date=w.end if w.kind in ("date", "range") else None,
        start=w.start if w.kind == "range" else None,
        recurring=(recurrence_label(w.rrule) if w.rrule else "yearly") if w.kind == "recurring" else None,
        rrule=w.rrule,
        rdates=list(w.rdates),
        offset_workdays=w.offset_workdays,
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
    """A requirement runs to the end of its report clause (`…报送ORG`), else of its first clause."""
    pos = local_end
    first_end = None
    for clause in _clauses(text[local_end:]):
        end = pos + len(clause)
        if first_end is None and _LEADING_FILLER_RE.sub("", clause):
            first_end = end
        if re.search(_REPORT_VERB, clause):
            return end
        pos = end + 1
    return first_end if first_end is not None else len(text)


def _standing_duties(text: str, base: int) -> list[FoundDuty]:
    """`同时将有关信息及时通过市老龄办向…平台报送`: a duty with no date, as its clause from the action on."""
    out = []
    for clause, start in _clause_spans(text):
        if not (_STANDING_RE.search(clause) and _REPORT_WORD_RE.search(clause)):
            continue
        # `各县（市、区）民政局要将…及时报告…`: the duty starts at its object (将/把), not at its subject.
        obj = re.search(r"[将把]", clause[: _STANDING_RE.search(clause).start()])  # type: ignore[union-attr]
        cut = obj.start() if obj else (m.end() if (m := _CONNECTIVES_RE.match(clause)) else 0)
        out.append(FoundDuty(text=clause[cut:], start=base + start + cut, end=base + start + len(clause)))
    return out


def _clause_spans(text: str) -> list[tuple[str, int]]:
    return [(text[a:b], a) for a, b in clause_spans(text)]


# A duty 'during the campaign' (`三年行动期间，每季度…`) whose years the title gives:
# `…三年行动方案（2024—2026年）的通知`. The title's range bounds the rule (UNTIL its last year's end).
_CAMPAIGN_RE = re.compile(r"(?:[一二三四五两]年|行动|攻坚|整治|活动|实施)(?:期间|期内)")
_TITLE_YEARS_RE = re.compile(r"((?:19|20)\d{2})\s*[—–\-－~～至到]+\s*((?:19|20)\d{2})\s*年")


def bounded_by_title(deadline: Deadline, title: str | None) -> Deadline:
    """UNTIL for a recurring duty that runs 'during the campaign', from the years in the title."""
    if not deadline.rrule or "UNTIL=" in deadline.rrule or not title:
        return deadline
    if not _CAMPAIGN_RE.search(deadline.sentence or deadline.text):
        return deadline
    years = _TITLE_YEARS_RE.search(title)
    if not years or int(years.group(2)) < int(years.group(1)):
        return deadline
    last = years.group(2)
    note = f"until the end of {last}: the campaign's years {years.group(0)} in the title"
    return deadline.model_copy(
        update={
            "rrule": f"{deadline.rrule};UNTIL={last}1231",
            "date_note": f"{deadline.date_note}; {note}" if deadline.date_note else note,
        }
    )
