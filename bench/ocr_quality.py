#!/usr/bin/env python3
"""OCR quality on the rendered scans: character error rate, labelled fields right and seconds per page,
per engine, with the preparation steps added one at a time (ablation). Prints a markdown table.

    python bench/ocr_quality.py                      every scan with a NAME.truth.txt beside it
    python bench/ocr_quality.py --engines rapidocr   one engine
    python bench/ocr_quality.py --steps all          only the engines' default preparation
    python bench/ocr_quality.py --record             default preparation, and write fixtures/recorded/NAME.<engine>.json

Scans: fixtures/scans/*.pdf|tiff|tif|jpg|jpeg|png (written by fixtures/render.py) with
NAME.truth.txt: the printed text, one line per printed line, pages separated by a form feed.

CER = Levenshtein distance / truth length, after removing all whitespace and mapping
full-/half-width forms and quote styles to one form (what normalisation will do anyway),
summed over pages so a page read as nothing costs its whole length.

Fields: the reading parsed into records and compared with the scan's hand-made label
(fixtures/notices/NAME.expected.json, the seed's for seed*), field by field as the live tests
do (tests/labels.py): the share of labelled fields the records get right.

--record writes what the engine read with its default preparation, as a JSON list of
`Page.model_dump(mode="json")`: recorded engine outputs that let parser tests run without
an engine. They are not golden files: re-record when the engine or preparation changes.
"""

import argparse
import json
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.page import Page  # noqa: E402
from pipeline.reading.read import NO_PREPARATION, PREPARATION, Preparation, read_file  # noqa: E402

SCAN_SUFFIXES = (".pdf", ".tiff", ".tif", ".jpg", ".jpeg", ".png")
ENGINES = ("rapidocr", "tesseract")
# the ablation: each row adds one step to the row above
STEP_ORDER = tuple(f.name for f in fields(Preparation))
STEP_LABELS = {
    "orientation": "+orientation",
    "deskew": "+deskew",
    "flatten": "+flatten",
    "remove_red": "+red removal",
    "red_header": "+red header pass",
}

# --- scoring ------------------------------------------------------------------------------------

QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "「": '"', "」": '"', "『": '"', "』": '"', "‘": "'", "’": "'", "〝": '"', "〞": '"'})
WHITESPACE = re.compile(r"\s+")


def canonical(text: str) -> str:
    """Whitespace removed; full-width ASCII forms folded to half width (NFKC); one quote style."""
    return WHITESPACE.sub("", unicodedata.normalize("NFKC", text).translate(QUOTES))


def levenshtein(a: str, b: str) -> int:
    """Edit distance, one numpy row per character of `a` (pages are a few hundred characters)."""
    if not a or not b:
        return max(len(a), len(b))
    codes = np.array([ord(c) for c in b])
    index = np.arange(len(b) + 1)
    row = index.copy()
    for i, char in enumerate(a, start=1):
        substitute = row[:-1] + (codes != ord(char))
        new = np.empty_like(row)
        new[0] = i
        new[1:] = np.minimum(row[1:] + 1, substitute)
        # insertions chain along the row: new[j] = min(new[j], new[j-1] + 1)
        row = np.minimum.accumulate(new - index) + index
    return int(row[-1])


def truth_pages(path: Path) -> list[str]:
    return [page for page in path.read_text(encoding="utf-8").split("\f")]


@dataclass
class Score:
    errors: int = 0
    length: int = 0
    fields_right: int = 0
    fields: int = 0
    pages: int = 0
    page_seconds: float = 0.0
    wall_seconds: float = 0.0

    def add(self, other: "Score") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def cer(self) -> float:
        return 100.0 * self.errors / max(self.length, 1)


def score_pages(pages: list[Page], truths: list[str]) -> Score:
    """Page by page against the truth; missing or extra pages count in full."""
    score = Score(pages=len(pages))
    for index in range(max(len(pages), len(truths))):
        read = canonical(pages[index].raw_text) if index < len(pages) else ""
        truth = canonical(truths[index]) if index < len(truths) else ""
        score.errors += levenshtein(truth, read)
        score.length += len(truth)
        score.page_seconds += (pages[index].seconds or 0.0) if index < len(pages) else 0.0
    return score


def score_fields(pages: list[Page], scan: Path, engine: str) -> tuple[int, int]:
    """(right, labelled) fields of the records parsed from `pages`; (0, 0) without a label."""
    import importlib.util

    from pipeline.run import parse_pages

    name = scan.name.rsplit(".", 1)[0]
    fixtures = ROOT / "fixtures"
    label = fixtures / "seed" / "000_b23ec74a3ac5c572.expected.json" if name.startswith("seed") else fixtures / "notices" / f"{name}.expected.json"
    if not label.is_file():
        return 0, 0
    spec = importlib.util.spec_from_file_location("labels", ROOT / "tests" / "labels.py")
    assert spec and spec.loader
    labels = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(labels)
    result, _ = parse_pages(pages, file=scan.name, kind="pdf", engine=engine)
    got = [d.model_dump(mode="json") for d in result.documents]
    scores = labels.field_accuracy(got, json.loads(label.read_text(encoding="utf-8"))["documents"], scan=True)
    return sum(r for r, _ in scores.values()), sum(t for _, t in scores.values())


# --- running --------------------------------------------------------------------------------------


def find_scans(folder: Path) -> list[tuple[Path, Path]]:
    scans = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        truth = path.with_name(path.name.rsplit(".", 1)[0] + ".truth.txt")
        if path.suffix.lower() in SCAN_SUFFIXES and truth.is_file():
            scans.append((path, truth))
    return scans


def ablation(engine: str, mode: str, only: list[str] | None = None) -> list[tuple[str, Preparation]]:
    """(label, preparation) rows: the engine's default only, or none and then one step more
    per row; `only` keeps the rows whose last step is named (or "none")."""
    if mode == "default":
        return [("default", PREPARATION[engine])]
    rows, prep = [("none", NO_PREPARATION, "none")], NO_PREPARATION
    for step in STEP_ORDER:
        prep = replace(prep, **{step: True})
        rows.append((STEP_LABELS[step], prep, step))
    return [(label, prep) for label, prep, step in rows if not only or step in only]


def run(scan: Path, truth: Path, engine: str, prep: Preparation) -> tuple[Score, list[Page]]:
    started = time.perf_counter()
    result = read_file(scan, engine=engine, preparation=prep)
    score = score_pages(result.pages, truth_pages(truth))
    score.wall_seconds = time.perf_counter() - started
    score.fields_right, score.fields = score_fields(result.pages, scan, engine)
    return score, result.pages


def markdown(results: dict[tuple[str, str], dict[str, Score]], names: list[str]) -> str:
    head = ["engine and preparation", *names, "mean CER", "fields right", "s/page", "wall s/page"]
    out = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for (engine, label), per_file in results.items():
        total = Score()
        for score in per_file.values():
            total.add(score)
        cers = [f"{per_file[n].cer:.1f}" if n in per_file else "–" for n in names]
        mean = sum(per_file[n].cer for n in per_file) / max(len(per_file), 1)
        pages = max(total.pages, 1)
        fields = f"{100 * total.fields_right / total.fields:.1f} % of {total.fields}" if total.fields else "–"
        out.append(
            f"| {engine} {label} | " + " | ".join(cers) + f" | {mean:.2f} | {fields} | {total.page_seconds / pages:.2f} | {total.wall_seconds / pages:.2f} |"
        )
    return "\n".join(out)


def write_recording(pages: list[Page], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    dumped = [page.model_dump(mode="json") for page in pages]
    target.write_text(json.dumps(dumped, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=Path, default=ROOT / "fixtures" / "scans", help="folder of scans with NAME.truth.txt")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: rapidocr,tesseract")
    parser.add_argument("--steps", choices=("ablation", "default"), default="ablation")
    parser.add_argument("--only", default="", help="only scans whose name contains this")
    parser.add_argument("--rows", default="", help="only these ablation rows, by their last step: none,orientation,deskew,...")
    parser.add_argument("--record", action="store_true", help="also write fixtures/recorded/NAME.<engine>.json (default preparation)")
    parser.add_argument("--recorded", type=Path, default=ROOT / "fixtures" / "recorded")
    args = parser.parse_args(argv)

    scans = [(s, t) for s, t in find_scans(args.scans) if args.only in s.name]
    if not scans:
        print(f"no scans with a .truth.txt in {args.scans}: run `make fixtures` first", file=sys.stderr)
        return 1
    engines = [e for e in args.engines.split(",") if e]
    steps = "default" if args.record else args.steps
    names = [scan.name.rsplit(".", 1)[0] for scan, _ in scans]
    results: dict[tuple[str, str], dict[str, Score]] = {}
    for engine in engines:
        for label, prep in ablation(engine, steps, [r for r in args.rows.split(",") if r]):
            row = results.setdefault((engine, label), {})
            for (scan, truth), name in zip(scans, names):
                row[name], pages = run(scan, truth, engine, prep)
                print(f"{engine} {label} {name}: CER {row[name].cer:.1f} %", file=sys.stderr)
                if args.record:
                    write_recording(pages, args.recorded / f"{name}.{engine}.json")
    print(markdown(results, names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
