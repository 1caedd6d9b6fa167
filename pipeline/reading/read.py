"""The reading stage: a file in, its pages as lines of text with boxes out.

    read_file(path, engine="auto", page_timeout=120, max_pages=500) -> ReadResult

    sniff → load → for each image page:
        deskew → flatten background → remove red → engine.read, turned until it reads upright
        + on page 1 and any page with a red header rule: read the red ink above the
          rule and put back the 发文机关标志 lines the red-free read lost

Whole-file failures raise (InputError, EncryptedPdf, InputTooLarge, MissingDependency);
a page that fails becomes a page with no lines plus an Issue and the file goes on.
Which preparation steps run depends on the engine (PREPARATION), as measured by
bench/ocr_quality.py.
"""

import re
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import cv2
import numpy as np
from pydantic import BaseModel, Field

from models.document import Issue
from models.page import Line, Page
from pipeline.reading import latin, preprocess
from pipeline.reading.engines import get_engine
from pipeline.reading.engines.interface import OcrEngine, label, reading_order
from pipeline.errors import EngineError
from pipeline.reading.load import Loaded, PageFailure, PageImage, load
from pipeline.reading.sniff import sniff


class ReadResult(BaseModel):
    kind: str = Field(description='"pdf" (image-only or mixed), "pdf-text", "png", "jpeg", "tiff", "text", "docx", "doc", "ofd", "html", "mhtml"')
    pages: list[Page]
    engine: str | None = Field(default=None, description='"rapidocr 3.10.0"; None when no OCR ran')
    problems: list[Issue] = Field(default_factory=list)


@dataclass(frozen=True)
class Preparation:
    """Which preparation steps run before OCR."""

    orientation: bool = True
    deskew: bool = True
    flatten: bool = True
    remove_red: bool = True
    red_header: bool = True


NO_PREPARATION = Preparation(False, False, False, False, False)

# Measured with bench/ocr_quality.py on the rendered phone scans (see its table):
# both engines gain from every step; orientation only costs when a page is blank.
PREPARATION: dict[str, Preparation] = {
    "rapidocr": Preparation(),
    "tesseract": Preparation(),
}

LOW_CONFIDENCE = 60.0  # mean line confidence below this: a person should look at the page
HEADER_TOP_SHARE = 0.35  # page 1's 版头 sits in the top third (GB/T 9704: the red rule at ~80 mm of 297)
HEADER_RULE_SHARE = 0.5  # a red row this wide (share of page width) is the red rule under the 版头
RED_PRESENT = 0.0005  # share of red pixels in the top region below which there is nothing to read
UPRIGHT_CONFIDENCE = 0.7  # weighted share of confident characters above which a read is upright (upright_evidence)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def read_file(
    path: Path,
    *,
    engine: str = "auto",
    page_timeout: float = 120,
    max_pages: int = 500,
    preparation: Preparation | None = None,
) -> ReadResult:
    """Read every page of `path`. `preparation` overrides the engine's measured default (for benches)."""
    kind = sniff(path)
    loaded = load(path, kind, max_pages=max_pages)
    ocr = None if loaded.kind in ("text", "pdf-text") or not loaded.needs_ocr else get_engine(engine)
    prep = preparation or (PREPARATION.get(ocr.name, Preparation()) if ocr else NO_PREPARATION)
    pages: list[Page] = []
    problems: list[Issue] = []
    for page, issues in read_pages(loaded, ocr, prep, page_timeout):
        pages.append(page)
        problems.extend(issues)
    ran_ocr = ocr is not None and any(page.source == "ocr" for page in pages)
    return ReadResult(kind=loaded.kind, pages=pages, engine=label(ocr) if ran_ocr and ocr else None, problems=problems)


def read_pages(
    loaded: Loaded, ocr: OcrEngine | None, prep: Preparation, timeout: float
) -> Iterator[tuple[Page, list[Issue]]]:
    """Pages in order; image pages OCR'd `ocr.parallel_pages` at a time, few pages in memory."""
    workers = ocr.parallel_pages if ocr else 1

    def one(item: Page | PageImage | PageFailure) -> tuple[Page, list[Issue]]:
        if isinstance(item, Page):
            # what a reader noted about a page it read itself (a charset that lied, a conversion)
            notes = [Issue(code="page.note", message=f"page {item.number}: {w}", severity="info", page=item.number) for w in item.warnings]
            return item, notes
        if isinstance(item, PageFailure):
            return failed_page(item.number, item.reason, ocr)
        assert ocr is not None
        try:
            page = read_image_page(item, ocr, prep, timeout)
        except EngineError as e:
            return failed_page(item.number, str(e), ocr)
        return page, page_problems(page)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gongwen-page") as pool:
        pending: deque[Future[tuple[Page, list[Issue]]]] = deque()
        for item in loaded.pages:
            pending.append(pool.submit(one, item))
            while len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def failed_page(number: int, reason: str, ocr: OcrEngine | None) -> tuple[Page, list[Issue]]:
    page = Page(number=number, source="ocr", engine=label(ocr) if ocr else None, warnings=[reason])
    return page, [Issue(code="page.unreadable", message=f"page {number}: {reason}", severity="error", page=number)]


# --- one image page ---------------------------------------------------------------------------


def read_image_page(item: PageImage, ocr: OcrEngine, prep: Preparation, timeout: float) -> Page:
    """Prepare and read one page. Its orientation is judged on the body read itself: the
    likeliest turn is read first and kept when it reads as upright text, so an upright page
    (nearly all) costs no trial read; otherwise the other turns are read and the best kept."""
    started = time.perf_counter()
    turns = preprocess.likely_turns(item.image) if prep.orientation else (0,)
    prepared: dict[int, np.ndarray] = {}  # per axis: a turn of 180° more is the same page read upside down
    best: tuple[float, int, np.ndarray, np.ndarray, Page] | None = None
    for degrees in turns:
        axis = degrees % 180
        if axis not in prepared:
            prepared[axis] = prepare(preprocess.rotate_quadrant(item.image, axis), prep)
        image = preprocess.rotate_quadrant(prepared[axis], degrees - axis)
        body = preprocess.remove_red(image) if prep.remove_red else image
        page = ocr.read(body, page_number=item.number, dpi=item.dpi, timeout=timeout)
        chars, score = upright_evidence(page)
        if best is None or score > best[0]:
            best = (score, degrees, image, body, page)
        if not page.lines or (chars and score >= UPRIGHT_CONFIDENCE * chars):
            break
    assert best is not None
    _, rotation, image, body, page = best
    del prepared
    lines, header_warnings = page.lines, []
    if prep.red_header:
        header = read_red_header(image, ocr, item.number, item.dpi, timeout)
        lines, header_warnings = merge_header(page.lines, header)
    lines, checks = latin.check_lines(lines, body)
    return page.model_copy(
        update={
            "rotation": rotation,
            "lines": lines,
            "latin": checks,
            "seconds": round(time.perf_counter() - started, 3),
            "warnings": item.warnings + page.warnings + header_warnings,
        }
    )


def prepare(image: np.ndarray, prep: Preparation) -> np.ndarray:
    """Deskew and flatten the background, as `prep` says (red removal comes after: the red
    header pass needs the colours)."""
    if prep.deskew:
        image = preprocess.deskew(image, preprocess.estimate_skew(preprocess.to_grey(image)))
    if prep.flatten:
        image = preprocess.flatten_background(image)
    return image


def upright_evidence(page: Page) -> tuple[int, float]:
    """(Chinese characters read in horizontal lines, the same weighted by confidence squared).

    Upside-down text reads as unsure characters: on the fixture scans the weighted share
    was 0.9–1.0 upright and 0.3–0.5 upside down with rapidocr, 0.65–0.86 and under 0.11
    with tesseract. Lines taller than wide do not count: RapidOCR turns tall crops 90°
    before recognising them, so a page on its side would still read well.
    """
    chars, score = 0, 0.0
    for line in page.lines:
        if line.box is not None and line.box.x1 - line.box.x0 < line.box.y1 - line.box.y0:
            continue
        n = len(CJK.findall(line.text))
        chars += n
        score += n * ((line.conf or 0) / 100) ** 2
    return chars, score


# --- the red 发文机关标志 ----------------------------------------------------------------------


def header_region_height(image: np.ndarray, page_number: int) -> int:
    """Rows to read for a red header: down to the red rule if there is one (any page: an
    attached notice starts with its own 版头), else the top third of page 1, else none."""
    height = image.shape[0]
    if height < 16:
        return 0  # a sliver (a 1×1 image): no header to read, and too small to look for a rule
    top = image[: height // 2]
    if preprocess.red_share(top) < RED_PRESENT:
        return 0
    rule = red_rule_row(top)
    if rule is not None:
        return rule
    return round(height * HEADER_TOP_SHARE) if page_number == 1 else 0


def red_rule_row(image: np.ndarray) -> int | None:
    """The first row of an unbroken red line at least HEADER_RULE_SHARE of the width long.

    Large red characters cover as many columns but with gaps between them; the rule has
    none. Rows are thickened by ~0.5 % of the height so a rule left slightly slanted by
    perspective still reads as one unbroken run.
    """
    mask = (preprocess.redness(image) > preprocess.RED_MARGIN).astype(np.uint8)
    reach = max(1, image.shape[0] // 100)
    thick = cv2.dilate(mask, np.ones((2 * reach + 1, 1), np.uint8))
    need = HEADER_RULE_SHARE * image.shape[1]
    for row in np.nonzero(thick.sum(axis=1) >= need)[0]:
        if longest_run(thick[row]) >= need:
            return int(row) + reach  # the thickening reached `reach` rows above the rule
    return None


def longest_run(flags: np.ndarray) -> int:
    """Length of the longest run of non-zero values."""
    edges = np.diff(np.concatenate(([0], (flags > 0).astype(np.int8), [0])))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return int((ends - starts).max()) if starts.size else 0


def read_red_header(image: np.ndarray, ocr: OcrEngine, page_number: int, dpi: float | None, timeout: float) -> list[Line]:
    """Lines read from the red ink alone above the red rule (ocr-notes fact 4), in page coordinates.

    Only the box around the red ink is read, with a margin: the 发文机关标志 is centred
    (GB/T 9704 7.2.1) and narrower than the type area, and the detector's time goes with
    the pixels it is given.
    """
    if image.ndim == 2:
        return []
    rows = header_region_height(image, page_number)
    if rows < 16:
        return []
    region = image[:rows]
    if preprocess.red_share(region) < RED_PRESENT:
        return []
    layer = preprocess.red_layer(region)
    top, bottom, left, right = ink_extent(layer < 128, margin=max(8, image.shape[1] // 50))
    page = ocr.read(layer[top:bottom, left:right], page_number=page_number, dpi=dpi, timeout=timeout)
    # the rule's anti-aliased edge reads as 一 or —: keep lines with real Chinese in them
    return [
        shifted(line, left, top)
        for line in page.lines
        if len(CJK.findall(line.text)) >= 2 and (line.conf or 0) >= LOW_CONFIDENCE
    ]


def ink_extent(ink: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the rows and columns holding ink, widened by `margin`;
    the whole image when there is none. Rows inked across more than HEADER_RULE_SHARE of
    the width are the red rule, not text: they do not widen the box."""
    height, width = ink.shape
    counts = ink.sum(axis=1)
    text_rows = np.nonzero((counts > 0) & (counts < HEADER_RULE_SHARE * width))[0]
    if not text_rows.size:
        return 0, height, 0, width
    rows, columns = text_rows, np.nonzero(ink[text_rows].any(axis=0))[0]
    return (
        max(0, int(rows[0]) - margin),
        min(height, int(rows[-1]) + 1 + margin),
        max(0, int(columns[0]) - margin),
        min(width, int(columns[-1]) + 1 + margin),
    )


def shifted(line: Line, dx: float, dy: float) -> Line:
    """The line with its box moved by (dx, dy): from a crop's pixels to the page's."""
    if line.box is None or not (dx or dy):
        return line
    box = line.box.model_copy(update={"x0": line.box.x0 + dx, "x1": line.box.x1 + dx, "y0": line.box.y0 + dy, "y1": line.box.y1 + dy})
    return line.model_copy(update={"box": box})


def merge_header(lines: list[Line], header: list[Line]) -> tuple[list[Line], list[str]]:
    """Add the red lines the main read lost, in reading order; keep the main read's own
    version of any line it already has."""
    lost = [red for red in header if not any(same_line(red, line) for line in lines)]
    if not lost:
        return lines, []
    note = f"read {len(lost)} red header line(s) from the red ink: " + " / ".join(line.text for line in lost)
    return reading_order(lines + lost), [note]


def same_line(red: Line, line: Line) -> bool:
    """The main read has this red line if a line overlapping it vertically says much the same."""
    if red.box and line.box:
        overlap = min(red.box.y1, line.box.y1) - max(red.box.y0, line.box.y0)
        if overlap <= 0:
            return False
    a, b = "".join(red.text.split()), "".join(line.text.split())
    return SequenceMatcher(None, a, b).ratio() >= 0.6 or (len(a) >= 2 and a in b)


# --- problems as data -------------------------------------------------------------------------


def page_problems(page: Page) -> list[Issue]:
    n = page.number
    issues = [
        Issue(code="page.timeout", message=f"page {n}: {w}", severity="error", page=n)
        for w in page.warnings
        if " timed out after " in w
    ]
    if not page.lines and not issues:
        issues.append(Issue(code="page.blank", message=f"page {n}: no text found", severity="info", page=n))
    mean = page.mean_conf
    if mean is not None and mean < LOW_CONFIDENCE:
        issues.append(
            Issue(code="page.low_confidence", message=f"page {n}: mean OCR confidence {mean:.0f}", severity="warning", page=n)
        )
    if page.rotation:
        issues.append(
            Issue(code="page.rotated", message=f"page {n} was turned {page.rotation}° clockwise to read it", severity="info", page=n)
        )
    return issues
