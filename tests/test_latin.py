"""Latin values on scans: an address read by OCR is read again and reconciled, or set apart as uncertain."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from models import Contact, Document
from models.page import Box, LatinCheck, Line, Page
from pipeline.parsing.contact_checks import mark_uncertain
from pipeline.reading.latin import check_lines, glued_to_another_at, known_domain, reconcile, span_box

sys.path.insert(0, str(Path(__file__).parent.parent / "fixtures"))
import render  # noqa: E402


def test_a_digit_read_for_a_letter_is_put_right_when_the_second_reading_has_the_letter():
    assert reconcile("1fscsk@163.com", "lfscsk@163.com") == ("lfscsk@163.com", True, "")
    assert reconcile("sxsmzt11gzc@163.com", "sxsmztllgzc@163.com")[:2] == ("sxsmztllgzc@163.com", True)


def test_digits_between_letters_read_so_twice_stay_uncertain():
    value, certain, reason = reconcile("sxsmzt11gzc@163.com", "sxsmzt11gzc@163.com")
    assert (value, certain) == ("sxsmztllgzc@163.com", False) and "letters or digits" in reason


def test_one_reading_alone_is_trusted_only_where_the_neighbours_agree():
    assert reconcile("1fscsk@163.com", None)[1] is False
    assert reconcile("wangli_demo@163.com", None) == ("wangli_demo@163.com", True, "")


def test_digits_among_digits_stay_digits():
    assert reconcile("1234567@qq.com", "l234567@qq.com") == ("1234567@qq.com", True, "")


def test_digits_after_a_name_at_the_end_are_what_both_readings_say():
    assert reconcile("zhangwei10@163.com", "zhangwei10@163.com") == ("zhangwei10@163.com", True, "")
    assert reconcile("user01abc@163.com", "user01abc@163.com")[1] is False


def test_readings_that_differ_beyond_look_alikes_are_uncertain():
    value, certain, _ = reconcile("Zhaolijgzc@163.com", "zhaoligzc@163.com")
    assert certain is False and value == "zhaoligzc@163.com"


def test_domains_against_the_known_ones_and_those_on_the_page():
    assert known_domain("l63.com", set()) == "163.com"
    assert known_domain("163com", set()) == "163.com"
    assert known_domain("sxmz.gov.cn", {"sxmz.gov.cn"}) == "sxmz.gov.cn"
    assert known_domain("sxrnz.gov.cn", {"sxmz.gov.cn"}) == "sxmz.gov.cn"
    assert reconcile("abc_demo@Q163.com", "abc_demo@163.com")[:2] == ("abc_demo@163.com", True)


def test_a_speck_read_as_a_dot_in_the_domain_loses_to_the_reading_without_it():
    # tesseract on a noisy crop reads a speck between `t` and `j` as a dot; a one-letter host is not
    assert reconcile("zhaoyl@tjfgw.gov.cn", "zhaoyl@t.jfgw.gov.cn") == ("zhaoyl@tjfgw.gov.cn", True, "")
    assert reconcile("zhaoyl@t.jfgw.gov.cn", "zhaoyl@tjfgw.gov.cn") == ("zhaoyl@tjfgw.gov.cn", True, "")
    # two plausible hosts: the readings still disagree
    assert reconcile("zhaoyl@fgw.tj.gov.cn", "zhaoyl@fgwtj.gov.cn")[1] is False


def test_an_uncertain_address_leaves_the_printed_values_with_a_problem():
    doc = Document(contacts=[Contact(name="李明", emails=["sxsmztllgzc@163.com"], phones=["13912345678"])])
    page = Page(
        number=1,
        source="ocr",
        latin=[LatinCheck(line=3, read="sxsmzt11gzc@163.com", reread="sxsmzt11gzc@163.com", value="sxsmztllgzc@163.com",
                          certain=False, reason="`11` could be letters or digits")],
    )  # fmt: skip
    doc = mark_uncertain(doc, [page])
    contact = doc.contacts[0]
    assert contact.emails == [] and contact.phones == ["13912345678"]
    assert [(u.field, u.value, u.readings) for u in contact.uncertain] == [
        ("emails", "sxsmztllgzc@163.com", ["sxsmzt11gzc@163.com", "sxsmzt11gzc@163.com"])
    ]
    assert contact.uncertain[0].confidence < 0.5
    assert [p.code for p in doc.problems] == ["contacts.emails_uncertain"]


def test_a_number_outside_the_numbering_plan_is_uncertain_not_a_phone():
    from pipeline.parsing.contacts import find_contacts

    (found,) = find_contacts([("联系人：李明，电话：1391234567", 0)])
    assert found.contact.phones == [] and [u.value for u in found.contact.uncertain] == ["1391234567"]
    doc = mark_uncertain(Document(contacts=[found.contact]), [])
    assert [p.code for p in doc.problems] == ["contacts.phones_uncertain"]


def test_an_address_that_is_the_tail_of_a_run_with_two_at_signs_is_not_trusted():
    # tesseract read `_` and a letter of `sxmz_ylfwc@sxmz.gov.cn` so that `q@example.com` looked whole
    line = "电子邮箱: Sxmz_ylfwc@q@example.com"
    assert glued_to_another_at(line, line.index("q@"), len(line))
    line = "电子邮箱：sxmz_ylfwc@example.com，传真：0351-1234567"
    assert not glued_to_another_at(line, line.index("sxmz"), line.index("，"))
    line = "邮箱：ab@c.cn cd@e.cn"  # two addresses apart: each stands alone
    assert not glued_to_another_at(line, 3, 10)


def test_the_address_box_is_the_part_of_the_line_that_holds_it():
    line = Line(text="电子邮箱：ab@c.cn", box=Box(x0=100, y0=10, x1=100 + 5 * 40 + 7 * 22, y1=50))
    box = span_box(line, 5, 12)
    assert box is not None and 100 + 5 * 40 - 25 < box.x0 < 100 + 5 * 40 and box.x1 > 100 + 5 * 40 + 7 * 22


@pytest.mark.live
def test_an_address_misread_on_a_scanned_line_is_read_again_from_its_crop():
    """A line drawn in the renderer's 宋体 at 175 dpi and blurred; the page engine's reading is
    given as the known misreading, and tesseract `eng` reads the crop for real."""
    if shutil.which("tesseract") is None or "eng" not in subprocess.run(
        ["tesseract", "--list-langs"], capture_output=True, text=True
    ).stdout.split():
        pytest.skip("tesseract with its eng model is not installed (scripts/system-deps.sh)")
    try:
        font = render.raster_fonts().pil("song", 39)  # 3号 (16 pt) at 175 dpi
    except render.FontMissing as err:
        pytest.skip(f"CJK fonts missing: {err}")
    printed = "电子邮箱：lfscsk@163.com"
    image = Image.new("L", (1200, 120), 255)
    ImageDraw.Draw(image).text((60, 40), printed, font=font, fill=30)
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    x0, y0, x1, y1 = ImageDraw.Draw(image).textbbox((60, 40), printed, font=font)
    misread = Line(text="电子邮箱：1fscsk@163.com", box=Box(x0=x0, y0=y0, x1=x1, y1=y1), conf=97.0)
    lines, checks = check_lines([misread], np.asarray(image.convert("RGB")))
    assert lines[0].text == printed
    assert [(c.read, c.value, c.certain) for c in checks] == [("1fscsk@163.com", "lfscsk@163.com", True)]
