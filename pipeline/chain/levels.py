"""Levels, agencies and working days across a forwarding chain (shared/domain.md §1, §4).

    tier(level) -> 0..3                  ministries and the State Council one tier, then province, city, county
    agency_level(name) -> Level          the level a name shows, `省民政厅` included
    same_agency(a, b), addressed_to(assignee, issuer)   whether names and recipient groups take in an agency
    workdays_between(a, b) -> (days, estimated)         official working days after a, up to b
    forwarding_delay(parent, child) -> Delay            成文日期 to 成文日期
    when_label(deadline) -> str          a deadline's date, window or recurrence as a clerk writes it

Pure functions; `pipeline.chain.links` and the audit use them to place notices and measure delays.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from models import ChainNode, Deadline, Delay
from models.document import Level
from pipeline.parsing.agencies import HEAD_RE, level_from_name, place_of
from pipeline.when import recurrence_label
from pipeline.when.workdays import covered, is_workday

LEVEL_NAMES: dict[str, str] = {"state": "国家", "ministry": "部委", "province": "省级", "city": "市级", "county": "县级"}
# The State Council and the ministries are one tier: a province forwards either directly.
_TIERS: dict[str, int] = {"state": 0, "ministry": 0, "province": 1, "city": 2, "county": 3}


def tier(level: Level | None) -> int | None:
    return _TIERS.get(level) if level else None


_RECURRING_NAMES = {"yearly": "每年", "half-yearly": "每半年", "quarterly": "每季度", "monthly": "每月", "weekly": "每周", "daily": "每日"}


def when_label(deadline: Deadline) -> str:
    """A deadline's date, window or recurrence as a clerk writes it."""
    if deadline.rrule:
        m = re.search(r"每.{1,4}?(?:末前\d+个工作日|\d+日前|\d+个工作日|前)", deadline.text)
        return m.group(0) if m else _RECURRING_NAMES.get(deadline.recurring or recurrence_label(deadline.rrule) or "", "定期")
    if deadline.date:
        return f"{deadline.start} 至 {deadline.date}" if deadline.start else deadline.date
    return "无明确日期"


# --- agencies ------------------------------------------------------------------------------------

# Short forms notices use for the same agency (`各市老龄办` addresses `临汾市老龄工作委员会办公室`).
_ABBREVIATIONS = (
    ("老龄工作委员会办公室", "老龄办"),
    ("老龄工作委员会", "老龄委"),
    ("卫生健康委员会", "卫生健康委"),
    ("发展和改革委员会", "发展改革委"),
    ("人民政府办公厅", "政府办公厅"),
    ("人民政府办公室", "政府办"),
    ("人民政府", "政府"),
)
# `省民政厅`, `市民政局`: an agency named by its own level, as a notice names itself.
_OWN_LEVEL: dict[str, Level] = {"省": "province", "市": "city", "县": "county", "区": "county"}


def agency_level(name: str) -> Level | None:
    """The level an agency name shows, `省民政厅` (own-level prefix, no place) included."""
    level = level_from_name(name)
    if level is None and name[:1] in _OWN_LEVEL:
        return _OWN_LEVEL[name[0]]
    return level


def _split_place(name: str) -> tuple[str, str]:
    """`临汾市老龄工作委员会办公室` → (`临汾市`, `老龄办`): the places, and the kind of agency, abbreviated."""
    rest = re.sub(r"\s", "", name)
    places = ""
    while (place := place_of(rest)) is not None:
        places, rest = places + place, rest[len(place) :]
    if not places and rest[:1] in _OWN_LEVEL:
        rest = rest[1:]
    for long, short in _ABBREVIATIONS:
        rest = rest.replace(long, short)
    return places, rest


def _kinds(kind: str) -> set[str]:
    """A kind with its bracketed alternative: `民政厅（局）` is 民政厅 or 民政局, `教育厅（教委）` 教育厅 or 教委
    (the provinces' and the municipalities' names for one agency)."""
    m = re.fullmatch(r"(.+?)[（(]([^（）()]+)[）)]", kind)
    if not m:
        return {kind}
    main, alt = m.groups()
    return {main, main[: -len(alt)] + alt if len(alt) == 1 else alt}


def same_agency(a: str, b: str) -> bool:
    """Whether two names can be one agency: no level or place tells them apart, and the kind is the same."""
    level_a, level_b = agency_level(a), agency_level(b)
    if level_a and level_b and level_a != level_b:
        return False
    (place_a, kind_a), (place_b, kind_b) = _split_place(a), _split_place(b)
    if place_a and place_b and place_a != place_b:
        return False
    return bool(_kinds(kind_a) & _kinds(kind_b))


def issuers_compatible(a: list[str], b: list[str]) -> bool:
    """Unknown issuers are compatible with any; otherwise one name must match across."""
    return not a or not b or any(same_agency(x, y) for x in a for y in b)


def _head_level(head: str) -> Level | None:
    """The level of a 主送 group head: `各省、自治区、直辖市`, `各市`, `各县（市、区）`; townships have none."""
    if "省" in head:
        return "province"
    if head.startswith(("各市", "各设区的市", "各地级市")):
        return "city"
    if head.startswith(("各县", "各区", "各旗")):
        return "county"
    return None


def addressed_to(assignee: str, issuer: str) -> bool:
    """Whether a recipient or assignee (`各市民政局`) takes in the agency `issuer` (`临汾市民政局`).

    A group `各<level><kind>` takes every agency of that kind at that level; a named one
    only itself.
    """
    head = HEAD_RE.match(assignee)
    if assignee.startswith("各") and head and head.group(1) != assignee:
        kind = _split_place(assignee[len(head.group(1)) :])[1]
        level = _head_level(head.group(1))
        return level is not None and level == agency_level(issuer) and bool(_kinds(kind) & _kinds(_split_place(issuer)[1]))
    return same_agency(assignee, issuer)


# --- delays --------------------------------------------------------------------------------------


def workdays_between(start: date, end: date) -> tuple[int, bool]:
    """Working days after `start` up to and including `end` on the official calendar (negative
    when `end` is earlier), and whether a year without holiday data was counted Monday to Friday."""
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    count = sum(1 for k in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=k), estimate=True))
    estimated = any(not covered(year) for year in range(start.year, end.year + 1))
    return sign * count, estimated


def forwarding_delay(parent: ChainNode, child: ChainNode) -> Delay | None:
    """成文日期 to 成文日期; None unless both notices are dated."""
    if not (parent.issue_date and child.issue_date):
        return None
    start, end = date.fromisoformat(parent.issue_date[:10]), date.fromisoformat(child.issue_date[:10])
    workdays, estimated = workdays_between(start, end)
    return Delay(calendar_days=(end - start).days, workdays=workdays, estimated=estimated)
