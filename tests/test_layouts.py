"""Notices as pages give them: each layout rule on a page written for the rule.

Title-first pages with a breadcrumb and posting stamps, 政府信息公开 metadata blocks (as table
rows, label lines, bracketed or run into one line, before or after the text), no 版头, the
文号 in brackets after the title or with the date under it, spam words, pinyin glosses,
traditional characters, mojibake, and the site's footer after the notice's end.
"""

from models import Document, Line, Page
from pipeline.parsing.agencies import looks_like_recipients
from pipeline.parsing.junk import is_chrome, is_mojibake, simplified, spam_prefix
from pipeline.parsing.layout import date_line, is_title, packed_date
from pipeline.parsing.metadata import read as read_metadata
from pipeline.parsing.references import forwards, number_of
from pipeline.run import parse_pages
from pipeline.text.normalise import normalise
from pipeline.text.split import text_lines

# A body paragraph long enough that the page reads as unwrapped web text (a paragraph a line).
BODY = (
    "为进一步做好本年度冬季取暖保障工作，切实保障困难群众安全温暖过冬，经研究决定，在全市范围内开展取暖保障专项检查，"
    "现将有关事项通知如下。"
)
ASK = "请各单位于2023年11月30日前将检查情况报市民政局社会救助科，逾期未报的视为无问题，市局将适时组织抽查并通报结果。"


def _parse(text: str) -> list[Document]:
    page = Page(number=1, source="text", lines=[Line(text=t) for t in text.split("\n")])
    result, _ = parse_pages([page], file="page.txt", kind="text")
    return result.documents


def _one(text: str) -> Document:
    docs = _parse(text)
    assert len(docs) == 1, [d.title for d in docs]
    return docs[0]


# --- title-first pages ----------------------------------------------------------------------------

TITLE_FIRST = f"""当前位置：首页 > 通知公告 > 正文
通知公告
晋城市民政局关于开展冬季取暖保障专项检查的通知
来源：晋城市民政局  发布时间：2023-11-09 16:20  浏览次数：312
晋市民函〔2023〕88号
各县（市、区）民政局，市局各科室：
{BODY}
{ASK}
联系人：武文华，电话：0356-2221234
晋城市民政局
2023年11月8日
分享到：
扫一扫在手机打开当前页
网站标识码：1405000001 晋ICP备05001234号
联系我们：0356-2229999"""


def test_title_first_page_gives_the_title_not_the_breadcrumb_or_column_name():
    doc = _one(TITLE_FIRST)
    assert doc.title == "晋城市民政局关于开展冬季取暖保障专项检查的通知"
    assert doc.doc_type == "通知"


def test_title_first_page_gives_the_number_below_the_stamps():
    assert _one(TITLE_FIRST).doc_number == "晋市民函〔2023〕88号"


def test_issue_date_is_the_signed_date_never_the_posting_stamp():
    assert _one(TITLE_FIRST).issue_date == "2023-11-08"


def test_issuers_come_from_the_signature_never_from_a_source_line():
    doc = _one(TITLE_FIRST)
    assert doc.issuers == ["晋城市民政局"]
    assert doc.issuer_mark is None  # no 版头: the lines above the 文号 are the page's stamps


def test_recipients_are_the_line_that_ends_the_head():
    assert _one(TITLE_FIRST).recipients == ["各县（市、区）民政局", "市局各科室"]


def test_nothing_after_the_notice_end_becomes_a_contact():
    phones = [p for c in _one(TITLE_FIRST).contacts for p in c.phones]
    assert phones and all("2229999" not in p and "05001234" not in p for p in phones)


def test_page_chrome_lines():
    for line in (
        "当前位置：首页 > 通知公告 > 正文",
        "您的位置: 首页 » 政策法规 »",
        "来源：市教育局 发布时间：2022-03-01 浏览次数：88",
        "投稿人：李明",
        "分享到：",
        "扫一扫在手机打开当前页",
        "今天是2024年5月6日 星期一",
        "网站支持IPV6 | 无障碍阅读 | 长者模式",
        "备案号：晋ICP备12345678号-1",
        "反对 0举报 0 收藏 0",
    ):
        assert is_chrome(line), line
    for line in ("晋城市民政局关于开展冬季取暖保障专项检查的通知", "各县（市、区）民政局：", "2023年11月8日"):
        assert not is_chrome(line), line


def test_a_title_broken_over_lines_is_rejoined_with_its_issuer_line():
    doc = _one(f"""首页 > 文件通知
晋城市城区教育局
关于做好2024年春季学期
开学准备工作的通知
各中小学校、幼儿园：
{BODY}
晋城市城区教育局
2024年2月20日""")
    assert doc.title == "晋城市城区教育局关于做好2024年春季学期开学准备工作的通知"
    assert doc.issuers == ["晋城市城区教育局"]


def test_the_title_nearest_the_text_is_the_documents_own():
    # A sidebar lists another notice's title first; the page's heading repeats its own.
    doc = _one(f"""省财政厅关于做好年度决算编报工作的通知
晋城市财政局关于下达2024年第一批农业补助资金的通知
发布日期：2024-03-02
晋城市财政局关于下达2024年第一批农业补助资金的通知
各县（市、区）财政局：
{BODY}
晋城市财政局
2024年2月28日""")
    assert doc.title == "晋城市财政局关于下达2024年第一批农业补助资金的通知"


def test_a_title_without_guanyu_is_read_when_long_enough_and_column_names_are_not():
    assert is_title("2023-2024学年下期教材征订通知")
    assert is_title("报送2023年度安全生产工作总结的通知")
    assert not is_title("通知公告")
    assert not is_title("公告通知")
    assert not is_title("特此通知")
    assert not is_title("现将有关事项通知如下。")


# --- the 文号 in other places -----------------------------------------------------------------------


def test_number_in_brackets_after_the_title():
    doc = _one(f"""综合新闻
晋城市交通运输局关于加强春运安全管理的通知（晋市交函〔2022〕7号）
2022-01-12 1520
各县（市、区）交通运输局：
{BODY}
二〇二二年一月十日""")
    assert doc.title == "晋城市交通运输局关于加强春运安全管理的通知"
    assert doc.doc_number == "晋市交函〔2022〕7号"
    assert doc.issue_date == "2022-01-10"


def test_number_and_date_in_brackets_under_the_title():
    doc = _one(f"""晋城市卫生健康委员会关于开展秋季爱国卫生运动的通知
（晋市卫发[2021]36号 2021年9月3日）
各县（市、区）卫生健康局：
{BODY}""")
    assert doc.doc_number == "晋市卫发〔2021〕36号"
    assert doc.doc_number_printed == "晋市卫发[2021]36号"
    assert doc.issue_date == "2021-09-03"


def test_old_number_form_in_a_banner():
    doc = _one(f"""山西省农业厅文件
(94)晋农字第345号
关于做好一九九四年冬季农田水利建设的通知
各地区行署农业处：
{BODY}
一九九四年十一月三十日""")
    assert doc.doc_number == "晋农字〔1994〕345号"
    assert doc.issuer_mark == "山西省农业厅"


def test_a_banner_broken_inside_its_name_joins_without_a_gap():
    doc = _one(f"""共青团晋城
市委文件
晋市团发〔2012〕9号
关于评选优秀共青团员的通知
各县（市、区）团委：
{BODY}""")
    assert doc.issuer_mark == "共青团晋城市委"
    assert doc.issuers == ["共青团晋城市委"]


def test_a_heading_block_then_the_document_with_the_same_number_is_one_document():
    docs = _parse(f"""关于下达2023年文化惠民资金的通知
晋市财教〔2023〕51号
2023年6月1日
发布机关：晋城市财政局
关于下达2023年文化惠民资金的通知
晋市财教〔2023〕51号
各县（市、区）财政局：
{BODY}
晋城市财政局
2023年6月1日""")
    assert len(docs) == 1
    assert docs[0].title == "关于下达2023年文化惠民资金的通知"
    assert docs[0].issuers == ["晋城市财政局"]


# --- metadata blocks ------------------------------------------------------------------------------------


def _meta(text: str) -> dict[str, str]:
    lines = text_lines(normalise([Page(number=1, source="text", lines=[Line(text=t) for t in text.split("\n")])]).text)
    return {k: f.value for k, f in read_metadata(lines).fields.items()}


def test_metadata_as_table_rows_read_with_their_cells_run_together():
    meta = _meta("索引号 11140500MB0000000X/2024-00012 发文字号 晋市政发〔2024〕3号\n发布机构 晋城市人民政府 成文日期 2024-01-15")
    assert meta["doc_number"] == "晋市政发〔2024〕3号"
    assert meta["publisher"] == "晋城市人民政府"
    assert meta["signed"] == "2024-01-15"


def test_metadata_as_label_lines_with_values_below():
    meta = _meta("发文字号\n晋市卫发[2020]12号\n颁发部门\n晋城市卫生健康委员会\n发布日期\n2020-04-01")
    assert meta == {"doc_number": "晋市卫发[2020]12号", "issuer": "晋城市卫生健康委员会", "posted": "2020-04-01"}


def test_metadata_bracketed_and_run_into_one_line():
    meta = _meta("【制定机关】晋城市税务局•【公布日期】2019.05.06•【字号】晋市税发[2019]8号•【时效性】现行有效")
    assert meta["issuer"] == "晋城市税务局"
    assert meta["doc_number"] == "晋市税发[2019]8号"
    assert meta["posted"] == "2019.05.06"


def test_metadata_block_gives_the_number_and_the_issue_date_where_the_text_does_not():
    doc = _one(f"""[ 索引号 ] 000000/2024-00005 [ 发文字号 ] 晋市应急发〔2024〕6号
[ 发布机构 ] 晋城市应急管理局
[ 成文日期 ] 2024-04-02 [ 发布日期 ] 2024-04-03
晋城市应急管理局关于开展防汛应急演练的通知
各县（市、区）应急管理局：
{BODY}""")
    assert doc.doc_number == "晋市应急发〔2024〕6号"
    assert doc.issue_date == "2024-04-02"
    assert doc.title == "晋城市应急管理局关于开展防汛应急演练的通知"


def test_the_document_keeps_every_field_of_the_block_as_printed():
    doc = _one(f"""[ 索引号 ] 000000/2024-00005 [ 发文字号 ] 晋市应急发〔2024〕6号
[ 主题分类 ] 安全生产监管 [ 公开方式 ] 主动公开
晋城市应急管理局关于开展防汛应急演练的通知
各县（市、区）应急管理局：
{BODY}""")
    # labels the parser reads nothing from (主题分类, 公开方式) are kept too: the file says them
    assert doc.metadata == {"索引号": "000000/2024-00005", "发文字号": "晋市应急发〔2024〕6号", "主题分类": "安全生产监管", "公开方式": "主动公开"}


def test_a_posting_date_is_never_the_issue_date():
    doc = _one(f"""关于开展防汛应急演练的通知
发布机构：晋城市应急管理局
发布日期：2024-04-03
各县（市、区）应急管理局：
{BODY}""")
    assert doc.issue_date is None
    assert doc.issuers == ["晋城市应急管理局"]  # 发布机构, the last source of issuers


def test_metadata_after_the_text_is_read_too():
    doc = _one(f"""晋城市水务局关于做好汛期水库安全度汛的通知
各县（市、区）水务局：
{BODY}
发文字号：晋市水发〔2021〕17号
成文日期：2021-06-01""")
    assert doc.doc_number == "晋市水发〔2021〕17号"
    assert doc.issue_date == "2021-06-01"


# --- junk in titles ------------------------------------------------------------------------------------


def test_spam_words_before_a_title_are_cut():
    assert spam_prefix("xy足球比分报送2023年度总结的通知") == len("xy足球比分")
    assert spam_prefix("时时彩关于做好2023年度总结的通知") == len("时时彩")
    assert spam_prefix("足球改革发展工作领导小组关于…的通知") == 0  # a title may open with 足球
    doc = _one(f"""ab彩票报送2023年度安全生产工作总结的通知
各县（市、区）应急管理局：
{BODY}""")
    assert doc.title == "报送2023年度安全生产工作总结的通知"


def test_a_word_and_colon_before_a_title_and_a_site_tag_are_cut():
    doc = _one(f"""热门下载：晋城市林业局关于做好森林防火工作的通知
各县（市、区）林业局：
{BODY}""")
    assert doc.title == "晋城市林业局关于做好森林防火工作的通知"
    doc = _one(f"""[山西]晋城市林业局关于做好森林防火工作的通知
各县（市、区）林业局：
{BODY}""")
    assert doc.title == "晋城市林业局关于做好森林防火工作的通知"


def test_pinyin_glosses_are_not_part_of_the_text():
    doc = _one(f"""晋城市教育局關於轉(zhuǎn)發(fā)省教育廳通知的通知
各县（市、区）教育局：
{BODY}""")
    assert doc.title == "晋城市教育局關於轉發省教育廳通知的通知"


def test_traditional_characters_are_kept_as_printed_and_read_as_simplified():
    assert simplified("關於轉發") == "关于转发"
    doc = _one(f"""晉城市衛生局關於加強冬春季傳染病防控的通知
各縣（市、區）衛生局：
{BODY}
晉城市衛生局
2023年12月1日""")
    assert doc.title == "晉城市衛生局關於加強冬春季傳染病防控的通知"
    assert doc.doc_type == "通知"
    assert doc.issuers == ["晉城市衛生局"]


def test_a_mojibake_line_is_junk():
    assert is_mojibake("å…³äºŽå¼€å±•å·¥ä½œçš„é€šçŸ¥")
    assert is_chrome("å…³äºŽå¼€å±•å·¥ä½œçš„é€šçŸ¥")
    assert not is_mojibake("关于开展工作的通知")


# --- recipients ---------------------------------------------------------------------------------------------


def test_recipient_lines_and_lines_that_only_end_with_a_colon():
    assert looks_like_recipients("各县（市、区）民政局、老龄办：")
    assert looks_like_recipients("太原、大同、阳泉、长治市商务主管部门：")
    assert looks_like_recipients("学校各单位：")
    assert not looks_like_recipients("现将有关事项通知如下：")
    assert not looks_like_recipients("按照《工作安排》，具体时间如下：")
    assert not looks_like_recipients("联系人：")
    assert not looks_like_recipients("附件：")


def test_recipients_glued_to_the_first_sentence():
    doc = _one(f"各县（市、区）民政局，市局各科室:{BODY}\n{ASK}\n2023年11月8日")
    assert doc.recipients == ["各县（市、区）民政局", "市局各科室"]
    assert doc.deadlines and doc.deadlines[0].date == "2023-11-30"


def test_a_notice_flattened_onto_one_line():
    doc = _one(
        f"各县（市、区）文旅局，局机关各处室:{BODY}联系人:张文，电话:0356-2220000附件:1.活动方案2.联络人表"
        "3.活动汇总表2023年4月6日责任编辑:李华。"
    )
    assert doc.recipients == ["各县（市、区）文旅局", "局机关各处室"]
    assert doc.attachments == ["活动方案", "联络人表", "活动汇总表"]
    assert doc.issue_date == "2023-04-06"


# --- signed dates ----------------------------------------------------------------------------------------------


def test_signed_dates_in_figures_and_posting_stamps():
    assert date_line("2019.1.3").value.isoformat() == "2019-01-03"
    assert date_line("2009-6-5").value.isoformat() == "2009-06-05"
    assert date_line("2017/10/13").value.isoformat() == "2017-10-13"
    assert date_line("二〇一一年三月二十日").value.isoformat() == "2011-03-20"
    assert date_line("01.06.2015 21:28") is None  # a posting stamp: day first, with a time
    assert date_line("2011-05-09 335") is None  # a date and a view counter


def test_a_signed_date_that_lost_its_characters_is_read_under_a_signature_only():
    assert packed_date("2023515").isoformat() == "2023-05-15"
    assert packed_date("2023111") is None  # 1月11日 or 11月1日: no single reading
    doc = _one(f"""各村（社区）：
{BODY}
晋城市城区北街街道办事处
2022318""")
    assert doc.issue_date == "2022-03-18"
    assert any(p.code == "issue_date.unpunctuated" for p in doc.problems)


def test_a_dotted_signed_date_under_a_short_signature():
    doc = _one(f"""各单位（部门）：
{BODY}
工会委员会
2019.1.3""")
    assert doc.issue_date == "2019-01-03"
    assert doc.issuers == ["工会委员会"]


# --- issuers ----------------------------------------------------------------------------------------------------


def test_the_signature_names_the_issuer_where_the_banner_names_its_parent():
    doc = _one(f"""晋城市人民政府
晋市政办〔2005〕42号
关于印发晋城市住房保障实施细则的通知
各县（市、区）人民政府，市直各单位：
{BODY}
晋城市人民政府办公室
二○○五年六月二十八日""")
    assert doc.issuer_mark == "晋城市人民政府"
    assert doc.issuers == ["晋城市人民政府办公室"]


def test_joint_issuers_from_the_title_subject_without_guanyu():
    doc = _one(f"""晋城市税务局、晋城市财政局贯彻落实省税务局关于规范征管工作的通知的通知
各县（市、区）税务局：
{BODY}""")
    assert doc.issuers == ["晋城市税务局", "晋城市财政局"]


# --- attachments and forwards --------------------------------------------------------------------------


def test_attachment_forms():
    doc = _one(f"""各县（市、区）统计局：
{BODY}
附件一：2024年度工业统计报表制度
附件二：2024年度农业统计报表制度
二〇二四年三月二十日
附件一：
2024年度工业统计报表制度""")
    assert doc.attachments == ["2024年度工业统计报表制度", "2024年度农业统计报表制度"]
    doc = _one(f"""各县（市、区）统计局：
{BODY}
附件：
乡镇统计员名册
2024年3月20日""")
    assert doc.attachments == ["乡镇统计员名册"]
    doc = _one(f"""各县（市、区）农业局：
{BODY}
附件1、春播进度统计表.xls
附件2、旱情统计表.xls
二〇一一年五月四日""")
    assert doc.attachments == ["春播进度统计表.xls", "旱情统计表.xls"]


def test_a_forward_named_before_and_taken_up_by_a_word_for_it():
    body = "近日，省教育厅印发了《关于做好2024年高考安全保障工作的通知》（晋教函〔2024〕21号），对有关工作提出了要求，现将该《通知》转发给你们，请认真贯彻执行。"
    refs = forwards(None, body, 0)
    assert [(r.ref.doc_number, r.ref.title, r.ref.issuer) for r in refs] == [
        ("晋教函〔2024〕21号", "关于做好2024年高考安全保障工作的通知", "省教育厅")
    ]


def test_a_forward_with_its_issuer_before_the_title_and_other_verbs():
    body = "现将省应急厅《关于开展汛前隐患排查的通知》（晋应急函〔2023〕5号，以下简称《通知》）转给你们。"
    refs = forwards(None, body, 0)
    assert [(r.ref.doc_number, r.ref.issuer) for r in refs] == [("晋应急函〔2023〕5号", "省应急厅")]


def test_a_number_printed_out_of_order_is_kept_as_printed():
    assert number_of("安监函2019〔21〕号") == "安监函2019〔21〕号"
    assert number_of("晋民函[2024]7号") == "晋民函〔2024〕7号"
    assert number_of("以下简称通知") is None


def test_site_names_and_other_breadcrumbs_are_chrome():
    assert is_chrome("晋城市人民政府门户网站")
    assert is_chrome("您现在的位置：首页 >> 政务公开")
    assert not is_chrome("晋城市人民政府办公室")


def test_a_posting_stamp_on_the_titles_line_is_cut():
    doc = _one(f"""晋城市商务局关于开展家电以旧换新活动的通知 2024-06-03 09:12
各县（市、区）商务局：
{BODY}""")
    assert doc.title == "晋城市商务局关于开展家电以旧换新活动的通知"


def test_a_date_in_figures_under_the_title_is_the_sites_not_the_issue_date():
    doc = _one(f"""晋城市商务局关于开展家电以旧换新活动的通知
2024-06-03
各县（市、区）商务局：
{BODY}""")
    assert doc.issue_date is None


def test_a_signature_on_the_date_line():
    doc = _one(f"""关于开展家电以旧换新活动的通知
各县（市、区）商务局：
{BODY}
晋城市商务局 2024年6月1日""")
    assert doc.issuers == ["晋城市商务局"]
    assert doc.issue_date == "2024-06-01"


def test_joint_issuers_opening_with_a_name_word():
    doc = _one(f"""共青团晋城市委、晋城市学联关于推选优秀学生干部的通知
各县（市、区）团委：
{BODY}""")
    assert doc.title == "共青团晋城市委、晋城市学联关于推选优秀学生干部的通知"
    assert doc.issuers == ["共青团晋城市委", "晋城市学联"]
    doc = _one(f"""共青团中央、全国学联关于推选优秀学生干部的通知
各省级团委：
{BODY}""")
    assert doc.issuers == ["共青团中央", "全国学联"]


def test_an_attachment_link_after_the_signature_where_the_notice_listed_none():
    doc = _one(f"""各县（市、区）商务局：
{BODY}
二〇二四年六月一日
相关附件：
附件：《家电以旧换新活动方案》（晋市商函〔2024〕9号）
分享到：""")
    assert doc.attachments == ["《家电以旧换新活动方案》（晋市商函〔2024〕9号）"]


def test_other_metadata_labels():
    meta = _meta("信息索引号：000000/2024-1\n文件编号：晋市商发〔2024〕2号\n发文机构：晋城市商务局\n成文时间：2024年1月5日")
    assert meta == {"index": "000000/2024-1", "doc_number": "晋市商发〔2024〕2号", "issuer": "晋城市商务局", "signed": "2024年1月5日"}


def test_angle_brackets_in_a_typed_title_stay_as_printed():
    doc = _one(f"""晋城市教育局关于转发<省教育厅关于做好考试安全工作的通知>的通知
各县（市、区）教育局：
{BODY}""")
    assert doc.title == "晋城市教育局关于转发<省教育厅关于做好考试安全工作的通知>的通知"


def test_a_labelled_main_to_line_under_the_title_or_in_the_record():
    doc = _one(f"""晋城市民政局关于开展冬季取暖保障专项检查的通知
主送：各县（市、区）民政局、市局各科室
{BODY}""")
    assert doc.recipients == ["各县（市、区）民政局", "市局各科室"]
    doc = _one(f"""晋城市民政局关于开展冬季取暖保障专项检查的决定
{BODY}
一九九八年五月六日
主送机关：各县（市、区）民政局
抄送：市人民政府办公室""")
    assert doc.recipients == ["各县（市、区）民政局"]
    assert doc.cc == ["市人民政府办公室"]


def test_the_metadata_title_where_the_page_prints_none():
    doc = _one(f"""标题：晋城市民政局关于开展冬季取暖保障专项检查的通知
发文字号：晋市民函〔2023〕88号
{BODY}""")
    assert doc.title == "晋城市民政局关于开展冬季取暖保障专项检查的通知"


def test_a_page_in_traditional_characters_gives_its_record_and_forward():
    doc = _one(f"""各縣（市、區）衛生局：
現將《省衛生廳關於加強冬春季傳染病防控的通知》（晉衛發〔2023〕12號）轉發給你們，請認真貫徹執行。
{BODY}
晉城市衛生局
2023年12月1日
晉城市衛生局辦公室 2023年12月2日印發""")
    assert doc.printed_by == "晉城市衛生局辦公室"
    assert [(u.relation, u.title) for u in doc.upstream][:1] == [("forwards", "省衛生廳關於加強冬春季傳染病防控的通知")]


def test_other_forwarding_phrases():
    for body in (
        "特将《关于做好防汛工作的通知》（晋水函〔2023〕3号）文件转发给你们，请遵照执行。",
        "现转发省水利厅《关于做好防汛工作的通知》（晋水函〔2023〕3号），请遵照执行。",
    ):
        refs = forwards(None, body, 0)
        assert [r.ref.doc_number for r in refs] == ["晋水函〔2023〕3号"], body


# A notice in GB/T order without its 版头, for the checks that put something above it.
NOTICE = f"""晋城市民政局关于开展冬季取暖保障专项检查的通知
晋市民函〔2023〕88号
各县（市、区）民政局：
{BODY}
晋城市民政局
2023年11月8日"""


def test_a_sentence_of_the_site_above_the_title_does_not_end_the_head():
    doc = _one("本页面内容仅供参考，请以正式文件为准。\n" + NOTICE)
    assert doc.title == "晋城市民政局关于开展冬季取暖保障专项检查的通知"
    assert doc.recipients == ["各县（市、区）民政局"]
    assert doc.doc_number == "晋市民函〔2023〕88号"


def test_a_disagreement_between_the_text_and_the_metadata_is_a_problem_not_a_guess():
    doc = _one("发文字号：晋市民函〔2023〕89号\n成文日期：2023-11-09\n" + NOTICE)
    assert (doc.doc_number, doc.issue_date) == ("晋市民函〔2023〕88号", "2023-11-08")
    assert {"doc_number.disagrees", "issue_date.disagrees"} <= {p.code for p in doc.problems}


def test_issuers_read_only_from_the_sites_publisher_are_flagged():
    doc = _one(f"""关于开展防汛应急演练的通知
发布机构：晋城市应急管理局
各县（市、区）应急管理局：
{BODY}""")
    assert doc.issuers == ["晋城市应急管理局"]
    assert any(p.code == "issuers.from_metadata" for p in doc.problems)


def test_a_title_broken_after_its_guanyu_and_a_quoted_heading():
    doc = _one(f"""晋城市人民政府办公室关于印发晋城市
冬季取暖保障工作实施方案的通知
各县（市、区）人民政府：
{BODY}""")
    assert doc.title == "晋城市人民政府办公室关于印发晋城市冬季取暖保障工作实施方案的通知"
    doc = _one(f"""《晋城市民政局关于转发〈省民政厅关于开展检查的通知〉的通知》
各县（市、区）民政局：
{BODY}""")
    assert doc.title == "晋城市民政局关于转发〈省民政厅关于开展检查的通知〉的通知"


def test_a_number_glued_to_the_main_to_line_on_either_side():
    title = "晋城市民政局关于开展冬季取暖保障专项检查的通知"
    for glued in ("晋市民函〔2023〕88号各县（市、区）民政局：", "各县（市、区）民政局：晋市民函〔2023〕88号"):
        doc = _one(f"{title}\n{glued}\n{BODY}")
        assert (doc.doc_number, doc.recipients) == ("晋市民函〔2023〕88号", ["各县（市、区）民政局"]), glued
    doc = _one(f"{title}\n各县（市、区）民政局：\n晋民发〔2023〕3号文件要求，{BODY}")
    assert doc.doc_number is None  # a number the first sentence cites is not the notice's


def test_a_date_in_brackets_under_the_title_where_nothing_is_signed():
    doc = _one(f"""晋城市民政局关于开展冬季取暖保障专项检查的通知
（2023年11月8日）
各县（市、区）民政局：
{BODY}""")
    assert doc.issue_date == "2023-11-08"
