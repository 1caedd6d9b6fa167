"""Bad input of every new kind: a clear reason naming the file, never a hang or a crash."""

from __future__ import annotations

import os
import stat
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from notice_forms import make_docx, make_eml, make_html, make_ofd, provincial_paragraphs
from pipeline.errors import InputError, InputTooLarge
from pipeline.reading.read import read_file
from pipeline.run import parse_file


@pytest.fixture(scope="module")
def docx_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_docx(tmp_path_factory.mktemp("docx") / "n.docx").read_bytes()


def repack(source: bytes, target: Path, extra: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(__import__("io").BytesIO(source)) as z, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            out.writestr(info, z.read(info))
        for name, data in extra.items():
            out.writestr(name, data)
    return target


def test_a_docx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path, docx_bytes: bytes):
    bomb = repack(docx_bytes, tmp_path / "通知.docx", {"word/media/image1.png": b"\0" * (30 << 20)})
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(InputTooLarge, match="通知.docx: member word/media/image1.png unpacks .*decompression bomb"):
        read_file(bomb)


def test_a_docx_with_a_macro_part_is_refused(tmp_path: Path, docx_bytes: bytes):
    macro = repack(docx_bytes, tmp_path / "通知.docx", {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro"})
    with pytest.raises(InputError, match=r"通知.docx: a document with a macro part \(word/vbaProject.bin\)"):
        read_file(macro)


def test_an_ofd_with_a_missing_page_part_is_refused(tmp_path: Path):
    ofd = make_ofd(tmp_path / "n.ofd", page_loc="Pages/Page_9/Content.xml")
    with pytest.raises(InputError, match="n.ofd: the OFD names a part that is missing: Doc_0/Pages/Page_9/Content.xml"):
        read_file(ofd)


@pytest.mark.parametrize("loc", ["../../../etc/passwd", "/../secret.xml", "Pages/../../../x.xml"])
def test_an_ofd_path_outside_the_package_is_refused(tmp_path: Path, loc: str):
    ofd = make_ofd(tmp_path / "n.ofd", page_loc=loc)
    with pytest.raises(InputError, match="n.ofd: an OFD part path that leaves the package"):
        read_file(ofd)


def fake_soffice(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "soffice"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def legacy_doc(tmp_path: Path) -> Path:
    """A short Word 97 notice (fixtures/inputs/short.doc) under a name the messages must show."""
    target = tmp_path / "通知.doc"
    target.write_bytes((Path(__file__).parent.parent / "fixtures" / "inputs" / "short.doc").read_bytes())
    return target


def test_a_doc_that_hangs_the_converter_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, legacy_doc: Path):
    # a stand-in for LibreOffice stuck in an import filter loop: it never answers
    monkeypatch.setenv("GONGWEN_SOFFICE", str(fake_soffice(tmp_path, "sleep 600")))
    monkeypatch.setenv("GONGWEN_CONVERT_TIMEOUT", "2")
    with pytest.raises(InputError, match=r"通知.doc: LibreOffice hung converting it and was stopped after 2 s"):
        read_file(legacy_doc)


def test_a_doc_that_crashes_the_converter_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, legacy_doc: Path):
    monkeypatch.setenv("GONGWEN_SOFFICE", str(fake_soffice(tmp_path, "kill -SEGV $$")))
    with pytest.raises(InputError, match=r"通知.doc: LibreOffice crashed converting it \(SIGSEGV\)"):
        read_file(legacy_doc)


def test_a_mail_with_200_attachments_is_refused(tmp_path: Path):
    eml = make_eml(tmp_path / "群发.eml", [(f"表{n}.txt", b"x") for n in range(200)])
    with pytest.raises(InputError, match="群发.eml: an e-mail with 200 attachments, over the limit of 100"):
        parse_file(eml)


def nest(message: EmailMessage, depth: int) -> EmailMessage:
    for n in range(depth):
        outer = EmailMessage()
        outer["From"] = f"clerk{n}@example.org"
        outer["Subject"] = f"Fwd {n}"
        outer["Date"] = "Thu, 07 Nov 2024 10:00:00 +0800"
        outer.set_content("转发。")
        outer.add_attachment(message)
        message = outer
    return message


def test_mail_nested_five_deep_stops_with_a_reason_and_keeps_what_it_read(tmp_path: Path, docx_bytes: bytes):
    inner = EmailMessage()
    inner["From"] = "省民政厅 <sxsmztllgzc@163.com>"
    inner["Subject"] = "省厅通知"
    inner.set_content("见附件。")
    inner.add_attachment(docx_bytes, maintype="application", subtype="octet-stream", filename="通知.docx")
    shallow = tmp_path / "two.eml"
    shallow.write_bytes(bytes(nest(inner, 2)))
    result, _ = parse_file(shallow)
    assert [d.doc_number for d in result.documents] == ["晋民函〔2024〕169号"]
    assert result.documents[0].routing.via == ["Fwd 1", "Fwd 0"]
    assert result.documents[0].routing.sender == "省民政厅 <sxsmztllgzc@163.com>"

    deep = tmp_path / "five.eml"
    deep.write_bytes(bytes(nest(inner, 5)))
    result, _ = parse_file(deep)
    assert result.documents == [] and result.status == "needs_review"
    assert any(p.code == "mail.part_refused" and "five.eml!/" in p.message and "nested more than 4 deep" in p.message for p in result.problems)


def test_an_attachment_whose_name_lies_is_read_by_its_bytes(tmp_path: Path, docx_bytes: bytes):
    eml = make_eml(tmp_path / "收文.eml", [("扫描件.pdf", docx_bytes), ("scan.jpg", b"MZ\x90\x00" + os.urandom(2000))])
    result, _ = parse_file(eml)
    assert [d.doc_number for d in result.documents] == ["晋民函〔2024〕169号"]
    assert result.documents[0].routing.attachment == "扫描件.pdf"
    (bad,) = [p for p in result.problems if p.code == "mail.part_unreadable"]
    assert "收文.eml!/scan.jpg" in bad.message and "unrecognised bytes 4d 5a" in bad.message
    assert result.status == "partial"


def test_a_mail_body_with_a_lying_charset_that_holds_a_notice_is_read(tmp_path: Path):
    text = "\n".join(provincial_paragraphs()[1:])
    message = EmailMessage()
    message["From"] = "老龄工作处 <sxsmztllgzc@163.com>"
    message["Subject"] = "通知"
    message["Date"] = "Wed, 06 Nov 2024 09:12:30 +0800"
    message.set_content(text.encode("gbk"), maintype="text", subtype="plain", cte="base64")
    message.replace_header("Content-Type", 'text/plain; charset="utf-8"')  # the label lies: the bytes are GBK
    eml = tmp_path / "正文.eml"
    eml.write_bytes(bytes(message))
    result, _ = parse_file(eml)
    (doc,) = result.documents
    assert doc.doc_number == "晋民函〔2024〕169号" and doc.routing.attachment is None


def test_a_web_page_whose_charset_lies_is_read_and_noted(tmp_path: Path):
    page = make_html(tmp_path / "n.html", charset="gbk", declared="utf-8")
    result, _ = parse_file(page)
    assert result.documents[0].doc_number == "晋民函〔2024〕169号"
    assert any("says its charset is utf-8 but it is gb18030" in p.message for p in result.problems)


def test_a_web_page_with_50_mb_of_script_gives_the_notice(tmp_path: Path):
    page = make_html(tmp_path / "n.html", scripts=50 << 20)
    result, _ = parse_file(page)
    assert result.documents[0].doc_number == "晋民函〔2024〕169号"


def test_a_web_page_with_no_text_is_refused(tmp_path: Path):
    page = tmp_path / "notice.pdf"
    page.write_text("<!DOCTYPE html><html><body><div>404</div><script>" + "x" * 10000 + "</script></body></html>")
    with pytest.raises(InputError, match="notice.pdf: an HTML page with no notice text in it"):
        read_file(page)


def test_a_saved_web_archive_reads_like_the_page(tmp_path: Path):
    html = make_html(tmp_path / "n.html").read_bytes()
    message = EmailMessage()
    message["From"] = "<Saved by Blink>"
    message["Subject"] = "通知"
    message["MIME-Version"] = "1.0"
    message.set_type("multipart/related")
    part = EmailMessage()
    part.set_content(html, maintype="text", subtype="html")
    part.set_param("charset", "utf-8")
    message.attach(part)
    archive = tmp_path / "page.mhtml"
    archive.write_bytes(bytes(message))
    result, _ = parse_file(archive)
    assert result.kind == "mhtml" and result.documents[0].doc_number == "晋民函〔2024〕169号"

