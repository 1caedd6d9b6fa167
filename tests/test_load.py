"""pipeline.reading.load: pages out of PDFs, images and text files, at native resolution, with bomb guards."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.page import Page
from pipeline.errors import EncryptedPdf, InputError, InputTooLarge
from pipeline.reading.load import Loaded, PageFailure, PageImage, load
from pipeline.reading.sniff import sniff

# --- building test files --------------------------------------------------------------------------


def pattern(width: int, height: int) -> Image.Image:
    """An asymmetric picture: any wrong turn or flip shows up in a pixel comparison."""
    rng = np.random.default_rng(width * height)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    pixels[: height // 4, : width // 4] = (255, 0, 0)  # a red top-left corner
    return Image.fromarray(pixels)


def jpeg_bytes(im: Image.Image, dpi: int = 200, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", dpi=(dpi, dpi), quality=85, **params)
    return buf.getvalue()


def make_pdf(pages: list[dict[str, object]], *, encrypted: bool = False) -> bytes:
    """A small, valid PDF written by hand, so the test controls every matrix and stream.

    Each page: size=(w, h) in points, optional rotate, text=[(x, y, str)] in Helvetica,
    image=(jpeg_bytes, pixel_w, pixel_h, (a, b, c, d, e, f) placement matrix).
    `encrypted` adds a Standard security handler whose user password is not empty: any
    reader must ask for a password (the strings are random, so no password opens it).
    """
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]  # 1 catalog, 2 pages (filled below)
    font_id = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    kids = []
    for page in pages:
        width, height = page["size"]  # type: ignore[misc]
        content, xobjects = b"", b""
        if "image" in page:
            data, px_w, px_h, matrix = page["image"]  # type: ignore[misc]
            objects.append(
                b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
                b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n" % (px_w, px_h, len(data))
                + data
                + b"\nendstream"
            )
            xobjects = b"/XObject << /Im0 %d 0 R >>" % len(objects)
            content += b"q %s cm /Im0 Do Q\n" % " ".join(f"{v:g}" for v in matrix).encode()
        for x, y, text in page.get("text", []):  # type: ignore[attr-defined]
            content += b"BT /F1 12 Tf %g %g Td (%s) Tj ET\n" % (x, y, text.encode("latin-1"))
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        content_id = len(objects)
        rotate = b" /Rotate %d" % page["rotate"] if "rotate" in page else b""
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g]%s /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> %s >> >>" % (width, height, rotate, content_id, font_id, xobjects)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    security = b""
    if encrypted:
        security = b" /Encrypt << /Filter /Standard /V 1 /R 2 /P -4 /O <%s> /U <%s> >> /ID [<%s> <%s>]" % (
            b"ab" * 32, b"cd" * 32, b"01" * 16, b"01" * 16
        )
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, security, xref)
    return bytes(out)


def scan_page(jpeg: bytes, px: tuple[int, int], size: tuple[float, float], matrix: tuple[float, ...] | None = None, **extra: object) -> dict[str, object]:
    width, height = size
    return {"size": size, "image": (jpeg, px[0], px[1], matrix or (width, 0, 0, height, 0, 0)), **extra}


TEXT_LINES = [(72, 700, "Notice on the deadline for annual reports"), (72, 680, "Please submit before 20 November 2024.")]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def load_all(path: Path, max_pages: int = 500) -> tuple[Loaded, list[Page | PageImage | PageFailure]]:
    loaded = load(path, sniff(path), max_pages=max_pages)
    return loaded, list(loaded.pages)


def only_image(path: Path) -> PageImage:
    _, pages = load_all(path)
    assert len(pages) == 1 and isinstance(pages[0], PageImage)
    return pages[0]


# --- PDF ------------------------------------------------------------------------------------------


def test_scan_is_extracted_at_native_resolution_and_dpi(tmp_path: Path) -> None:
    original = pattern(500, 700)
    jpeg = jpeg_bytes(original)
    # 500 x 700 px at 200 dpi is 2.5 x 3.5 in = 180 x 252 pt
    page = only_image(write(tmp_path, "scan.pdf", make_pdf([scan_page(jpeg, (500, 700), (180, 252))])))
    expected = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    assert page.image.shape == (700, 500, 3)
    assert page.dpi == pytest.approx(200)
    assert np.array_equal(page.image, expected)  # the very pixels of the JPEG: no resampling
    assert page.warnings == []


@pytest.mark.parametrize(
    ("matrix", "turn"),
    [
        # image stored on its side, placed turned 90° clockwise on a portrait page
        ((0, -252, 180, 0, 0, 252), Image.Transpose.ROTATE_270),
        # placed turned 90° counter-clockwise
        ((0, 252, -180, 0, 180, 0), Image.Transpose.ROTATE_90),
        # placed upside down
        ((-180, 0, 0, -252, 180, 252), Image.Transpose.ROTATE_180),
    ],
)
def test_placement_matrix_turns_the_scan(tmp_path: Path, matrix: tuple[float, ...], turn: Image.Transpose) -> None:
    stored = pattern(700, 500) if turn != Image.Transpose.ROTATE_180 else pattern(500, 700)
    jpeg = jpeg_bytes(stored)
    page = only_image(write(tmp_path, "turned.pdf", make_pdf([scan_page(jpeg, stored.size, (180, 252), matrix)])))
    expected = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB").transpose(turn))
    assert page.image.shape == (700, 500, 3)
    assert np.array_equal(page.image, expected)
    assert page.dpi == pytest.approx(200)


def test_page_rotate_turns_the_scan_clockwise(tmp_path: Path) -> None:
    stored = pattern(500, 700)
    jpeg = jpeg_bytes(stored)
    page = only_image(write(tmp_path, "rot.pdf", make_pdf([scan_page(jpeg, (500, 700), (180, 252), rotate=90)])))
    expected = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB").transpose(Image.Transpose.ROTATE_270))
    assert page.image.shape == (500, 700, 3)
    assert np.array_equal(page.image, expected)
    assert page.dpi == pytest.approx(200)


def test_page_without_a_covering_scan_is_rendered_at_300_dpi(tmp_path: Path) -> None:
    stamp = jpeg_bytes(pattern(50, 50))
    small = {"size": (144, 216), "image": (stamp, 50, 50, (36, 0, 0, 36, 10, 10))}
    page = only_image(write(tmp_path, "small.pdf", make_pdf([small])))
    height, width, _ = page.image.shape
    assert abs(height - 900) <= 1 and abs(width - 600) <= 1  # 2 x 3 in at 300 dpi; pdfium rounds up
    assert page.dpi == 300
    assert "rendered at 300 dpi" in page.warnings[0]


def test_text_layer_pages_give_lines_with_boxes_in_points(tmp_path: Path) -> None:
    loaded, pages = load_all(write(tmp_path, "text.pdf", make_pdf([{"size": (612, 792), "text": TEXT_LINES}])))
    assert loaded.kind == "pdf-text"
    [page] = pages
    assert isinstance(page, Page) and page.source == "text-layer" and page.dpi == 72
    assert [line.text for line in page.lines] == [text for _, _, text in TEXT_LINES]
    box = page.lines[0].box
    assert box is not None
    assert box.x0 == pytest.approx(72, abs=1) and 792 - 700 - 12 < box.y0 < 792 - 700  # y from the top
    assert page.lines[1].box.y0 > box.y0  # type: ignore[union-attr]


def test_mixed_pdf_is_kind_pdf_with_text_and_image_pages(tmp_path: Path) -> None:
    scan = scan_page(jpeg_bytes(pattern(500, 700)), (500, 700), (180, 252))
    pdf = make_pdf([{"size": (612, 792), "text": TEXT_LINES}, scan])
    loaded, pages = load_all(write(tmp_path, "mixed.pdf", pdf))
    assert loaded.kind == "pdf" and loaded.page_count == 2
    assert isinstance(pages[0], Page) and isinstance(pages[1], PageImage)
    assert [p.number for p in pages] == [1, 2]


def test_a_few_characters_are_not_a_usable_text_layer(tmp_path: Path) -> None:
    # CamScanner-style: a scan with only a page number as text
    scan = scan_page(jpeg_bytes(pattern(500, 700)), (500, 700), (180, 252), text=[(80, 20, "- 3 -")])
    loaded, pages = load_all(write(tmp_path, "numbered.pdf", make_pdf([scan])))
    assert loaded.kind == "pdf" and isinstance(pages[0], PageImage)


def test_page_cap_is_checked_before_extracting(tmp_path: Path) -> None:
    scan = scan_page(jpeg_bytes(pattern(50, 70)), (50, 70), (18, 25.2))
    path = write(tmp_path, "long.pdf", make_pdf([scan] * 3))
    with pytest.raises(InputTooLarge, match="3 pages, over the limit of 2"):
        load(path, "pdf", max_pages=2)


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = write(tmp_path, "locked.pdf", make_pdf([{"size": (612, 792), "text": TEXT_LINES}], encrypted=True))
    with pytest.raises(EncryptedPdf, match="locked.pdf.*password"):
        load(path, "pdf")


def test_truncated_pdf(tmp_path: Path) -> None:
    scan = scan_page(jpeg_bytes(pattern(500, 700)), (500, 700), (180, 252))
    data = make_pdf([scan])
    path = write(tmp_path, "cut.pdf", data[: len(data) // 3])
    with pytest.raises(InputError, match="cut.pdf"):
        load_all(path)


def test_pdf_scan_over_the_pixel_cap(tmp_path: Path) -> None:
    # the image dictionary claims 10000 x 9000 px: the cap fires before any decoding
    bomb = {"size": (612, 792), "image": (jpeg_bytes(pattern(8, 8)), 10000, 9000, (612, 0, 0, 792, 0, 0))}
    with pytest.raises(InputTooLarge, match="bomb.pdf"):
        load_all(write(tmp_path, "bomb.pdf", make_pdf([bomb])))


# --- images -------------------------------------------------------------------------------------


def test_multi_frame_tiff_gives_every_frame(tmp_path: Path) -> None:
    frames = [Image.new("L", (60, 80), shade) for shade in (0, 128, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], dpi=(150, 150))
    loaded, pages = load_all(write(tmp_path, "scan.tiff", buf.getvalue()))
    assert loaded.kind == "tiff" and loaded.page_count == 3
    assert [p.number for p in pages] == [1, 2, 3]
    assert [int(p.image[0, 0, 0]) for p in pages] == [0, 128, 255]  # type: ignore[union-attr]
    assert all(p.image.shape == (80, 60, 3) and p.dpi == 150 for p in pages)  # type: ignore[union-attr]


def test_tiff_page_cap(tmp_path: Path) -> None:
    frames = [Image.new("L", (10, 10)) for _ in range(4)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    with pytest.raises(InputTooLarge, match="4 pages"):
        load_all(write(tmp_path, "many.tif", buf.getvalue()), max_pages=3)


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    cmyk = Image.new("CMYK", (40, 20), (0, 0, 0, 0))
    cmyk.paste((0, 0, 0, 255), (0, 0, 20, 20))  # left half black ink
    page = only_image(write(tmp_path, "cmyk.jpg", jpeg_bytes(cmyk)))
    assert page.image.dtype == np.uint8 and page.image.shape == (20, 40, 3)
    assert page.image[10, 5].max() < 40 and page.image[10, 35].min() > 215


def test_16_bit_tiff_is_scaled_not_clipped(tmp_path: Path) -> None:
    grey16 = Image.fromarray(np.array([[0, 32768, 65535]] * 4, dtype=np.uint16))
    buf = io.BytesIO()
    grey16.save(buf, "TIFF")
    page = only_image(write(tmp_path, "deep.tif", buf.getvalue()))
    assert page.image[0, :, 0].tolist() == [0, 128, 255]


@pytest.mark.parametrize("mode", ["P", "LA", "RGBA"])
def test_transparent_and_palette_images_sit_on_white_paper(tmp_path: Path, mode: str) -> None:
    im = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    im.paste((0, 0, 0, 255), (0, 0, 5, 10))
    im = im.convert("LA") if mode == "LA" else im.convert("P") if mode == "P" else im
    if mode == "P":
        im.info["transparency"] = im.getpixel((9, 0))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    page = only_image(write(tmp_path, f"{mode}.png", buf.getvalue()))
    assert page.image.shape == (10, 10, 3)
    assert page.image[5, 1].max() == 0 and page.image[5, 8].min() == 255


def test_exif_orientation_is_honoured(tmp_path: Path) -> None:
    stored = pattern(60, 40)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": phones write this instead of turning pixels
    page = only_image(write(tmp_path, "phone.jpg", jpeg_bytes(stored, exif=exif.tobytes())))
    assert page.image.shape == (60, 40, 3)
    assert page.image[5, -5, 0] > 200 and page.image[5, -5, 1] < 60  # the red corner is now top right


def png_header(width: int, height: int) -> bytes:
    """A PNG that only claims its size: the guard must fire before any pixel is decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(10_000, 9_000), (40_000, 40_000)])
def test_decompression_bomb(tmp_path: Path, size: tuple[int, int]) -> None:
    with pytest.raises(InputTooLarge, match="bomb.png"):
        load_all(write(tmp_path, "bomb.png", png_header(*size)))


def test_truncated_jpeg(tmp_path: Path) -> None:
    data = jpeg_bytes(pattern(300, 300))
    with pytest.raises(InputError, match="cut.jpg"):
        load_all(write(tmp_path, "cut.jpg", data[: len(data) // 2]))


# --- text -----------------------------------------------------------------------------------------


def test_text_file_pages_split_on_form_feed(tmp_path: Path) -> None:
    loaded, pages = load_all(write(tmp_path, "notice.txt", "临汾市民政局\n  关于 通知\f第二页\n".encode()))
    assert loaded.kind == "text"
    assert [[line.text for line in p.lines] for p in pages] == [["临汾市民政局", "  关于 通知"], ["第二页"]]  # type: ignore[union-attr]
    assert all(isinstance(p, Page) and p.source == "text" for p in pages)
