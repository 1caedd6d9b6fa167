"""Contact blocks in the ways notices print them: one rule per test, each on a line written here."""

from pipeline.parsing.contact_values import find_emails, find_phones, phone_is_valid
from pipeline.parsing.contacts import find_contacts


def _contacts(*lines: str) -> list[dict]:
    return [f.contact.model_dump(exclude_defaults=True) for f in find_contacts([(ln, 0) for ln in lines])]


def _names(*lines: str) -> list[str | None]:
    return [c.get("name") for c in _contacts(*lines)]


def test_office_before_name_and_two_phones():
    assert _contacts("联系人：省民政厅老龄工作处 张书毓", "联系电话：0351-6387015，15972913611", "电子邮箱：sxsmztllgzc@163.com") == [
        {"name": "张书毓", "org": "省民政厅老龄工作处", "phones": ["0351-6387015", "15972913611"], "emails": ["sxsmztllgzc@163.com"]}
    ]


def test_contacts_in_a_parenthetical_note_with_a_second_person():
    assert _contacts("（联系人：张三，联系电话：0351-1234567；李四，13912345678）") == [
        {"name": "张三", "phones": ["0351-1234567"]},
        {"name": "李四", "phones": ["13912345678"]},
    ]


def test_people_sharing_a_phone_line_each_get_its_numbers_and_the_fax():
    got = _contacts("联系人：张三、李四", "联系电话：0351-1111111、0351-2222222", "传真：0351-3333333", "地址：太原市新建路1号", "邮编：030001")
    assert [c["name"] for c in got] == ["张三", "李四"]
    assert [c["phones"] for c in got] == [["0351-1111111", "0351-2222222", "0351-3333333"]] * 2
    assert [c["fax"] for c in got] == [["0351-3333333"]] * 2
    assert got[1]["postcode"] == "030001" and got[1]["address"] == "太原市新建路1号"


def test_spaces_inside_a_mobile_number_are_dropped():
    assert _contacts("联系人：王五 139 9477 6952")[0]["phones"] == ["13994776952"]


def test_field_names_spaced_to_one_width():
    got = _contacts("联 系 人：赵一 钱二", "电    话：0355-2012345", "邮    箱：zhaoyi_demo@example.com")
    assert [c["name"] for c in got] == ["赵一", "钱二"]
    assert all(c["phones"] == ["0355-2012345"] and c["emails"] == ["zhaoyi_demo@example.com"] for c in got)


def test_names_run_together_when_the_spaces_were_lost():
    assert _names("联系人：孙明亮周晓燕") == ["孙明亮", "周晓燕"]
    assert _names("联系人：陈东李华") == ["陈东", "李华"]
    assert _names("联系人：欧阳文华") == ["欧阳文华"]


def test_one_office_for_several_names():
    got = _contacts("联系人：规划发展处 吴小平、郑立", "联系电话：(0351)4041234")
    assert [(c["org"], c["name"]) for c in got] == [("规划发展处", "吴小平"), ("规划发展处", "郑立")]


def test_name_then_office_with_nothing_between():
    got = _contacts("…请按时报送。联系人：王立新宣传教育处联系电话：0371-65551234")
    assert [(c.get("org"), c["name"], c["phones"]) for c in got] == [("宣传教育处", "王立新", ["0371-65551234"])]


def test_names_alternating_with_their_numbers():
    got = _contacts("（联系人：刘洋 66012345 马丽 66012346 传真：66012300）")
    assert [(c["name"], c["phones"]) for c in got] == [("刘洋", ["66012345", "66012300"]), ("马丽", ["66012346", "66012300"])]


def test_contact_with_its_phone_and_no_field_name():
    assert _contacts("联系人及电话：黄伟 0898-65201234") == [{"name": "黄伟", "phones": ["0898-65201234"]}]


def test_contact_details_field_with_a_name_or_only_numbers():
    assert _contacts("联系方式：蒋平 0471-6601234") == [{"name": "蒋平", "phones": ["0471-6601234"]}]
    assert _contacts("联系人：蒋平", "联系方式：0471-6601234，zp_demo@example.cn") == [
        {"name": "蒋平", "phones": ["0471-6601234"], "emails": ["zp_demo@example.cn"]}
    ]


def test_several_offices_each_with_their_people():
    got = _contacts(
        "联系人：",
        "省统计局办公室：冯刚，电话：0311-87801234",
        "省统计局综合处：韩梅 唐杰，电话：0311-87805678，0311-87805679",
    )
    assert [(c["org"], c["name"], c["phones"]) for c in got] == [
        ("省统计局办公室", "冯刚", ["0311-87801234"]),
        ("省统计局综合处", "韩梅", ["0311-87805678", "0311-87805679"]),
        ("省统计局综合处", "唐杰", ["0311-87805678", "0311-87805679"]),
    ]


def test_a_reflowed_line_that_ran_two_offices_together():
    got = _contacts("县教育局：林涛，电话：(0771)5601234县财政局：许静，电话：(0771)5605678")
    assert [(c["org"], c["name"], c["phones"]) for c in got] == [
        ("县教育局", "林涛", ["(0771)5601234"]),
        ("县财政局", "许静", ["(0771)5605678"]),
    ]


def test_a_further_person_on_the_line_below_the_first():
    got = _contacts("联系人：市环境监测站 罗军", "市生态环境局 曾敏", "电话：0757-83301234")
    assert [(c["org"], c["name"], c["phones"]) for c in got] == [
        ("市环境监测站", "罗军", ["0757-83301234"]),
        ("市生态环境局", "曾敏", ["0757-83301234"]),
    ]


def test_an_office_with_its_number_and_no_person():
    assert _contacts("乡政府办公室电话：（0813）5201234") == [{"org": "乡政府办公室", "phones": ["(0813)5201234"]}]


def test_a_fax_marked_after_the_number_is_listed_and_named():
    got = _contacts("联系人：潘红", "联系电话：0591-87601234，87601235（传真）")
    assert got[0]["phones"] == ["0591-87601234", "87601235"] and got[0]["fax"] == ["87601235"]


def test_the_area_code_is_carried_to_the_next_bare_number():
    got = _contacts("联系人：邓强", "电话：(010)66091234，66095678")[0]
    assert got["phones"] == ["(010)66091234", "66095678"]  # as printed
    assert got["dial"] == {"66095678": "010-66095678"}


def test_one_number_for_phone_and_fax():
    assert _contacts("联系人：田野", "电话/传真：0931-8821234", "手机号：13609311234") == [
        {"name": "田野", "phones": ["0931-8821234", "13609311234"], "fax": ["0931-8821234"]}
    ]


def test_numbers_with_em_dashes_and_spaces():
    assert [f.value for f in find_phones("010—63091234 0351 - 4561234")] == ["010-63091234", "0351-4561234"]


def test_a_landline_and_a_mobile_printed_with_nothing_between():
    assert [f.value for f in find_phones("0371-6555123413812345678")] == ["0371-65551234", "13812345678"]


def test_two_numbers_whose_space_was_lost():
    assert [(f.value, f.dial) for f in find_phones("010-6609123466095678")] == [("010-66091234", None), ("66095678", "010-66095678")]
    assert [f.value for f in find_phones("0351-2012345 2012346")] == ["0351-2012345", "2012346"]


def test_qq_groups_postcodes_and_record_numbers_are_not_phones():
    assert _contacts("联系人：白雪", "QQ群：73561234", "邮编：030012") == [{"name": "白雪", "postcode": "030012"}]
    assert find_phones("晋ICP备12345678号 您是第23456789位访客") == []


def test_numbering_plan():
    assert phone_is_valid("13994776952") and not phone_is_valid("1399477695") and not phone_is_valid("12994776952")
    assert phone_is_valid("010-84201234") and not phone_is_valid("010-8420123")
    assert phone_is_valid("0351-6387015") and phone_is_valid("3196032") and not phone_is_valid("0196032")


def test_emails_written_against_harvesters_are_normalised_and_the_printed_form_kept():
    got = _contacts("联系人：钟敏", "电子邮箱：zhongmin_demo(at)163。com")[0]
    assert got["emails"] == ["zhongmin_demo@163.com"]
    assert got["printed"] == {"zhongmin_demo@163.com": "zhongmin_demo(at)163。com"}
    assert [f.value for f in find_emails("xyz_demo＠126．com；abc_demo[at]example[dot]cn")] == ["xyz_demo@126.com", "abc_demo@example.cn"]


def test_an_address_protection_placeholder_is_no_email():
    assert _contacts("联系人：石磊；联系电话：0571-87051234。电子邮箱： [email protected] 。") == [
        {"name": "石磊", "phones": ["0571-87051234"]}
    ]


def test_a_full_stop_after_an_address_is_not_part_of_it():
    assert _contacts("联系人：严华，电话：2281234", "电子邮箱：yanhua_demo@163.com。")[0]["emails"] == ["yanhua_demo@163.com"]


def test_addresses_shared_one_each_when_the_counts_match():
    got = _contacts("联系人：高山、侯川", "邮箱：gaoshan_demo@example.gov.cn、houchuan_demo@example.gov.cn")
    assert [c["emails"] for c in got] == [["gaoshan_demo@example.gov.cn"], ["houchuan_demo@example.gov.cn"]]


def test_a_mailbox_to_send_a_report_to_is_not_a_contact():
    assert _contacts("请于3月1日前将电子版发送到报告组电子邮箱：report_demo@example.cn，并注明单位名称。") == []


def test_a_person_and_a_mailbox_for_their_part_of_the_work():
    got = _contacts("1.各中学报送作品2个。联系人：何老师，报送邮箱：12345678@qq.com。")
    assert got == [{"name": "何老师", "emails": ["12345678@qq.com"]}]
