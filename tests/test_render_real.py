"""Plain notice texts laid out as 公文 pages for the scan benchmark (fixtures/render_real.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "fixtures"))
import render_real  # noqa: E402

TEXT = """首页 > 通知公告
关于做好2025年度全县社区养老服务设施巡查工作的通知
各乡镇人民政府，县直有关单位：
为做好巡查工作，现将有关事项通知如下。
联系人：示例 0351-1234567
附件：巡查表
县民政局
2025年3月1日
"""


def test_head_elements_are_set_as_such_and_the_rest_as_paragraphs_in_order():
    (doc,) = render_real.notice_from_text(TEXT, "t").documents
    assert [(e.tag, e.text) for e in doc.flow] == [
        ("p", "首页 > 通知公告"),
        ("title", "关于做好2025年度全县社区养老服务设施巡查工作"),
        ("title", "的通知"),
        ("to", "各乡镇人民政府，县直有关单位："),
        ("p", "为做好巡查工作，现将有关事项通知如下。"),
        ("p", "联系人：示例 0351-1234567"),
        ("attach", "附件：巡查表"),
        ("sign", "县民政局"),
        ("date", "2025年3月1日"),
    ]
    assert doc.seals() == []


def test_title_lines_break_where_the_words_allow():
    assert render_real._title_lines("省民政厅、省财政厅关于印发全省农村互助幸福院建设管理办法的通知") == [
        "省民政厅、省财政厅",
        "关于印发全省农村互助幸福院建设管理办法的通知",
    ]
