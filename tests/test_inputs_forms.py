"""The seed's provincial notice 晋民函〔2024〕169号 in every form it arrives in gives the record
the seed's text gives: .docx (版头 in a table cell), .doc and .wps (through LibreOffice), a
government-site page, an e-mail with the .docx attached, and an OFD."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from models import Document, Line, Page
from notice_forms import (
    convert_with_libreoffice,
    make_docx,
    make_docx_textbox,
    make_eml,
    make_html,
    make_ofd,
    provincial_text,
)
from pipeline.reading.sniff import sniff
from pipeline.run import parse_file, parse_pages

GONGWEN = [sys.executable, "-c", "from pipeline.cli.main import main; main()"]


@pytest.fixture(scope="session")
def forms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("forms")
    docx = make_docx(folder / "晋民函〔2024〕169号.docx")
    out = {
        "docx": docx,
        "html": make_html(folder / "t20241106_169.html"),
        "eml": make_eml(folder / "转发省厅通知.eml", [("晋民函〔2024〕169号.docx", docx.read_bytes())]),
        "ofd": make_ofd(folder / "晋民函〔2024〕169号.ofd"),
    }
    if shutil.which("soffice"):
        # LibreOffice takes ~10 s a file on 2 cores: the two legacy files are made once a session
        out["doc"] = convert_with_libreoffice(docx, folder, ".doc")
        typed = make_docx(folder / "typed.docx", header_table=False)
        out["wps"] = convert_with_libreoffice(typed, folder, ".wps")
    return out


def key_fields(doc: Document) -> dict[str, object]:
    return {
        "doc_number": doc.doc_number,
        "title": doc.title,
        "recipients": doc.recipients,
        "deadlines": sorted(d.date for d in doc.deadlines if d.date),
        "phones": sorted(p for c in doc.contacts for p in c.phones),
        "emails": sorted(e for c in doc.contacts for e in c.emails),
        "upstream": sorted(u.doc_number for u in doc.upstream if u.doc_number),
    }


@pytest.fixture(scope="module")
def seed_fields() -> dict[str, object]:
    page = Page(number=1, source="text", lines=[Line(text=t) for t in provincial_text().splitlines()])
    result, _ = parse_pages([page], file="seed", kind="text")
    (doc,) = result.documents
    fields = key_fields(doc)
    # the seed's hand-made labels, so the comparison below is against a known-good record
    assert fields["doc_number"] == "晋民函〔2024〕169号" and "2024-11-20" in fields["deadlines"]
    assert fields["phones"] == ["0351-6387015", "15972913611"] and fields["emails"] == ["sxsmztllgzc@163.com"]
    assert fields["upstream"] == ["民函〔2024〕56号"]
    return fields


@pytest.mark.parametrize("kind", ["docx", "html", "eml", "ofd", "doc", "wps"])
def test_every_form_gives_the_seed_record(kind: str, forms: dict[str, Path], seed_fields: dict[str, object]):
    if kind not in forms:
        pytest.skip("LibreOffice (soffice) is not installed: make install puts it in")
    result, _ = parse_file(forms[kind])
    assert result.status == "done", result.problems
    (doc,) = result.documents
    assert key_fields(doc) == seed_fields


def test_the_kinds_are_told_by_bytes(forms: dict[str, Path], tmp_path: Path):
    expected = {"docx": "docx", "html": "html", "eml": "eml", "ofd": "ofd", "doc": "doc", "wps": "doc"}
    for kind, path in forms.items():
        renamed = tmp_path / f"{kind}.pdf"  # a name that lies
        shutil.copyfile(path, renamed)
        assert sniff(renamed) == expected[kind]


def test_word_provenance_names_the_cell_and_the_paragraph(forms: dict[str, Path]):
    result, _ = parse_file(forms["docx"])
    prov = result.documents[0].provenance
    assert prov["doc_number"].where == "table 1 row 2 cell 1"
    assert prov["title"].where == "paragraph 1"


def test_ofd_provenance_has_page_and_box_and_the_seal_is_noted(forms: dict[str, Path]):
    result, _ = parse_file(forms["ofd"])
    doc = result.documents[0]
    where = doc.provenance["doc_number"]
    assert where.page == 1 and where.box is not None
    # the 文号 line is centred on an A4 page (595 px wide at 72 dpi), 37 mm + one line down
    assert 150 < where.box.x0 < where.box.x1 < 450 and 100 < where.box.y0 < 160
    contact = doc.provenance["contacts[0]"]  # 联系人 sits at the foot of page 3 of 4 (22 lines a page)
    assert contact.page == 3 and contact.box is not None and contact.box.y0 > 600
    assert "山西省电子印章系统" in doc.metadata["签章"]


def test_web_page_fields_links_and_element_provenance(forms: dict[str, Path]):
    result, _ = parse_file(forms["html"])
    doc = result.documents[0]
    assert doc.metadata["索引号"] == "11140000012129564X/2024-00169"
    assert doc.metadata["发布机构"] == "山西省民政厅" and doc.metadata["成文日期"] == "2024年11月05日"
    assert "/uploads/2024/11/W020241106.pdf" in doc.metadata["附件链接"] and "回执.docx" in doc.metadata["附件链接"]
    assert doc.provenance["doc_number"].where.endswith("/td[1]")
    assert doc.provenance["title"].where.endswith("/h1")
    # navigation, share buttons and the footer are not text of the notice
    body = json.dumps(doc.model_dump(mode="json"), ensure_ascii=False)
    assert "办事服务" not in body and "ICP备" not in body and "打印本页" not in body


def test_web_page_block_outside_the_article_is_read_too(tmp_path: Path):
    # Many sites print the 政府信息公开 table in a box of its own above the article, which
    # readability drops as chrome; its cells still reach the parser.
    page = make_html(tmp_path / "xxgk.html")
    html = page.read_text(encoding="utf-8")
    start, end = html.index('<table class="xxgk-table">'), html.index("</table>") + len("</table>")
    table, html = html[start:end], html[:start] + html[end:]
    page.write_text(html.replace('<div class="article">', f'<div class="xxgk-box">{table}</div>\n<div class="article">'), encoding="utf-8")
    doc = parse_file(page)[0].documents[0]
    assert doc.doc_number == "晋民函〔2024〕169号" and doc.issue_date == "2024-11-05"
    assert doc.metadata["索引号"] == "11140000012129564X/2024-00169" and doc.metadata["主题分类"] == "民政、扶贫、救灾\\老龄工作"
    assert doc.provenance["doc_number"].where.endswith("/td[1]")


def test_mail_documents_carry_their_routing(forms: dict[str, Path]):
    result, _ = parse_file(forms["eml"])
    routing = result.documents[0].routing
    assert routing is not None
    assert routing.sender == "省民政厅老龄工作处 <sxsmztllgzc@163.com>"
    assert routing.received == "2024-11-06T09:12:30+08:00"
    assert routing.subject.startswith("转发：") and routing.attachment == "晋民函〔2024〕169号.docx"


def test_text_box_header_is_read_once(tmp_path: Path):
    page_result, _ = parse_file(make_docx_textbox(tmp_path / "boxed.docx"))
    doc = page_result.documents[0]
    assert doc.doc_number == "晋民函〔2024〕169号" and doc.provenance["doc_number"].where == "text box 1"


def test_gongwen_parse_reads_a_mail_as_its_documents(forms: dict[str, Path]):
    run = subprocess.run([*GONGWEN, "parse", str(forms["eml"])], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["kind"] == "eml"
    assert [d["doc_number"] for d in data["documents"]] == ["晋民函〔2024〕169号"]
    assert data["documents"][0]["routing"]["attachment"] == "晋民函〔2024〕169号.docx"


def test_a_mailbox_gives_each_message_its_own_routing(forms: dict[str, Path], tmp_path: Path):
    import mailbox
    from email import message_from_bytes, policy

    box_path = tmp_path / "Inbox"
    box = mailbox.mbox(box_path)
    box.add(message_from_bytes(forms["eml"].read_bytes(), policy=policy.default))
    second = message_from_bytes(make_eml(tmp_path / "b.eml", [("page.html", forms["html"].read_bytes())], subject="网站通知").read_bytes(), policy=policy.default)
    second.replace_header("From", "市民政局办公室 <lfsmzj@163.com>")
    box.add(second)
    box.close()
    assert sniff(box_path) == "mbox"
    result, _ = parse_file(box_path)
    assert [d.doc_number for d in result.documents] == ["晋民函〔2024〕169号", "晋民函〔2024〕169号"]
    assert [(d.routing.sender, d.routing.attachment) for d in result.documents] == [
        ("省民政厅老龄工作处 <sxsmztllgzc@163.com>", "晋民函〔2024〕169号.docx"),
        ("市民政局办公室 <lfsmzj@163.com>", "page.html"),
    ]


def test_gongwen_ingest_opens_mail_attachments_zips_included(forms: dict[str, Path], tmp_path: Path):
    import io
    import zipfile

    inbox, db = tmp_path / "inbox", tmp_path / "notices.db"
    inbox.mkdir()
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as z:
        z.writestr("省厅通知.ofd", forms["ofd"].read_bytes())
    make_eml(
        inbox / "收文.eml",
        [("晋民函〔2024〕169号.docx", forms["docx"].read_bytes()), ("附件.zip", packed.getvalue()), ("回执.pdf", b"MZ\x90\x00" + bytes(600))],
    )
    shutil.copyfile(forms["html"], inbox / "page.html")
    run = subprocess.run([*GONGWEN, "ingest", str(inbox), "--db", str(db)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    status = {json.loads(line)["file"].removeprefix(f"{inbox}/"): json.loads(line)["status"] for line in run.stdout.splitlines()}
    assert status == {
        "page.html": "done",
        "收文.eml!/晋民函〔2024〕169号.docx": "needs_review",  # the page holds the same 文号: a possible duplicate
        "收文.eml!/附件.zip!/省厅通知.ofd": "needs_review",
        "收文.eml!/回执.pdf": "rejected",
    }
    note = json.loads(next((tmp_path / "quarantine").glob("*.json")).read_text(encoding="utf-8"))
    assert "回执.pdf" in json.dumps(note, ensure_ascii=False)
    shown = subprocess.run([*GONGWEN, "show", "晋民函〔2024〕169号", "--db", str(db)], capture_output=True, text=True, timeout=300)
    records = {item["file"]["names"][0].removeprefix(f"{inbox}/"): item["record"] for item in json.loads(shown.stdout)}
    assert records["page.html"]["routing"] is None and records["page.html"]["metadata"]["索引号"]
    for name in ("收文.eml!/晋民函〔2024〕169号.docx", "收文.eml!/附件.zip!/省厅通知.ofd"):
        assert records[name]["routing"]["sender"] == "省民政厅老龄工作处 <sxsmztllgzc@163.com>"
        assert records[name]["routing"]["attachment"] == name.removeprefix("收文.eml!/")
        assert records[name]["routing"]["received"] == "2024-11-06T09:12:30+08:00"
    # a reparse keeps the routing: it is the file's, not the parse's
    subprocess.run([*GONGWEN, "reparse", "--all", "--db", str(db)], capture_output=True, text=True, timeout=300, check=True)
    shown = subprocess.run([*GONGWEN, "show", "晋民函〔2024〕169号", "--db", str(db), "--table"], capture_output=True, text=True, timeout=300)
    assert "收文" in shown.stdout and "sxsmztllgzc@163.com" in shown.stdout


def test_an_ofd_page_that_is_only_a_scan_goes_to_ocr(tmp_path: Path):
    import io

    from PIL import Image

    from pipeline.reading.load import PageImage, load

    picture = io.BytesIO()
    Image.new("RGB", (1240, 1754), "white").save(picture, format="PNG")  # A4 at 150 dpi
    loaded = load(make_ofd(tmp_path / "scanned.ofd", scan=picture.getvalue()), "ofd")
    pages = list(loaded.pages)
    assert loaded.needs_ocr and isinstance(pages[-1], PageImage) and all(isinstance(p, Page) for p in pages[:-1])
    assert pages[-1].image.shape == (1754, 1240, 3) and pages[-1].dpi == 149.98


def test_gongwen_parse_opens_a_zip_attached_to_a_mail(forms: dict[str, Path], tmp_path: Path):
    import io
    import zipfile

    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as z:
        z.writestr("省厅通知.ofd", forms["ofd"].read_bytes())
    result, _ = parse_file(make_eml(tmp_path / "zip.eml", [("附件.zip", packed.getvalue())]))
    assert [d.doc_number for d in result.documents] == ["晋民函〔2024〕169号"]
    assert result.documents[0].routing.attachment == "附件.zip!/省厅通知.ofd"


MSG = Path(__file__).resolve().parent.parent / "fixtures" / "inputs" / "晋民函〔2024〕169号.msg"
MSG_SENDER = "省民政厅老龄工作处 <sxsmztllgzc@163.com>"


def test_the_committed_msg_is_what_its_generator_writes(tmp_path: Path):
    pytest.importorskip("aspose.email_foss", reason="aspose-email-foss (the dev extras) writes the .msg fixture")
    import runpy

    make_msg = runpy.run_path(str(MSG.parent.parent / "make_msg.py"))["make_msg"]
    assert make_msg(tmp_path / "again.msg").read_bytes() == MSG.read_bytes()


def test_gongwen_parse_reads_an_outlook_message(seed_fields: dict[str, object]):
    run = subprocess.run([*GONGWEN, "parse", str(MSG)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["kind"] == "msg" and data["status"] == "done"
    (doc,) = [Document.model_validate(d) for d in data["documents"]]  # the body, a covering note, is no notice
    assert key_fields(doc) == seed_fields
    routing = doc.routing
    assert routing.sender == MSG_SENDER and routing.received == "2024-11-06T01:12:30+00:00"
    assert routing.subject == "转发：省民政厅关于转发银龄行动回信精神的通知" and routing.attachment == "晋民函〔2024〕169号.txt"
    assert routing.message_id == "<20241106091230.169@163.com>"


def test_gongwen_ingest_stores_an_outlook_message_and_refuses_a_truncated_one(tmp_path: Path):
    inbox, db = tmp_path / "inbox", tmp_path / "notices.db"
    inbox.mkdir()
    shutil.copyfile(MSG, inbox / "收文.msg")
    (inbox / "断了.msg").write_bytes(MSG.read_bytes()[:6000])  # a download cut off mid-file
    shutil.copyfile(MSG.parent.parent / "chains" / "four_level" / "2_province.txt", inbox / "省通知.txt")
    run = subprocess.run([*GONGWEN, "ingest", str(inbox), "--db", str(db)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    outcome = {json.loads(line)["file"].removeprefix(f"{inbox}/"): json.loads(line) for line in run.stdout.splitlines()}
    assert outcome["断了.msg"]["status"] == "rejected"
    assert "断了.msg" in outcome["断了.msg"]["reason"] and "damaged" in outcome["断了.msg"]["reason"]
    assert outcome["省通知.txt"]["status"] == "done"  # the batch went on
    assert outcome["收文.msg!/晋民函〔2024〕169号.txt"]["status"] == "done"
    assert "3 inputs = 2 stored" in run.stderr
    shown = subprocess.run([*GONGWEN, "show", "晋民函〔2024〕169号", "--db", str(db)], capture_output=True, text=True, timeout=300)
    records = {item["file"]["names"][0].removeprefix(f"{inbox}/"): item["record"] for item in json.loads(shown.stdout)}
    routing = records["收文.msg!/晋民函〔2024〕169号.txt"]["routing"]
    assert routing["sender"] == MSG_SENDER and routing["received"] == "2024-11-06T01:12:30+00:00"
    assert routing["subject"] == "转发：省民政厅关于转发银龄行动回信精神的通知"
    table = subprocess.run([*GONGWEN, "show", "晋民函〔2024〕169号", "--db", str(db), "--table"], capture_output=True, text=True, timeout=300)
    assert "收文" in table.stdout and "sxsmztllgzc@163.com" in table.stdout and "2024-11-06" in table.stdout


DEMO = {
    "晋民函〔2024〕177号.docx": "h07_letter_comment_window",
    "t20230306_12.html": "h09_request_with_signer",
    "转发省老龄办通知.eml": "h11_no_deadline_honour_list",
    "临市教发〔2024〕63号.ofd": "h12_city_school_recurring",
}


@pytest.mark.parametrize("name", sorted(DEMO))
def test_each_demo_input_gives_its_notices_labelled_head(name: str):
    """`make run`'s files of the other kinds (fixtures/inputs/demo) against their notices' labels."""
    fixtures = MSG.parent.parent
    labels = json.loads((fixtures / "notices" / f"{DEMO[name]}.expected.json").read_text(encoding="utf-8"))
    want = labels["documents"][0] if "documents" in labels else labels
    result, _ = parse_file(fixtures / "inputs" / "demo" / name)
    assert result.status == "done", result.problems
    doc = result.documents[0]
    for field in ("doc_number", "title", "issuers", "recipients", "issue_date"):
        assert getattr(doc, field) == want[field], field
    assert [d.date for d in doc.deadlines] == [d.get("date") for d in want.get("deadlines", [])]
