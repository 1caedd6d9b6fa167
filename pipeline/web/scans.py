"""Page pictures for the document view: the scan as the OCR engine saw it.

    Scans(db)                              where originals and rendered pages live, beside the database
    Scans.keep(sha256, source)             keep an uploaded file's bytes as originals/<sha256>
    Scans.original(conn, sha256)           the file's bytes on disk, if any copy can be found
    Scans.page_jpeg(conn, sha256, page)    the page as a JPEG in the pixel space of its boxes, or None
    Scans.picture(conn, sha256, page)      the same with its ETag, from memory after the first time

The store keeps every page's lines and boxes but not its image, so the picture is made again
from the original file. Boxes are in the pixels of the image as OCR'd (models.Box): the page
turned upright (`Page.rotation`) and deskewed. Those are the only steps of the reading stage
that move pixels (flattening and red removal do not), and both are deterministic, so doing
them again on the same bytes puts every box back on its characters. Text-layer PDF pages have
boxes in PDF points: they are rendered at RENDER_SCALE and the view scales the boxes with
the picture. Text files have no picture; pages without an original get a facsimile drawn from
the stored lines (the template does that, escaped like everything else).

Where an original is found: `originals/<sha256>` beside the database (every web upload keeps
one, named by content, never by the uploaded name), else a name the file was ingested under
that still holds the same bytes (the hash is checked: a name is a hint, not a trust).
Rendered pages are cached in `page-cache/` and written atomically, and the most recently
shown are kept in memory (up to MEMORY_BYTES) with their ETag, the hash of their bytes: a page
picture is rendered once, read from disk once, and a browser that has it gets 304.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sqlite3
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from models import Page
from pipeline.reading import preprocess
from pipeline import store
from pipeline.errors import GongwenError
from pipeline.reading.load import PageImage, load
from pipeline.reading.sniff import sniff

RENDER_SCALE = 2.0  # text-layer pages: 144 dpi, sharp enough to read, boxes are in 72 dpi points
JPEG_QUALITY = 82
MEMORY_BYTES = 64 << 20  # page pictures kept in memory: a few hundred pages at ~200 KB


@dataclass(frozen=True)
class Picture:
    data: bytes
    etag: str  # the quoted strong validator of these bytes (RFC 9110 §8.8.3)


class Scans:
    def __init__(self, db: Path) -> None:
        self.originals = db.parent / "originals"
        self.cache = db.parent / "page-cache"
        self._found: dict[str, Path | None] = {}
        self._shown: OrderedDict[tuple[str, int], Picture] = OrderedDict()
        self._shown_bytes = 0
        self._lock = threading.Lock()

    def keep(self, sha256: str, source: Path) -> None:
        """Keep `source` (bytes hashing to `sha256`) as the original of that file, once."""
        target = self.originals / sha256
        if target.exists():
            return
        self.originals.mkdir(parents=True, exist_ok=True)
        _atomic(target, lambda tmp: shutil.copyfile(source, tmp))
        self._found.pop(sha256, None)

    def original(self, conn: sqlite3.Connection, sha256: str) -> Path | None:
        if sha256 not in self._found or self._found[sha256] is None:
            self._found[sha256] = self._find(conn, sha256)
        return self._found[sha256]

    def _find(self, conn: sqlite3.Connection, sha256: str) -> Path | None:
        kept = self.originals / sha256
        if kept.is_file():
            return kept
        for name in store.file_names(conn, sha256):
            if "!/" in name:  # a zip member: no file of its own
                continue
            for candidate in (Path(name), self.originals.parent / name):
                if candidate.is_file() and _sha256(candidate) == sha256:
                    return candidate
        return None

    def page_jpeg(self, conn: sqlite3.Connection, sha256: str, page: Page) -> bytes | None:
        """The page's picture, or None when the original is gone or is a text file."""
        if page.source == "text":
            return None
        cached = self.cache / f"{sha256}-{page.number}.jpg"
        if cached.is_file():
            return cached.read_bytes()
        original = self.original(conn, sha256)
        if original is None:
            return None
        try:
            picture = render(original, page)
        except GongwenError:
            return None
        if picture is None:
            return None
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=JPEG_QUALITY)
        data = buffer.getvalue()
        self.cache.mkdir(parents=True, exist_ok=True)
        _atomic(cached, lambda tmp: tmp.write_bytes(data))
        return data


    def picture(self, conn: sqlite3.Connection, sha256: str, page: Page) -> Picture | None:
        """page_jpeg with its ETag, kept in memory for the next request."""
        key = (sha256, page.number)
        with self._lock:
            kept = self._shown.get(key)
            if kept is not None:
                self._shown.move_to_end(key)
                return kept
        data = self.page_jpeg(conn, sha256, page)
        if data is None:
            return None
        kept = Picture(data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')
        with self._lock:
            if key not in self._shown:
                self._shown[key] = kept
                self._shown_bytes += len(data)
            while self._shown_bytes > MEMORY_BYTES and len(self._shown) > 1:
                _, dropped = self._shown.popitem(last=False)
                self._shown_bytes -= len(dropped.data)
        return kept


def render(original: Path, page: Page) -> Image.Image | None:
    """Page `page.number` of `original` in its boxes' pixel space."""
    if page.source == "text-layer":
        pdf = pdfium.PdfDocument(original)
        try:
            if page.number > len(pdf):
                return None
            return pdf[page.number - 1].render(scale=RENDER_SCALE).to_pil().convert("RGB")
        finally:
            pdf.close()
    loaded = load(original, sniff(original))
    item = next((p for p in loaded.pages if getattr(p, "number", None) == page.number), None)
    if not isinstance(item, PageImage):
        return None
    image = preprocess.rotate_quadrant(item.image, page.rotation)
    image = preprocess.deskew(image, preprocess.estimate_skew(preprocess.to_grey(image)))
    picture = Image.fromarray(image)
    if page.width and page.height and picture.size != (round(page.width), round(page.height)):
        picture = picture.resize((round(page.width), round(page.height)))
    return picture


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write to a temporary name beside `path`, then rename: readers see a whole file or none."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
