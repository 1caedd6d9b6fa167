#!/usr/bin/env python3
"""Where a page's CPU time goes, stage by stage, against bare tesseract on the same page images.

    python bench/page_stages.py                          seed, h02, h06, h10 with rapidocr, one OCR thread
    python bench/page_stages.py --engine tesseract --scans h02,h10

CPU seconds (this process's, every thread; tesseract's children counted apart), not wall
time: on a shared machine the others' load does not inflate them. One OCR thread, so a CPU
second of the engine is a second of its one core. The stages are those of
`pipeline.reading.read.read_image_page`, timed by wrapping its calls (a call inside another
counts to the outer one; a page read upside down first is read twice), then the parse (`pipeline.run.parse_pages`) and the store
(`pipeline.store.save_file`) of each file. For rapidocr the detector's and the recogniser's
share of each OCR stage is shown as well. Prints a markdown table; not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GONGWEN_OCR_THREADS", "1")

from pipeline.reading import latin, preprocess  # noqa: E402
from pipeline.reading import read as reading  # noqa: E402
from pipeline.reading.engines import get_engine  # noqa: E402
from pipeline.reading.engines.tesseract import child_env, tesseract_argv, write_uncompressed  # noqa: E402
from pipeline.reading.load import PageImage, load  # noqa: E402
from pipeline.reading.sniff import sniff  # noqa: E402

SCANS = ROOT / "fixtures" / "scans"
DEFAULT_SCANS = "seed,h02,h06,h10"

spent: dict[str, float] = defaultdict(float)
stack: list[str] = []
calls: dict[str, int] = defaultdict(int)


def cpu() -> float:
    return time.process_time()


def timed(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, its CPU time charged to `stage` unless an outer timed call is running."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if stack:
            return function(*args, **kwargs)
        stack.append(stage)
        started = cpu()
        try:
            return function(*args, **kwargs)
        finally:
            spent[stage] += cpu() - started
            calls[stage] += 1
            stack.pop()

    return wrapper


def timed_part(part: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """An engine's inner step (detection, recognition), charged to `<outer stage>: part`."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = cpu()
        try:
            return function(*args, **kwargs)
        finally:
            spent[f"{stack[-1] if stack else '?'}: {part}"] += cpu() - started

    return wrapper


def instrument(engine: Any) -> None:
    for name, stage in (("likely_turns", "orientation"), ("detect_orientation", "orientation"), ("estimate_skew", "deskew"),
                        ("deskew", "deskew"), ("flatten_background", "flatten"), ("remove_red", "red removal")):  # fmt: skip
        if hasattr(preprocess, name):  # detect_orientation: the trial reads of earlier versions, for before/after runs
            setattr(preprocess, name, timed(stage, getattr(preprocess, name)))
    reading.read_red_header = timed("red header", reading.read_red_header)
    latin.check_lines = timed("latin re-read", latin.check_lines)
    engine.read = timed("body read", engine.read)
    ocr = getattr(engine, "_ocr", None)
    if ocr is not None:  # rapidocr: its detector and recogniser load at their first call
        ocr._load_det_model()
        ocr._load_rec_model()
        ocr.text_det = timed_part("detection", ocr.text_det)
        ocr.text_rec = timed_part("recognition", ocr.text_rec)


def bare_tesseract_cpu(images: list[PageImage]) -> float:
    """CPU seconds of `tesseract` (children's rusage) on each page image, one after another."""
    with tempfile.TemporaryDirectory(prefix="gongwen-stages-") as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        for n, page in enumerate(images):
            folder = Path(tmp) / str(n)
            folder.mkdir()
            argv = tesseract_argv("tesseract", write_uncompressed(page.image, folder), folder / "out", page.dpi)
            subprocess.run(argv, capture_output=True, env=child_env(), check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="rapidocr", choices=["rapidocr", "tesseract"])
    parser.add_argument("--scans", default=DEFAULT_SCANS, help="comma-separated name prefixes in fixtures/scans")
    args = parser.parse_args()
    paths = [next(p for p in sorted(SCANS.glob(f"{n}*")) if not p.name.endswith(".txt")) for n in args.scans.split(",")]

    from pipeline import store
    from pipeline.run import parse_pages  # spaCy and the parser load before any clock starts

    started = cpu()
    engine = get_engine(args.engine)
    if hasattr(engine, "_ocr"):
        engine._ocr  # noqa: B018  the model load, timed
    load_seconds = cpu() - started
    instrument(engine)
    started = cpu()
    warm_up(parse_pages)
    warm_seconds = cpu() - started

    images: list[PageImage] = []
    with tempfile.TemporaryDirectory(prefix="gongwen-stages-db-") as tmp:
        conn = store.connect(Path(tmp) / "notices.db")
        for path in paths:
            loaded = load(path, sniff(path))
            pages = []
            for item in loaded.pages:
                if not isinstance(item, PageImage):
                    continue
                images.append(item)
                mark = cpu()
                pages.append(reading.read_image_page(item, engine, reading.PREPARATION[args.engine], 600))
                spent["(page total)"] += cpu() - mark
            mark = cpu()
            result, text = parse_pages(pages, file=path.name, kind=loaded.kind, engine=pages[0].engine if pages else None)
            spent["parse"] += cpu() - mark
            mark = cpu()
            save(store, conn, path, result, text, pages)
            spent["store"] += cpu() - mark
            print(f"{path.name}: {len(pages)} pages", file=sys.stderr)
        conn.close()
    bare = bare_tesseract_cpu(images)
    report(args, len(images), load_seconds, warm_seconds, bare)


def save(store: Any, conn: Any, path: Path, result: Any, text: Any, pages: list[Any]) -> None:
    """Store the file as batch ingest does (one transaction), to time the store."""
    import hashlib

    from pipeline.ingest.workers import document_bodies, page_texts

    data = path.read_bytes()
    record = store.FileRecord(
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), name=store.Name.of(path.name), verdict=store.Verdict("done", None),
        kind=result.kind, result=result, pages=pages, page_texts=page_texts(text, pages), bodies=document_bodies(result, text), routing=None,
    )  # fmt: skip
    store.save_file(conn, record)


def warm_up(parse_pages: Callable[..., Any]) -> None:
    """The parser's first document loads jieba's dictionary and spaCy's pipeline: once per
    worker, like the model load, so it is timed apart (on a recorded reading of the seed)."""
    import json

    from models.page import Page

    recorded = json.loads((ROOT / "fixtures" / "recorded" / "seed.rapidocr.json").read_text(encoding="utf-8"))
    parse_pages([Page.model_validate(p) for p in recorded], file="warm-up", kind="pdf")


def report(args: argparse.Namespace, pages: int, load_seconds: float, warm_seconds: float, bare: float) -> None:
    reading_total = spent.pop("(page total)")
    stages = ["orientation", "deskew", "flatten", "red removal", "body read", "red header", "latin re-read"]
    accounted = sum(spent[s] for s in stages)
    spent["other reading (page copies, merge)"] = max(0.0, reading_total - accounted)
    total = reading_total + spent["parse"] + spent["store"]
    print(f"| stage ({args.engine}, {pages} pages of {args.scans}, 1 OCR thread) | CPU s/page | share | ÷ bare tesseract |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| model load (once per worker) | {load_seconds:.2f} (once) | – | – |")
    print(f"| parser's first document: jieba, spaCy (once per worker) | {warm_seconds:.2f} (once) | – | – |")
    for stage in [*stages, "other reading (page copies, merge)", "parse", "store"]:
        value = spent.get(stage, 0.0) / pages
        label = f"{stage} ({calls[stage]} reads)" if stage == "body read" else stage
        print(f"| {label} | {value:.3f} | {100 * spent.get(stage, 0.0) / total:.1f} % | {spent.get(stage, 0.0) / bare:.2f} |")
        for part in ("detection", "recognition"):
            key = f"{stage}: {part}"
            if key in spent:
                print(f"| … {part} | {spent[key] / pages:.3f} | {100 * spent[key] / total:.1f} % | {spent[key] / bare:.2f} |")
    print(f"| **total a page** | {total / pages:.3f} | 100 % | **{total / bare:.2f}** |")
    print(f"| bare tesseract, same page images | {bare / pages:.3f} | – | 1.00 |")


if __name__ == "__main__":
    main()
