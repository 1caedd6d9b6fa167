"""Normalisation: OCR spaces, the CamScanner watermark, broken lines, look-alikes; and the map back to the raw text."""

from pathlib import Path

from models import Box, Line, Page
from pipeline.text.normalise import normalise
from pipeline.text.provenance import locate, printed

SEED = Path(__file__).parent.parent / "fixtures" / "seed" / "000_b23ec74a3ac5c572.txt"


def _text_pages(*pages: str) -> list[Page]:
    return [Page(number=n, source="text", lines=[Line(text=t) for t in body.split("\n")]) for n, body in enumerate(pages, 1)]


def _norm(*pages: str) -> str:
    return normalise(_text_pages(*pages)).text


def test_spaces_between_chinese_and_around_numbers_go():
    assert _norm("省老龄委各成员单位学习情况，请于 11 月 20 日前以电子 版形式报省老龄办。") == "省老龄委各成员单位学习情况，请于11月20日前以电子版形式报省老龄办。"


def test_the_space_between_joint_issuers_stays_and_the_one_before_guanyu_goes():
    assert _norm("临汾市民政局 临汾市老龄工作委员会办公室 关于深入学习贯彻习近平总书记给“银龄行动” 老年志愿者代表重要回信精神的通知") == (
        "临汾市民政局 临汾市老龄工作委员会办公室关于深入学习贯彻习近平总书记给“银龄行动”老年志愿者代表重要回信精神的通知"
    )
    assert _norm("联系人：省民政厅老龄工作处 张书毓") == "联系人：省民政厅老龄工作处 张书毓"


def test_watermark_mid_sentence_is_removed_and_the_sentence_rejoined():
    text = _norm(
        "一是要提高政治站位，抓好学习贯彻。把学习贯彻习近平总\n\nCS 扫描全能王\n\n3亿人都在用的扫描App\n\n书记给“银龄行动”老年志愿者代表重要回信精神作为一项重要政治任务。"
    )
    assert text == "一是要提高政治站位，抓好学习贯彻。把学习贯彻习近平总书记给“银龄行动”老年志愿者代表重要回信精神作为一项重要政治任务。"


def test_watermark_inside_a_line_goes_too():
    assert _norm("推动理论学习入脑入心CS扫描全能王，深刻认识新时代的重要意义。") == "推动理论学习入脑入心，深刻认识新时代的重要意义。"


def test_headings_fields_and_header_lines_are_not_joined():
    text = _norm("临汾市民政局\n临市民函〔2024〕89号\n一、提高政治站位，明确目标任务\n市老龄委各成员单位要把学习贯彻作为当前和今后一个时期的重要任务。\n联系人：晋白雪\n联系电话：13994776952")
    assert text.split("\n") == [
        "临汾市民政局",
        "临市民函〔2024〕89号",
        "一、提高政治站位，明确目标任务",
        "市老龄委各成员单位要把学习贯彻作为当前和今后一个时期的重要任务。",
        "联系人：晋白雪",
        "联系电话：13994776952",
    ]


def test_a_sentence_crossing_a_page_is_rejoined_and_page_numbers_dropped():
    text = _norm("作为“第一议题”来学习、“第一遵循”来贯彻、“第一政治要件”来\n— 1 —", "落实。要与学习贯彻党的二十届三中全会精神结合起来。")
    assert text == "作为“第一议题”来学习、“第一遵循”来贯彻、“第一政治要件”来落实。要与学习贯彻党的二十届三中全会精神结合起来。"


def test_lookalike_digits_in_dates_and_numbers_and_fullwidth_digits():
    assert _norm("晋民函〔2O24〕l69号") == "晋民函〔2024〕169号"
    assert _norm("请于１１月２０日前报送") == "请于11月20日前报送"
    assert _norm("联系人:张三") == "联系人：张三"
    assert _norm("下午17:00前") == "下午17:00前"


def test_every_character_maps_back_to_the_raw_text():
    raw = SEED.read_text(encoding="utf-8")
    t = normalise(_text_pages(raw))
    assert len(t.origin) == len(t.text)
    for ch, o in zip(t.text, t.origin):
        if o >= 0:
            assert t.raw[o] == ch or (t.raw[o] in "\n\f" and ch == " ") or ch in "：，；（）？！0123456789"
    assert "CS" not in t.text and "扫描全能王" not in t.text


def test_printed_text_keeps_the_engines_spaces():
    t = normalise(_text_pages("各市民政局学习情况，请于 11 月 20 日前以电子版形式报省老龄办。"))
    start = t.text.index("请于")
    end = t.text.index("。")
    assert printed(t, start, end) == "请于 11 月 20 日前以电子版形式报省老龄办"


def test_boxes_come_back_for_a_span_on_an_ocr_page():
    lines = [
        Line(text="临汾市民政局", box=Box(x0=300, y0=100, x1=900, y1=180)),
        Line(text="临市民函〔2024〕89号", box=Box(x0=400, y0=300, x1=800, y1=340)),
    ]
    pages = [Page(number=1, source="ocr", lines=lines)]
    t = normalise(pages)
    start = t.text.index("临市民函")
    where = locate(t, pages, start, start + len("临市民函〔2024〕89号"))
    assert where.page == 1
    assert where.box == Box(x0=400, y0=300, x1=800, y1=340)
    part = locate(t, pages, start, start + 4)  # 临市民函: the first 4 of 13 characters
    assert part.box is not None and part.box.x0 == 400 and abs(part.box.x1 - (400 + 400 * 4 / 13)) < 1e-6


def test_geometry_joins_wrapped_lines_and_keeps_indented_paragraphs_apart():
    def ln(text: str, x0: float, y: float, x1: float) -> Line:
        return Line(text=text, box=Box(x0=x0, y0=y, x1=x1, y1=y + 40))

    lines = [
        ln("市老龄委各成员单位，各县（市、区）民政局、老龄办要把学习", 180, 100, 1300),
        ln("贯彻作为当前和今后一个时期的一项重要政治任务，作为第一", 100, 160, 1300),
        ln("议题来学习。", 100, 220, 340),
        ln("二、广泛组织动员，确保活动实效", 180, 280, 760),
        ln("市老龄委各成员单位要按照部署要求，充分发挥基层党组织的", 180, 340, 1300),
        ln("作用。", 100, 400, 220),
    ]
    t = normalise([Page(number=1, source="ocr", lines=lines)])
    assert t.text.split("\n") == [
        "市老龄委各成员单位，各县（市、区）民政局、老龄办要把学习贯彻作为当前和今后一个时期的一项重要政治任务，作为第一议题来学习。",
        "二、广泛组织动员，确保活动实效",
        "市老龄委各成员单位要按照部署要求，充分发挥基层党组织的作用。",
    ]
