"""Both OCR engines, live, on every rendered scan (marked `live`: needs tesseract and the
rapidocr models; run with the rest by `make test`, skipped by `make test-fast`).

Text is compared fuzzily: character error rate of the normalised reading against the
ground truth. Fields are compared exactly for the default engine, as on its recorded readings.
"""

import importlib.util
import json
from pathlib import Path

import pytest
from labels import mismatches
from test_notices import SCAN_LIMITS, SCANS, _label

from pipeline.text.normalise import normalise
from pipeline.reading.read import read_file
from pipeline.run import parse_pages

ROOT = Path(__file__).parent.parent
SCAN_DIR = ROOT / "fixtures" / "scans"
_spec = importlib.util.spec_from_file_location("ocr_quality", ROOT / "bench" / "ocr_quality.py")
assert _spec and _spec.loader
ocr_quality = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ocr_quality)

# Character error rate ceilings (%), a margin above what each engine measured on these
# scans after normalisation (README, OCR measurements): a regression, not noise, trips them.
CER_CEILING = {"rapidocr": 4.0, "tesseract": 20.0}


def _scan(name: str) -> Path:
    return next(p for p in SCAN_DIR.glob(f"{name}.*") if not p.name.endswith(".truth.txt"))


def _normalised_cer(pages, name: str) -> float:
    truth = ocr_quality.canonical((SCAN_DIR / f"{name}.truth.txt").read_text(encoding="utf-8"))
    read = ocr_quality.canonical(normalise(pages).text)
    return 100.0 * ocr_quality.levenshtein(truth, read) / len(truth)


@pytest.mark.live
@pytest.mark.parametrize("engine", ["rapidocr", "tesseract"])
@pytest.mark.parametrize("name", SCANS)
def test_live_reading(name: str, engine: str):
    read = read_file(_scan(name), engine=engine)
    assert _normalised_cer(read.pages, name) <= CER_CEILING[engine]
    result, _ = parse_pages(read.pages, file=name, kind=read.kind, engine=read.engine)
    got = [d.model_dump(mode="json") for d in result.documents]
    # Whatever the engine misreads, no address it printed as certain may be one the notice lacks:
    # a doubtful one stands in `uncertain` (pipeline.reading.latin).
    labelled = {e for d in _label(name)["documents"] for c in d.get("contacts", []) for e in c.get("emails", [])}
    assert {e for d in got for c in d["contacts"] for e in c["emails"]} <= labelled
    if engine != "rapidocr":
        return
    wrong = mismatches(got, _label(name)["documents"], scan=True)
    if f"{name}.rapidocr" in SCAN_LIMITS:
        assert wrong, "a known scan limit no longer shows: remove it from SCAN_LIMITS"
        return
    assert wrong == []


@pytest.mark.live
def test_recorded_readings_are_what_the_engines_read_now():
    """The parser tests run on recordings; they must stay what a live run gives."""
    name = "seed"
    live = read_file(_scan(name), engine="rapidocr")
    recorded = json.loads((ROOT / "fixtures" / "recorded" / f"{name}.rapidocr.json").read_text(encoding="utf-8"))
    live_text = ocr_quality.canonical("".join(p.raw_text for p in live.pages))
    recorded_text = ocr_quality.canonical("".join("\n".join(line["text"] for line in p["lines"]) for p in recorded))
    assert ocr_quality.levenshtein(recorded_text, live_text) <= 0.01 * len(recorded_text)
