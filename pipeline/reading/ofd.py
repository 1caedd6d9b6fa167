"""Read an OFD (GB/T 33190-2016, the format of electronic official documents) with lxml.

    read_ofd(path, max_pages) -> list[Page | OfdImage]     text pages (source "ofd", lines with
                                            boxes) and, for pages that are only a scanned image,
                                            the image's bytes (pipeline.reading.load OCRs them)

An OFD is a zip of XML: OFD.xml → DocBody/DocRoot (Document.xml) → Pages/Page@BaseLoc
(Content.xml: Layers of TextObject with TextCode X/Y/DeltaX, ImageObject with ResourceID),
resources (DocumentRes.xml/PublicRes.xml: MultiMedia → MediaFile) and signatures
(Signs/Signatures.xml → Signature.xml: the electronic seal, 电子签章). Positions are in
millimetres from the page's top left; boxes here are in 72 dpi pixels, as for PDF text layers.

The readers on PyPI were measured against this one (README, "Inputs"): the maintained ones
render pages through PyMuPDF or reportlab stacks and log at import, and none gives boxes.
Reading the XML ourselves is ~250 lines over lxml, which the project has anyway.

Every part path is resolved inside the package: a BaseLoc pointing outside the zip
(../../etc/passwd, an absolute path outside it) or at a missing part refuses the file.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from models.page import Box, Line, Page
from pipeline.errors import InputError, InputTooLarge
from pipeline.reading.word import check_package

MM_TO_PX = 72 / 25.4
DEFAULT_PAGE_MM = (210.0, 297.0)  # A4, GB/T 9704's page
MAX_PART_BYTES = 20 << 20  # one page's XML; an image resource may be larger (check_package caps the total)
XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


@dataclass(frozen=True)
class OfdImage:
    """A page that is only a picture (a scan wrapped in OFD): its image file, to OCR."""

    number: int
    data: bytes
    width_mm: float


@dataclass(frozen=True)
class Fragment:
    text: str
    x0: float
    baseline: float
    size: float
    width: float


def read_ofd(path: Path, max_pages: int) -> list[Page | OfdImage]:
    check_package(path)
    with zipfile.ZipFile(path) as z:
        names = {n.lstrip("/") for n in z.namelist()}
        package = Package(path, z, names)
        root_name = "OFD.xml" if "OFD.xml" in names else "ofd.xml"
        ofd = package.xml(root_name)
        doc_root = first_text(ofd, "DocBody/DocRoot")
        if not doc_root:
            raise InputError(f"{path}: an OFD without a DocRoot in {root_name}")
        document_name = package.resolve("", doc_root)
        document = package.xml(document_name)
        base = posixpath.dirname(document_name)
        default_box = first_text(document, "CommonData/PageArea/PhysicalBox")
        page_refs = [el.get("BaseLoc") or "" for el in children(document, "Pages/Page")]
        if len(page_refs) > max_pages:
            raise InputTooLarge(f"{path}: {len(page_refs)} pages, over the limit of {max_pages}", hint="split the file, or raise the page limit")
        # every part is resolved and parsed up front: a bad path or a missing page refuses the
        # whole file before anything is stored, and the zip is closed before pages are used
        media = resources(package, document, base)
        metadata = doc_info(ofd) | seals(package, ofd)
        pages: list[Page | OfdImage] = []
        for number, ref in enumerate(page_refs, start=1):
            content = package.xml(package.resolve(base, ref))
            pages.append(read_page(package, content, number, default_box, media, metadata if number == 1 else {}))
    return pages


class Package:
    """The zip's parts by name, every name kept inside the package."""

    def __init__(self, path: Path, z: zipfile.ZipFile, names: set[str]):
        self.path, self.z, self.names = path, z, names

    def resolve(self, base: str, ref: str) -> str:
        ref = ref.strip().replace("\\", "/")
        joined = ref.lstrip("/") if ref.startswith("/") else posixpath.join(base, ref)
        name = posixpath.normpath(joined)
        if not ref or name == ".." or name.startswith("../") or posixpath.isabs(name):
            raise InputError(f"{self.path}: an OFD part path that leaves the package: {ref!r}")
        if name not in self.names:
            raise InputError(f"{self.path}: the OFD names a part that is missing: {name}")
        return name

    def read(self, name: str, limit: int) -> bytes:
        info = self.z.getinfo(name if name in self.z.namelist() else "/" + name)
        if info.file_size > limit:
            raise InputError(f"{self.path}: OFD part {name} is {info.file_size:,} bytes, over the limit of {limit:,}")
        try:
            return self.z.read(info)
        except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as e:
            raise InputError(f"{self.path}: a damaged OFD part {name}: {e}") from e

    def xml(self, name: str) -> etree._Element:
        try:
            return etree.fromstring(self.read(name, MAX_PART_BYTES), XML_PARSER)
        except KeyError:
            raise InputError(f"{self.path}: the OFD names a part that is missing: {name}") from None
        except etree.XMLSyntaxError as e:
            raise InputError(f"{self.path}: OFD part {name} is not well-formed XML: {e}") from e


def local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def children(el: etree._Element, steps: str) -> list[etree._Element]:
    """Elements along a path of local names: OFD files use the ofd: namespace, or none."""
    found = [el]
    for step in steps.split("/"):
        found = [c for parent in found for c in parent if local(c) == step]
    return found


def first_text(el: etree._Element, steps: str) -> str | None:
    found = children(el, steps)
    return (found[0].text or "").strip() if found else None


def numbers(value: str | None) -> list[float]:
    try:
        return [float(v) for v in (value or "").split()]
    except ValueError:
        return []


def doc_info(ofd: etree._Element) -> dict[str, str]:
    info = children(ofd, "DocBody/DocInfo")
    fields = ("Title", "Author", "Subject", "Creator", "CreationDate")
    return {f: t for f in fields if info and (t := first_text(info[0], f))}


def seals(package: Package, ofd: etree._Element) -> dict[str, str]:
    """The electronic seals (电子签章) the signatures list names: noted, not verified."""
    ref = first_text(ofd, "DocBody/Signatures")
    if not ref:
        return {}
    name = package.resolve("", ref)
    found = []
    for sig in children(package.xml(name), "Signature"):
        kind = sig.get("Type") or "Seal"
        try:
            signed = package.xml(package.resolve(posixpath.dirname(name), sig.get("BaseLoc") or ""))
        except InputError:
            found.append(f"{kind} (its signature part is missing)")
            continue
        provider = children(signed, "SignedInfo/Provider")
        pages = [a.get("PageRef") for a in children(signed, "SignedInfo/StampAnnot")]
        who = provider[0].get("ProviderName") if provider else None
        found.append(f"{kind}{' by ' + who if who else ''}{' on page ref ' + ','.join(p for p in pages if p) if any(pages) else ''}")
    return {"签章": "; ".join(found)} if found else {}


def resources(package: Package, document: etree._Element, base: str) -> dict[str, str]:
    """MultiMedia ID → part name of its file, from the document's and the public resources."""
    media: dict[str, str] = {}
    for ref in [first_text(document, "CommonData/DocumentRes"), first_text(document, "CommonData/PublicRes")]:
        if not ref:
            continue
        res_name = package.resolve(base, ref)
        res = package.xml(res_name)
        res_base = posixpath.join(posixpath.dirname(res_name), res.get("BaseLoc") or "")
        for mm in children(res, "MultiMedias/MultiMedia"):
            file = first_text(mm, "MediaFile")
            if file and mm.get("ID"):
                media[mm.get("ID") or ""] = package.resolve(res_base, file)
    return media


def read_page(
    package: Package, content: etree._Element, number: int, default_box: str | None, media: dict[str, str], metadata: dict[str, str]
) -> Page | OfdImage:
    box = numbers(first_text(content, "Area/PhysicalBox")) or numbers(default_box)
    width_mm, height_mm = (box[2], box[3]) if len(box) == 4 else DEFAULT_PAGE_MM
    fragments: list[Fragment] = []
    images: list[tuple[float, str]] = []
    for el in content.iter():
        tag = local(el)
        if tag == "TextObject":
            fragments += text_fragments(el)
        elif tag == "ImageObject" and el.get("ResourceID") in media:
            b = numbers(el.get("Boundary"))
            images.append(((b[2] * b[3]) if len(b) == 4 else 0.0, media[el.get("ResourceID") or ""]))
    lines = list(group_lines(fragments))
    if not lines and images:
        # an image-only page (a scan wrapped in OFD): OCR it like a scan page
        _, name = max(images)
        return OfdImage(number, package.read(name, 200 << 20), width_mm)
    return Page(
        number=number, source="ofd", width=round(width_mm * MM_TO_PX, 2), height=round(height_mm * MM_TO_PX, 2), dpi=72, lines=lines, metadata=metadata
    )


def text_fragments(obj: etree._Element) -> Iterator[Fragment]:
    """One fragment per TextCode: X and Y are its first glyph's origin and baseline within the
    object's Boundary; DeltaX holds the advances ("g 10 5.6" repeats 5.6 ten times)."""
    b = numbers(obj.get("Boundary"))
    bx, by = (b[0], b[1]) if len(b) >= 2 else (0.0, 0.0)
    size = numbers(obj.get("Size"))
    size_mm = size[0] if size else 3.5
    x = y = 0.0
    for code in children(obj, "TextCode"):
        text = code.text or ""
        if code.get("X") is not None:
            x = numbers(code.get("X"))[0] if numbers(code.get("X")) else x
        if code.get("Y") is not None:
            y = numbers(code.get("Y"))[0] if numbers(code.get("Y")) else y
        if text.strip():
            advances = delta_x(code.get("DeltaX"))
            width = sum(advances[: len(text) - 1]) + size_mm if advances else len(text) * size_mm
            yield Fragment(text, bx + x, by + y, size_mm, width)


def delta_x(value: str | None) -> list[float]:
    out: list[float] = []
    parts = (value or "").split()
    i = 0
    while i < len(parts):
        if parts[i] == "g" and i + 2 < len(parts):
            out += [float(parts[i + 2])] * int(float(parts[i + 1]))
            i += 3
        else:
            try:
                out.append(float(parts[i]))
            except ValueError:
                pass
            i += 1
    return out


def group_lines(fragments: list[Fragment]) -> Iterator[Line]:
    """Fragments on one baseline (within half a character) are one line, left to right; a gap of
    more than one character between them becomes a space (joint issuers side by side)."""
    rows: list[list[Fragment]] = []
    for frag in sorted(fragments, key=lambda f: (f.baseline, f.x0)):
        if rows and abs(rows[-1][0].baseline - frag.baseline) <= rows[-1][0].size / 2:
            rows[-1].append(frag)
        else:
            rows.append([frag])
    for row in rows:
        row.sort(key=lambda f: f.x0)
        text = row[0].text
        for prev, cur in zip(row, row[1:]):
            gap = cur.x0 - (prev.x0 + prev.width)
            text += (" " if gap > cur.size else "") + cur.text
        top = min(f.baseline - f.size for f in row)
        box = Box(
            x0=round(row[0].x0 * MM_TO_PX, 2),
            y0=round(top * MM_TO_PX, 2),
            x1=round(max(f.x0 + f.width for f in row) * MM_TO_PX, 2),
            y1=round(max(f.baseline for f in row) * MM_TO_PX + 0.2 * row[0].size * MM_TO_PX, 2),
        )
        yield Line(text=text, box=box)

