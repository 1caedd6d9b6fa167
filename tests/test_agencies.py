"""Recipient lists split at the top level and expand shared heads; levels come from names and codes."""

import pytest

from pipeline.parsing.agencies import addressees, expand_issuer, expand_list, level_from_code, level_from_name, level_of


def test_seed_recipients_expand_their_shared_head():
    assert expand_list("市老龄委各成员单位，各县（市、区）民政局、老龄办：") == [
        "市老龄委各成员单位",
        "各县（市、区）民政局",
        "各县（市、区）老龄办",
    ]
    assert expand_list("省老龄委各成员单位，各市民政局、老龄办：") == ["省老龄委各成员单位", "各市民政局", "各市老龄办"]


def test_separators_inside_brackets_and_compound_heads_do_not_split():
    assert expand_list("各省、自治区、直辖市民政厅（局），新疆生产建设兵团民政局：") == [
        "各省、自治区、直辖市民政厅（局）",
        "新疆生产建设兵团民政局",
    ]


def test_the_national_group_of_addressees_is_given_as_its_three_kinds():
    # the 主送 reads one item per top-level 、: 各省, 自治区 and 直辖市 each with the shared tail
    assert addressees("各省、自治区、直辖市教育厅（教委），新疆生产建设兵团教育局：") == [
        "各省教育厅（教委）",
        "自治区教育厅（教委）",
        "直辖市教育厅（教委）",
        "新疆生产建设兵团教育局",
    ]
    assert addressees("各省、自治区、直辖市、计划单列市财政厅（局）") == ["各省", "自治区", "直辖市", "计划单列市财政厅（局）"]
    assert addressees("各省、自治区人民政府") == ["各省人民政府", "自治区人民政府"]
    assert addressees("中共各省、自治区、直辖市委组织部") == ["中共各省委组织部", "自治区委组织部", "直辖市委组织部"]
    assert addressees("各县（市、区）民政局、老龄办") == ["各县（市、区）民政局", "各县（市、区）老龄办"]


def test_full_names_after_a_list_comma_keep_their_own_head():
    assert expand_list("各市民政局、省财政厅、省老龄办") == ["各市民政局", "省财政厅", "省老龄办"]


def test_own_level_abbreviation_takes_the_place_of_the_mark():
    assert expand_issuer("省民政厅", "山西省民政厅") == "山西省民政厅"
    assert expand_issuer("省老龄工作委员会办公室", "山西省民政厅") == "山西省老龄工作委员会办公室"
    assert expand_issuer("临汾市老龄工作委员会办公室", "临汾市民政局") == "临汾市老龄工作委员会办公室"
    assert expand_issuer("民政部", "山西省民政厅") == "民政部"


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("国务院办公厅", "state"),
        ("民政部", "ministry"),
        ("全国老龄办", "ministry"),
        ("国家卫生健康委员会", "ministry"),
        ("山西省民政厅", "province"),
        ("北京市民政局", "province"),
        ("北京市朝阳区民政局", "county"),
        ("临汾市民政局", "city"),
        ("临汾市尧都区民政局", "county"),
        ("洪洞县民政局", "county"),
    ],
)
def test_level_from_name(name, level):
    assert level_from_name(name) == level


@pytest.mark.parametrize(
    ("code", "level"),
    [("国办发", "state"), ("晋民函", "province"), ("临市民函", "city"), ("民函", None)],
)
def test_level_from_code(code, level):
    assert level_from_code(code) == level


def test_a_code_without_a_place_is_a_ministrys_when_no_name_tells():
    assert level_of([], "民函") == "ministry"
    assert level_of(["临汾市民政局"], "民函") == "city"
