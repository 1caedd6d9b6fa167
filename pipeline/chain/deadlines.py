"""Deadlines across levels (shared/domain.md §3, §4): which of a notice's deadlines bind the
notice forwarding it, the forwarder's answer to each, and the lead it leaves.

    deadline_findings(ctx) -> findings   not passed down, later than upstream, short lead, passed down

A notice P's deadline binds the forwarder C when its assignees (or, without any, P's
recipients) take in one of C's issuers (`各市民政局` takes `临汾市民政局`). C's own deadline
answers it when both are dated (or both recur at the same frequency) and their actions say
the same thing. Recurring deadlines are compared on their due days around the forward.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from models import ChainLink, ChainNode, Deadline, Document, Finding, Task, TaskDocument
from pipeline.chain.findings import Context, level_name, notice_name, shorten
from pipeline.chain.levels import addressed_to, when_label, workdays_between
from pipeline.chain.links import PASSES_DOWN
from pipeline.tasks.records import anchor_rule, occurrences
from pipeline.when import recurrence_label

# Two actions are one requirement when this share of the shorter one's character pairs is in the other.
SAME_ACTION = 0.5


@dataclass(frozen=True)
class _Due:
    """A deadline of one notice, with where it sits in the record."""

    index: int
    deadline: Deadline

    @property
    def field(self) -> str:
        return f"deadlines[{self.index}]"

    @property
    def kind(self) -> str | None:
        """`dated`, or the frequency of a recurring one; None for a duty without a date."""
        if self.deadline.rrule:
            return self.deadline.recurring or recurrence_label(self.deadline.rrule)
        return "dated" if self.deadline.date else None

    @property
    def day(self) -> date:
        return date.fromisoformat((self.deadline.date or "")[:10])

    def describe(self) -> str:
        """`2024-11-20（报送学习贯彻…）`, `每月3日前（报送上月…）`."""
        return f"{when_label(self.deadline)}（{shorten(self.deadline.action or self.deadline.text)}）"


def _dues(record: Document) -> list[_Due]:
    """The deadlines with a date or a recurrence: a duty without either cannot be passed on earlier."""
    return [due for i, d in enumerate(record.deadlines) if (due := _Due(i, d)).kind is not None]


def _bigrams(text: str) -> set[str]:
    # forms in brackets (纸质版加盖公章) and the verb in front do not tell requirements apart
    text = re.sub(r"[（(][^）)]*[）)]", "", text)
    text = re.sub(r"^(?:报送|上报|报|提交|开展|完成|组织)", "", re.sub(r"\W", "", text))
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _same_action(a: Deadline, b: Deadline) -> float:
    x, y = _bigrams(a.action or a.text), _bigrams(b.action or b.text)
    return len(x & y) / min(len(x), len(y)) if x and y else 0.0


def _binding(parent: Document, child: ChainNode, dues: list[_Due]) -> list[tuple[_Due, list[str]]]:
    """The parent's deadlines that bind the forwarder, each with the assignees that name it.

    When no recipient of the parent can be seen to name the forwarder (a form of address the
    rules do not know), the deadlines set for all recipients bind it: it received the notice.
    """

    def names(assignees: list[str]) -> list[str]:
        return [a for a in assignees if any(addressed_to(a, issuer) for issuer in child.issuers)]

    if not names(parent.recipients):
        return [(d, d.deadline.assignees or parent.recipients) for d in dues
                if not d.deadline.assignees or set(d.deadline.assignees) >= set(parent.recipients)]
    return [(d, named) for d in dues if (named := names(d.deadline.assignees or parent.recipients))]


def _pairs(upstream: list[_Due], downstream: list[_Due]) -> dict[int, _Due]:
    """Each upstream deadline's answer downstream (same kind, same action), best matches first, one to one."""
    scored = sorted(
        ((score, u.index, d.index, d) for u in upstream for d in downstream
         if u.kind == d.kind and (score := _same_action(u.deadline, d.deadline)) >= SAME_ACTION),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    out: dict[int, _Due] = {}
    used: set[int] = set()
    for _, u_index, d_index, d in scored:
        if u_index not in out and d_index not in used:
            out[u_index] = d
            used.add(d_index)
    return out


def deadline_findings(ctx: Context) -> Iterator[Finding]:
    for link in ctx.report.links:
        parent, child = ctx.nodes[link.parent], ctx.nodes[link.child]
        upper, lower = ctx.records.get(parent.id), ctx.records.get(child.id)
        if upper is None or lower is None or not set(link.relations) & set(PASSES_DOWN):
            continue
        binding = _binding(upper, child, _dues(upper))
        answers = _pairs([d for d, _ in binding], _dues(lower))
        for due, named in binding:
            answer = answers.get(due.index)
            if answer is None:
                yield _not_passed_down(ctx, link, parent, child, due, named)
            else:
                yield from _compare(ctx, parent, child, due, answer, lower)


def _not_passed_down(ctx: Context, link: ChainLink, parent: ChainNode, child: ChainNode, due: _Due, named: list[str]) -> Finding:
    evidence = [e for e in [ctx.evidence(parent.id, due.field)] if e] + ctx.reference_evidence(link)
    return ctx.finding(
        "deadline_not_passed_down", "warning", [parent.id, child.id],
        f"{level_name(parent)}期限{due.describe()}约束{'、'.join(named)}，{notice_name(child)}转发时未给下级设定更早的期限",
        evidence, upstream_deadline=due.deadline.date or due.deadline.rrule, binds=named, action=due.deadline.action,
    )


def _compare(ctx: Context, parent: ChainNode, child: ChainNode, up: _Due, down: _Due, lower: Document) -> Iterator[Finding]:
    """A deadline and its answer downstream: later (error), too little lead (warning), or passed down."""
    days = _due_days(up, down, parent, child, lower)
    if days is None:
        return  # recurring within each period, no day named: passed down, nothing to measure
    up_day, down_day = days
    lead, estimated = workdays_between(down_day, up_day)
    ids = [parent.id, child.id]
    evidence = [e for e in [ctx.evidence(parent.id, up.field), ctx.evidence(child.id, down.field)] if e]
    data = {"upstream_date": up_day.isoformat(), "downstream_date": down_day.isoformat(), "lead_workdays": lead,
            "lead_days": (up_day - down_day).days, "estimated": estimated, "action": up.deadline.action}
    what = shorten(up.deadline.action or up.deadline.text)
    if down_day > up_day:
        yield ctx.finding("deadline_later_than_upstream", "error", ids,
                          f"{notice_name(child)}要求下级{down_day}前完成（{what}），晚于上级给本级的{up_day}（晚{(down_day - up_day).days}天）",
                          evidence, **data)
    elif lead < ctx.options.min_lead_workdays:
        yield ctx.finding("lead_time_short", "warning", ids,
                          f"{notice_name(child)}给下级的期限{down_day}只比上级期限{up_day}早{lead}个工作日（少于{ctx.options.min_lead_workdays}个）：{what}",
                          evidence, **data)
    else:
        yield ctx.finding("deadline_passed_down", "info", ids,
                          f"期限已下传：{level_name(parent)}{up_day} → {notice_name(child)}{down_day}，提前{lead}个工作日（{(up_day - down_day).days}天）：{what}",
                          evidence, **data)


def _names_day(deadline: Deadline) -> bool:
    """Whether a recurring deadline names its day (`每月5日前`, `每季度末前5个工作日`), not only its period (`每年`)."""
    return bool(deadline.rrule) and anchor_rule(deadline.rrule or "") == deadline.rrule


# The longest a period of each frequency runs, to look one period back from a due day.
_PERIOD_DAYS = {"daily": 1, "weekly": 7, "monthly": 31, "quarterly": 92, "half-yearly": 184, "yearly": 366}


def _due_days(up: _Due, down: _Due, parent: ChainNode, child: ChainNode, lower: Document) -> tuple[date, date] | None:
    """The days to compare: the dates of two dated deadlines; of two recurring ones that name their
    day, the upstream's first due day after the forward and the downstream due day nearest to it
    (of the period before, the same period and the next: `每月3日前` answers `每月5日前` of its month)."""
    if up.kind == "dated":
        return up.day, down.day
    if not (_names_day(up.deadline) and _names_day(down.deadline)):
        return None
    since = child.issue_date or parent.issue_date
    year = lower.doc_number_parts.year if lower.doc_number_parts else None
    start = date.fromisoformat(since[:10]) if since else (date(year, 1, 1) if year else None)
    ups = _recurring_dues(up.deadline, start, 1) if start else []
    if not ups:
        return None
    downs = _recurring_dues(down.deadline, ups[0] - timedelta(days=_PERIOD_DAYS.get(str(up.kind), 31)), 3)
    return (ups[0], min(downs, key=lambda d: (abs((d - ups[0]).days), d))) if downs else None


def _recurring_dues(deadline: Deadline, since: date, count: int) -> list[date]:
    """Due days of a recurring deadline from `since` on, working-day offsets on the official calendar."""
    task = Task(id="", kind="recurring", document=TaskDocument(issue_date=since.isoformat()), text=deadline.text,
                rrule=deadline.rrule, offset_workdays=deadline.offset_workdays)
    return [o.due.date() if isinstance(o.due, datetime) else o.due for o in occurrences(task, count, since=since)]
