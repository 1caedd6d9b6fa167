"""Tell what a file is from its bytes, never from its name.

Phone scans arrive renamed, forwarded and re-saved: a `.pdf` that is an HTML
error page from a download portal, a `.jpg` that is really a PNG. The kind
decides which loader runs, so it comes from magic bytes alone.
"""

from pathlib import Path
from typing import Literal

from pipeline.errors import InputError

Kind = Literal["pdf", "png", "jpeg", "tiff", "text"]

HEAD_BYTES = 1024  # %PDF- may follow junk (mail headers, BOMs); readers accept it within the first 1 KiB
TEXT_SAMPLE_BYTES = 64 * 1024
MIN_PRINTABLE_SHARE = 0.95

_MAGIC: tuple[tuple[bytes, Kind], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),  # little-endian TIFF
    (b"MM\x00*", "tiff"),  # big-endian TIFF
)


def sniff_bytes(head: bytes) -> Kind | None:
    """The kind of a file from its first bytes, or None when nothing matches."""
    if b"%PDF-" in head[:HEAD_BYTES]:
        return "pdf"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if looks_like_text(head) and not looks_like_markup(head):
        return "text"
    return None


def looks_like_markup(head: bytes) -> bool:
    """An HTML or XML document: a portal's error page saved under the scan's name is not a notice."""
    start = head[:HEAD_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body"))


def looks_like_text(sample: bytes) -> bool:
    """Valid UTF-8 (a cut multi-byte tail is allowed) whose characters are mostly printable, CJK included."""
    if not sample or b"\x00" in sample:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as e:
        # the sample may end inside a multi-byte character; only the last 3 bytes may be cut
        if e.start < len(sample) - 3:
            return False
        text = sample[: e.start].decode("utf-8")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t\f")
    return printable / len(text) >= MIN_PRINTABLE_SHARE


def describe(head: bytes) -> str:
    """A short human description of unrecognised bytes, for the error message."""
    if not head:
        return "an empty file"
    if looks_like_markup(head):
        return "an XML document" if head.lstrip().lower().startswith(b"<?xml") else "an HTML page"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive (an Office document?)"
    return f"unrecognised bytes {head[:8].hex(' ')}"


def sniff(path: Path) -> Kind:
    """The kind of the file at `path`; InputError naming the file and what was found otherwise."""
    try:
        with path.open("rb") as f:
            head = f.read(TEXT_SAMPLE_BYTES)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e
    kind = sniff_bytes(head)
    if kind is None:
        raise InputError(
            f"{path}: not a PDF, PNG, JPEG, TIFF or UTF-8 text file: found {describe(head)}",
            hint="gongwen reads scanned PDFs, images and UTF-8 text; check that the file downloaded completely",
        )
    return kind
