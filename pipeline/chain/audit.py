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

Deadlines across levels (§3, §4) are `pipeline.chain.deadlines`: a forwarder must set its
recipients an earlier day, by at least `min_lead_workdays` working days, so that it can collect
and report on time. What a finding quotes and how it names notices is `pipeline.chain.findings`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping

from models import ChainLink, ChainNode, ChainReport, Document, Finding
from pipeline.chain.deadlines import deadline_findings
from pipeline.chain.findings import AuditOptions, Context, cited, level_name, notice_name
from pipeline.chain.levels import tier
from pipeline.chain.links import PASSES_DOWN, same_title
from pipeline.errors import FindingsError

__all__ = ["AuditOptions", "FindingsError", "at_fault", "audit", "has_errors"]

_SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


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
    ctx = Context(report, records, options)
    findings = [
        *_missing(ctx),
        *_links(ctx),
        *deadline_findings(ctx),
        *_loops(ctx),
        *_reused_numbers(ctx),
        *_nonconforming(ctx),
    ]
    return sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], [ctx.position[d.id] for d in f.documents], f.code))



# --- missing notices -----------------------------------------------------------------------------


def _missing(ctx: Context) -> Iterator[Finding]:
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
                f"中间层级缺失：{level_name(node)}文件{notice_name(node)}未入档，下级转发了它，它又转发{notice_name(upper)}",
                evidence, doc_number=node.doc_number, title=node.title,
            )
        elif passed:
            yield ctx.finding(
                "missing_upstream", "warning", [node.id, *children],
                f"上级{level_name(node)}文件{notice_name(node)}未入档：只知文号和标题，原文缺失",
                evidence, doc_number=node.doc_number, title=node.title,
            )
        elif not above:
            yield ctx.finding(
                "cited_not_in_archive", "info", [node.id, *children],
                f"引用的{cited(node.title, node.doc_number)}未入档",
                evidence, doc_number=node.doc_number, title=node.title,
            )


# --- each link: delay, direction, citation consistency -------------------------------------------


def _links(ctx: Context) -> Iterator[Finding]:
    for link in ctx.report.links:
        parent, child = ctx.nodes[link.parent], ctx.nodes[link.child]
        if set(link.relations) & set(PASSES_DOWN):
            yield from _delay(ctx, link, parent, child)
            yield from _direction(ctx, link, parent, child)
        yield from _citation(ctx, link, parent, child)


def _delay(ctx: Context, link: ChainLink, parent: ChainNode, child: ChainNode) -> Iterator[Finding]:
    """Forwarding delay per level, 成文日期 to 成文日期, in official working days (calendar days beside)."""
    delay = link.delay
    if delay is None:
        return
    steps = f"{level_name(parent)}{notice_name(parent)}（{parent.issue_date}）→{level_name(child)}{notice_name(child)}（{child.issue_date}）"
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


def _direction(ctx: Context, link: ChainLink, parent: ChainNode, child: ChainNode) -> Iterator[Finding]:
    """Notices go down one level at a time (§1: ministry → province → city → county)."""
    up, down = tier(parent.level), tier(child.level)
    if up is None or down is None:
        return
    evidence = ctx.reference_evidence(link)
    data = {"parent_level": parent.level, "child_level": child.level}
    if down < up:
        yield ctx.finding("wrong_direction", "error", [parent.id, child.id],
                          f"方向颠倒：{level_name(child)}文件{notice_name(child)}转发了{level_name(parent)}文件{notice_name(parent)}", evidence, **data)
    elif down - up >= 2:
        yield ctx.finding("skipped_level", "warning", [parent.id, child.id],
                          f"越级转发：{level_name(child)}文件{notice_name(child)}直接转发{level_name(parent)}文件{notice_name(parent)}，中间层级未见", evidence, **data)


def _citation(ctx: Context, link: ChainLink, parent: ChainNode, child: ChainNode) -> Iterator[Finding]:
    """A reference whose 文号 and title do not both agree with the archived notice it names."""
    record = ctx.records.get(child.id)
    if record is None or not parent.in_archive or link.inferred:
        return
    for i in link.references:
        ref = record.upstream[i]
        evidence = [e for e in [ctx.evidence(child.id, f"upstream[{i}]"), ctx.evidence(parent.id, "title")] if e]
        if link.matched_on == "doc_number" and ref.title and parent.title and not same_title(ref.title, parent.title):
            yield ctx.finding("cited_title_differs", "warning", [parent.id, child.id],
                              f"{notice_name(child)}引用{parent.doc_number}时称《{ref.title}》，档案中该文号的标题是《{parent.title}》",
                              evidence, cited_title=ref.title, archived_title=parent.title)
        elif link.matched_on == "title" and ref.doc_number and parent.doc_number and ref.doc_number != parent.doc_number:
            yield ctx.finding("cited_number_differs", "warning", [parent.id, child.id],
                              f"{notice_name(child)}引用《{parent.title}》时写作{ref.doc_number}，档案中该文件的文号是{parent.doc_number}",
                              evidence, cited_number=ref.doc_number, archived_number=parent.doc_number)

# --- loops ---------------------------------------------------------------------------------------


def _cycles(ctx: Context) -> list[list[str]]:
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


def _shortest_loop(ctx: Context, start: str, members: set[str]) -> list[str]:
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


def _loops(ctx: Context) -> Iterator[Finding]:
    """A notice that forwards or cites itself, directly or through others (§4: "does anything loop?")."""
    for component in _cycles(ctx):
        members = set(component)
        path = _shortest_loop(ctx, min(component, key=lambda i: ctx.position[i]), members)
        links = [link for link in ctx.report.links if link.parent in members and link.child in members]
        evidence = [e for link in links for e in ctx.reference_evidence(link)]
        names = " → ".join(notice_name(ctx.nodes[i]) for i in [*path, path[0]])
        yield ctx.finding("loop", "error", path, f"循环引用：{names}", evidence,
                          cycle=[ctx.nodes[i].doc_number or i for i in path], entangled=sorted(members))


# --- 文号 ----------------------------------------------------------------------------------------


def _reused_numbers(ctx: Context) -> Iterator[Finding]:
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


def _nonconforming(ctx: Context) -> Iterator[Finding]:
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
