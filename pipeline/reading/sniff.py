"""Tell what a file is from its bytes, never from its name.

Phone scans arrive renamed, forwarded and re-saved: a `.pdf` that is an HTML
error page from a download portal, a `.jpg` that is really a PNG. The kind
decides which loader runs, so it comes from magic bytes alone.

Containers are looked into: a zip is a .docx when it holds word/document.xml, an OFD
(GB/T 33190) when it holds OFD.xml; an OLE compound file is a Word 97 .doc (WPS Office's
.wps is the same format) when it has a WordDocument stream, a Works .wps when it has
CONTENTS, an Outlook .msg when it has __substg1.0_ streams. Mail is told from text by
its RFC 5322 header block, a saved web page by its markup.
"""

import re
import zipfile
from pathlib import Path
from typing import Literal

from pipeline.errors import InputError

Kind = Literal["pdf", "png", "jpeg", "tiff", "text", "docx", "doc", "ofd", "html", "mhtml", "eml", "mbox", "msg"]

MAIL_KINDS = ("eml", "msg", "mbox")  # not one document: the inputs they carry are (pipeline.reading.mail)

HEAD_BYTES = 1024  # %PDF- may follow junk (mail headers, BOMs); readers accept it within the first 1 KiB
TEXT_SAMPLE_BYTES = 64 * 1024
MIN_PRINTABLE_SHARE = 0.95

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
MAIL_HEADERS = {"from", "to", "subject", "date", "message-id", "received", "mime-version", "return-path", "delivered-to", "cc", "reply-to", "x-mailer"}
HEADER_LINE = re.compile(rb"^([A-Za-z][A-Za-z0-9-]{0,60}):[ \t]?")
MBOX_FROM = re.compile(rb"^From \S+ +\S")

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
    mail = mail_kind(head)
    if mail:
        return mail
    if looks_like_markup(head):
        return "html" if looks_like_html(head) else None
    if looks_like_text(head):
        return "text"
    return None


def mail_kind(head: bytes) -> Kind | None:
    """"mbox" for a mailbox ("From " line first), "mhtml" for a saved page (multipart/related of
    HTML), "eml" for one message: a header block of at least two known mail headers."""
    start = head.lstrip(b"\xef\xbb\xbf\r\n")
    if MBOX_FROM.match(start):
        return "mbox"
    names = set()
    for line in start.split(b"\n")[:200]:
        line = line.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            continue  # a folded header line
        match = HEADER_LINE.match(line)
        if not match:
            return None
        names.add(match.group(1).decode("ascii").lower())
    if len(names & MAIL_HEADERS) < 2 and not ("mime-version" in names and "content-type" in names):
        return None
    if re.search(rb"(?im)^content-type:\s*multipart/related", start) and re.search(rb"(?i)content-type:\s*text/html", start):
        return "mhtml"
    return "eml"


def looks_like_html(head: bytes) -> bool:
    start = head[:HEAD_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or (
        start.startswith((b"<?xml", b"<!doctype")) and b"<html" in head.lower()
    )


def container_kind(path: Path, head: bytes) -> Kind | None:
    """What a zip or an OLE compound file holds, or None: a plain zip is an archive, not a notice."""
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as z:
                names = {name.lstrip("/") for name in z.namelist()}
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return None
        if "word/document.xml" in names or "word/document2.xml" in names:
            return "docx"
        if "OFD.xml" in names or "ofd.xml" in names:
            return "ofd"
        return None
    if head.startswith(OLE_MAGIC):
        import olefile

        try:
            with olefile.OleFileIO(str(path)) as ole:
                streams = {"/".join(entry) for entry in ole.listdir()}
        except (OSError, ValueError) as e:  # olefile raises OSError for a damaged file
            raise InputError(f"{path}: a damaged OLE compound file (Office 97 or Outlook): {e}") from e
        if "WordDocument" in streams or "CONTENTS" in streams:
            return "doc"
        if any(name.startswith("__substg1.0_") for name in streams):
            return "msg"
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
        return "a ZIP archive that is neither a Word document nor an OFD (an Excel or PowerPoint file?)"
    if head.startswith(OLE_MAGIC):
        return "an Office 97 file that is neither a Word document nor an Outlook message (Excel? PowerPoint?)"
    return f"unrecognised bytes {head[:8].hex(' ')}"


def sniff(path: Path) -> Kind:
    """The kind of the file at `path`; InputError naming the file and what was found otherwise."""
    try:
        with path.open("rb") as f:
            head = f.read(TEXT_SAMPLE_BYTES)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e
    kind = container_kind(path, head) if head.startswith((*ZIP_MAGIC, OLE_MAGIC)) else sniff_bytes(head)
    if kind is None:
        raise InputError(
            f"{path}: not a file gongwen reads (PDF, image, text, Word, WPS, OFD, web page or e-mail): found {describe(head)}",
            hint="check that the file downloaded completely",
        )
    return kind
