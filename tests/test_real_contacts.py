"""Contacts on the real notices in ../shared/real, scored in place by that folder's own score.py.

The texts are real pages and are never copied here; where ../shared/real is absent (a clone
without the shared folder) the test skips and says so. Floors sit a little under what the parser
reaches (README, accuracy table), so a regression fails; a phone or address printed that the
notice does not hold fails at once.
"""

import importlib.util
import json
from pathlib import Path

import pytest

from pipeline.run import parse_file

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "real"
FLOORS = {"phones": 0.95, "emails": 0.95, "contact_names": 0.92}


@pytest.fixture(scope="module")
def tally():
    if not (REAL / "score.py").exists():
        pytest.skip(f"{REAL} is absent: the real notices are scored only where the shared folder is present")
    spec = importlib.util.spec_from_file_location("real_score", REAL / "score.py")
    assert spec and spec.loader
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    t, misses = score.Tally(), []
    for text in sorted(REAL.glob("[0-9][0-9].txt")):
        label = json.loads(text.with_suffix(".json").read_text(encoding="utf-8"))
        result, _ = parse_file(text)
        docs = result.model_dump(mode="json")["documents"]
        for gold in label["documents"] if "documents" in label else [label]:
            score.score_one(gold, docs, t, misses, text.name)
    return t, misses


@pytest.mark.parametrize("field", sorted(FLOORS))
def test_contacts_of_real_notices_reach_their_floor(tally, field):
    t, misses = tally
    assert t.rows[field][1] > 0
    assert t.rate(field) >= FLOORS[field], [m for m in misses if f" {field}: " in m]


@pytest.mark.parametrize("field", ["phones_precision", "emails_precision"])
def test_no_phone_or_address_printed_that_the_notice_does_not_hold(tally, field):
    t, misses = tally
    assert t.rate(field) == 1.0, [m for m in misses if "printed but not in the notice" in m]
