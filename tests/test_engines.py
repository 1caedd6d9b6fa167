"""pipeline.reading.engines: the real engines on rendered pages (live), and tesseract's failure paths
with a fake `tesseract` on PATH (no OCR needed)."""

import os
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import pytest

from models.page import Box, Line
from pipeline.reading.engines import get_engine
from pipeline.reading.engines.interface import reading_order
from pipeline.reading.engines.tesseract import INSTALL_HINT, TesseractEngine, join_words, lines_from
from pipeline.errors import EngineError, MissingDependency
from tests.conftest import NOTICE_LINES, RenderPage


def similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, "".join(a.split()), "".join(b.split())).ratio()


# --- live ---------------------------------------------------------------------------------------


@pytest.mark.live
@pytest.mark.parametrize(("name", "floor"), [("rapidocr", 0.95), ("tesseract", 0.85)])
def test_engine_reads_a_rendered_page(render_page: RenderPage, name: str, floor: float) -> None:
    image = render_page()
    engine = get_engine(name)
    page = engine.read(image, page_number=3, dpi=300)
    assert page.number == 3 and page.source == "ocr" and page.engine == f"{name} {engine.version}"
    assert (page.width, page.height) == (image.shape[1], image.shape[0])
    assert similarity(page.raw_text, "\n".join(NOTICE_LINES)) >= floor
    assert len(page.lines) == len(NOTICE_LINES)
    tops = [line.box.y0 for line in page.lines if line.box]
    assert tops == sorted(tops)  # reading order
    assert all(line.conf is not None and 0 <= line.conf <= 100 for line in page.lines)


@pytest.mark.live
@pytest.mark.parametrize("name", ["rapidocr", "tesseract"])
def test_engine_on_a_blank_page_gives_no_lines_and_a_warning(name: str) -> None:
    page = get_engine(name).read(np.full((600, 400), 255, np.uint8), page_number=1, dpi=300)
    assert page.lines == [] and page.warnings


@pytest.mark.live
def test_rapidocr_output_is_simplified(render_page: RenderPage) -> None:
    page = get_engine("rapidocr").read(render_page(("關於開會的通知", "請於11月20日前報送")), page_number=1, dpi=300)
    assert "关于开会的通知" in page.raw_text and "请于" in page.raw_text


def test_auto_is_rapidocr_when_it_loads() -> None:
    pytest.importorskip("rapidocr")
    assert get_engine("auto").name == "rapidocr"


def test_unknown_engine_name() -> None:
    with pytest.raises(ValueError, match="easyocr"):
        get_engine("easyocr")


# --- fake tesseract -------------------------------------------------------------------------------

PAGE = np.full((200, 300), 255, np.uint8)


def test_tesseract_absent_names_the_apt_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingDependency) as err:
        TesseractEngine().probe()
    assert err.value.hint == INSTALL_HINT
    assert "apt-get install tesseract-ocr tesseract-ocr-chi-sim" in err.value.hint


def test_tesseract_without_chi_sim_names_the_apt_packages(fake_tesseract) -> None:  # type: ignore[no-untyped-def]
    engine = fake_tesseract(langs="eng\nosd")
    with pytest.raises(MissingDependency, match="chi_sim") as err:
        engine.probe()
    assert "tesseract-ocr-chi-sim" in (err.value.hint or "")


def test_probe_reads_the_version(fake_tesseract) -> None:  # type: ignore[no-untyped-def]
    assert fake_tesseract().version == "5.3.0"


def test_crash_is_an_engine_error(fake_tesseract) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EngineError, match="exit code 139.*Segmentation fault"):
        fake_tesseract("crash").read(PAGE, page_number=1, dpi=300)


def test_hang_is_a_page_with_a_warning(fake_tesseract) -> None:  # type: ignore[no-untyped-def]
    page = fake_tesseract("hang").read(PAGE, page_number=2, dpi=300, timeout=0.5)
    assert page.number == 2 and page.lines == []
    assert any("timed out after 0.5 s" in w for w in page.warnings)


def test_garbage_output_is_a_page_with_warnings(fake_tesseract) -> None:  # type: ignore[no-untyped-def]
    page = fake_tesseract("garbage").read(PAGE, page_number=1, dpi=300)
    assert any("not UTF-8" in w for w in page.warnings)
    assert any("malformed" in w for w in page.warnings)


def test_empty_page_is_a_page_with_a_warning(fake_tesseract) -> None:  # type: ignore[no-untyped-def]
    page = fake_tesseract("empty").read(PAGE, page_number=1, dpi=300)
    assert page.lines == [] and page.warnings == ["tesseract found no text on the page"]


def test_no_output_files_is_an_engine_error(fake_tesseract) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EngineError, match="wrote no output"):
        fake_tesseract("silent").read(PAGE, page_number=1, dpi=300)


# --- parsing tesseract's output -------------------------------------------------------------------

TSV = "\n".join(
    [
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
        "4\t1\t1\t1\t1\t0\t10\t10\t200\t40\t-1\t",
        "5\t1\t1\t1\t1\t1\t10\t10\t80\t40\t96.5\t临汾",
        "5\t1\t1\t1\t1\t2\t90\t12\t120\t38\t90.5\t民政局",
        "5\t1\t1\t1\t2\t1\t10\t60\t60\t40\t80\t通知",
        "5\t1\t1\t1\t2\t2\t80\t60\t60\t40\t70\tABC",
    ]
)


def test_lines_take_tesseracts_own_text_and_the_tsv_boxes() -> None:
    lines, warnings = lines_from("临汾 民政局\n\n通知 ABC\n", TSV)
    assert warnings == []
    assert [line.text for line in lines] == ["临汾 民政局", "通知 ABC"]  # spaces as tesseract printed them
    assert lines[0].box == Box(x0=10, y0=10, x1=210, y1=50)
    assert lines[0].conf == pytest.approx(93.5)


def test_txt_and_tsv_disagreeing_falls_back_to_the_words() -> None:
    lines, warnings = lines_from("only one line\n", TSV)
    assert [line.text for line in lines] == ["临汾民政局", "通知ABC"] and "disagree" in warnings[0]


def test_join_words_spaces_only_latin() -> None:
    assert join_words(["请于", "11", "月"]) == "请于11月"
    assert join_words(["CS", "scanner"]) == "CS scanner"


def test_reading_order_rows_then_left_to_right() -> None:
    def line(text: str, x: float, y: float) -> Line:
        return Line(text=text, box=Box(x0=x, y0=y, x1=x + 100, y1=y + 40))

    lines = [line("签发人：张三", 600, 98), line("第二行", 0, 200), line("晋民函〔2024〕169号", 0, 100), line("标题", 0, 0)]
    assert [l.text for l in reading_order(lines)] == ["标题", "晋民函〔2024〕169号", "签发人：张三", "第二行"]


@pytest.mark.live
def test_rapidocr_reads_the_same_on_either_runtime(render_page: RenderPage) -> None:
    """OpenVINO runs the same PP-OCR models as onnxruntime: it may only change the speed."""
    pytest.importorskip("openvino")
    from pipeline.reading.engines.rapid import RapidOcrEngine

    image = render_page()
    onnx, vino = (RapidOcrEngine(threads=1, runtime=r).read(image, page_number=1, dpi=300) for r in ("onnxruntime", "openvino"))
    assert onnx.raw_text == vino.raw_text
    assert similarity(vino.raw_text, "\n".join(NOTICE_LINES)) >= 0.95


def test_ocr_threads_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch worker is told its share of the cores; without word it takes every core."""
    pytest.importorskip("rapidocr")
    from pipeline.reading.engines.interface import THREADS_VARIABLE
    from pipeline.reading.engines.rapid import RapidOcrEngine

    monkeypatch.setenv(THREADS_VARIABLE, "1")
    assert RapidOcrEngine().threads == 1 and TesseractEngine().parallel_pages == 1
    monkeypatch.delenv(THREADS_VARIABLE)
    cores = min(len(os.sched_getaffinity(0)), 8)
    assert RapidOcrEngine().threads == cores and TesseractEngine().parallel_pages == cores
