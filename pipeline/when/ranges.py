"""Combine atoms with what surrounds them into candidate expressions.

In: folded text and its atoms.  Out: `Candidate`s: ranges (`10月9日至15日`, `自…起…止`,
`即日起至…`), open starts (`自2025年1月1日起施行`), deadlines (`前/之前/止/截至`), offsets before a
date (`11月20日前3个工作日`), periods counted from an event (`会后3日内`), and what is not a
deadline (cited documents, past references, narrative events) marked with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pipeline.when.dates import Cal, MonthRange, TimeOfDay, YearRange
from pipeline.when.folding import Folded
from pipeline.when.holidays import Holiday
from pipeline.when.numerals import CONNECTOR_RE, COUNT, DAY, TIME, WEEKDAY, number, time_of, weekday_of
from pipeline.when.offsets import IssueDay, Relative
from pipeline.when.recurrence import Recurring
from pipeline.when.scan import Atom, Hit, find_atoms


# The day of a range's second end: 10月9日至15日
_DAY_ONLY_RE = re.compile(rf"(?P<d>{DAY})[日号]{WEEKDAY}?(?:{TIME})?")


# -- Combining atoms with their context -------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    shape: str  # "date" | "range" | "open" | "after" | "atom"
    first: Atom
    last: Atom | None = None
    before: tuple[int, str] | None = None  # 11月20日前3个工作日: (3, "workday")
    marked: bool = False  # a deadline word printed with it: 截至…, …前, …止
    skip: str | None = None  # why this is not a deadline (event / cited / past)
    event_base: str | None = None  # 会后3日内: the event a relative period counts from
    carry: Atom | None = None  # 7月16、17日: the list item whose year and month a bare day takes


# 截至…, 截止日期为…, 力争到2025年: a date the work must be done by
_PREFIX_RE = re.compile(r"(?:(?P<from>自|从|由)|(?P<until>截止|截至|(?<![自从由])到)(?:到|至)?(?:时间|日期)?(?:为|是|:)?)$")
# 下班前: before the office closes that day, a deadline like 前
_SUFFIX_RE = re.compile(r"下班之?前|之前|以前|前|为止|止|截止|以来|至今|起|开始|以后|之后|后")
_SUFFIX_SHAPE = {"起": "open", "开始": "open", "以后": "after", "之后": "after", "后": "after"}
_PAST_SUFFIXES = ("以来", "至今")
_RANGE_END_RE = re.compile(r"为止|止|之前|前")  # 自…起至…止, 10月9日至15日前
_BEFORE_N_RE = re.compile(rf"前(?P<n>{COUNT})个?(?P<unit>工作日|天|日)")
# A relative period counted from an event: 会后3日内, 活动结束后10个工作日内, 验收合格之日起30日内
_EVENT_BASE_RE = re.compile(r"([\u4e00-\u9fff]{1,8}?)(?:后|之后|以后|之日起)$")
_EVENT_BASE_CUT_RE = re.compile(r".*[请于在自从并要须应将即]")
_CITED_AFTER_RE = re.compile(r"(?:印发|发布|颁布|出台|公布|下发|签发|通过|修订|修正|制定)(?:的|了|《)")
_PAST_EVENT_AFTER_RE = re.compile(r"(?:召开|举行|举办|开展)(?:的|了)")
# 文号 in any bracket style: 〔2024〕89号, [2024], （2024）, 【2024】第12号
_DOC_NUMBER_RE = re.compile(r"[〔\[【〖(]\d{4}[〕\]】〗)](?:第?\d+号)?")
_DATED_SHAPES = ("date", "range", "open", "after")
# What joins the items of a list of dates: 5月底和8月底前, 6月15日、9月15日前, 7月16、17日
_LIST_JOIN_RE = re.compile(r"(?:之前|以前|前)?(?:以及|、|和|及|与|或|,)")
# A bare day after a list joiner takes the month of the item before it: 7月16、17日
_LIST_DAY_RE = re.compile(rf"(?:以及|、|和|及|与|或)(?P<d>{DAY})[日号](?![\d月])(?:{TIME})?")
# Between the years a duty runs and its rhythm: 2024—2026年每季度, 2024—2026年期间，每年, and
# the subject a sentence may name between them (2024—2026年，各县（市、区）每季度…)
_DURING_RE = re.compile(r"(?:期间|内|间)?,?[^,;。]{0,16}?")
# 每年10月至12月: the months of a yearly window
_MONTH_TO_RE = re.compile(r"(?:至|到|-|—|－|~)")
# A recurring duty bounded by a date after it: 每季度末报送，至2026年底
_UNTIL_RE = re.compile(r"[^,;。]{0,12}?,?(?:至|到|截至|截止到?|直至)")


def candidates(norm: Folded) -> list[Candidate]:
    text = norm.text
    hits = find_atoms(text)
    out: list[Candidate] = []
    i = 0
    while i < len(hits):
        floor = out[-1].end if out else 0
        cand, consumed = _combine(text, hits, i, floor)
        out.append(_with_context(norm, cand))
        i += consumed
        while out[-1].shape == "date" and isinstance(out[-1].first, Cal) and out[-1].first.day is not None:
            item = _list_day(text, out[-1], hits[i].start if i < len(hits) else len(text))
            if item is None:
                break
            out.append(item)
    return _share_years(text, _share_marks(text, out))


def _list_day(text: str, prev: Candidate, limit: int) -> Candidate | None:
    """The bare day after a dated list item (`7月16、17日`): its month and year are the item's."""
    m = _LIST_DAY_RE.match(text, prev.end)
    if m is None or m.end() > limit:
        return None
    carry = prev.carry or prev.first
    shape, end, marked = _suffix(text, m.end(), opened=False)
    day = Cal(day=number(m.group("d")), time=time_of(m))
    return Candidate(m.start("d"), end, shape, day, marked=marked, carry=carry)


def _share_marks(text: str, out: list[Candidate]) -> list[Candidate]:
    """The deadline word after the last item of a list holds for every item (`5月底和8月底前`)."""
    for k in range(len(out) - 2, -1, -1):
        cand, nxt = out[k], out[k + 1]
        if cand.shape == nxt.shape == "date" and nxt.marked and not cand.marked and not cand.skip and (
            _LIST_JOIN_RE.fullmatch(text, cand.end, nxt.start)
        ):
            out[k] = replace(cand, marked=True)
    return out


def _share_years(text: str, out: list[Candidate]) -> list[Candidate]:
    """A yearless item of a list takes the year of the item before it when that one prints its year
    (`2026年6月30日和12月31日前`); one earlier in the year than it is the next year's, as in a range."""
    for k in range(len(out) - 1):
        cand, nxt = out[k], out[k + 1]
        head, item = cand.carry or cand.first, nxt.first
        if (
            cand.shape == nxt.shape == "date" and not nxt.skip and nxt.carry is None
            and isinstance(head, Cal) and head.year is not None
            and isinstance(item, Cal) and item.year is None and item.year_rel is None and item.month_rel is None
            and item.month is not None and _LIST_JOIN_RE.fullmatch(text, cand.end, nxt.start)
        ):  # fmt: skip
            out[k + 1] = replace(nxt, carry=head)
    return out


def _suffix(text: str, end: int, *, opened: bool) -> tuple[str, int, bool]:
    """The shape a date takes from the word after it (前 → a deadline, 起 → an open start)."""
    suffix_m = _SUFFIX_RE.match(text, end)
    if suffix_m is None or suffix_m.group() in _PAST_SUFFIXES:
        return ("open" if opened else "date"), end, False
    shape = _SUFFIX_SHAPE.get(suffix_m.group(), "date" if not opened else "open")
    return shape, suffix_m.end(), shape == "date"


def _combine(text: str, hits: list[Hit], i: int, floor: int) -> tuple[Candidate, int]:
    """Build the candidate that begins with hits[i]; returns it and the number of hits used."""
    hit = hits[i]
    atom = hit.atom
    if isinstance(atom, YearRange):
        if nxt_hit := (hits[i + 1] if i + 1 < len(hits) else None):
            if isinstance(nxt_hit.atom, Recurring) and _DURING_RE.fullmatch(text, hit.end, nxt_hit.start):
                # 2024—2026年，每季度末报送: the duty runs through those years (UNTIL, and no earlier start)
                return Candidate(hit.start, nxt_hit.end, "atom", nxt_hit.atom, atom), 2
        return Candidate(hit.start, hit.end, "range", Cal(year=atom.first), Cal(year=atom.last)), 1
    if isinstance(atom, MonthRange):  # 4-5月: from the first day of April to the last of May
        suffix = _RANGE_END_RE.match(text, hit.end)
        end = suffix.end() if suffix else hit.end
        return Candidate(hit.start, end, "range", atom.first, atom.last, marked=bool(suffix)), 1
    if isinstance(atom, Relative):
        return _relative_candidate(text, hit, floor), 1
    nxt = hits[i + 1] if i + 1 < len(hits) else None
    if (  # 国庆节后一周内, 春节后3个工作日内: a period counted from the end of the holiday
        isinstance(atom, Holiday) and atom.relation == "after"
        and nxt is not None and nxt.start == hit.end
        and isinstance(nxt.atom, Relative) and nxt.atom.base is None
    ):  # fmt: skip
        return Candidate(hit.start, nxt.end, "atom", atom, nxt.atom), 2
    if (  # 每年3-4月: the same window written as a month range
        isinstance(atom, Recurring) and atom.rrule == "FREQ=YEARLY" and nxt is not None and nxt.start == hit.end
        and isinstance(nxt.atom, MonthRange) and nxt.atom.first.year is None and nxt.atom.first.month is not None
    ):  # fmt: skip
        opens = replace(atom, rrule=f"FREQ=YEARLY;BYMONTH={nxt.atom.first.month}")
        return Candidate(hit.start, nxt.end, "atom", opens, nxt.atom.last), 2
    if (  # 每年10月至12月: a window each year, due by the end of its last month
        isinstance(atom, Recurring) and atom.rrule.startswith("FREQ=YEARLY;BYMONTH=") and "," not in atom.rrule
        and nxt is not None and isinstance(nxt.atom, Cal) and nxt.atom.year is None and nxt.atom.year_rel is None
        and nxt.atom.month is not None and nxt.atom.day is None and nxt.atom.part is None
        and _MONTH_TO_RE.fullmatch(text, hit.end, nxt.start)
    ):  # fmt: skip
        return Candidate(hit.start, nxt.end, "atom", atom, nxt.atom), 2
    if isinstance(atom, Recurring) and nxt is not None and isinstance(nxt.atom, Cal) and (
        nxt.atom.year is not None or nxt.atom.year_rel is not None  # 每年11月至12月 is no end of the duty
    ):
        if _UNTIL_RE.fullmatch(text, hit.end, nxt.start):  # 每季度末报送，至2026年底: the rule's UNTIL
            suffix = _RANGE_END_RE.match(text, nxt.end)
            return Candidate(hit.start, suffix.end() if suffix else nxt.end, "atom", atom, nxt.atom), 2
    if (  # 每年春节前, 每年国庆节前: a duty due at a festival each year
        isinstance(atom, Recurring) and atom.rrule == "FREQ=YEARLY"
        and nxt is not None and nxt.start == hit.end and isinstance(nxt.atom, Holiday)
    ):  # fmt: skip
        return Candidate(hit.start, nxt.end, "atom", atom, nxt.atom), 2
    if not isinstance(atom, Cal | IssueDay):
        return Candidate(hit.start, hit.end, "atom", atom), 1

    start, end = hit.start, hit.end
    prefix = _PREFIX_RE.search(text, max(floor, start - 8), start)
    opened = marked = False
    if prefix:
        start = prefix.start()
        opened, marked = bool(prefix.group("from")), bool(prefix.group("until"))

    # A range: 10月9日至15日, 即日起至2025年3月31日, 自…起至…止
    tail = _range_tail(text, hits, i, end)
    if tail is not None:
        last, tail_end, used = tail
        end = tail_end
        suffix = _RANGE_END_RE.match(text, end)
        if suffix:
            end = suffix.end()
        return Candidate(start, end, "range", atom, last, marked=marked), used

    shape = "open" if opened else "date"
    before = None
    before_m = _BEFORE_N_RE.match(text, end)
    if before_m and isinstance(atom, Cal):
        before = (number(before_m.group("n")), "workday" if before_m.group("unit") == "工作日" else "day")
        end = before_m.end()
    else:
        suffix_m = _SUFFIX_RE.match(text, end)
        if suffix_m and not (isinstance(atom, IssueDay) and suffix_m.group() in ("前", "后")):
            word = suffix_m.group()
            end = suffix_m.end()
            if word in _PAST_SUFFIXES:  # 2021年以来: since then, up to now
                return Candidate(start, end, "open", atom, skip=f"past: {word} refers back"), 1
            shape = _SUFFIX_SHAPE.get(word, "date" if not opened else "open")
            marked = marked or shape == "date"
    if isinstance(atom, IssueDay) and atom.label.endswith("起"):
        shape = "open"  # 即日起 / 自印发之日起 (施行)
    return Candidate(start, end, shape, atom, before=before, marked=marked), 1


def _range_tail(text: str, hits: list[Hit], i: int, pos: int) -> tuple[Atom, int, int] | None:
    """The second end of a range after hits[i]: (atom, end offset, hits consumed)."""
    conn = CONNECTOR_RE.match(text, pos)
    if not conn:
        return None
    after = conn.end()
    nxt = hits[i + 1] if i + 1 < len(hits) else None
    if nxt is not None and nxt.start == after and isinstance(nxt.atom, Cal | TimeOfDay):
        return nxt.atom, nxt.end, 2
    day = _DAY_ONLY_RE.match(text, after)
    if day and not isinstance(hits[i].atom, IssueDay):
        # 10月9日至15日: the month is carried over from the first date
        used = 1 + sum(1 for h in hits[i + 1 :] if h.start < day.end())
        return Cal(day=number(day.group("d")), weekday=weekday_of(day.group("wd")), time=time_of(day)), day.end(), used
    return None


def _relative_candidate(text: str, hit: Hit, floor: int) -> Candidate:
    atom = hit.atom
    assert isinstance(atom, Relative)
    if atom.base is not None:
        return Candidate(hit.start, hit.end, "atom", atom)
    event = _EVENT_BASE_RE.search(text, max(floor, hit.start - 12), hit.start)
    if event is None:
        return Candidate(hit.start, hit.end, "atom", atom)
    cut = _EVENT_BASE_CUT_RE.match(text, event.start(), event.end())
    start = cut.end() if cut and cut.end() < event.end(1) else event.start()
    return Candidate(start, hit.end, "atom", atom, event_base=text[start : hit.start])


def _with_context(norm: Folded, cand: Candidate) -> Candidate:
    """Mark dates that are not deadlines: cited documents, past events, narrative events."""
    if cand.skip or cand.shape not in _DATED_SHAPES:
        return cand
    text = norm.text
    reason = None
    if _inside(text, cand.start, "《", "》"):
        reason = "cited: inside a document title 《…》"
    elif _after_title_bracket(text, cand.start):
        reason = "cited: the date of the document named just before, in brackets"
    elif _CITED_AFTER_RE.match(text, cand.end):
        reason = "cited: the issue date of a cited document, not a deadline"
    elif _PAST_EVENT_AFTER_RE.match(text, cand.end):
        reason = "past: the date of an event that has taken place"
    elif cand.shape == "date" and not cand.marked and isinstance(cand.first, Cal) and (
        text.startswith(",", cand.end) and norm.sentence_start(cand.start)
    ):
        reason = "event: a date opening a narrative sentence (date, comma), not a deadline"
    return replace(cand, skip=reason) if reason else cand


def _inside(text: str, pos: int, open_ch: str, close_ch: str) -> bool:
    opened = text.rfind(open_ch, 0, pos)
    return opened >= 0 and text.rfind(close_ch, opened, pos) < 0


def _after_title_bracket(text: str, pos: int) -> bool:
    opened = text.rfind("(", 0, pos)
    return opened > 0 and text.rfind(")", opened, pos) < 0 and text[opened - 1] == "》"


def doc_number_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _DOC_NUMBER_RE.finditer(text)]
