"""What every OCR engine is and returns: the interface, and the page shape with its lines in reading order.

    OcrEngine            the interface: name, version, parallel_pages, probe(), read()
    label(engine)        "rapidocr 3.10.0", as pages record it
    ocr_page(engine, …)  the Page an engine read, its lines in reading order
    ocr_threads()        the cores one process's OCR may use: $GONGWEN_OCR_THREADS, else all
"""

import os
from typing import Protocol, runtime_checkable

import numpy as np

from models.page import Line, Page


@runtime_checkable
class OcrEngine(Protocol):
    name: str
    #: pages read at once: tesseract runs one single-threaded process per page, one per
    #: core it may use; rapidocr already spreads one page over those cores.
    parallel_pages: int

    @property
    def version(self) -> str:
        """Version of the engine as installed, e.g. "5.3.0"; probes if needed."""
        ...

    def probe(self) -> None:
        """Check the engine can run; MissingDependency (with the fix) or EngineError if not."""
        ...

    def read(self, image: np.ndarray, *, page_number: int, dpi: float | None, timeout: float | None = None) -> Page:
        """OCR one prepared page (RGB or grey uint8) into a Page with lines in reading order.

        A page the engine cannot read (timeout, no text, garbage) is a Page with no or
        few lines and a warning; EngineError only when the engine itself is broken.
        """
        ...


THREADS_VARIABLE = "GONGWEN_OCR_THREADS"


def ocr_threads() -> int:
    """$GONGWEN_OCR_THREADS, else the cores this process may run on (at most 8). Batch ingest
    sets the variable to each worker's share: two workers whose OCR threads contend for the
    same two cores are slower together than with one thread each."""
    value = os.environ.get(THREADS_VARIABLE, "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, 8))


def label(engine: OcrEngine) -> str:
    """"rapidocr 3.10.0": what Page.engine and ReadResult.engine record."""
    return f"{engine.name} {engine.version}"


def ocr_page(
    engine: OcrEngine, *, number: int, image: np.ndarray, dpi: float | None, lines: list[Line], seconds: float, warnings: list[str]
) -> Page:
    """The page an engine read, its lines in reading order: every engine returns this shape."""
    height, width = image.shape[:2]
    return Page(
        number=number,
        source="ocr",
        engine=label(engine),
        width=width,
        height=height,
        dpi=dpi,
        lines=reading_order(lines),
        seconds=round(seconds, 3),
        warnings=warnings,
    )


def reading_order(lines: list[Line]) -> list[Line]:
    """Top to bottom, then left to right: lines whose middles sit within half a line
    height of the row's first line share a row (a 签发人 at the right of the 文号 line).
    Lines without a box keep their place at the end."""
    boxed = sorted((line for line in lines if line.box), key=lambda line: line.box.y0)  # type: ignore[union-attr]
    rows: list[list[Line]] = []
    for line in boxed:
        box = line.box
        assert box is not None
        middle = (box.y0 + box.y1) / 2
        if rows:
            head = rows[-1][0].box
            assert head is not None
            if abs(middle - (head.y0 + head.y1) / 2) <= (head.y1 - head.y0) / 2:
                rows[-1].append(line)
                continue
        rows.append([line])
    ordered = [line for row in rows for line in sorted(row, key=lambda line: line.box.x0)]  # type: ignore[union-attr]
    return ordered + [line for line in lines if not line.box]
