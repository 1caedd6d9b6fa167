"""Deadlines read by rules of the genre from whole notices written for these tests: the year of a
notice with no date or 文号 of its own, a forwarding level's own date beside the upstream's, a
报送时间 column of a table, and a schedule listing who does what on which days."""

from __future__ import annotations

from models import Document, Line, Page
from pipeline.run import parse_pages

HEAD = "各县（市、区）民政局，局属各单位："


def _one(text: str) -> Document:
    page = Page(number=1, source="text", lines=[Line(text=t) for t in text.split("\n")])
    result, _ = parse_pages([page], file="notice.txt", kind="text")
    assert len(result.documents) == 1, [d.title for d in result.documents]
    return result.documents[0]


def _dates(doc: Document) -> list[str | None]:
    return [d.date for d in doc.deadlines]


# --- the year of a notice with neither a 成文日期 nor a 文号 -----------------------------------

FORWARD = (
    "关于转发《省民政厅关于开展养老机构安全检查的通知》的通知\n"
    f"{HEAD}\n"
    "现将《省民政厅关于开展养老机构安全检查的通知》（晋民函〔2023〕41号）转发给你们，请认真贯彻落实。"
    "请各县（市、区）民政局于5月20日前将检查情况报市局养老服务科。"
)


def test_a_notice_without_date_or_number_takes_the_year_of_the_notice_it_forwards() -> None:
    doc = _one(FORWARD)
    assert doc.issue_date is None and doc.doc_number is None
    assert _dates(doc) == ["2023-05-20"]
    assert "2023" in (doc.deadlines[0].date_note or "")


def test_a_notice_of_its_own_year_keeps_it_over_the_forwarded_one() -> None:
    doc = _one(FORWARD + "\n市民政局\n2024年4月28日")
    assert _dates(doc) == ["2024-05-20"]


# --- the forwarding level's date beside the upstream's ----------------------------------------

def test_the_request_date_replaces_the_upstream_date_it_quotes() -> None:
    doc = _one(
        "关于报送养老服务补贴对象名单的通知\n"
        f"{HEAD}\n"
        "省厅规定各市汇总上报截止时间为9月30日，请各县（市、区）民政局于9月25日前将名单报市局社会救助科，"
        "为市局审核留出时间。\n市民政局\n2025年9月1日"
    )
    assert _dates(doc) == ["2025-09-25"]


def test_two_requests_in_one_sentence_both_stand() -> None:
    doc = _one(
        "关于做好冬季救助工作的通知\n"
        f"{HEAD}\n"
        "各县（市、区）民政局于11月10日前报送排查台账，请局属各单位于11月20日前报送工作总结。"
        "\n市民政局\n2025年11月3日"
    )
    assert _dates(doc) == ["2025-11-10", "2025-11-20"]


# --- a 报送时间 column ------------------------------------------------------------------------

TABLE = (
    "关于印发《2025年度社会救助统计报表报送制度》的通知\n"
    f"{HEAD}\n"
    "现将《2025年度社会救助统计报表报送制度》印发给你们，请遵照执行。\n"
    "市民政局\n2025年1月6日\n"
    "附件\n"
    "一、报表报送时间\n"
    "表名\n报送时间\n"
    "第一季度低保对象变动情况\n2025年4月8日之前\n"
    "第二季度低保对象变动情况\n7月8日前\n"
    "全年临时救助汇总表\n2026年1月10日\n"
    "二、报送方式\n"
    "各单位于每季度首月通过系统报送，2025年2月已试运行。"
)


def test_dates_in_a_report_time_column_are_deadlines_of_their_rows() -> None:
    doc = _one(TABLE)
    assert _dates(doc) == ["2025-04-08", "2025-07-08", "2026-01-10"]
    assert [d.action for d in doc.deadlines] == [
        "报送第一季度低保对象变动情况", "报送第二季度低保对象变动情况", "报送全年临时救助汇总表",
    ]  # fmt: skip


def test_a_date_cell_without_a_report_time_header_is_not_a_deadline() -> None:
    doc = _one(TABLE.replace("报送时间\n", "统计时点\n"))
    assert _dates(doc) == []


# --- a schedule of who does what when ---------------------------------------------------------

def test_a_schedule_line_naming_the_recipients_and_their_act_is_a_requirement() -> None:
    doc = _one(
        "关于2025年秋季教材征订工作的通知\n"
        "各学院：\n"
        "根据教材订购工作安排，具体时间如下：\n"
        "1、6月3日前，教务处发布征订通知；\n"
        "2、6月10日—16日各学院（部）填报教材征订单；\n"
        "3、6月17日—20日教务处审核汇总；\n"
        "4、9月1、2日各学院（部）领取教材。\n"
        "教务处\n2025年6月2日"
    )
    assert [(d.start, d.date) for d in doc.deadlines] == [("2025-06-10", "2025-06-16"), ("2025-09-01", "2025-09-02")]


def test_dates_of_a_list_with_a_deadline_word_stay_separate_tasks() -> None:
    doc = _one(
        "关于报送半年工作总结的通知\n"
        f"{HEAD}\n"
        "请各县（市、区）民政局分别于6月30日、7月1日前报送上半年总结和下半年计划。\n市民政局\n2025年6月2日"
    )
    assert [(d.start, d.date) for d in doc.deadlines] == [(None, "2025-06-30"), (None, "2025-07-01")]


# --- a duty 'during the campaign', the campaign's years given by the title ------------------------

CAMPAIGN = (
    "平陆县应急管理局关于印发《平陆县安全生产治本攻坚三年行动实施方案（2024—2026年）》的通知\n"
    "各乡镇人民政府，县直各有关单位：\n"
    "现将《平陆县安全生产治本攻坚三年行动实施方案（2024—2026年）》印发给你们，请认真贯彻落实。\n"
    "{ask}\n"
    "平陆县应急管理局\n"
    "2024年3月20日"
)


def test_a_duty_during_the_campaign_ends_with_the_years_of_the_title() -> None:
    doc = _one(CAMPAIGN.format(ask="三年行动期间，请各单位于每季度最后一个月25日前将工作进展情况报送县应急管理局。"))
    (deadline,) = doc.deadlines
    assert deadline.rrule == "FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=25;UNTIL=20261231"
    assert "2024—2026年" in (deadline.date_note or "")


def test_a_duty_not_said_to_run_during_the_campaign_keeps_no_end() -> None:
    doc = _one(CAMPAIGN.format(ask="请各单位于每季度最后一个月25日前将工作进展情况报送县应急管理局。"))
    (deadline,) = doc.deadlines
    assert deadline.rrule == "FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=25"


def test_a_bare_report_verb_before_the_receiving_level_is_an_action() -> None:
    # jieba joins 报 with the level after it (报县|应急|管理局): the duty is still a duty
    doc = _one(CAMPAIGN.format(ask="三年行动期间，各单位每季度末将工作进展情况报县应急管理局。"))
    (deadline,) = doc.deadlines
    assert deadline.rrule == "FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1;UNTIL=20261231"
    assert deadline.action == "报送工作进展情况"
