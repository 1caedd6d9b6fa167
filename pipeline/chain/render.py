"""Drawing a chain for people and programs: a rich tree, JSON, Graphviz (SVG) and Mermaid.

    tree(report, findings) -> rich renderable      the terminal view, top notice first
    findings_list(findings) -> rich renderable     `gongwen audit` for people
    to_json(report) -> str                          `gongwen chain --json`
    to_mermaid(report, findings) -> str             `gongwen chain --mermaid` (GitHub, GitLab and Obsidian draw it)
    to_dot(report, findings) -> str                 the Graphviz source
    render_svg(dot_source, timeout=) -> bytes       runs Graphviz `dot`: the one place gongwen calls it

Every view says the same of a notice: 文号, level, issuers, 成文日期, how it came from the
level above (转发 / 附件 / 引用) and in how many working days, its deadlines, and whether
the archive holds it. With findings, the notices at fault are marked (error red, warning
orange): the tree and the pictures show where to look, `gongwen audit` says what is wrong.
"""

from __future__ import annotations

import shutil
import subprocess

from rich.console import Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from models import ChainLink, ChainNode, ChainReport, Deadline, Finding, TreeEntry
from pipeline.chain.audit import at_fault
from pipeline.chain.levels import LEVEL_NAMES, when_label
from pipeline.chain.links import PASSES_DOWN, link_between
from pipeline.errors import GongwenError, MissingDependency

__all__ = ["findings_list", "render_svg", "to_dot", "to_json", "to_mermaid", "tree"]

RELATION_NAMES = {"forwards": "转发", "attaches": "附件", "cites": "引用"}
SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}
_SEVERITY_STYLE = {"error": "bold red", "warning": "dark_orange", "info": "dim"}
_SEVERITY_COLOUR = {"error": "#c0392b", "warning": "#e67e22"}
DOT_TIMEOUT_SECONDS = 60.0  # a chain of hundreds of notices lays out in well under a second


# --- what every view says ------------------------------------------------------------------------


def heading(node: ChainNode) -> str:
    """`晋民函〔2024〕169号 · 省级 · 山西省民政厅 · 成文日期 2024-11-12`, and `未入档` for a placeholder."""
    parts = [
        node.doc_number or "（无文号）",
        LEVEL_NAMES.get(node.level or "", "层级不明"),
        " ".join(node.issuers) or "发文机关不明",
        f"成文日期 {node.issue_date or '不详'}",
    ]
    return " · ".join(parts) + ("" if node.in_archive else " · 未入档")


def via(link: ChainLink) -> str:
    """How a notice came from the one above: `转发、附件 · 用时6个工作日（8天）`."""
    text = "、".join(RELATION_NAMES[r] for r in link.relations) + ("（据标题推断）" if link.inferred else "")
    if link.delay is not None:
        estimated = "，估算" if link.delay.estimated else ""
        text += f" · 用时{link.delay.workdays}个工作日（{link.delay.calendar_days}天{estimated}）"
    elif set(link.relations) & set(PASSES_DOWN):
        text += " · 用时不详"
    return text


def deadline_line(deadline: Deadline) -> str:
    who = f" → {'、'.join(deadline.assignees)}" if deadline.assignees else ""
    page = f"（第{deadline.page}页）" if deadline.page else ""
    return f"期限 {when_label(deadline)}：{deadline.action or deadline.text}{who}{page}"


def _counts(findings: list[Finding]) -> dict[str, dict[str, int]]:
    """How many error and warning findings are at each notice's fault, by severity."""
    counts: dict[str, dict[str, int]] = {}
    for finding in findings:
        if finding.severity != "info":
            for node_id in at_fault(finding):
                per = counts.setdefault(node_id, {})
                per[finding.severity] = per.get(finding.severity, 0) + 1
    return counts


def _marks(findings: list[Finding]) -> dict[str, str]:
    """The worst severity at each notice's fault: error or warning."""
    return {node_id: "error" if "error" in per else "warning" for node_id, per in _counts(findings).items()}


# --- the terminal --------------------------------------------------------------------------------


def tree(report: ChainReport, findings: list[Finding] | None = None) -> Group:
    """Each tree of the report, top notice first; a line per deadline, and the notice's other links."""
    nodes = {n.id: n for n in report.nodes}
    counts = _counts(findings or [])

    def label(entry: TreeEntry, parent: str | None) -> Text:
        node = nodes[entry.id]
        text = Text()
        text.append(node.doc_number or "（无文号）", style="bold" if node.in_archive else "bold dim")
        text.append(" · " + heading(node).split(" · ", 1)[1], style=None if node.in_archive else "dim")
        for severity, count in sorted(counts.get(entry.id, {}).items()):  # error before warning
            text.append(f"  ⚠ {SEVERITY_NAMES[severity]}{count}", style=_SEVERITY_STYLE[severity])
        link = link_between(report, parent, entry.id) if parent else None
        if link is not None:
            text.append(f"\n{via(link)}", style="cyan")
        if entry.loop:
            text.append("\n↺ 循环：此文件已在本分支上方出现", style="bold red")
            return text
        if node.title:
            text.append(f"\n{node.title}", style="dim")
        for deadline in node.deadlines:
            text.append(f"\n{deadline_line(deadline)}", style="green")
        for other in report.links:
            if other.child == entry.id and other is not link:
                parent = nodes.get(other.parent)
                if parent is not None:
                    where = "" if parent.in_archive else "，未入档"
                    cited = f"《{parent.title}》" if parent.title else ""
                    text.append(f"\n{'、'.join(RELATION_NAMES[r] for r in other.relations)} {cited}{parent.doc_number or ''}{where}", style="magenta")
        return text

    def grow(branch: Tree, entry: TreeEntry) -> None:
        for child in entry.children:
            grow(branch.add(label(child, entry.id)), child)

    drawn = []
    for entry in report.trees:
        root = Tree(label(entry, None), guide_style="dim")
        grow(root, entry)
        drawn.append(root)
    return Group(*drawn)


def findings_list(findings: list[Finding], *, width: int = 90) -> Table:
    """A finding a row: severity, then the message and each piece of evidence with its notice and page."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for finding in findings:
        text = Text(finding.message)
        for e in finding.evidence:
            quoted = e.text if len(e.text) <= width else e.text[: width - 1] + "…"
            text.append(f"\n  {e.doc_number or e.document}，第{e.page or '?'}页：{quoted}", style="dim")
        table.add_row(Text(SEVERITY_NAMES[finding.severity], style=_SEVERITY_STYLE[finding.severity]), text)
    return table


# --- programs ------------------------------------------------------------------------------------


def to_json(report: ChainReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


# --- pictures ------------------------------------------------------------------------------------


def _picture_lines(node: ChainNode) -> list[str]:
    """A notice's box in a picture: 文号, issuers, level and date, and a line per dated deadline."""
    title = node.title or "无标题"
    lines = [node.doc_number or f"《{title if len(title) <= 20 else title[:19] + '…'}》", " ".join(node.issuers) or "发文机关不明"]
    lines.append(f"{LEVEL_NAMES.get(node.level or '', '层级不明')} · {node.issue_date or '日期不详'}" + ("" if node.in_archive else " · 未入档"))
    lines += [f"期限 {when_label(d)}" for d in node.deadlines if d.date or d.rrule]
    return lines


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(report: ChainReport, findings: list[Finding] | None = None) -> str:
    """Graphviz source: boxes top down, placeholders dashed, cites dotted, notices at fault outlined."""
    marks = _marks(findings or [])
    font = 'fontname="Noto Sans CJK SC,WenQuanYi Zen Hei,sans-serif"'
    out = [
        "digraph chain {",
        f'  graph [rankdir=TB, charset="UTF-8", {font}];',
        f"  node [shape=box, style=rounded, fontsize=11, {font}];",
        f"  edge [fontsize=10, {font}];",
    ]
    for node in report.nodes:
        attrs = ["label=" + _dot_quote("\n".join(_picture_lines(node)))]
        attrs.append('style="rounded"' if node.in_archive else 'style="rounded,dashed", fontcolor="gray35"')
        if node.id in marks:
            attrs.append(f'color="{_SEVERITY_COLOUR[marks[node.id]]}", penwidth=2')
        out.append(f"  {_dot_quote(node.id)} [{', '.join(attrs)}];")
    for link in report.links:
        style = "" if set(link.relations) & set(PASSES_DOWN) else ", style=dotted"
        out.append(f"  {_dot_quote(link.parent)} -> {_dot_quote(link.child)} [label={_dot_quote(via(link))}{style}];")
    out.append("}")
    return "\n".join(out) + "\n"


def render_svg(dot_source: str, *, timeout: float = DOT_TIMEOUT_SECONDS) -> bytes:
    """Graphviz `dot -Tsvg`: the SVG of a DOT source. MissingDependency names the package."""
    exe = shutil.which("dot")
    if exe is None:
        raise MissingDependency("Graphviz is not installed: no `dot` on PATH", hint="apt-get install graphviz")
    try:
        done = subprocess.run([exe, "-Tsvg"], input=dot_source.encode("utf-8"), capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise GongwenError(f"Graphviz dot took longer than {timeout:.0f} s to draw the chain") from e
    if done.returncode != 0 or not done.stdout:
        tail = done.stderr.decode("utf-8", "replace").strip()[-300:]
        raise GongwenError(f"Graphviz dot failed (exit {done.returncode}): {tail or 'no output'}")
    return done.stdout


def _mermaid_text(text: str) -> str:
    """Mermaid labels are quoted: a double quote is written as an entity."""
    return text.replace('"', "#quot;")


def to_mermaid(report: ChainReport, findings: list[Finding] | None = None) -> str:
    """A Mermaid flowchart (top down): placeholders dashed, cites dotted, notices at fault outlined."""
    marks = _marks(findings or [])
    short = {node.id: f"n{i}" for i, node in enumerate(report.nodes)}
    out = ["flowchart TD"]
    for node in report.nodes:
        out.append(f'  {short[node.id]}["{_mermaid_text("<br/>".join(_picture_lines(node)))}"]')
    for link in report.links:
        arrow = "-->" if set(link.relations) & set(PASSES_DOWN) else "-.->"
        out.append(f'  {short[link.parent]} {arrow}|"{_mermaid_text(via(link))}"| {short[link.child]}')
    out.append("  classDef missing stroke-dasharray: 5 5,color:#555")
    out.append(f"  classDef error stroke:{_SEVERITY_COLOUR['error']},stroke-width:2px")
    out.append(f"  classDef warning stroke:{_SEVERITY_COLOUR['warning']},stroke-width:2px")
    missing = [short[n.id] for n in report.nodes if not n.in_archive]
    if missing:
        out.append(f"  class {','.join(missing)} missing")
    for severity in ("error", "warning"):
        marked = [short[i] for i, s in marks.items() if s == severity and i in short]
        if marked:
            out.append(f"  class {','.join(marked)} {severity}")
    return "\n".join(out) + "\n"
