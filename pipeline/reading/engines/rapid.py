"""The one module that talks to RapidOCR (the `rapidocr` package, on OpenVINO or onnxruntime).

How we set it up, and why (shared/ocr-notes.md, fact 7; figures from bench/ocr_quality.py):
- the default PP-OCRv6 small detection and recognition models that ship inside the
  wheel, so it runs offline; we never name another model version, which would download.
- angle classifier off: on upright pages it silently drops lines (CER 8 %); pages are
  turned upright before they get here (pipeline.reading.read.read_image_page).
- detection on the image shrunk to at most DET_MAX_SIDE px: rapidocr's default (short
  side at least 736 px) keeps a 200 dpi page at 2000 px and blows an orientation strip up
  to 736 px, and detection is most of a page's time. Recognition still reads the boxes
  cut from the full-size image, so the characters lose nothing.
- OpenVINO as the runtime when it is installed: the same models, about 15 % faster than
  onnxruntime on this CPU; onnxruntime otherwise.
- recognition in rapidocr's batches of 6 lines: one line a call cost about 20 % less CPU
  (a batch is padded to its widest line) but read one 文号 of h11 differently, `〔2024]〕3号`.
- threads: interface.ocr_threads(), every core for one page unless batch ingest gives
  each worker its share.
- OpenCC `t2s` on every line: PP-OCR's recogniser now and then emits a traditional form.
- its logger at "error": it logs every empty detection at warning level.
"""

import importlib.metadata
import importlib.util
import threading
import time
from functools import cached_property
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from models.page import Box, Line, Page
from pipeline.reading.engines.interface import ocr_page, ocr_threads
from pipeline.errors import EngineError, MissingDependency

INSTALL_HINT = "pip install 'rapidocr>=3.4,<4' onnxruntime opencc-python-reimplemented"
WHEEL_MODELS = ("PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx")
# Body text at 200 dpi is still ~18 px high at 960 px. On the fixture scans 960 read as well
# as 1280 (mean raw CER over 17 scans 4.9 % against 5.2 %; 0.3 points worse on one, better on eleven) at
# about 0.6 of the detector's time and of its working memory (~350 MiB at 1280 on OpenVINO).
DET_MAX_SIDE = 960


def best_runtime() -> str:
    """"openvino" when its package is installed, else "onnxruntime"."""
    return "openvino" if importlib.util.find_spec("openvino") is not None else "onnxruntime"


def settings(threads: int, runtime: str = "onnxruntime") -> dict[str, Any]:
    from rapidocr import EngineType

    engine = EngineType(runtime)
    params: dict[str, Any] = {
        "Global.use_cls": False,
        "Global.log_level": "error",
        "Det.limit_type": "max",
        "Det.limit_side_len": DET_MAX_SIDE,
        "Det.engine_type": engine,
        "Rec.engine_type": engine,
    }
    if runtime == "openvino":
        params["EngineConfig.openvino.inference_num_threads"] = threads
    else:
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        # one graph at a time: inter-op threads only contend with intra-op ones
        params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
    return params


class RapidOcrEngine:
    name = "rapidocr"
    parallel_pages = 1  # one page already keeps its cores busy

    def __init__(self, threads: int | None = None, runtime: str | None = None) -> None:
        self.threads = threads or ocr_threads()
        self.runtime = runtime or best_runtime()
        self._lock = threading.Lock()  # RapidOCR's sessions are not safe to call concurrently

    @cached_property
    def version(self) -> str:
        return importlib.metadata.version("rapidocr")

    def probe(self) -> None:
        try:
            import onnxruntime  # noqa: F401  rapidocr imports it lazily, at the first page
            import opencc  # noqa: F401
            import rapidocr
        except ImportError as e:
            raise MissingDependency(f"the OCR engine rapidocr cannot be imported: {e}", hint=INSTALL_HINT) from e
        models = Path(rapidocr.__file__).parent / "models"
        missing = [name for name in WHEEL_MODELS if not (models / name).is_file()]
        if missing:
            # another rapidocr release may ship other models; loading them would download
            raise MissingDependency(
                f"rapidocr {self.version} has no bundled {', '.join(missing)} in {models}", hint=INSTALL_HINT
            )

    @cached_property
    def _ocr(self) -> Any:
        from rapidocr import RapidOCR

        try:
            return RapidOCR(params=settings(self.threads, self.runtime))
        except Exception as e:  # rapidocr raises bare exceptions on model-load problems
            raise EngineError(f"rapidocr could not load its models: {e}", hint=INSTALL_HINT) from e

    @cached_property
    def _t2s(self) -> Any:
        from opencc import OpenCC

        return OpenCC("t2s")

    def read(self, image: np.ndarray, *, page_number: int, dpi: float | None, timeout: float | None = None) -> Page:
        started = time.perf_counter()
        # RapidOCR takes an ndarray as BGR (OpenCV's order); ours are RGB
        bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        with self._lock:
            ocr = self._ocr
            try:
                result = ocr(bgr)
            except Exception as e:  # onnxruntime and rapidocr raise plain exceptions
                raise EngineError(f"rapidocr failed on page {page_number}: {type(e).__name__}: {e}") from e
        lines = [self.line(text, quad, score) for text, quad, score in result_lines(result)]
        seconds = time.perf_counter() - started
        warnings = []
        if not lines:
            warnings.append("rapidocr found no text on the page")
        if timeout and seconds > timeout:
            # onnxruntime runs in-process and cannot be interrupted: we can only report it
            warnings.append(f"rapidocr took {seconds:.0f} s, over the page timeout of {timeout:g} s")
        return ocr_page(self, number=page_number, image=image, dpi=dpi, lines=lines, seconds=seconds, warnings=warnings)

    def line(self, text: str, quad: np.ndarray, score: float) -> Line:
        return Line(text=self._t2s.convert(text), box=quad_box(quad), conf=round(float(score) * 100, 2))


def result_lines(result: Any) -> list[tuple[str, np.ndarray, float]]:
    """(text, quadrilateral, score) per detected line; RapidOCROutput is empty-ish on a blank page."""
    txts, boxes, scores = getattr(result, "txts", None), getattr(result, "boxes", None), getattr(result, "scores", None)
    if txts is None or boxes is None or scores is None:
        return []
    return list(zip(txts, boxes, scores))


def quad_box(quad: np.ndarray) -> Box:
    """The axis-aligned box around the detector's quadrilateral."""
    points = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return Box(x0=round(float(x0), 1), y0=round(float(y0), 1), x1=round(float(x1), 1), y1=round(float(y1), 1))
