"""Every hand-written notice gives every labelled field, read from its ground-truth text and
from each OCR engine's recorded reading of its scan (no OCR engine needed here).

The truth text is what the renderer printed, line for line (`fixtures/scans/NAME.truth.txt`);
the recorded readings are the engines' own output on the rendered scans
(`fixtures/recorded/NAME.<engine>.json`, made by `make record`).
"""

import json
from pathlib import Path

import pytest
from labels import mismatches

from models import Page
from pipeline.run import parse_file, parse_pages

FIXTURES = Path(__file__).parent.parent / "fixtures"
SEED_LABEL = FIXTURES / "seed" / "000_b23ec74a3ac5c572.expected.json"
SCANS = sorted(p.name.removesuffix(".truth.txt") for p in (FIXTURES / "scans").glob("*.truth.txt"))
RECORDED = sorted((FIXTURES / "recorded").glob("*.json"))


def _label(name: str) -> dict:
    """A scan's label: its notice's, or the seed's for the seed scan and its variants (seed_heavy, …)."""
    path = SEED_LABEL if name == "seed" or name.startswith("seed_") else FIXTURES / "notices" / f"{name}.expected.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_notice_has_a_rendered_scan():
    notices = {p.name.removesuffix(".notice") for p in (FIXTURES / "notices").glob("*.notice")}
    assert notices and notices <= set(SCANS)


@pytest.mark.parametrize("name", SCANS)
def test_truth_text_gives_every_labelled_field(name: str):
    result, _ = parse_file(FIXTURES / "scans" / f"{name}.truth.txt")
    got = [d.model_dump(mode="json") for d in result.documents]
    assert mismatches(got, _label(name)["documents"]) == []


@pytest.mark.parametrize("recorded", RECORDED, ids=lambda p: p.stem)
def test_recorded_scan_reading_gives_every_labelled_field(recorded: Path):
    name, engine = recorded.stem.rsplit(".", 1)
    pages = [Page.model_validate(p) for p in json.loads(recorded.read_text(encoding="utf-8"))]
    result, _ = parse_pages(pages, file=recorded.name, kind="pdf", engine=engine)
    got = [d.model_dump(mode="json") for d in result.documents]
    assert mismatches(got, _label(name)["documents"], scan=True) == []
