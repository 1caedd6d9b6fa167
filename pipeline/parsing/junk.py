"""What a web page prints around a notice, which never becomes a field value.

A notice copied from a government site, a law database or a mirror comes with the page's
chrome: the breadcrumb (`当前位置：首页 > 通知公告`), posting stamps and counters (`来源：…
发布日期：… 浏览次数：`), share and print buttons, the site footer (备案号, 网站标识码), ad
lines, words that spam mirrors inject before a title (`ds足球比分`), and lines of mojibake.
The finders use these predicates to keep such lines out of the title, the issuers, the dates
and the 版头. Matching runs on a simplified-character form of the line (`simplified`), so a
page in traditional characters is read the same way; values keep the characters as printed.
"""

from __future__ import annotations

import re

from pipeline.parsing.docnumber import DOCNUMBER_RE
from pipeline.when.folding import simplified_char


def simplified(text: str) -> str:
    """`關於轉發…的通知` → `关于转发…的通知`, character for character, so that an index into
    the simplified form is an index into the printed one."""
    if text.isascii():
        return text
    return "".join(simplified_char(ch) if ord(ch) >= 0x3400 else ch for ch in text)


# The site's navigation: `当前位置：首页 > …`, `您的位置: 首页 » 法律资料网 »`, `首页〉〉政府信息公开`.
_BREADCRUMB_RE = re.compile(
    r"^\W*(?:您?当前的?位置|您现在的位置|现在位置|您的位置|所在位置|当前栏目|位置)\s*[：:]|首页\s*(?:[>〉»›/＞]|&gt;)"
)
# The site's own name standing as a line: `财政部网站`, `某某市人民政府门户网站`, `中国政府网`.
_SITE_NAME_RE = re.compile(r"^.{0,24}(?:网站|门户网|政府网|官网|客户端|公众号|资料网|信息网|新闻网)$")
# Posting stamps, counters and tools a page prints at the head or foot of an article.
_STAMP_RE = re.compile(
    r"^\W*(?:来源|信息来源|文章来源|本文来源|稿件来源|作者|编辑|责任编辑|发布人|发布者|投稿人|录入|审核|供稿|"
    r"发布时间|发布日期|更新时间|更新日期|上传时间|时间|阅读|点击)\s*[：:]"
    r"|浏览次数|点击数|点击量|点击率|阅读次数|阅读量|访问量|浏览量|访问次数|浏览\s*[：:]?\s*\d+\s*次"
)
_TOOLS_RE = re.compile(
    r"^\W*(?:分享到|分享|扫一扫|打印本页|打印|关闭窗口|关闭本页|关闭|返回顶部|返回上一级|返回列表|返回|收藏本页|收藏|加入收藏|"
    r"字号|字体|设为首页|上一篇|下一篇|上一条|下一条|相关文章|相关阅读|相关链接|相关附件|相关文件|附件下载|下载地址|"
    r"用户登录|网站地图|联系我们|无障碍|适老化|网站支持|核心提示|更多\s*[>〉»]|推荐阅读|热点推荐|政策解读|今天是|跳转到内容)"
)
_FOOTER_RE = re.compile(
    r"网站标识码|ICP\s*备|公网安备|版权所有|Copyright|©|技术支持|主办单位|承办单位|^\W*主办\s*[：:]|^\W*承办\s*[：:]|"
    r"建议使用|浏览器|分辨率|Public\s*domain|维基|<END>|您是本站第|访客|打赏|举报\s*\d|反对\s*\d|收藏\s*\d|"
    r"^\W*本站|本网站|欢迎访问|欢迎光临|免责声明|转载请注明|如有侵权|版权归",
    re.IGNORECASE,
)
# A bar of short links: `网站支持IPV6 | 无障碍阅读 | 适老化模式`.
_NAV_BAR_RE = re.compile(r"^(?:[^|｜]{1,12}[|｜]){2,}[^|｜]{0,12}$")
_ONLY_MARKS_RE = re.compile(r"^[\s|｜•·>»〉/\-—_=*]*$")


def is_chrome(text: str) -> bool:
    """A line of the page around the notice: navigation, stamps, tools, footer."""
    t = simplified(text.strip())
    if not t or _ONLY_MARKS_RE.match(t):
        return True
    return bool(
        _BREADCRUMB_RE.search(t) or _SITE_NAME_RE.match(t) or _STAMP_RE.search(t) or _TOOLS_RE.match(t) or _FOOTER_RE.search(t) or _NAV_BAR_RE.match(t)
    ) or is_mojibake(t)


# UTF-8 read as Latin-1 or GBK gives runs of accented Latin letters and replacement marks.
_MOJIBAKE_CHARS_RE = re.compile(r"[\u00c0-\u00ff\ufffd\u0080-\u009f\ue000-\uf8ff]")


def is_mojibake(text: str) -> bool:
    """A line that is mostly broken encoding (`ä¸­å›½æ”¿åºœ`, `����`)."""
    letters = [ch for ch in text if not ch.isspace()]
    if len(letters) < 4:
        return False
    return len(_MOJIBAKE_CHARS_RE.findall(text)) >= 0.3 * len(letters)


# Words spam mirrors inject in front of a copied title: betting and lottery terms, download
# bait. A title never opens with them, so only a leading run of them is cut.
_SPAM_STRONG = (
    "足球比分|比分直播|体育投注|彩票|博彩|娱乐城|赌场|百家乐|时时彩|六合彩|网投|注册送|迅雷下载|免费下载|在线观看|免费吃"
)
# Words a title may open with, spam only after a Latin brand run (`ds足球`, `bet365体育`).
_SPAM_WEAK = "足球|篮球|比分|投注|娱乐|棋牌|真人|开户|下载|官网|平台|快三|体育"
_SPAM_PREFIX_RE = re.compile(
    rf"^(?:[A-Za-z][A-Za-z0-9]{{0,7}}(?:{_SPAM_STRONG}|{_SPAM_WEAK})+|(?:{_SPAM_STRONG})+)[：:\s]*"
)


def spam_prefix(text: str) -> int:
    """The length of injected spam words opening a title line (0 when none)."""
    m = _SPAM_PREFIX_RE.match(simplified(text))
    return m.end() if m else 0


# A site's column tag before a title: `[重庆]`, `【通知】`.
_SITE_TAG_RE = re.compile(r"^\s*[\[【［][^\]】］]{1,8}[\]】］]\s*")


def site_tag(text: str) -> int:
    """The length of a site's bracketed column tag opening a line (0 when none).

    A 文号 opening the line (`[2024]…`) is not a tag."""
    m = _SITE_TAG_RE.match(text)
    if not m or DOCNUMBER_RE.match(text):
        return 0
    return m.end()
