#!/usr/bin/env python3
"""Accuracy per field on the real notices in ../shared/real: as text, and as scans of the same texts.

    python bench/accuracy.py                     text, then every scan variant (renders and OCRs what is missing)
    python bench/accuracy.py --text-only         the texts alone (seconds)
    python bench/accuracy.py --variants light-noto --only 01,05

The scans are rendered by fixtures/render_real.py into build/real-scans (ignored, never
committed); each scan's OCR reading is kept beside it as NAME.<engine>.json, so that a rerun
after a parser change only parses. Fields are compared by ../shared/real/score.py's own rules
(its README): the numbers here are the numbers that script prints. The last rows count phones and
e-mail addresses printed as certain that the notice does not hold: on scans that must be 0.
Prints a markdown table; a benchmark, not a test (the floors are in tests/test_real_contacts.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures"))

from models.page import Page  # noqa: E402
from pipeline.run import parse_file, parse_pages  # noqa: E402

REAL = ROOT.parent / "shared" / "real"
SCANS = ROOT / "build" / "real-scans"
FIELDS = (
    "doc_number", "title", "issuers", "recipients", "recipients_precision", "issue_date", "deadline_dates",
    "deadline_precision", "upstream_numbers", "attachments", "contact_names", "phones", "phones_precision",
    "emails", "emails_precision",
)  # fmt: skip


def load_score():
    spec = importlib.util.spec_from_file_location("real_score", REAL / "score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def label_of(number: str) -> dict:
    return json.loads((REAL / f"{number}.json").read_text(encoding="utf-8"))


def score_docs(score, tally, misses, label: dict, docs: list[dict], name: str) -> None:
    for gold in label["documents"] if "documents" in label else [label]:
        score.score_one(gold, docs, tally, misses, name)


def read_scan(scan: Path, engine: str) -> list[Page]:
    """The scan's pages as the engine read them, from the cache beside it or read now."""
    from pipeline.reading.read import read_file

    cache = scan.with_suffix(f".{engine}.json")
    if cache.exists() and cache.stat().st_mtime >= scan.stat().st_mtime:
        return [Page.model_validate(p) for p in json.loads(cache.read_text(encoding="utf-8"))]
    pages = read_file(scan, engine=engine).pages
    cache.write_text(json.dumps([p.model_dump(mode="json") for p in pages], ensure_ascii=False), encoding="utf-8")
    return pages


def wrong_printed(misses: list[str], key: str) -> int:
    return sum(line.count("'") // 2 for line in misses if f" {key}: printed but not in the notice" in line)


def main(argv: list[str] | None = None) -> int:
    import render_real

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text-only", action="store_true")
    parser.add_argument("--variants", default=",".join(render_real.VARIANTS))
    parser.add_argument("--engine", default="rapidocr")
    parser.add_argument("--only", default="", help="comma-separated notice numbers (01,05)")
    parser.add_argument("--cached-only", action="store_true", help="score only the scans already read (no OCR now)")
    parser.add_argument("-v", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    if not (REAL / "score.py").exists():
        print(f"accuracy.py: {REAL} is absent: nothing to measure", file=sys.stderr)
        return 2
    score = load_score()
    texts = sorted(REAL.glob("[0-9][0-9].txt"))
    if args.only:
        texts = [t for t in texts if t.stem in args.only.split(",")]
    columns: dict[str, tuple[object, list[str]]] = {}

    tally, misses = score.Tally(), []
    for text in texts:
        result, _ = parse_file(text)
        score_docs(score, tally, misses, label_of(text.stem), result.model_dump(mode="json")["documents"], text.name)
    columns["text"] = (tally, misses)

    if not args.text_only:
        variants = args.variants.split(",")
        all_tally, all_misses = score.Tally(), []
        for variant in variants:
            tally, misses = score.Tally(), []
            for text in texts:
                started = time.perf_counter()
                if args.cached_only and not (SCANS / f"{text.stem}_{variant}.{args.engine}.json").exists():
                    continue
                (scan,) = render_real.render_text(text, SCANS, [variant])
                pages = read_scan(scan, args.engine)
                result, _ = parse_pages(pages, file=str(scan), kind="pdf", engine=args.engine)
                docs = result.model_dump(mode="json")["documents"]
                for t, m in ((tally, misses), (all_tally, all_misses)):
                    score_docs(score, t, m, label_of(text.stem), docs, scan.name)
                print(f"{scan.name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
            columns[f"scans {variant}"] = (tally, misses)
        columns["scans, all"] = (all_tally, all_misses)

    if args.v:
        for name, (_, misses) in columns.items():
            print(f"## {name}", *misses, sep="\n", file=sys.stderr)
    print(f"| field ({len(texts)} notices, {args.engine} on scans) | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    for field in FIELDS:
        cells = []
        for tally, _ in columns.values():
            right, total = tally.rows.get(field, (0, 0))
            cells.append(f"{100 * right / total:.0f} % ({right}/{total})" if total else "–")
        print(f"| {field} | " + " | ".join(cells) + " |")
    for key in ("phones", "emails"):
        print(f"| wrong {key} printed as certain | " + " | ".join(str(wrong_printed(m, key)) for _, m in columns.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
