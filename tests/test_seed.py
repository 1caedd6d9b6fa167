"""The acceptance case: the seed's OCR text gives every labelled field of both its documents."""

import json
from pathlib import Path

from labels import mismatches

from pipeline.run import parse_file

SEED = Path(__file__).parent.parent / "fixtures" / "seed"


def _parse(name: str) -> list[dict]:
    result, _ = parse_file(SEED / name)
    return [d.model_dump(mode="json") for d in result.documents]


def test_seed_text_reproduces_every_labelled_field():
    label = json.loads((SEED / "000_b23ec74a3ac5c572.expected.json").read_text(encoding="utf-8"))
    got = _parse("000_b23ec74a3ac5c572.txt")
    assert mismatches(got, label["documents"]) == []


def test_seed_values_point_back_at_their_text():
    result, text = parse_file(SEED / "000_b23ec74a3ac5c572.txt")
    city, province = result.documents
    where = province.provenance["doc_number"]
    assert text.text[where.span.start : where.span.end] == "晋民函〔2024〕169号"
    dated = next(i for i, d in enumerate(province.deadlines) if d.date)
    deadline = province.provenance[f"deadlines[{dated}]"]
    assert text.text[deadline.span.start : deadline.span.end].startswith("请于11月20日前")
    assert city.span is not None and province.span is not None and city.span.end < province.span.start


def test_seed_dates_never_come_from_document_numbers():
    result, _ = parse_file(SEED / "000_b23ec74a3ac5c572.txt")
    dates = [d.date for doc in result.documents for d in doc.deadlines if d.date]
    assert dates == ["2024-11-20"]
