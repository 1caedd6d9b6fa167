"""Head layouts as a phone scan of a printed notice gives them: lines with boxes.

A printed title is broken where the 版心 ends (GB/T 9704 §7.3.2: 2号 type, a few lines, the
issuer's name often on a line of its own), the 主送机关 stands one blank line below it (§7.3.3),
and a 文号 printed in brackets after a title (as web pages print it) ends up on the title's last
line. Each test lays out lines written for the rule, with boxes where a 2-core scan at 200 dpi
puts them.
"""

from models import Box, Document, Line, Page
from pipeline.parsing.closing import file_extension_read_right
from pipeline.run import parse_pages

LEFT, RIGHT = 220.0, 1450.0
BODY_H, PITCH = 47.0, 80.0  # a 3号 body line's box and the distance from one line's top to the next
TITLE_H, TITLE_PITCH = 60.0, 80.0


def _page(rows: list[tuple[str, float, float, float, float]]) -> Page:
    """rows: (text, x0, y0, x1, height)."""
    return Page(
        number=1,
        source="ocr",
        width=1654,
        height=2339,
        lines=[Line(text=t, box=Box(x0=x0, y0=y0, x1=x1, y1=y0 + h)) for t, x0, y0, x1, h in rows],
    )


def _body(texts: list[str], top: float, indent_first: bool = True) -> list[tuple[str, float, float, float, float]]:
    rows = []
    for k, t in enumerate(texts):
        x0 = LEFT + (90 if indent_first and k == 0 else 0)
        rows.append((t, x0, top + k * PITCH, min(RIGHT, x0 + 44 * len(t)), BODY_H))
    return rows


def _parse(rows) -> Document:
    result, _ = parse_pages([_page(rows)], file="scan.pdf", kind="pdf", engine="rapidocr")
    assert len(result.documents) == 1
    return result.documents[0]


PARAGRAPH = [
    "为做好今冬明春森林防火工作，切实保护森林资源和人民群众生命",
    "财产安全，经研究，决定在全县开展森林防火隐患排查整治，现将",
    "有关事项通知如下。",
]
ASK = ["请各单位于12月20日前将排查情况报县应急管理局。"]


def test_the_title_does_not_run_into_the_recipients_one_blank_line_below_it():
    # Both title lines are full (a long 2号 title reaches the margins), so only the blank line
    # under the title tells that the 主送机关 starts a new element.
    rows = [
        ("关于在全县范围内开展森林防火隐患排查整治和宣传", 216, 390, 1444, TITLE_H),
        ("教育活动切实保护全县森林资源和群众安全的通知", 216, 390 + TITLE_PITCH, 1444, TITLE_H),
        ("各乡镇人民政府，县直各有关单位，县森林防火指挥部各成员单", LEFT, 636, 1450, BODY_H),
        ("位：", LEFT, 636 + PITCH, 300, BODY_H),
    ]
    rows += _body(PARAGRAPH, 636 + 2 * PITCH) + _body(ASK, 636 + 5 * PITCH)
    doc = _parse(rows)
    assert doc.title == "关于在全县范围内开展森林防火隐患排查整治和宣传教育活动切实保护全县森林资源和群众安全的通知"
    assert "各乡镇人民政府" in doc.recipients


def test_a_title_whose_issuer_stands_on_its_own_line_keeps_it():
    rows = [
        ("平陆县人民政府办公室", 560, 300, 1100, TITLE_H),
        ("关于开展森林防火隐患排查整治的通知", 380, 300 + TITLE_PITCH, 1280, TITLE_H),
        ("各乡镇人民政府，县直各有关单位：", LEFT, 560, 1000, BODY_H),
    ]
    rows += _body(PARAGRAPH, 560 + PITCH) + _body(ASK, 560 + 4 * PITCH)
    doc = _parse(rows)
    assert doc.title == "平陆县人民政府办公室关于开展森林防火隐患排查整治的通知"


def test_a_township_named_alone_above_the_title_is_the_titles_subject():
    rows = [
        ("芮城县陌南镇", 660, 300, 1000, TITLE_H),
        ("关于开展森林防火隐患排查整治和宣传", 216, 300 + TITLE_PITCH, 1444, TITLE_H),
        ("教育活动的通知", 640, 300 + 2 * TITLE_PITCH, 1020, TITLE_H),
        ("各村（社区）、镇直各单位：", LEFT, 640, 900, BODY_H),
    ]
    rows += _body(PARAGRAPH, 640 + PITCH) + _body(ASK, 640 + 4 * PITCH)
    doc = _parse(rows)
    assert doc.title == "芮城县陌南镇关于开展森林防火隐患排查整治和宣传教育活动的通知"


def test_a_place_name_above_a_line_that_is_no_title_starts_nothing():
    rows = [
        ("芮城县陌南镇", 660, 300, 1000, TITLE_H),
        ("森林防火宣传月活动安排", 500, 300 + TITLE_PITCH, 1100, TITLE_H),
        ("各村（社区）、镇直各单位：", LEFT, 640, 900, BODY_H),
    ]
    rows += _body(PARAGRAPH, 640 + PITCH) + _body(ASK, 640 + 4 * PITCH)
    assert _parse(rows).title is None


def test_a_broken_title_whose_last_line_carries_the_bracketed_number():
    rows = [
        ("转发省应急厅关于做好冬春季森林“防火”、", 216, 300, 1444, TITLE_H),
        ("“防灾”宣传工作的", 560, 300 + TITLE_PITCH, 1100, TITLE_H),
        ("通知（运应急函〔2024〕37号）", 500, 300 + 2 * TITLE_PITCH, 1160, TITLE_H),
        ("各县（市、区）应急管理局：", LEFT, 640, 900, BODY_H),
    ]
    rows += _body(PARAGRAPH, 640 + PITCH) + _body(ASK, 640 + 4 * PITCH)
    doc = _parse(rows)
    assert doc.title == "转发省应急厅关于做好冬春季森林“防火”、“防灾”宣传工作的通知"
    assert doc.doc_number == "运应急函〔2024〕37号"


def test_a_site_tag_before_a_broken_title_is_not_part_of_it():
    rows = [
        ("[运城]市应急管理局办公室转发省应急厅关于做好冬春季", 216, 300, 1444, TITLE_H),
        ("森林防火宣传工作的通知", 560, 300 + TITLE_PITCH, 1100, TITLE_H),
        ("各县（市、区）应急管理局：", LEFT, 640, 900, BODY_H),
    ]
    rows += _body(PARAGRAPH, 640 + PITCH) + _body(ASK, 640 + 4 * PITCH)
    assert _parse(rows).title == "市应急管理局办公室转发省应急厅关于做好冬春季森林防火宣传工作的通知"


def _attachment_rows(continuation_x0: float) -> list[tuple[str, float, float, float, float]]:
    rows = [
        ("平陆县人民政府办公室关于开展森林防火隐患排查整治的通知", 380, 300, 1280, TITLE_H),
        ("各乡镇人民政府，县直各有关单位：", LEFT, 460, 1000, BODY_H),
    ]
    rows += _body(PARAGRAPH, 460 + PITCH) + _body(ASK, 460 + 4 * PITCH)
    rows += [
        ("附件：运城市应急管理局关于做好冬春季森林防火隐患排查", 310, 460 + 6 * PITCH, 1446, BODY_H),
        ("整治工作的通知", continuation_x0, 460 + 7 * PITCH, continuation_x0 + 308, BODY_H),
        ("平陆县人民政府办公室", 960, 460 + 9 * PITCH, 1370, BODY_H),
        ("2024年11月20日", 1050, 460 + 10 * PITCH, 1360, BODY_H),
    ]
    return rows


def test_an_attachment_name_wrapped_under_its_first_character_goes_on():
    # GB/T 9704 §7.3.4: the wrapped name aligns with its first character, after `附件：`
    doc = _parse(_attachment_rows(310 + 3 * 44))
    assert doc.attachments == ["运城市应急管理局关于做好冬春季森林防火隐患排查整治工作的通知"]


def test_an_attachment_name_wrapped_under_the_word_attachment_goes_on_when_the_line_was_full():
    doc = _parse(_attachment_rows(312))
    assert doc.attachments == ["运城市应急管理局关于做好冬春季森林防火隐患排查整治工作的通知"]


def test_a_short_attachment_line_does_not_swallow_the_paragraph_under_it():
    rows = _attachment_rows(312)
    rows[-4] = ("附件：森林防火隐患排查表", 310, rows[-4][2], 860, BODY_H)
    rows[-3] = ("请各单位认真填写。", 310, rows[-3][2], 700, BODY_H)
    doc = _parse(rows)
    assert doc.attachments == ["森林防火隐患排查表"]


def test_a_title_set_as_a_paragraph_does_not_run_into_the_recipients():
    # A printout of a web page sets the title in body type, indented, with no blank line under
    # it; its 文种 ends it where a 主送 list starts.
    rows = [
        ("报送2024年度森林防火隐患排查整治工作总结的通知", 310, 312, 1380, BODY_H),
        ("各省、自治区、直辖市应急管理厅（局），新疆生产建设兵团应急", LEFT, 312 + PITCH, 1444, BODY_H),
        ("管理局：", LEFT, 312 + 2 * PITCH, 400, BODY_H),
    ]
    rows += _body(PARAGRAPH, 312 + 3 * PITCH) + _body(ASK, 312 + 6 * PITCH)
    doc = _parse(rows)
    assert doc.title == "报送2024年度森林防火隐患排查整治工作总结的通知"
    assert doc.recipients[-1] == "新疆生产建设兵团应急管理局"


def test_a_recipients_list_broken_after_the_number_is_no_title_line():
    rows = [
        ("关于开展森林防火隐患排查整治的通知", 380, 300, 1280, TITLE_H),
        ("运应急函〔2024〕37号", 310, 460, 720, BODY_H),
        ("各县、市、区应急管理局、林业局、自然资源局、消防救援大队、", 310, 460 + PITCH, 1430, BODY_H),
        ("森林公安局：", LEFT, 460 + 2 * PITCH, 500, BODY_H),
    ]
    rows += _body(PARAGRAPH, 460 + 3 * PITCH) + _body(ASK, 460 + 6 * PITCH)
    doc = _parse(rows)
    assert doc.title == "关于开展森林防火隐患排查整治的通知"
    assert any("林业局" in r for r in doc.recipients) and doc.recipients[-1] == "森林公安局"


def test_a_downloads_extension_read_with_look_alikes_is_read_right():
    assert file_extension_read_right("当前秋粮作物收获进度统计表.x1s") == "当前秋粮作物收获进度统计表.xls"
    assert file_extension_read_right("森林防火隐患排查表.d0cx") == "森林防火隐患排查表.docx"
    assert file_extension_read_right("森林防火隐患排查表.pdf") == "森林防火隐患排查表.pdf"
    assert file_extension_read_right("2024年第1批") == "2024年第1批"  # no extension
    assert file_extension_read_right("森林防火隐患排查表.v2") == "森林防火隐患排查表.v2"  # none it could be


BODY_LINE = "为做好今冬明春森林防火工作，经研究，决定在全县开展森林防火隐患排查整治，现将有关事项通知如下。"


def _text_notice(tail: str) -> Document:
    text = f"关于开展森林防火隐患排查整治的通知\n各乡镇人民政府，县直各有关单位：\n{BODY_LINE}\n{tail}\n平陆县应急管理局\n2024年11月20日"
    page = Page(number=1, source="text", lines=[Line(text=t) for t in text.split("\n")])
    result, _ = parse_pages([page], file="page.txt", kind="text")
    return result.documents[0]


def test_numbered_attachments_run_into_one_line_are_cut_at_each_number():
    doc = _text_notice("附件：1.《运城市应急管理局关于做好森林防火工作的通知》2.2024年度隐患排查1.5倍复核表3.联络人表")
    assert doc.attachments == ["《运城市应急管理局关于做好森林防火工作的通知》", "2024年度隐患排查1.5倍复核表", "联络人表"]


def test_an_attachment_label_ending_the_contact_line_opens_the_list_below():
    doc = _text_notice("联系人：王立国，联系电话：0359-3521234，电子邮箱：plyjj@163.com附件：\n1.隐患排查表2.联络人表")
    assert doc.attachments == ["隐患排查表", "联络人表"]
    assert [(c.name, c.emails) for c in doc.contacts] == [("王立国", ["plyjj@163.com"])]


def test_a_long_title_in_text_wrapped_at_the_printed_width_does_not_run_into_the_recipients():
    # a text copied from a printed page: 28 characters a line, and a title longer than that
    text = (
        "平陆县应急管理局关于印发《平陆县安全生产治本攻坚三年行动实施方案（2024—2026年）》的通知\n"
        "各乡镇人民政府，县直各有关单位：\n"
        "为做好安全生产工作，现将有关事项通知如下。\n"
        "请各单位于12月10日前将排查情况报县局。\n"
        "平陆县应急管理局\n"
        "2024年3月20日"
    )
    page = Page(number=1, source="text", lines=[Line(text=t) for t in text.split("\n")])
    result, _ = parse_pages([page], file="page.txt", kind="text")
    doc = result.documents[0]
    assert doc.title == "平陆县应急管理局关于印发《平陆县安全生产治本攻坚三年行动实施方案（2024—2026年）》的通知"
    assert doc.recipients == ["各乡镇人民政府", "县直各有关单位"]
