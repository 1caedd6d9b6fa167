"""pipeline.chain.render and `gongwen chain`: the terminal tree, JSON, Mermaid and the Graphviz SVG."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from xml.etree import ElementTree  # our own dot output: no untrusted XML here

import pytest
from rich.console import Console
from test_audit import parse_json_inputs
from test_chain import FIRE_CHAIN, SEED, file_record, case_files, documents_of
from typer.testing import CliRunner

import pipeline.cli.chain  # noqa: F401  registers `chain` and `audit` on the app
from models import ChainReport, Finding
from pipeline import store
from pipeline.chain.audit import audit
from pipeline.chain.links import build_chain
from pipeline.chain.render import render_svg, to_dot, to_mermaid, tree
from pipeline.cli.main import app
from pipeline.errors import MissingDependency

runner = CliRunner()
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed (apt-get install graphviz)")


def chain_and_findings(paths: list[Path]) -> tuple[ChainReport, list[Finding]]:
    documents = documents_of(paths)
    report = build_chain(documents)
    return report, audit(report, dict(documents))


def terminal(report: ChainReport, findings: list[Finding]) -> str:
    console = Console(record=True, width=160, color_system=None)
    console.print(tree(report, findings))
    return console.export_text()


def test_the_seed_tree_reads_top_down():
    text = terminal(*chain_and_findings([SEED]))
    lines = text.splitlines()
    assert lines[0].startswith("民函〔2024〕56号 · 部委 · 民政部 全国老龄办 · 成文日期 不详 · 未入档")
    order = [text.index(n) for n in ("民函〔2024〕56号", "晋民函〔2024〕169号", "临市民函〔2024〕89号")]
    assert order == sorted(order)
    assert "期限 2024-11-20：报送学习贯彻" in text
    assert "附件 · 用时不详" in text and "引用 《关于深入开展新时代“银龄行动”的指导意见》，未入档" in text
    assert "└── 临市民函〔2024〕89号 · 市级" in text and "⚠ 警告1" in text


def test_each_node_shows_its_delay_and_the_one_at_fault_is_marked():
    text = terminal(*chain_and_findings(FIRE_CHAIN))
    assert "转发 · 用时6个工作日（8天）" in text and "转发 · 用时3个工作日（5天）" in text
    city = next(line for line in text.splitlines() if "临市民函〔2024〕156号 · 市级" in line)
    assert "⚠ 错误1" in city and "⚠ 警告2" in city


def test_json_is_the_graph_and_its_trees():
    report, _ = chain_and_findings(case_files("three_level"))
    data = json.loads(report.model_dump_json())
    assert {n["doc_number"] for n in data["nodes"]} == {"教基函〔2024〕12号", "冀教函〔2024〕318号", "石教函〔2024〕156号"}
    assert [link["delay"]["workdays"] for link in data["links"]] == [5, 5]
    assert data["trees"][0]["children"][0]["children"][0]["id"] == "3_city.txt#1"


def test_mermaid_names_every_node_and_link():
    report, findings = chain_and_findings(case_files("missing_middle"))
    text = to_mermaid(report, findings)
    assert text.startswith("flowchart TD\n")
    assert all(n.doc_number in text for n in report.nodes)
    assert text.count("-->") == len(report.links)
    assert "class n1 missing" in text and "class n1 warning" in text


def test_dot_quotes_what_it_must():
    report, findings = chain_and_findings([SEED])
    source = to_dot(report, findings)
    assert source.startswith("digraph chain {") and source.rstrip().endswith("}")
    assert '"ref:民函〔2024〕56号" -> ' in source and 'style="rounded,dashed"' in source
    untitled = report.nodes[0].model_copy(update={"doc_number": None, "title": 'a "quoted" \\ title'})
    source = to_dot(report.model_copy(update={"nodes": [untitled]}))
    assert '《a \\"quoted\\" \\\\ title》' in source  # DOT escapes: \" and \\


@needs_dot
@pytest.mark.parametrize("paths", [[SEED], FIRE_CHAIN, case_files("loop")], ids=["seed", "chain_a", "loop"])
def test_the_svg_is_valid_and_names_every_node(paths: list[Path]):
    report, findings = chain_and_findings(paths)
    svg = render_svg(to_dot(report, findings))
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for node in report.nodes:
        assert (node.doc_number or node.title or "")[:12] in texts


def test_without_graphviz_the_svg_names_the_package(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(MissingDependency, match="Graphviz") as e:
        render_svg("digraph {}")
    assert e.value.hint == "apt-get install graphviz"


# --- the command ----------------------------------------------------------------------------------


@needs_dot
def test_chain_command_from_parsed_files(tmp_path: Path):
    inputs = parse_json_inputs([SEED], tmp_path)
    picture = tmp_path / "chain.svg"
    result = runner.invoke(app, ["chain", "临市民函〔2024〕89号", "--svg", str(picture), *inputs])
    assert result.exit_code == 0, result.output
    assert "晋民函〔2024〕169号" in result.stdout and "未入档" in result.stdout
    assert ElementTree.fromstring(picture.read_bytes()).tag.endswith("svg")
    assert f"wrote {picture}" in result.stderr


def test_chain_command_reads_the_store(tmp_path: Path):
    db = tmp_path / "notices.db"
    conn: sqlite3.Connection = store.connect(db)
    try:
        for path in FIRE_CHAIN:
            store.save_file(conn, file_record(path))
    finally:
        conn.close()
    result = runner.invoke(app, ["chain", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["nodes"]) == 5 and len(data["trees"]) == 1  # four notices and the cited 民发〔2023〕37号
    mermaid = runner.invoke(app, ["chain", "--db", str(db), "--mermaid", "洪民发〔2024〕88号"])
    assert mermaid.exit_code == 0 and mermaid.stdout.startswith("flowchart TD")


def test_chain_command_says_when_nothing_matches(tmp_path: Path):
    result = runner.invoke(app, ["chain", "国发〔2099〕1号", *parse_json_inputs([SEED], tmp_path)])
    assert result.exit_code == 1 and "国发〔2099〕1号" in result.stderr


def test_chain_command_refuses_two_outputs(tmp_path: Path):
    result = runner.invoke(app, ["chain", "--json", "--mermaid", *parse_json_inputs([SEED], tmp_path)])
    assert result.exit_code == 2
