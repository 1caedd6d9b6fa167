"""Tests of fixtures/render.py: the `.notice` parser, line breaking, and the files it writes.

Parsing, line breaking and the committed fixtures need no fonts; tests that draw pages skip
when the CJK fonts are missing. No OCR runs here.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SCANS = ROOT / "fixtures" / "scans"
SEED = ROOT / "fixtures" / "seed" / "seed.notice"


def _load_renderer():
    spec = importlib.util.spec_from_file_location("fixture_render", ROOT / "fixtures" / "render.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


render = _load_renderer()

EVERY_TAG = """\
# a comment
@render profile=light dpi=120 seed=3 rotate=2:180,3:90 format=tiff
@render variant=text format=textpdf
@doc
@copy 000123
@secret 机密★1年
@urgency 特急
@mark 山西省民政厅
@mark 山西省老龄工作委员会办公室
@mark_suffix 文件
@number 晋民发〔2024〕12号
@signer 张三 李四
@signer 王五
@title 山西省民政厅 山西省老龄工作委员会办公室
@title 关于开展养老服务检查的通知
@to 各市民政局、老龄办：
@p 一、加强组织领导
@pagebreak
@attach 附件：1.检查表
@attach 2.机构名单
@sign 山西省民政厅
@date 2024年10月25日
@seal 山西省民政厅
@note （此件公开发布）
@cc 抄送：民政部。
@printed 山西省民政厅办公室 | 2024年10月28日印发
@doc
@label 附件1
@title 检查表
@p 检查项目。
"""

TINY = """\
@render profile=light dpi=100 seed=5
@mark 临汾市民政局
@number 临市民函〔2024〕89号
@title 关于测试的通知
@to 各县（市、区）民政局：
@p 请于11月20日前报送。
@sign 临汾市民政局
@date 2024年10月25日
"""


def cells(text: str) -> list[float]:
    return render.cell_widths(text, ["song"] * len(text), render.NominalMetrics())


def line_texts(text: str, **kwargs) -> list[str]:
    return [text[a:b] for _, a, b in render.wrap(text, cells(text), **kwargs)]


# --- parsing -------------------------------------------------------------------------------


def test_parse_every_tag():
    notice = render.parse_notice(EVERY_TAG, "every")
    main, variant = notice.renders
    assert main == render.RenderSpec(profile="light", dpi=120, seed=3, rotate=((2, 180), (3, 90)), format="tiff")
    assert (variant.variant, variant.format, variant.seed, variant.dpi) == ("text", "textpdf", 3, 120)
    doc, attachment = notice.documents
    assert (doc.copy, doc.secret, doc.urgency) == ("000123", "机密★1年", "特急")
    assert doc.marks == ["山西省民政厅", "山西省老龄工作委员会办公室"]
    assert (doc.mark_suffix, doc.number) == ("文件", "晋民发〔2024〕12号")
    assert doc.signers == ["张三", "李四", "王五"]
    assert [e.tag for e in doc.flow] == [
        "title", "title", "to", "p", "pagebreak", "attach", "attach", "sign", "date", "note"]
    assert doc.seals() == ["山西省民政厅"]
    assert [(e.tag, e.text) for e in doc.footer] == [
        ("cc", "抄送：民政部。"), ("printed", "山西省民政厅办公室 | 2024年10月28日印发")]
    assert attachment.label == "附件1" and not attachment.has_header


def test_seal_defaults_to_first_signature_and_can_be_switched_off():
    signed = render.parse_notice("@sign 甲局\n@sign 乙局\n@date 2024年1月2日\n")
    assert signed.documents[0].seals() == ["甲局"]
    unsealed = render.parse_notice("@sign 甲局\n@seal none\n")
    assert unsealed.documents[0].seals() == []


def test_defaults_without_render_line():
    notice = render.parse_notice("@p 正文。\n")
    assert notice.renders == [render.RenderSpec()]
    assert render.PROFILES[notice.renders[0].profile].dpi == 175


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("@p 正文\n@bogus x\n", ":2: unknown tag @bogus"),
        ("@render profile=blurry\n@p x\n", ":1: bad @render key"),
        ("@render rotate=2:45\n@p x\n", "rotate wants"),
        ("@render seed=1\n@render seed=2\n@p x\n", ":2: a second @render needs variant=NAME"),
        ("@p 正文\n正文续\n", ":2: expected '@tag text'"),
        ("@number 甲〔2024〕1号\n@number 乙〔2024〕2号\n", ":2: @number given twice"),
        ("@p\n", ":1: @p needs a text"),
        ("# only a comment\n", "no printed element"),
    ],
)
def test_parse_errors_name_the_line(source, message):
    with pytest.raises(render.NoticeError, match=message.replace("(", r"\(")):
        render.parse_notice(source, "bad")


# --- line breaking ---------------------------------------------------------------------------


def test_wrap_fills_28_characters_after_a_two_character_indent():
    text = "字" * 60
    assert [len(t) for t in line_texts(text, first_indent=2)] == [26, 28, 6]


def test_half_width_characters_take_half_a_cell():
    text = "1" * 56 + "字"
    assert [len(t) for t in line_texts(text)] == [56, 1]


def test_closing_punctuation_hangs_at_the_end_of_the_line():
    text = "字" * 28 + "”。" + "字" * 5
    assert line_texts(text) == ["字" * 28 + "”。", "字" * 5]


def test_opening_bracket_moves_to_the_next_line():
    text = "字" * 27 + "“银龄行动”"
    assert line_texts(text) == ["字" * 27, "“银龄行动”"]


def test_ascii_words_are_not_split():
    text = "联系电话：" + "字" * 20 + "13994776952。"
    assert line_texts(text) == ["联系电话：" + "字" * 20, "13994776952。"]


def test_numbered_heading_is_set_in_its_face_up_to_the_first_full_stop():
    styles = render.paragraph_styles("（一）加强组织领导。各地要重视。")
    assert [s.role for s in styles] == ["kai"] * 10 + ["song"] * 6
    assert {s.role for s in render.paragraph_styles("一、提高政治站位，明确目标任务")} == {"hei"}


# --- composition (nominal metrics, no fonts) ------------------------------------------------------


def compose(source: str) -> list:
    return render.Composer(render.NominalMetrics()).compose(render.parse_notice(source))


def test_every_printed_element_reaches_the_truth_in_order():
    pages = compose(EVERY_TAG)
    text = "".join(line for page in pages for line in page.lines)
    expected = [
        "000123", "机密★1年", "特急", "山西省民政厅", "文件", "签发人：张三 李四", "晋民发〔2024〕12号 王五",
        "关于开展养老服务检查的通知", "各市民政局、老龄办：", "一、加强组织领导", "附件：1.检查表", "2.机构名单",
        "山西省民政厅", "2024年10月25日", "（此件公开发布）", "抄送：民政部。",
        "山西省民政厅办公室 2024年10月28日印发", "附件1", "检查表", "检查项目。",
    ]
    position = 0
    for item in expected:
        position = text.index(item, position) + len(item)
    assert [page.lines[-1] for page in pages] == ["— 1 —", "— 2 —", "— 3 —"]


def test_pagebreak_and_documents_start_new_pages():
    pages = compose(EVERY_TAG)
    assert pages[1].lines[0].startswith("附件：1.")
    assert pages[2].lines[0] == "附件1"
    assert pages[1].seals and pages[1].seals[0].text == "山西省民政厅"


def test_body_overflows_onto_new_pages_at_22_lines():
    pages = compose("@p " + "字" * (28 * 30) + "\n")
    assert [len(page.lines) - 1 for page in pages] == [22, 9]  # less the page number


def test_seed_notice_text_survives_layout():
    notice = render.load_notice(SEED)
    pages = render.Composer(render.NominalMetrics()).compose(notice)
    printed = "".join(line for page in pages for line in page.lines[:-1])  # less page numbers
    for doc in notice.documents:
        for element in doc.flow:
            assert element.text in printed
    assert len(pages) == 7


# --- rendered files (need the fonts) -------------------------------------------------------------


@pytest.fixture(scope="module")
def fonts():
    try:
        render.raster_fonts()
        render.vector_fonts()
    except render.FontMissing as err:
        pytest.skip(f"CJK fonts missing: {err}")


def write(tmp_path: Path, source: str, name: str = "tiny") -> Path:
    path = tmp_path / f"{name}.notice"
    path.write_text(source, encoding="utf-8")
    return path


def render_file(path: Path, out: Path) -> None:
    assert render.main([str(path), "--out", str(out)]) == 0


def pdf_page_count(path: Path) -> int:
    with pdfplumber.open(path) as pdf:
        return len(pdf.pages)


def truth_page_count(path: Path) -> int:
    return path.read_text(encoding="utf-8").count("\n\f\n") + 1


def test_rendering_is_deterministic(fonts, tmp_path):
    source = write(tmp_path, TINY)
    render_file(source, tmp_path / "a")
    render_file(source, tmp_path / "b")
    for name in ("tiny.pdf", "tiny.truth.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_pdf_pages_are_jpeg_images_at_the_scan_resolution(fonts, tmp_path):
    render_file(write(tmp_path, TINY), tmp_path)
    with pdfplumber.open(tmp_path / "tiny.pdf") as pdf:
        assert len(pdf.pages) == 1
        page = pdf.pages[0]
        assert page.extract_text() == "" and not page.chars
        (image,) = page.images
        assert image["stream"].get_filters()[0][0].name == "DCTDecode"
        width_px, height_px = image["srcsize"]
        assert (width_px, height_px) == render.page_size_px(100)
        assert width_px / (float(page.width) / 72) == pytest.approx(100, abs=0.5)


def scan_only(source: str, **keys: str) -> str:
    """`source` without its textpdf variant, the given @render keys replaced."""
    source = source.replace("@render variant=text format=textpdf\n", "")
    for key, value in keys.items():
        source = re.sub(rf"{key}=\S+", f"{key}={value}", source, count=1)
    return source


def test_truth_pages_match_pdf_pages_and_rotation_turns_pixels(fonts, tmp_path):
    source = scan_only(EVERY_TAG, format="pdf", rotate="3:90", dpi="60")
    render_file(write(tmp_path, source, "every"), tmp_path)
    assert pdf_page_count(tmp_path / "every.pdf") == truth_page_count(tmp_path / "every.truth.txt") == 3
    with pdfplumber.open(tmp_path / "every.pdf") as pdf:
        assert pdf.pages[0].height > pdf.pages[0].width
        assert pdf.pages[2].width > pdf.pages[2].height


def test_text_pdf_has_a_text_layer(fonts, tmp_path):
    source = TINY.replace("@render profile=light dpi=100 seed=5", "@render format=textpdf")
    render_file(write(tmp_path, source), tmp_path)
    with pdfplumber.open(tmp_path / "tiny.pdf") as pdf:
        text = pdf.pages[0].extract_text().replace(" ", "")
    assert "临市民函〔2024〕89号" in text and "请于11月20日前报送。" in text


def test_tiff_and_single_page_formats(fonts, tmp_path):
    render_file(write(tmp_path, scan_only(EVERY_TAG, dpi="60"), "every"), tmp_path)
    with Image.open(tmp_path / "every.tiff") as tiff:
        assert tiff.n_frames == 3
    render_file(write(tmp_path, TINY.replace("seed=5", "seed=5 format=png"), "one"), tmp_path)
    assert Image.open(tmp_path / "one.png").info["dpi"] == pytest.approx((100, 100), abs=0.01)


# --- the committed fixtures ---------------------------------------------------------------------


COMMITTED = sorted(SCANS.glob("*.truth.txt")) if SCANS.is_dir() else []


def scan_page_count(truth: Path) -> int:
    """Pages of the scan written next to `truth`, whatever its format."""
    stem = truth.name.removesuffix(".truth.txt")
    pdf, tiff = truth.with_name(f"{stem}.pdf"), truth.with_name(f"{stem}.tiff")
    if pdf.exists():
        return pdf_page_count(pdf)
    if tiff.exists():
        with Image.open(tiff) as image:
            return image.n_frames
    singles = [p for suffix in ("jpg", "png") for p in truth.parent.glob(f"{stem}*.{suffix}")
               if re.fullmatch(rf"{re.escape(stem)}(-\d+)?\.{suffix}", p.name)]
    return len(singles)


@pytest.mark.parametrize("truth", COMMITTED, ids=[p.name for p in COMMITTED])
def test_committed_scan_has_one_truth_page_per_scanned_page(truth):
    assert scan_page_count(truth) == truth_page_count(truth)
