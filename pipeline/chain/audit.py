"""Findings on a forwarding chain: what an auditor asks of it (shared/domain.md §4).

    audit(report, records, AuditOptions()) -> list[Finding]    every finding, errors first, top down

`report` comes from `pipeline.chain.links.build_chain`; `records` maps the ids of stored nodes to
their `Document` (the sentences, pages and printed forms the evidence quotes). Pure functions.

Severity says what a clerk must do:

    error    the chain contradicts itself or the rules: a downstream deadline later than the
             one binding the forwarder, a notice forwarded upward, a loop, one 文号 on two
             different notices. `gongwen audit` exits non-zero (FindingsError).
    warning  look at it: a deadline not passed down, lead time under N working days, a slow
             forward, a skipped level, a forwarded notice missing from the archive, a citation
             whose 文号 and title disagree with the archive.
    info     for the record: each level's forwarding delay, each deadline passed down and its
             lead time, cited notices not in the archive, non-conforming printed 文号.

Deadlines across levels (§3, §4). A notice P's deadline binds the forwarder C when its
assignees (or, without any, P's recipients) take in one of C's issuers (`各市民政局` takes
`临汾市民政局`). C's own deadline answers it when both are dated (or both recur at the same
frequency) and their actions say the same thing. C must set its recipients an earlier day,
by at least `min_lead_workdays` working days, so that it can collect and report on time.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from models import ChainLink, ChainNode, ChainReport, Deadline, Document, Evidence, Finding, FindingDocument, Task, TaskDocument
from models.chain import FindingCode
from models.document import Severity
from pipeline.chain.links import LEVEL_NAMES, PASSES_DOWN, addressed_to, chain_order, same_title, tier, when_label, workdays_between
from pipeline.errors import FindingsError
from pipeline.tasks.records import anchor_rule, occurrences
from pipeline.when import recurrence_label

__all__ = ["AuditOptions", "FindingsError", "at_fault", "audit", "has_errors"]

MIN_LEAD_WORKDAYS = 3  # a level needs a few working days to collect its recipients' reports and send its own
SLOW_WORKDAYS = 10  # two working weeks to pass a notice one level down
# Two actions are one requirement when this share of the shorter one's character pairs is in the other.
SAME_ACTION = 0.5
_SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class AuditOptions:
    min_lead_workdays: int = MIN_LEAD_WORKDAYS
    slow_workdays: int = SLOW_WORKDAYS


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


# Findings about the whole group of notices they name; the others name the upstream first and
# the notice at fault (the one that forwarded late, upward, without the deadline …) last.
_ALL_AT_FAULT = ("loop", "reused_doc_number", "nonconforming_doc_number")
_PLACEHOLDER_AT_FAULT = ("missing_upstream", "missing_middle_level", "cited_not_in_archive")


def at_fault(finding: Finding) -> list[str]:
    """The ids of the notices a finding marks in a tree or picture."""
    if finding.code in _ALL_AT_FAULT:
        return [d.id for d in finding.documents]
    if finding.code in _PLACEHOLDER_AT_FAULT:
        return [d.id for d in finding.documents if not d.in_archive]
    return [finding.documents[-1].id]


def audit(report: ChainReport, records: Mapping[str, Document], options: AuditOptions = AuditOptions()) -> list[Finding]:
    """Every finding of the report, errors first, then in chain order (top down)."""
    ctx = _Context(report, records, options)
    findings = [
        *_missing(ctx),
        *_links(ctx),
        *_deadlines(ctx),
        *_loops(ctx),
        *_reused_numbers(ctx),
        *_nonconforming(ctx),
    ]
    return sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], [ctx.position[d.id] for d in f.documents], f.code))


@dataclass
class _Context:
    report: ChainReport
    records: Mapping[str, Document]
    options: AuditOptions

    def __post_init__(self) -> None:
        self.nodes = {n.id: n for n in self.report.nodes}
        self.below: dict[str, list[ChainLink]] = {n.id: [] for n in self.report.nodes}
        self.above: dict[str, list[ChainLink]] = {n.id: [] for n in self.report.nodes}
        for link in self.report.links:
            self.below[link.parent].append(link)
            self.above[link.child].append(link)
        in_trees = [i for tree in self.report.trees for i in chain_order(tree)]
        self.position = {node_id: n for n, node_id in enumerate(dict.fromkeys(in_trees + [n.id for n in self.report.nodes]))}

    def doc(self, node_id: str) -> FindingDocument:
        node = self.nodes[node_id]
        return FindingDocument(id=node.id, doc_number=node.doc_number, level=node.level, in_archive=node.in_archive)

    def finding(self, code: FindingCode, severity: Severity, ids: list[str], message: str,
                evidence: list[Evidence], **data: object) -> Finding:
        return Finding(code=code, severity=severity, documents=[self.doc(i) for i in ids], message=message, evidence=evidence, data=data)

    def evidence(self, node_id: str, field: str) -> Evidence | None:
        """The printed element behind a record's field, with its page: a deadline's sentence, a reference, the 文号."""
        record = self.records.get(node_id)
        if record is None:
            return None
        where = record.provenance.get(field)
        page = where.page if where else None
        text = _field_text(record, field)
        if text is None:
            return None
        if field.startswith("deadlines["):
            page = record.deadlines[_index(field)].page or page
        return Evidence(document=node_id, doc_number=self.nodes[node_id].doc_number, field=field, page=page, text=text)

    def reference_evidence(self, link: ChainLink) -> list[Evidence]:
        found = [self.evidence(link.child, f"upstream[{i}]") for i in link.references]
        return [e for e in found if e is not None]


def _index(field: str) -> int:
    return int(field[field.index("[") + 1 : -1])


def _field_text(record: Document, field: str) -> str | None:
    if field.startswith("deadlines["):
        deadline = record.deadlines[_index(field)]
        return deadline.sentence or deadline.text
    if field.startswith("upstream["):
        ref = record.upstream[_index(field)]
        return _cited(ref.title, ref.doc_number)
    if field == "doc_number":
        return record.doc_number_printed or record.doc_number
    return record.title if field == "title" else None


def _cited(title: str | None, number: str | None) -> str:
    """A notice as a citation prints it: `《title》（文号）`."""
    return (f"《{title}》" if title else "") + (f"（{number}）" if number else "") or "（无标题、无文号）"


def _name(node: ChainNode) -> str:
    """How a message names a notice: its 文号, else its title."""
    return node.doc_number or _cited(node.title, None)


def _short(text: str, limit: int = 24) -> str:
    """An action as a message quotes it: long ones cut, the evidence has them whole."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _level(node: ChainNode) -> str:
    return LEVEL_NAMES.get(node.level or "", "层级不明")


# --- missing notices -----------------------------------------------------------------------------


def _missing(ctx: _Context) -> Iterator[Finding]:
    """Placeholders: forwarded or attached (the text that binds is missing), or only cited."""
    for node in ctx.report.nodes:
        if node.in_archive:
            continue
        below, above = ctx.below[node.id], ctx.above[node.id]
        passed = [link for link in below if set(link.relations) & set(PASSES_DOWN)]
        evidence = [e for link in below for e in ctx.reference_evidence(link)]
        children = [link.child for link in below]
        if passed and above:
            upper = ctx.nodes[above[0].parent]
            yield ctx.finding(
                "missing_middle_level", "warning", [upper.id, node.id, *children],
                f"中间层级缺失：{_level(node)}文件{_name(node)}未入档，下级转发了它，它又转发{_name(upper)}",
                evidence, doc_number=node.doc_number, title=node.title,
            )
        elif passed:
            yield ctx.finding(
                "missing_upstream", "warning", [node.id, *children],
                f"上级{_level(node)}文件{_name(node)}未入档：只知文号和标题，原文缺失",
                evidence, doc_number=node.doc_number, title=node.title,
            )
        elif not above:
            yield ctx.finding(
                "cited_not_in_archive", "info", [node.id, *children],
                f"引用的{_cited(node.title, node.doc_number)}未入档",
                evidence, doc_number=node.doc_number, title=node.title,
            )


# --- each link: delay, direction, citation consistency -------------------------------------------


def _links(ctx: _Context) -> Iterator[Finding]:
    for link in ctx.report.links:
        parent, child = ctx.nodes[link.parent], ctx.nodes[link.child]
        if set(link.relations) & set(PASSES_DOWN):
            yield from _delay(ctx, link, parent, child)
            yield from _direction(ctx, link, parent, child)
        yield from _citation(ctx, link, parent, child)


def _delay(ctx: _Context, link: ChainLink, parent: ChainNode, child: ChainNode) -> Iterator[Finding]:
    """Forwarding delay per level, 成文日期 to 成文日期, in official working days (calendar days beside)."""
    delay = link.delay
    if delay is None:
        return
    steps = f"{_level(parent)}{_name(parent)}（{parent.issue_date}）→{_level(child)}{_name(child)}（{child.issue_date}）"
    spent = f"{delay.workdays}个工作日（{delay.calendar_days}天{'，按周一至周五估算' if delay.estimated else ''}）"
    data = {"parent_date": parent.issue_date, "child_date": child.issue_date, **delay.model_dump()}
    evidence = ctx.reference_evidence(link)
    if delay.calendar_days < 0:
        yield ctx.finding("forwarded_before_issued", "warning", [parent.id, child.id],
                          f"{steps}：转发日期早于上级成文日期，请核对日期", evidence, **data)
    elif delay.workdays > ctx.options.slow_workdays:
        yield ctx.finding("slow_forwarding", "warning", [parent.id, child.id],
                          f"{steps}：转发用时{spent}，超过{ctx.options.slow_workdays}个工作日", evidence, **data)
    else:
        yield ctx.finding("forwarding_delay", "info", [parent.id, child.id], f"{steps}：转发用时{spent}", evidence, **data)


def _direction(ctx: _Context, link: ChainLink, parent: ChainNode, child: ChainNode) -> Iterator[Finding]:
    """Notices go down one level at a time (§1: ministry → province → city → county)."""
    up, down = tier(parent.level), tier(child.level)
    if up is None or down is None:
        return
    evidence = ctx.reference_evidence(link)
    data = {"parent_level": parent.level, "child_level": child.level}
    if down < up:
        yield ctx.finding("wrong_direction", "error", [parent.id, child.id],
                          f"方向颠倒：{_level(child)}文件{_name(child)}转发了{_level(parent)}文件{_name(parent)}", evidence, **data)
    elif down - up >= 2:
        yield ctx.finding("skipped_level", "warning", [parent.id, child.id],
                          f"越级转发：{_level(child)}文件{_name(child)}直接转发{_level(parent)}文件{_name(parent)}，中间层级未见", evidence, **data)


def _citation(ctx: _Context, link: ChainLink, parent: ChainNode, child: ChainNode) -> Iterator[Finding]:
    """A reference whose 文号 and title do not both agree with the archived notice it names."""
    record = ctx.records.get(child.id)
    if record is None or not parent.in_archive or link.inferred:
        return
    for i in link.references:
        ref = record.upstream[i]
        evidence = [e for e in [ctx.evidence(child.id, f"upstream[{i}]"), ctx.evidence(parent.id, "title")] if e]
        if link.matched_on == "doc_number" and ref.title and parent.title and not same_title(ref.title, parent.title):
            yield ctx.finding("cited_title_differs", "warning", [parent.id, child.id],
                              f"{_name(child)}引用{parent.doc_number}时称《{ref.title}》，档案中该文号的标题是《{parent.title}》",
                              evidence, cited_title=ref.title, archived_title=parent.title)
        elif link.matched_on == "title" and ref.doc_number and parent.doc_number and ref.doc_number != parent.doc_number:
            yield ctx.finding("cited_number_differs", "warning", [parent.id, child.id],
                              f"{_name(child)}引用《{parent.title}》时写作{ref.doc_number}，档案中该文件的文号是{parent.doc_number}",
                              evidence, cited_number=ref.doc_number, archived_number=parent.doc_number)


# --- deadlines across levels ---------------------------------------------------------------------


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
        return f"{when_label(self.deadline)}（{_short(self.deadline.action or self.deadline.text)}）"


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


def _deadlines(ctx: _Context) -> Iterator[Finding]:
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


def _not_passed_down(ctx: _Context, link: ChainLink, parent: ChainNode, child: ChainNode, due: _Due, named: list[str]) -> Finding:
    evidence = [e for e in [ctx.evidence(parent.id, due.field)] if e] + ctx.reference_evidence(link)
    return ctx.finding(
        "deadline_not_passed_down", "warning", [parent.id, child.id],
        f"{_level(parent)}期限{due.describe()}约束{'、'.join(named)}，{_name(child)}转发时未给下级设定更早的期限",
        evidence, upstream_deadline=due.deadline.date or due.deadline.rrule, binds=named, action=due.deadline.action,
    )


def _compare(ctx: _Context, parent: ChainNode, child: ChainNode, up: _Due, down: _Due, lower: Document) -> Iterator[Finding]:
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
    what = _short(up.deadline.action or up.deadline.text)
    if down_day > up_day:
        yield ctx.finding("deadline_later_than_upstream", "error", ids,
                          f"{_name(child)}要求下级{down_day}前完成（{what}），晚于上级给本级的{up_day}（晚{(down_day - up_day).days}天）",
                          evidence, **data)
    elif lead < ctx.options.min_lead_workdays:
        yield ctx.finding("lead_time_short", "warning", ids,
                          f"{_name(child)}给下级的期限{down_day}只比上级期限{up_day}早{lead}个工作日（少于{ctx.options.min_lead_workdays}个）：{what}",
                          evidence, **data)
    else:
        yield ctx.finding("deadline_passed_down", "info", ids,
                          f"期限已下传：{_level(parent)}{up_day} → {_name(child)}{down_day}，提前{lead}个工作日（{(up_day - down_day).days}天）：{what}",
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


# --- loops ---------------------------------------------------------------------------------------


def _cycles(ctx: _Context) -> list[list[str]]:
    """Strongly connected components of the link graph that hold a loop (Tarjan, iterative)."""
    edges = {node_id: [link.child for link in links] for node_id, links in ctx.below.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            step = next(successors, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(edges[step])))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    found.append(component)
    return found


def _shortest_loop(ctx: _Context, start: str, members: set[str]) -> list[str]:
    """The shortest way from `start` back to itself along links inside its component (breadth first)."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for link in ctx.below[node]:
            if link.child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return path[::-1]
            if link.child in members and link.child not in came_from:
                came_from[link.child] = node
                queue.append(link.child)
    return [start]


def _loops(ctx: _Context) -> Iterator[Finding]:
    """A notice that forwards or cites itself, directly or through others (§4: "does anything loop?")."""
    for component in _cycles(ctx):
        members = set(component)
        path = _shortest_loop(ctx, min(component, key=lambda i: ctx.position[i]), members)
        links = [link for link in ctx.report.links if link.parent in members and link.child in members]
        evidence = [e for link in links for e in ctx.reference_evidence(link)]
        names = " → ".join(_name(ctx.nodes[i]) for i in [*path, path[0]])
        yield ctx.finding("loop", "error", path, f"循环引用：{names}", evidence,
                          cycle=[ctx.nodes[i].doc_number or i for i in path], entangled=sorted(members))


# --- 文号 ----------------------------------------------------------------------------------------


def _reused_numbers(ctx: _Context) -> Iterator[Finding]:
    """One 文号 on two stored notices: `build_chain` merges scans of one notice, so these differ
    in title or issuers. A 文号 is unique per agency and year (GB/T 9704 §7.2.4)."""
    by_number: dict[str, list[ChainNode]] = {}
    for node in ctx.report.nodes:
        if node.in_archive and node.doc_number:
            by_number.setdefault(node.doc_number, []).append(node)
    for number, nodes in by_number.items():
        if len(nodes) < 2:
            continue
        evidence = [e for n in nodes for e in [ctx.evidence(n.id, "title")] if e]
        titles = "；".join(f"《{n.title}》（{'、'.join(n.issuers)}）" for n in nodes)
        yield ctx.finding("reused_doc_number", "error", [n.id for n in nodes],
                          f"同一文号{number}对应{len(nodes)}份不同的文件：{titles}",
                          evidence, doc_number=number, titles=[n.title for n in nodes], issuers=[n.issuers for n in nodes])


def _nonconforming(ctx: _Context) -> Iterator[Finding]:
    """A 文号 printed against GB/T 9704 §7.2.4 (brackets other than 〔〕, a 第, leading zeros).

    Unknown conformity (None: the scan could not tell) is not a finding.
    """
    for node in ctx.report.nodes:
        record = ctx.records.get(node.id)
        if record is None or record.doc_number_conforming is not False:
            continue
        printed = record.doc_number_printed or record.doc_number
        yield ctx.finding("nonconforming_doc_number", "info", [node.id],
                          f"文号印作“{printed}”，不合规范，应为“{node.doc_number}”",
                          [e for e in [ctx.evidence(node.id, "doc_number")] if e], printed=printed, canonical=node.doc_number)
