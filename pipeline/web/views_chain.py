"""The forwarding chain as a tree and a picture, with its findings; the audit list.

The graph is built from the corrected records (pipeline.chain.links), as the CLI does, once for
each state of the store (pipeline.web.snapshot), so a corrected 文号 links at the next request. The picture is Graphviz's SVG served on its own URL
and shown with <img>: an SVG loaded as an image runs no script, whatever its labels hold.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from models import ChainReport, Finding
from pipeline.chain.audit import at_fault
from pipeline.chain.links import select
from pipeline.chain.render import RELATION_NAMES, SEVERITY_NAMES, deadline_line, heading, render_svg, to_dot, via
from pipeline.errors import GongwenError
from pipeline.web.desk import render, snapshot

MAX_KEY = 100


def _key(request: Request) -> str | None:
    key = request.query_params.get("key", "").strip()
    if len(key) > MAX_KEY:
        raise HTTPException(400, f"文号或编号不超过 {MAX_KEY} 个字")
    return key or None


def _chain(request: Request) -> tuple[ChainReport, list[Finding], str | None]:
    """The (selected) report and the findings of the whole archive, as `gongwen chain` judges them."""
    key = _key(request)
    now = snapshot(request)
    report, findings = now.chain(), now.findings()
    if key is not None:
        report = select(report, key)
    return report, findings, key


def _concerning(findings: list[Finding], report: ChainReport) -> list[Finding]:
    ids = {n.id for n in report.nodes}
    return [f for f in findings if any(d.id in ids for d in f.documents)]


def chain(request: Request) -> Response:
    report, findings, key = _chain(request)
    nodes = {n.id: n for n in report.nodes}
    faults: dict[str, str] = {}
    for finding in findings:
        if finding.severity != "info":
            for node_id in at_fault(finding):
                faults[node_id] = "error" if finding.severity == "error" or faults.get(node_id) == "error" else "warning"
    return render(
        request,
        "chain.html",
        report=report,
        nodes=nodes,
        key=key,
        findings=_concerning(findings, report),
        faults=faults,
        heading=heading,
        via=via,
        deadline_line=deadline_line,
        links={(link.parent, link.child): link for link in report.links},
        severity_names=SEVERITY_NAMES,
        relation_names=RELATION_NAMES,
    )


def picture(request: Request) -> Response:
    report, findings, _ = _chain(request)
    if not report.trees:
        raise HTTPException(404, "没有可画的链路")
    try:
        svg = render_svg(to_dot(report, findings))
    except GongwenError as e:
        raise HTTPException(503, f"无法绘制链路图：{e.message}") from None
    return Response(svg, media_type="image/svg+xml", headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


def audit_list(request: Request) -> Response:
    _, findings, _ = _chain(request)
    return render(request, "audit.html", findings=findings, severity_names=SEVERITY_NAMES)
