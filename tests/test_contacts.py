"""Contact blocks: several people, several phones each, their office, fax, email, address."""

from pipeline.parsing.contacts import find_contacts


def _contacts(*lines: str) -> list[dict]:
    return [f.contact.model_dump(exclude_defaults=True) for f in find_contacts([(ln, 0) for ln in lines])]


def test_office_before_name_and_two_phones():
    assert _contacts("联系人：省民政厅老龄工作处 张书毓", "联系电话：0351-6387015，15972913611", "电子邮箱：sxsmztllgzc@163.com") == [
        {"name": "张书毓", "org": "省民政厅老龄工作处", "phones": ["0351-6387015", "15972913611"], "emails": ["sxsmztllgzc@163.com"]}
    ]


def test_contacts_in_a_parenthetical_note_with_a_second_person():
    assert _contacts("（联系人：张三，联系电话：0351-1234567；李四，13912345678）") == [
        {"name": "张三", "phones": ["0351-1234567"]},
        {"name": "李四", "phones": ["13912345678"]},
    ]


def test_two_people_two_phones_fax_address_postcode():
    got = _contacts("联系人：张三、李四", "联系电话：0351-1111111、0351-2222222", "传真：0351-3333333", "地址：太原市新建路1号", "邮编：030001")
    assert [c["name"] for c in got] == ["张三", "李四"]
    assert [c["phones"] for c in got] == [["0351-1111111"], ["0351-2222222"]]
    assert got[1]["fax"] == ["0351-3333333"]
    assert got[1]["postcode"] == "030001"


def test_spaces_inside_a_mobile_number_are_dropped():
    assert _contacts("联系人：王五 139 9477 6952")[0]["phones"] == ["13994776952"]
