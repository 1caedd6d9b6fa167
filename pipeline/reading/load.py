"""Turn an input file into pages: text pages ready to use, or images for OCR.

    load(path, kind, max_pages=...) -> Loaded
        Loaded.kind   "pdf" | "pdf-text" | "png" | "jpeg" | "tiff" | "text" | "docx" | "doc" | "ofd" | "html" | "mhtml"
        Loaded.pages  an iterator, one item per page, in order:
                      models.Page      text-layer, text-file, Word, OFD or web page, already read
                      PageImage        an RGB 8-bit image to OCR, with its dpi
                      PageFailure      a page that could not be extracted (the file goes on)

Pages are produced lazily so a 500-page scan never sits in memory at once.
Scanned PDF pages give their embedded scan at native resolution (re-rendering
would resample an already-compressed JPEG and invent a dpi); only pages without
one page-covering image are rendered at RENDER_DPI.

Bomb guards: the page count is checked before any page is extracted, and every
page image is checked against MAX_PAGE_PIXELS before it is decoded.
"""

import io
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from models.page import Box, Line, Page
from pipeline.errors import EncryptedPdf, InputError, InputTooLarge
from pipeline.reading.sniff import MAIL_KINDS

MAX_PAGE_PIXELS = 80_000_000  # an A3 page at 600 dpi is 70 MP; anything larger is a bomb or a poster
RENDER_DPI = 300
PAGE_COVER_SHARE = 0.8  # an image covering this share of the page is "the scan"
MIN_TEXT_LAYER_CHARS = 20  # fewer non-space characters: a stray page number or a watermark, not the text
MAX_GARBAGE_SHARE = 0.1  # more (cid:N), U+FFFD or private-use glyphs: a broken font map, OCR instead

# PIL raises DecompressionBombError only above twice this; our own check below raises at it.
Image.MAX_IMAGE_PIXELS = MAX_PAGE_PIXELS


@dataclass(frozen=True)
class PageImage:
    number: int
    image: np.ndarray  # H x W x 3, RGB, uint8, upright as the file displays it
    dpi: float | None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PageFailure:
    number: int
    reason: str


LoadedPage = Page | PageImage | PageFailure


@dataclass
class Loaded:
    kind: str
    page_count: int
    pages: Iterator[LoadedPage]
    needs_ocr: bool = True  # False when every page comes already read (no OCR engine is started)


def load(path: Path, kind: str, *, max_pages: int = 500) -> Loaded:
    """Open `path` (whose kind `pipeline.reading.sniff.sniff` found) and prepare its pages."""
    loaders: dict[str, Callable[[Path, int], Loaded]] = {
        "pdf": load_pdf,
        "png": load_image_file,
        "jpeg": load_image_file,
        "tiff": load_image_file,
        "text": load_text,
        "docx": partial(load_document, kind="docx"),
        "doc": partial(load_document, kind="doc"),
        "ofd": load_ofd,
        "html": partial(load_document, kind="html"),
        "mhtml": partial(load_document, kind="mhtml"),
    }
    if kind in MAIL_KINDS:
        raise InputError(f"{path}: an e-mail is not one document: its attachments are (pipeline.reading.mail)")
    if kind not in loaders:
        raise InputError(f"{path}: no loader for kind {kind!r}")
    return loaders[kind](path, max_pages)


# --- documents without pages: Word, WPS, web pages ----------------------------------------------


def load_document(path: Path, max_pages: int, *, kind: str) -> Loaded:
    """One page of lines, each with its paragraph, cell or element (models.Line.where).
    The readers are imported here: the OFD reader imports this module's helpers."""
    if kind == "docx":
        from pipeline.reading.word import read_docx

        page = read_docx(path)
    elif kind == "doc":
        from pipeline.reading.office import read_legacy_word

        page = read_legacy_word(path)
    else:
        from pipeline.reading.webpage import read_webpage

        page = read_webpage(path, kind)
    return Loaded(kind=kind, page_count=1, pages=iter([page]), needs_ocr=False)


def load_ofd(path: Path, max_pages: int) -> Loaded:
    """An OFD's text pages as read, and its image-only pages decoded for OCR like scans."""
    from pipeline.reading.ofd import OfdImage, read_ofd

    def page(item: Page | OfdImage) -> LoadedPage:
        if isinstance(item, Page):
            return item
        im = open_image(path, item.data)
        try:
            im.load()
        except (OSError, ValueError, SyntaxError) as e:
            return PageFailure(item.number, f"the page's image cannot be decoded: {e}")
        dpi = round(im.width / (item.width_mm / 25.4), 2)
        return PageImage(number=item.number, image=to_rgb8(im), dpi=dpi, warnings=["an OFD page that is only an image"])

    items = read_ofd(path, max_pages)
    needs_ocr = any(not isinstance(item, Page) for item in items)
    return Loaded(kind="ofd", page_count=len(items), pages=(page(item) for item in items), needs_ocr=needs_ocr)


# --- text files -------------------------------------------------------------------------------


def load_text(path: Path, max_pages: int) -> Loaded:
    """A UTF-8 text file: pages split on form feed, lines as they are."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not valid UTF-8 at byte {e.start}") from e
    chunks = text.split("\f")
    check_page_count(path, len(chunks), max_pages)
    pages = [
        Page(number=i, source="text", lines=[Line(text=line) for line in chunk.splitlines()])
        for i, chunk in enumerate(chunks, start=1)
    ]
    return Loaded(kind="text", page_count=len(pages), pages=iter(pages))


# --- images -------------------------------------------------------------------------------------


def load_image_file(path: Path, max_pages: int) -> Loaded:
    """PNG, JPEG or TIFF; every frame of a multi-page TIFF is a page."""
    im = open_image(path, path.read_bytes())
    kind = {"PNG": "png", "JPEG": "jpeg", "MPO": "jpeg", "TIFF": "tiff"}.get(im.format or "", "")
    if not kind:
        raise InputError(f"{path}: an image PIL reads as {im.format}, not PNG, JPEG or TIFF")
    count = getattr(im, "n_frames", 1) if kind == "tiff" else 1
    check_page_count(path, count, max_pages)

    def frames() -> Iterator[LoadedPage]:
        for number, frame in enumerate(ImageSequence.Iterator(im), start=1):
            if number > count:
                break
            check_pixels(path, frame.size)
            try:
                yield PageImage(number=number, image=to_rgb8(frame), dpi=image_dpi(frame))
            except (OSError, ValueError, SyntaxError) as e:
                # truncated frame data: PIL reads the header lazily and fails on decode
                raise InputError(f"{path}: page {number} is truncated or corrupt: {e}") from e

    return Loaded(kind=kind, page_count=count, pages=frames())


def open_image(path: Path, data: bytes) -> Image.Image:
    """PIL's lazy open with its bomb and corruption errors turned into ours."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise InputTooLarge(
            f"{path}: image too large ({e}); the limit is {MAX_PAGE_PIXELS:,} pixels a page"
        ) from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{path}: cannot read the image: {e}") from e
    check_pixels(path, im.size)
    return im


def check_pixels(path: Path, size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_PAGE_PIXELS:
        raise InputTooLarge(
            f"{path}: a page of {width}x{height} pixels is over the limit of {MAX_PAGE_PIXELS:,} pixels",
            hint="scan at 300 dpi or less",
        )


def check_page_count(path: Path, count: int, max_pages: int) -> None:
    if count > max_pages:
        raise InputTooLarge(
            f"{path}: {count} pages, over the limit of {max_pages}",
            hint="split the file, or raise the page limit",
        )


def image_dpi(im: Image.Image) -> float | None:
    """The resolution the file declares, or None (many phone JPEGs say 72 or nothing)."""
    dpi = im.info.get("dpi")
    if not dpi:
        return None
    x = float(dpi[0])
    return round(x, 2) if x > 1 else None


def to_rgb8(im: Image.Image, *, honour_exif: bool = True) -> np.ndarray:
    """Any PIL image, upright per its EXIF orientation, as an RGB uint8 array.

    Transparency is composited on white (paper); 16- and 32-bit greys are scaled, not clipped.
    """
    if honour_exif:
        im = ImageOps.exif_transpose(im) or im
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        grey = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") or grey.max() > 255 else 255.0
        grey8 = np.clip(grey * (255.0 / top), 0, 255).round().astype(np.uint8)
        return np.repeat(grey8[:, :, None], 3, axis=2)
    if im.mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
    if im.mode in ("LA", "PA", "RGBA", "La", "RGBa"):
        im = im.convert("RGBA")
        paper = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(paper, im)
    if im.mode != "RGB":
        im = im.convert("RGB")  # L, 1, CMYK (PIL undoes Adobe's inverted CMYK JPEGs), YCbCr, LAB
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


# --- PDF ----------------------------------------------------------------------------------------


def load_pdf(path: Path, max_pages: int) -> Loaded:
    """A PDF: text-layer pages where the layer is usable, native scan images elsewhere."""
    pdf = open_pdf(path)
    count = len(pdf)
    try:
        check_page_count(path, count, max_pages)
        text_pages = read_text_layers(path, count)
    except BaseException:
        pdf.close()
        raise
    kind = "pdf-text" if count and all(p is not None for p in text_pages) else "pdf"

    def pages() -> Iterator[LoadedPage]:
        try:
            for index in range(count):
                text_page = text_pages[index]
                yield text_page if text_page is not None else pdf_page_image(path, pdf, index)
        finally:
            pdf.close()

    return Loaded(kind=kind, page_count=count, pages=pages())


def open_pdf(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as e:
        if getattr(e, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD or "password" in str(e).lower():
            raise EncryptedPdf(
                f"{path}: the PDF is encrypted and needs a password",
                hint="save an unprotected copy (print to PDF) and read that",
            ) from e
        raise InputError(f"{path}: not a readable PDF: {e}") from e


def read_text_layers(path: Path, count: int) -> list[Page | None]:
    """For each page, a text-layer Page if its layer is usable, else None."""
    try:
        with pdfplumber.open(path) as doc:
            return [text_layer_page(p, number) for number, p in enumerate(doc.pages[:count], start=1)]
    except Exception as e:  # pdfminer raises bare Exception subclasses of many kinds on broken files
        raise InputError(f"{path}: cannot read the PDF's text: {type(e).__name__}: {e}") from e


def text_layer_page(page: pdfplumber.page.Page, number: int) -> Page | None:
    chars = [c["text"] for c in page.chars]
    if not is_usable_text_layer(chars):
        return None
    lines = [
        Line(text=tl["text"], box=Box(x0=tl["x0"], y0=tl["top"], x1=tl["x1"], y1=tl["bottom"]))
        for tl in page.extract_text_lines(return_chars=False)
        if tl["text"].strip()
    ]
    lines.sort(key=lambda line: (round(line.box.y0), line.box.x0) if line.box else (0, 0))
    # PDF points are pixels at 72 dpi: the box space models.Box documents for text-layer pages
    return Page(number=number, source="text-layer", width=float(page.width), height=float(page.height), dpi=72, lines=lines)


def is_usable_text_layer(chars: list[str]) -> bool:
    """Enough real characters, and not a font without a ToUnicode map ((cid:N), U+FFFD, private use)."""
    visible = [c for c in chars if c.strip()]
    if len(visible) < MIN_TEXT_LAYER_CHARS:
        return False
    garbage = sum(1 for c in visible if c.startswith("(cid:") or c == "\ufffd" or "\ue000" <= c[0] <= "\uf8ff")
    return garbage / len(visible) <= MAX_GARBAGE_SHARE


def pdf_page_image(path: Path, pdf: pdfium.PdfDocument, index: int) -> PageImage | PageFailure:
    number = index + 1
    try:
        page = pdf[index]
    except pdfium.PdfiumError as e:
        return PageFailure(number, f"cannot open page {number}: {e}")
    try:
        scan = page_covering_image(page)
        if scan is not None:
            return extract_scan(path, page, scan, number)
        return render_page(path, page, number)
    except pdfium.PdfiumError as e:
        return PageFailure(number, f"cannot extract page {number}'s image: {e}")
    finally:
        page.close()


def page_covering_image(page: pdfium.PdfPage) -> pdfium.PdfImage | None:
    """The largest top-level image if it covers most of the page (a scan), else None."""
    left, bottom, right, top = page.get_cropbox()
    page_area = max((right - left) * (top - bottom), 1e-6)
    best, best_area = None, 0.0
    # top level only: an image inside a form XObject has its matrix relative to the form
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=1):
        l, b, r, t = obj.get_bounds()
        area = max(0.0, min(r, right) - max(l, left)) * max(0.0, min(t, top) - max(b, bottom))
        if area > best_area:
            best, best_area = obj, area
    return best if best is not None and best_area / page_area >= PAGE_COVER_SHARE else None


def extract_scan(path: Path, page: pdfium.PdfPage, scan: pdfium.PdfImage, number: int) -> PageImage:
    """The embedded scan at its own pixel size, turned the way the page displays it."""
    check_pixels(path, scan.get_px_size())
    im = decode_pdf_image(path, scan)
    transpose = placement_transpose(scan.get_matrix())
    if transpose is not None:
        im = im.transpose(transpose)
    im = rotate_clockwise(im, page.get_rotation())
    width_in, _ = displayed_page_inches(page)
    # in a PDF the placement matrix and /Rotate decide the orientation, not the JPEG's EXIF tag
    return PageImage(number=number, image=to_rgb8(im, honour_exif=False), dpi=round(im.width / width_in, 2))


def decode_pdf_image(path: Path, scan: pdfium.PdfImage) -> Image.Image:
    filters = scan.get_filters()
    if filters and filters[-1] in ("DCTDecode", "JPXDecode"):
        # the JPEG stream as stored: decoding it ourselves is bit-identical to the phone's file
        buf = io.BytesIO()
        scan.extract(buf)
        im = open_image(path, buf.getvalue())
        im.load()
        return im
    return scan.get_bitmap(render=False).to_pil()


# (sign of the image's x axis, sign of its y axis) in display space (x right, y down) → transpose
_PLACEMENTS: dict[tuple[tuple[int, int], tuple[int, int]], Image.Transpose | None] = {
    ((1, 0), (0, 1)): None,
    ((-1, 0), (0, 1)): Image.Transpose.FLIP_LEFT_RIGHT,
    ((1, 0), (0, -1)): Image.Transpose.FLIP_TOP_BOTTOM,
    ((-1, 0), (0, -1)): Image.Transpose.ROTATE_180,
    ((0, 1), (-1, 0)): Image.Transpose.ROTATE_270,  # placed turned 90° clockwise
    ((0, -1), (1, 0)): Image.Transpose.ROTATE_90,  # placed turned 90° counter-clockwise
    ((0, 1), (1, 0)): Image.Transpose.TRANSPOSE,
    ((0, -1), (-1, 0)): Image.Transpose.TRANSVERSE,
}


def placement_transpose(matrix: pdfium.PdfMatrix) -> Image.Transpose | None:
    """How to turn the stored pixels so they look as the image's placement matrix shows them.

    The matrix maps the image's unit square into page space (y up); pixel row 0 is the
    square's top edge. Skewed placements snap to the nearest axis-aligned one.
    """
    a, b, c, d, _, _ = matrix.get()
    x_axis = (a, -b)  # +u in display space (y down)
    y_axis = (-c, d)  # +row (towards -v) in display space

    def snap(v: tuple[float, float]) -> tuple[int, int]:
        if abs(v[0]) >= abs(v[1]):
            return (1 if v[0] >= 0 else -1, 0)
        return (0, 1 if v[1] >= 0 else -1)

    return _PLACEMENTS.get((snap(x_axis), snap(y_axis)))


def rotate_clockwise(im: Image.Image, degrees: int) -> Image.Image:
    ops = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
    return im.transpose(ops[degrees % 360]) if degrees % 360 in ops else im


def displayed_page_inches(page: pdfium.PdfPage) -> tuple[float, float]:
    """Width and height of the crop box in inches, as displayed (after /Rotate)."""
    left, bottom, right, top = page.get_cropbox()
    width, height = (right - left) / 72, (top - bottom) / 72
    return (height, width) if page.get_rotation() % 180 else (width, height)


def render_page(path: Path, page: pdfium.PdfPage, number: int) -> PageImage:
    """No single scan image: rasterise the page (vector text, tiled strips) at RENDER_DPI."""
    width_in, height_in = displayed_page_inches(page)
    check_pixels(path, (round(width_in * RENDER_DPI), round(height_in * RENDER_DPI)))
    bitmap = page.render(scale=RENDER_DPI / 72)  # pdfium applies /Rotate itself
    return PageImage(
        number=number,
        image=to_rgb8(bitmap.to_pil()),
        dpi=RENDER_DPI,
        warnings=[f"no page-covering scan image: rendered at {RENDER_DPI} dpi"],
    )
