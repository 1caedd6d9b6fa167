"""pipeline.reading.sniff: the kind comes from the bytes, never from the name."""

import io
from pathlib import Path

import pytest
from PIL import Image

from pipeline.errors import InputError
from pipeline.reading.sniff import sniff, sniff_bytes


def image_bytes(fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, fmt, **params)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("scan.jpg", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),  # a PDF named .jpg
        ("mail.bin", b"From: x\r\n" * 20 + b"%PDF-1.4\n", "pdf"),  # %PDF- after junk, within 1 KiB
        ("scan.pdf", image_bytes("PNG"), "png"),
        ("scan.png", image_bytes("JPEG"), "jpeg"),
        ("scan.txt", image_bytes("TIFF"), "tiff"),
        ("big-endian", b"MM\x00*" + b"\x00" * 12, "tiff"),
        ("notice.pdf", "临汾市民政局\n关于……的通知\n".encode(), "text"),
        ("bom.txt", "\ufeff山西省民政厅\f第二页".encode(), "text"),
    ],
)
def test_kind_from_bytes(tmp_path: Path, name: str, data: bytes, kind: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert sniff(path) == kind


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"", "empty"),
        (bytes(range(256)) * 4, "unrecognised bytes"),
        ("文本".encode("gbk") * 50, "unrecognised bytes"),  # GBK is not UTF-8
        (b"PK\x03\x04" + b"\x00" * 40, "ZIP"),
    ],
)
def test_unknown_bytes_name_the_file_and_what_was_found(tmp_path: Path, data: bytes, found: str) -> None:
    path = tmp_path / "notice.pdf"
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        sniff(path)
    assert "notice.pdf" in str(err.value) and found in str(err.value)


def test_pdf_marker_past_1024_bytes_is_not_a_pdf() -> None:
    assert sniff_bytes(b"\x01" * 1100 + b"%PDF-1.4") is None


def test_text_cut_inside_a_character_is_still_text() -> None:
    assert sniff_bytes("通知".encode() * 10 + "知".encode()[:2]) == "text"


def test_mostly_control_characters_is_not_text() -> None:
    assert sniff_bytes(b"\x01\x02\x03\x04abc" * 10) is None


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        sniff(tmp_path / "absent.pdf")
