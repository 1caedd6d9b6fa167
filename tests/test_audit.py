"""pipeline.chain.audit and `gongwen audit`: each finding on the seed, the hand-written and the synthetic chains."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from test_chain import BUNDLE, CASES, FIRE_CHAIN, SEED, case_files, documents_of, expected
from typer.testing import CliRunner

import pipeline.cli.chain  # noqa: F401  registers `chain` and `audit` on the app
from models import Document, Finding, Upstream
from pipeline.chain.audit import AuditOptions, FindingsError, audit
from pipeline.chain.links import build_chain
from pipeline.cli.main import app

runner = CliRunner()


def findings_of(documents: list[tuple[str, Document]], options: AuditOptions | None = None) -> list[Finding]:
    return audit(build_chain(documents), dict(documents), options or AuditOptions())


def serious(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity != "info"]


def one(findings: list[Finding], code: str, **data: Any) -> Finding:
    """The single finding with this code whose data holds these values."""
    found = [f for f in findings if f.code == code and all(f.data.get(k) == v for k, v in data.items())]
    assert len(found) == 1, [(f.code, f.data) for f in findings]
    return found[0]


# --- the seed --------------------------------------------------------------------------------------


def test_seed_has_the_two_findings_of_its_label():
    """shared/seeds/000_b23ec74a3ac5c572.expected.json, `chain.expected_findings`."""
    findings = serious(findings_of(documents_of([SEED])))
    assert sorted(f.code for f in findings) == ["deadline_not_passed_down", "missing_upstream"]

    missing = one(findings, "missing_upstream")
    assert [d.doc_number for d in missing.documents] == ["民函〔2024〕56号", "晋民函〔2024〕169号"]
    assert not missing.documents[0].in_archive and "民函〔2024〕56号" in missing.message and "未入档" in missing.message
    assert missing.evidence[0].page == 1 and "民函〔2024〕56号" in missing.evidence[0].text

    not_passed = one(findings, "deadline_not_passed_down")
    assert [d.doc_number for d in not_passed.documents] == ["晋民函〔2024〕169号", "临市民函〔2024〕89号"]
    assert not_passed.data["upstream_deadline"] == "2024-11-20"
    assert not_passed.data["binds"] == ["各市民政局", "各市老龄办"]
    assert "2024-11-20" in not_passed.message and "临市民函〔2024〕89号" in not_passed.message
    sentence = not_passed.evidence[0]
    assert sentence.doc_number == "晋民函〔2024〕169号" and sentence.page == 1 and "请于11月20日前" in sentence.text


def test_a_cited_notice_not_in_the_archive_is_a_note():
    cited = one(findings_of(documents_of([SEED])), "cited_not_in_archive")
    assert cited.severity == "info" and "关于深入开展新时代“银龄行动”的指导意见" in cited.message


# --- chain A (h01–h04) and the bundle (h05): their labels' `chain.expected_findings` -------------


def test_chain_a():
    findings = findings_of(documents_of(FIRE_CHAIN))
    late = one(findings, "deadline_later_than_upstream")
    assert late.severity == "error" and late.data["upstream_date"] == "2024-12-10" and late.data["downstream_date"] == "2024-12-31"
    assert late.data["lead_days"] == -21 and [d.doc_number for d in late.documents] == ["晋民函〔2024〕203号", "临市民函〔2024〕156号"]
    passed = one(findings, "deadline_passed_down", upstream_date="2024-12-20")
    assert passed.data["downstream_date"] == "2024-12-10" and passed.data["lead_days"] == 10
    county = one(findings, "deadline_passed_down", upstream_date="2024-12-31", downstream_date="2024-12-20")
    assert county.data["lead_days"] == 11
    monthly = one(findings, "lead_time_short")
    assert (monthly.data["upstream_date"], monthly.data["downstream_date"]) == ("2024-12-05", "2024-12-03")
    not_passed = [f for f in findings if f.code == "deadline_not_passed_down"]
    assert sorted(str(f.data["upstream_deadline"]) for f in not_passed) == ["2024-12-12", "FREQ=MONTHLY;BYMONTHDAY=3"]
    assert all(f.documents[-1].doc_number == "临市民函〔2024〕156号" for f in not_passed)
    delays = [f.data["calendar_days"] for f in findings if f.code == "forwarding_delay"]
    assert sorted(delays) == [5, 8, 8]
    printed = {f.data["printed"] for f in findings if f.code == "nonconforming_doc_number"}
    assert printed == {"洪民发（2024）88号", "晋民函[2024]203号", "临市民函［2024］156号"}


def test_the_bundle():
    findings = findings_of(documents_of([BUNDLE]))
    quarterly = one(findings, "deadline_passed_down", lead_workdays=3, lead_days=5)
    assert quarterly.documents[-1].doc_number == "长卫老龄发〔2024〕31号"
    assert one(findings, "deadline_not_passed_down").data["upstream_deadline"].startswith("FREQ=MONTHLY")
    annual = [f for f in findings if f.code == "deadline_passed_down" and f is not quarterly]
    assert [f.data["downstream_date"] for f in annual] == ["2024-12-13", "2024-12-10"]  # province 12-31 → city → county
    assert sorted(f.data["calendar_days"] for f in findings if f.code == "forwarding_delay") == [7, 13]
    assert one(findings, "cited_not_in_archive").data["doc_number"] == "国卫老龄发〔2023〕18号"


# --- the synthetic chains -------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_synthetic_chain_gives_its_expected_findings(case: str):
    findings = findings_of(documents_of(case_files(case)))
    got = Counter((f.code, f.severity, tuple(d.doc_number for d in f.documents)) for f in findings)
    want = Counter((f["code"], f["severity"], tuple(f["documents"])) for f in expected(case)["findings"])
    assert got == want
    for label in expected(case)["findings"]:
        matching = [f for f in findings if f.code == label["code"] and [d.doc_number for d in f.documents] == label["documents"]]
        assert any(all(f.data.get(k) == v for k, v in label["data"].items()) for f in matching), (label, [f.data for f in matching])


def test_errors_come_first_then_chain_order():
    findings = findings_of(documents_of(FIRE_CHAIN))
    ranks = [{"error": 0, "warning": 1, "info": 2}[f.severity] for f in findings]
    assert ranks == sorted(ranks)


def test_every_message_is_short_chinese_with_evidence_pages():
    for case in CASES:
        for finding in findings_of(documents_of(case_files(case))):
            assert finding.message and len(finding.message) < 200
            assert all(e.page for e in finding.evidence)


@pytest.mark.parametrize(("case", "lead", "short"), [("late_deadline", 2, 0), ("late_deadline", 3, 1), ("four_level", 5, 0), ("four_level", 6, 3)])
def test_the_lead_time_threshold_is_configurable(case: str, lead: int, short: int):
    findings = findings_of(documents_of(case_files(case)), AuditOptions(min_lead_workdays=lead))
    assert sum(f.code == "lead_time_short" for f in findings) == short


@pytest.mark.parametrize(("slow", "flagged"), [(5, 0), (4, 2), (2, 3)])
def test_the_slow_forwarding_threshold_is_configurable(slow: int, flagged: int):
    findings = findings_of(documents_of(case_files("four_level")), AuditOptions(slow_workdays=slow))
    assert sum(f.code == "slow_forwarding" for f in findings) == flagged


# --- levels and conformity, on records made here -------------------------------------------------


def _forward(number: str, issuer: str, level: str, upstream: str, **extra: Any) -> Document:
    return Document(doc_number=number, title=f"{issuer}关于转发《某通知》的通知", issuers=[issuer], level=level,  # type: ignore[arg-type]
                    upstream=[Upstream(relation="forwards", doc_number=upstream)], **extra)


def test_a_county_notice_forwarded_upward_is_wrong_direction():
    documents = [
        ("county", Document(doc_number="洪民发〔2024〕1号", title="洪洞县民政局关于某事的通知", issuers=["洪洞县民政局"], level="county")),
        ("city", _forward("临市民函〔2024〕2号", "临汾市民政局", "city", "洪民发〔2024〕1号")),
    ]
    found = one(findings_of(documents), "wrong_direction")
    assert found.severity == "error" and [d.level for d in found.documents] == ["county", "city"]


def test_a_county_forwarding_a_province_notice_skips_a_level():
    documents = [
        ("province", Document(doc_number="晋民函〔2024〕3号", title="山西省民政厅关于某事的通知", issuers=["山西省民政厅"], level="province")),
        ("county", _forward("洪民发〔2024〕4号", "洪洞县民政局", "county", "晋民函〔2024〕3号")),
    ]
    assert one(findings_of(documents), "skipped_level").severity == "warning"


def test_a_ministry_notice_forwarded_by_a_province_skips_nothing():
    documents = [
        ("state", Document(doc_number="国办发〔2024〕5号", title="国务院办公厅关于某事的通知", issuers=["国务院办公厅"], level="state")),
        ("province", _forward("晋政办发〔2024〕6号", "山西省人民政府办公厅", "province", "国办发〔2024〕5号")),
    ]
    assert not [f for f in findings_of(documents) if f.code in ("skipped_level", "wrong_direction")]


def test_a_notice_citing_its_own_number_is_a_loop():
    documents = [("self", _forward("临市民函〔2024〕7号", "临汾市民政局", "city", "临市民函〔2024〕7号"))]
    assert one(findings_of(documents), "loop").severity == "error"


def test_a_loop_inside_a_larger_tangle_is_named_by_its_shortest_way_round():
    """1 ⇄ 2 and 2 ⇄ 3: one component; walking greedily from 1 through 2 to 3 would find no way on."""
    documents = [
        ("a", _forward("临市民函〔2024〕1号", "临汾市民政局", "city", "临市民函〔2024〕2号")),
        ("b", _forward("临市民函〔2024〕2号", "临汾市民政局", "city", "临市民函〔2024〕1号")),
        ("c", _forward("临市民函〔2024〕3号", "临汾市民政局", "city", "临市民函〔2024〕2号")),
    ]
    documents[1][1].upstream.append(Upstream(relation="forwards", doc_number="临市民函〔2024〕3号"))
    loop = one(findings_of(documents), "loop")
    assert len(loop.data["cycle"]) == 2 and loop.data["entangled"] == ["a", "b", "c"]


@pytest.mark.parametrize(("conforming", "found"), [(False, 1), (None, 0), (True, 0)])
def test_only_a_known_nonconforming_number_is_a_finding(conforming: bool | None, found: int):
    doc = Document(doc_number="晋民函〔2024〕8号", doc_number_printed="晋民函[2024]8号", doc_number_conforming=conforming, title="某通知")
    assert sum(f.code == "nonconforming_doc_number" for f in findings_of([("d", doc)])) == found


# --- the command ----------------------------------------------------------------------------------


def parse_json_inputs(paths: list[Path], folder: Path) -> list[str]:
    """`gongwen parse` output for each file, as `--input` takes it."""
    args = []
    for path in paths:
        result = runner.invoke(app, ["parse", str(path)])
        assert result.exit_code == 0, result.output
        target = folder / f"{path.stem}.json"
        target.write_text(result.stdout, encoding="utf-8")
        args += ["--input", str(target)]
    return args


def test_audit_of_the_seed_passes_and_prints_json(tmp_path: Path):
    result = runner.invoke(app, ["audit", "--json", *parse_json_inputs([SEED], tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [f["code"] for f in data if f["severity"] != "info"] == ["missing_upstream", "deadline_not_passed_down"]
    assert "0 errors, 2 warnings" in result.stderr


def test_audit_with_an_error_exits_with_the_findings_code(tmp_path: Path):
    result = runner.invoke(app, ["audit", *parse_json_inputs(case_files("late_deadline"), tmp_path)])
    assert result.exit_code == FindingsError.exit_code != 0
    assert "错误" in result.stdout and "并民函〔2024〕77号" in result.stdout
    assert "FindingsError" in result.stderr


def test_audit_options_reach_the_rules(tmp_path: Path):
    inputs = parse_json_inputs(case_files("late_deadline"), tmp_path)
    strict = json.loads(runner.invoke(app, ["audit", "--json", "--min-lead-days", "2", *inputs]).stdout)
    assert "lead_time_short" not in {f["code"] for f in strict}


def test_audit_refuses_json_that_is_not_a_parse(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"documents": 3}', encoding="utf-8")
    result = runner.invoke(app, ["audit", "--input", str(bad)])
    assert result.exit_code == 3 and "bad.json" in result.stderr
