"""OCR engines behind one small interface, one module per engine.

    get_engine(name)     "tesseract" | "rapidocr" | "auto"; one instance per process
    interface.py         OcrEngine, the interface each engine implements, and the page it returns
    rapid.py, tesseract.py   the engines

"auto" is rapidocr (PP-OCRv6 small, offline from its wheel): on the rendered phone
scans it reads with a CER of 0.2 % after red removal against tesseract's 2.8 %
(shared/ocr-notes.md; re-measured by bench/ocr_quality.py). When rapidocr cannot be
loaded, "auto" falls back to tesseract.
"""

from functools import cache

from pipeline.errors import GongwenError
from pipeline.reading.engines.interface import OcrEngine

ENGINE_NAMES = ("auto", "rapidocr", "tesseract")


@cache
def get_engine(name: str = "auto") -> OcrEngine:
    """The engine called `name`, probed, created once per process (model loads are slow)."""
    if name == "auto":
        try:
            return get_engine("rapidocr")
        except GongwenError:
            return get_engine("tesseract")
    if name == "rapidocr":
        from pipeline.reading.engines.rapid import RapidOcrEngine

        engine: OcrEngine = RapidOcrEngine()
    elif name == "tesseract":
        from pipeline.reading.engines.tesseract import TesseractEngine

        engine = TesseractEngine()
    else:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
    engine.probe()
    return engine
