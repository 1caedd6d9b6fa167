"""发文字号 in every form domain.md lists parses to (agency code, year, serial), keeps its printed form and flags non-conformity."""

import pytest

from pipeline.parsing.docnumber import canonical, find_numbers, parse_line

CASES = [
    # printed,                 agency,    year, serial, conforming
    ("临市民函〔2024〕89号", "临市民函", 2024, 89, True),
    ("国办发〔2012〕1号", "国办发", 2012, 1, True),
    ("晋民函[2024]169号", "晋民函", 2024, 169, False),
    ("晋民函［2024］169号", "晋民函", 2024, 169, False),
    ("晋民函（2024）169号", "晋民函", 2024, 169, False),
    ("晋民函(2024)169号", "晋民函", 2024, 169, False),
    ("晋民函【2024】169号", "晋民函", 2024, 169, False),
    ("晋民函〔 2024 〕169号", "晋民函", 2024, 169, False),
    ("晋民函〔2024)169号", "晋民函", 2024, 169, False),
    ("晋民发〔2024〕第12号", "晋民发", 2024, 12, False),
    ("(94)晋民字第345号", "晋民字", 1994, 345, False),
]


@pytest.mark.parametrize(("printed", "agency", "year", "serial", "conforming"), CASES)
def test_every_form_parses(printed, agency, year, serial, conforming):
    found = parse_line(printed)
    assert found is not None
    assert (found.parts.agency_code, found.parts.year, found.parts.serial) == (agency, year, serial)
    assert found.canonical == f"{agency}〔{year}〕{serial}号"
    assert found.conforming is conforming


def test_numbers_cited_in_running_text_lose_the_words_before_them():
    text = "根据晋民发〔2024〕12号文件精神，现将《关于…的通知》（民函〔2024〕56号）转发给你们"
    assert [f.canonical for f in find_numbers(text)] == ["晋民发〔2024〕12号", "民函〔2024〕56号"]
    first = find_numbers(text)[0]
    assert text[first.start : first.end] == "晋民发〔2024〕12号"


def test_a_bracketed_year_without_a_code_is_not_a_number():
    assert find_numbers("（2024）12号") == []
    assert find_numbers("2024年12月") == []


def test_a_header_line_may_carry_the_signer():
    found = parse_line("晋民报〔2024〕3号        签发人：张三")
    assert found is not None and found.canonical == "晋民报〔2024〕3号"


def test_canonical_matches_across_styles():
    assert canonical("晋民函[2024]169号") == canonical("晋民函〔2024〕169号") == "晋民函〔2024〕169号"


def test_a_number_given_on_its_own_keeps_its_whole_code():
    # 并 is Taiyuan's one-character code: inside `（并民函〔2024〕77号）` it is not the word 并.
    assert canonical("并民函〔2024〕77号") == "并民函〔2024〕77号"
