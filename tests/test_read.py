"""pipeline.reading.read: the composition, with the real engines (live) and with a fake tesseract."""

from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.page import Box, Line
from pipeline.reading import preprocess
from pipeline.reading import read
from pipeline.reading.engines.tesseract import TesseractEngine
from pipeline.reading.read import Preparation, header_region_height, merge_header, read_file
from tests.conftest import NOTICE_LINES, RenderPage
from tests.test_load import TEXT_LINES, make_pdf

HEADER = "临汾市民政局文件"


def similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, "".join(a.split()), "".join(b.split())).ratio()


def save_png(tmp_path: Path, image: np.ndarray, name: str = "page.png") -> Path:
    path = tmp_path / name
    Image.fromarray(image).save(path, dpi=(300, 300))
    return path


def save_tiff(tmp_path: Path, images: list[np.ndarray]) -> Path:
    frames = [Image.fromarray(image) for image in images]
    path = tmp_path / "pages.tiff"
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(300, 300))
    return path


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str = "auto") -> None:
        raise AssertionError("no OCR engine may be loaded for text pages")

    monkeypatch.setattr(read, "get_engine", refuse)


# --- without OCR --------------------------------------------------------------------------------


def test_text_file_needs_no_engine(tmp_path: Path, no_engine: None) -> None:
    path = tmp_path / "notice.txt"
    path.write_text("临汾市民政局\f第二页\n")
    result = read_file(path)
    assert result.kind == "text" and result.engine is None and result.problems == []
    assert [p.raw_text for p in result.pages] == ["临汾市民政局", "第二页"]


def test_text_pdf_needs_no_engine(tmp_path: Path, no_engine: None) -> None:
    path = tmp_path / "born-digital.pdf"
    path.write_bytes(make_pdf([{"size": (612, 792), "text": TEXT_LINES}] * 2))
    result = read_file(path)
    assert result.kind == "pdf-text" and result.engine is None
    assert [p.source for p in result.pages] == ["text-layer", "text-layer"]


def test_a_crashing_engine_fails_pages_not_the_file(tmp_path: Path, fake_tesseract: Callable[..., TesseractEngine], render_page: RenderPage) -> None:
    fake_tesseract("crash")
    result = read_file(save_tiff(tmp_path, [render_page(), render_page()]), engine="tesseract")
    assert result.kind == "tiff" and [p.number for p in result.pages] == [1, 2]
    assert all(p.lines == [] and p.warnings for p in result.pages)
    assert [(i.code, i.page, i.severity) for i in result.problems] == [("page.unreadable", 1, "error"), ("page.unreadable", 2, "error")]


def test_a_hanging_engine_times_the_page_out(tmp_path: Path, fake_tesseract: Callable[..., TesseractEngine], render_page: RenderPage) -> None:
    fake_tesseract("hang")
    result = read_file(save_png(tmp_path, render_page()), engine="tesseract", page_timeout=0.5, preparation=Preparation(orientation=False, red_header=False))
    [page] = result.pages
    assert page.lines == [] and any("timed out" in w for w in page.warnings)
    assert [i.code for i in result.problems] == ["page.timeout"]


def line(text: str, y: float, x: float = 100) -> Line:
    return Line(text=text, box=Box(x0=x, y0=y, x1=x + 400, y1=y + 60), conf=95)


def test_merge_header_puts_a_lost_red_line_on_top() -> None:
    body = [line("临市民函〔2024〕89号", 300), line("关于开展活动的通知", 400)]
    merged, notes = merge_header(body, [line("临汾市民政局", 100)])
    assert [l.text for l in merged] == ["临汾市民政局", "临市民函〔2024〕89号", "关于开展活动的通知"]
    assert "临汾市民政局" in notes[0]


def test_merge_header_keeps_the_main_reads_own_line() -> None:
    body = [line("临汾市民政局", 102), line("关于开展活动的通知", 400)]
    merged, notes = merge_header(body, [line("临汾市民政局", 100)])
    assert merged == body and notes == []


def test_header_region_stops_at_the_red_rule(render_page: RenderPage) -> None:
    image = render_page(red_header=HEADER, size=40)
    assert header_region_height(image, page_number=1) == 160  # the rule is drawn at 4 × size
    assert header_region_height(image, page_number=5) == 160  # an attached notice's own 版头
    assert header_region_height(render_page(), page_number=1) == 0  # no red: nothing to read


# --- live ---------------------------------------------------------------------------------------


def phone_scan(render_page: RenderPage) -> np.ndarray:
    """A notice page with a red header and rule, tilted 1.5° and put in upside down."""
    upright = render_page(NOTICE_LINES * 2, red_header=HEADER, size=36, width=1300)
    return preprocess.rotate_quadrant(preprocess.deskew(upright, 1.5), 180)


@pytest.mark.live
@pytest.mark.parametrize(("engine", "floor"), [("rapidocr", 0.95), ("tesseract", 0.85)])
def test_read_a_tilted_upside_down_page_with_a_red_header(tmp_path: Path, render_page: RenderPage, engine: str, floor: float) -> None:
    result = read_file(save_png(tmp_path, phone_scan(render_page)), engine=engine)
    assert result.kind == "png" and result.engine and result.engine.startswith(engine)
    [page] = result.pages
    assert page.rotation == 180 and page.source == "ocr" and page.dpi == 300
    assert similarity(page.lines[0].text, HEADER) >= 0.8  # the red 发文机关标志, read back from the red ink
    assert similarity(page.raw_text, "\n".join((HEADER,) + NOTICE_LINES * 2)) >= floor
    assert "page.rotated" in [i.code for i in result.problems]


@pytest.mark.live
def test_read_a_blank_page_is_a_problem_not_a_failure(tmp_path: Path) -> None:
    result = read_file(save_png(tmp_path, np.full((800, 600, 3), 255, np.uint8)))
    assert [p.lines for p in result.pages] == [[]]
    assert [i.code for i in result.problems] == ["page.blank"]
