"""pipeline.chain.links: links across files in any order, placeholders, levels, trees and forwarding delays.

The notices are the seed, the hand-written chains h01–h05 (parsed from their truth text) and the
synthetic chains of fixtures/chains (README there). Helpers here serve test_audit and
test_chain_render too.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from models import ChainReport, Document, Upstream
from pipeline import store
from pipeline.chain.levels import addressed_to, same_agency, workdays_between
from pipeline.chain.links import build_chain, chain_order, select, tree_parents
from pipeline.cli.chain import stored_documents
from pipeline.run import parse_file
from pipeline.store import FileRecord, Name, Verdict

FIXTURES = Path(__file__).parent.parent / "fixtures"
SEED = FIXTURES / "seed" / "000_b23ec74a3ac5c572.txt"
CHAINS = FIXTURES / "chains"
CASES = sorted(p.name for p in CHAINS.iterdir() if p.is_dir())
FIRE_CHAIN = [FIXTURES / "scans" / f"{name}.truth.txt" for name in (
    "h01_ministry_fire_campaign", "h02_province_fire_forward", "h03_city_fire_forward", "h04_county_fire_forward")]
BUNDLE = FIXTURES / "scans" / "h05_bundle_county_city_province.truth.txt"


@cache
def parsed(path: Path) -> tuple[Document, ...]:
    result, _ = parse_file(path)
    return tuple(result.documents)


def documents_of(paths: list[Path]) -> list[tuple[str, Document]]:
    """Each document with the id `--input` would give it: its file's name and its place there."""
    return [(f"{path.name}#{n}", doc) for path in paths for n, doc in enumerate(parsed(path), 1)]


def case_files(name: str) -> list[Path]:
    return sorted((CHAINS / name).glob("*.txt"))


def expected(name: str) -> dict[str, Any]:
    return json.loads((CHAINS / name / "expected.json").read_text(encoding="utf-8"))


def numbers(report: ChainReport, ids: list[str]) -> list[str | None]:
    nodes = {n.id: n for n in report.nodes}
    return [nodes[i].doc_number for i in ids]


def path_of(report: ChainReport) -> list[str]:
    """The node ids of the report's first tree, top down."""
    return chain_order(report.trees[0])


def shape(report: ChainReport) -> tuple[Any, ...]:
    """The graph as 文号 and titles, whatever the ids: what must not depend on the order of ingest."""
    nodes = {n.id: (n.doc_number, n.title) for n in report.nodes}
    links = sorted((nodes[link.parent], nodes[link.child], tuple(link.relations), link.matched_on) for link in report.links)
    return tuple(sorted(nodes.values(), key=str)), tuple(links)


# --- the seed --------------------------------------------------------------------------------------


def test_seed_chain_is_ministry_province_city():
    report = build_chain(documents_of([SEED]))
    chain = select(report, "临市民函〔2024〕89号")
    label = json.loads((FIXTURES / "seed" / "000_b23ec74a3ac5c572.expected.json").read_text(encoding="utf-8"))["chain"]
    assert numbers(chain, path_of(chain)) == label["order"]
    assert [n.level for n in map({n.id: n for n in chain.nodes}.get, path_of(chain))] == label["levels"]
    top = chain.nodes[[n.id for n in chain.nodes].index(path_of(chain)[0])]
    assert not top.in_archive and top.id == "ref:民函〔2024〕56号" and top.issuers == ["民政部", "全国老龄办"]
    parents = tree_parents(chain)
    assert [parents[i].relations for i in path_of(chain)[1:]] == [["forwards"], ["attaches"]]


def test_cited_documents_not_in_the_archive_are_annotations_not_tree_tops():
    report = build_chain(documents_of([SEED]))
    cited = next(n for n in report.nodes if n.title == "关于深入开展新时代“银龄行动”的指导意见")
    assert not cited.in_archive and cited.issuers == ["全国老龄办"]
    assert [t.id for t in report.trees] == ["ref:民函〔2024〕56号"]


def test_a_placeholder_is_resolved_when_its_document_arrives():
    ministry = Document(
        doc_number="民函〔2024〕56号",
        title="民政部 全国老龄办关于深入学习贯彻习近平总书记给“银龄行动”老年志愿者代表重要回信精神的通知",
        issuers=["民政部", "全国老龄办"],
        level="ministry",
        issue_date="2024-10-15",
    )
    report = build_chain([*documents_of([SEED]), ("ministry", ministry)])
    assert "ref:民函〔2024〕56号" not in {n.id for n in report.nodes}
    assert numbers(report, path_of(report))[0] == "民函〔2024〕56号" and path_of(report)[0] == "ministry"


# --- the hand-written chains ----------------------------------------------------------------------


def test_four_files_of_chain_a_link_on_normalised_numbers():
    label = json.loads((FIXTURES / "notices" / "h04_county_fire_forward.expected.json").read_text(encoding="utf-8"))["chain"]
    report = build_chain(documents_of(FIRE_CHAIN))
    assert numbers(report, path_of(report)) == label["order"]
    assert [n.level for n in report.nodes if n.in_archive] == label["levels"]
    parents = tree_parents(report)
    delays = [parents[i].delay for i in path_of(report)[1:]]
    assert [d.calendar_days for d in delays if d] == [8, 8, 5]
    assert all(parents[i].matched_on == "doc_number" for i in path_of(report)[1:])


def test_the_bundle_links_inside_one_file():
    label = json.loads((FIXTURES / "notices" / "h05_bundle_county_city_province.expected.json").read_text(encoding="utf-8"))["chain"]
    report = build_chain(documents_of([BUNDLE]))
    assert numbers(report, path_of(report)) == label["order"]
    assert [tree_parents(report)[i].relations for i in path_of(report)[1:]] == [["forwards", "attaches"]] * 2
    assert [tree_parents(report)[i].delay.calendar_days for i in path_of(report)[1:]] == [13, 7]  # type: ignore[union-attr]


# --- the synthetic chains -------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_synthetic_chain_gives_its_expected_graph(case: str):
    label = expected(case)
    report = build_chain(documents_of(case_files(case)))
    assert numbers(report, path_of(report)) == label["order"]
    nodes = {n.id: n for n in report.nodes}
    assert [nodes[i].level for i in path_of(report)] == label["levels"]
    if "in_archive" in label:
        assert [nodes[i].in_archive for i in path_of(report)] == label["in_archive"]
    links = sorted([nodes[link.parent].doc_number, nodes[link.child].doc_number, link.relations] for link in report.links)
    assert links == sorted(label["links"])


@pytest.mark.parametrize("case", ["three_level", "four_level", "missing_middle", "reused_number"])
def test_every_order_of_the_files_gives_the_same_graph(case: str):
    files = case_files(case)
    first = build_chain(documents_of(files))
    for order in itertools.permutations(files):
        assert build_chain(documents_of(list(order))) == first


def file_record(path: Path) -> FileRecord:
    result, _ = parse_file(path)
    data = path.read_bytes()
    return FileRecord(sha256=hashlib.sha256(data).hexdigest(), size=len(data), name=Name.of(path.name),
                      verdict=Verdict("done"), kind="text", result=result)


@pytest.mark.parametrize("case", ["three_level", "four_level"])
def test_ingested_in_every_order_the_store_gives_the_same_graph(case: str, tmp_path: Path):
    """Through the store: ids are content hashes, and a notice ingested after its forward resolves the placeholder."""
    records = [file_record(p) for p in case_files(case)]
    shapes = set()
    for n, order in enumerate(itertools.permutations(records)):
        conn = store.connect(tmp_path / f"{n}.db")
        try:
            for i, record in enumerate(order):
                store.save_file(conn, record)
                partial = build_chain(stored_documents(conn))
                assert sum(not node.in_archive for node in partial.nodes) <= len(records) - i - 1
            shapes.add(shape(build_chain(stored_documents(conn))))
        finally:
            conn.close()
    assert len(shapes) == 1
    assert shapes.pop() == shape(build_chain(documents_of(case_files(case))))


def test_the_right_notice_of_a_reused_number_is_linked():
    report = build_chain(documents_of(case_files("reused_number")))
    parent = {n.id: n for n in report.nodes}[path_of(report)[0]]
    assert parent.title == expected("reused_number")["parent_title"]


def test_a_missing_middle_level_keeps_its_place_by_its_own_title():
    report = build_chain(documents_of(case_files("missing_middle")))
    middle = next(n for n in report.nodes if not n.in_archive)
    link = tree_parents(report)[middle.id]
    assert link.inferred and link.matched_on == "title" and link.references == []


# --- matching rules -------------------------------------------------------------------------------

FORWARD = "山西省民政厅关于转发《民政部 国家消防救援局关于开展2024年度养老机构冬春火灾防范专项整治的通知》的通知"


def _doc(number: str | None, title: str, issuer: str, *, upstream: list[Upstream] | None = None, **extra: Any) -> Document:
    return Document(doc_number=number, title=title, issuers=[issuer], upstream=upstream or [], **extra)


def _parent_number(documents: list[tuple[str, Document]], child: str) -> str | None:
    report = build_chain(documents)
    link = tree_parents(report).get(child)
    return {n.id: n for n in report.nodes}[link.parent].doc_number if link else None


@pytest.mark.parametrize(
    "cited",
    [
        "省民政厅关于转发“民政部 国家消防救援局关于开展2024年度养老机构冬春火灾防范专项整治的通知”的通知",  # issuer abbreviated, quotes
        "山西省民政厅关于转发〈民政部国家消防救援局关于开展２０２４年度养老机构冬春火灾防范专项整治的通知〉的通知",  # 〈〉, full-width digits
        "山西省民政厅关于转发《民政部 国家消防救援局关于开展2024年度养老机构冬春火灾防范专项整冶的通知》的通知",  # an OCR slip
        "关于转发《民政部 国家消防救援局关于开展2024年度养老机构冬春火灾防范专项整治的通知》的通知",  # issuer dropped
    ],
)
def test_without_a_number_a_reference_links_on_the_normalised_title(cited: str):
    documents = [
        ("province", _doc(None, FORWARD, "山西省民政厅")),
        ("city", _doc("临市民函〔2024〕156号", "临汾市民政局关于…的通知", "临汾市民政局", upstream=[Upstream(relation="forwards", title=cited)])),
    ]
    report = build_chain(documents)
    assert tree_parents(report)["city"].parent == "province" and tree_parents(report)["city"].matched_on == "title"


def test_two_levels_forwarding_one_notice_are_not_taken_for_each_other():
    city_title = FORWARD.replace("山西省民政厅", "临汾市民政局")
    documents = [
        ("province", _doc("晋民函〔2024〕203号", FORWARD, "山西省民政厅")),
        ("county", _doc("洪民发〔2024〕88号", "洪洞县民政局关于…的通知", "洪洞县民政局",
                        upstream=[Upstream(relation="forwards", title=city_title)])),
    ]
    report = build_chain(documents)
    assert tree_parents(report)["county"].parent == f"ref:《{city_title}》"


def test_another_year_is_another_notice():
    documents = [
        ("old", _doc("民发〔2023〕21号", "民政部关于开展2023年度养老机构消防安全检查的通知", "民政部")),
        ("new", _doc("晋民函〔2024〕1号", "山西省民政厅关于…", "山西省民政厅",
                     upstream=[Upstream(relation="forwards", title="民政部关于开展2024年度养老机构消防安全检查的通知")])),
    ]
    assert _parent_number(documents, "new") is None


def test_a_number_in_any_printed_form_links_and_a_cited_number_outranks_the_title():
    documents = [
        ("province", _doc("晋民函〔2024〕203号", FORWARD, "山西省民政厅")),
        ("other", _doc("晋民函〔2024〕204号", FORWARD, "山西省民政厅")),
        ("city", _doc("临市民函〔2024〕156号", "临汾市民政局关于…", "临汾市民政局",
                      upstream=[Upstream(relation="forwards", doc_number="晋民函[2024]204号", title=FORWARD)])),
    ]
    assert _parent_number(documents, "city") == "晋民函〔2024〕204号"


def test_scans_of_one_notice_are_one_node():
    seed = documents_of([SEED])
    twin = [(f"twin-{doc_id}", doc) for doc_id, doc in seed]
    report = build_chain(seed + twin)
    stored = [n for n in report.nodes if n.in_archive]
    assert len(stored) == 2 and all(len(n.copies) == 1 for n in stored)
    assert select(report, stored[0].copies[0]).trees == select(report, stored[0].id).trees


def test_a_placeholder_takes_its_level_from_the_agency_code():
    documents = [("c", _doc("临市民函〔2024〕9号", "临汾市民政局关于…", "临汾市民政局",
                            upstream=[Upstream(relation="forwards", doc_number="晋民函〔2024〕7号")]))]
    report = build_chain(documents)
    assert {n.id: n.level for n in report.nodes}["ref:晋民函〔2024〕7号"] == "province"


@pytest.mark.parametrize(
    ("assignee", "issuer", "expected"),
    [
        ("各市民政局", "临汾市民政局", True),
        ("各市老龄办", "临汾市老龄工作委员会办公室", True),
        ("各县（市、区）民政局", "洪洞县民政局", True),
        ("各省、自治区、直辖市民政厅（局）", "山西省民政厅", True),
        ("各省、自治区、直辖市教育厅（教委）", "河北省教育厅", True),
        ("各市民政局", "山西省民政厅", False),
        ("各县（市、区）民政局", "临汾市民政局", False),
        ("各市卫生健康委", "长治市卫生健康委员会", True),
        ("各市卫生健康委", "长治市民政局", False),
        ("省老龄委各成员单位", "临汾市民政局", False),
        ("新疆生产建设兵团民政局", "新疆生产建设兵团民政局", True),
    ],
)
def test_which_recipients_take_in_an_agency(assignee: str, issuer: str, expected: bool):
    assert addressed_to(assignee, issuer) is expected


def test_agency_names_with_and_without_their_place():
    assert same_agency("省民政厅", "山西省民政厅")
    assert same_agency("民政部", "民政部")
    assert not same_agency("山西省民政厅", "临汾市民政局")
    assert not same_agency("洪洞县民政局", "临汾市民政局")


# --- trees and selection --------------------------------------------------------------------------


def test_select_by_id_prefix_or_number_in_any_form_or_nothing():
    report = build_chain(documents_of(FIRE_CHAIN))
    by_number = select(report, "临市民函［2024］156号")
    assert [t.id for t in by_number.trees] == [t.id for t in report.trees]
    assert select(report, "h02_province").trees == by_number.trees  # a prefix of 4+ characters, as `gongwen show` takes
    assert select(report, "h02").trees == []
    assert select(report, "国发〔2099〕1号").trees == []


def test_a_loop_is_drawn_once_and_marked():
    report = build_chain(documents_of(case_files("loop")))
    (entry,) = report.trees
    assert entry.children[0].children[0].loop and entry.children[0].children[0].id == entry.id


# --- working days ---------------------------------------------------------------------------------


def test_working_days_follow_the_official_calendar():
    assert workdays_between(date(2024, 9, 20), date(2024, 10, 10)) == (10, False)  # National Day and its 调休
    assert workdays_between(date(2024, 10, 10), date(2024, 9, 20)) == (-10, False)
    assert workdays_between(date(2024, 11, 4), date(2024, 11, 4)) == (0, False)
    assert workdays_between(date(2099, 1, 1), date(2099, 1, 8))[1] is True  # no data: Monday to Friday, and said so
